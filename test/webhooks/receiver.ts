import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The body parsed; only set when a secret given verified the signature. */
  event?: { type: string; timestamp: string; data: any };
  verified: boolean;
  /** The status this receiver answered. */
  status: number;
}

/** How the receiver answers a request: `hold` delays the answer until it resolves, `hang` never gives one. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  hang?: boolean;
  hold?: Promise<unknown>;
}

/**
 * A webhook receiver on 127.0.0.1 that checks every request with the `standardwebhooks` package, as receivers'
 * libraries do. `answer` decides each request's status (and headers), and whether the answer waits (`hold`: until it
 * resolves) or never comes (`hang`); by default 204 at once.
 */
export async function startReceiver() {
  const received: Received[] = [];
  let secrets: string[] = [];
  let answer: (r: Received, n: number) => Answer = () => ({ status: 204 });
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
      const r: Received = { id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'], body, verified: false, status: 0 };
      for (const secret of secrets) {
        try {
          r.event = new Webhook(secret).verify(body, headers) as Received['event'];
          r.verified = true;
          break;
        } catch {
          // not this secret
        }
      }
      const a = answer(r, received.length);
      r.status = a.status;
      received.push(r);
      for (const w of waiters) w();
      if (a.hang) return; // never answers: the sender's timeout ends the try
      const reply = () => {
        res.writeHead(a.status, a.headers ?? {});
        res.end();
      };
      if (a.hold) void a.hold.then(reply);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** Secrets the signatures are checked with (any one verifying is enough). */
    verifyWith(...s: string[]) {
      secrets = s;
    },
    answerWith(fn: typeof answer) {
      answer = fn;
    },
    /** Resolves once `predicate` holds of what was received (checked on each request), or rejects after `ms`. */
    async until(predicate: (r: Received[]) => boolean, ms = 20_000): Promise<void> {
      if (predicate(received)) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver: condition not met within ${ms} ms (${received.length} requests)`));
        }, ms);
        const check = () => {
          if (!predicate(received)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Settings that make deliveries quick enough for a test. */
export const FAST_WEBHOOKS = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_POLL_MS: '20',
  WEBHOOK_RETRY_SCHEDULE: '50ms,100ms,150ms',
  WEBHOOK_TIMEOUT_MS: '2000',
};

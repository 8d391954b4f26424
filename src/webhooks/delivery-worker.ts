import { randomBytes } from 'node:crypto';
import type { DeliveryRepository, ClaimedDelivery } from './delivery.repository.js';
import type { HttpSender } from './http-sender.js';
import { nextDelay, parseRetryAfter } from './retry-schedule.js';
import { signedHeaders } from './signing.js';
import type { WebhookEndpointRepository } from './webhook-endpoint.repository.js';

export interface DeliveryWorkerDeps {
  deliveries: DeliveryRepository;
  endpoints: Pick<WebhookEndpointRepository, 'disable'>;
  send: HttpSender;
  /** This process's INSTANCE_ID, logged with each of its tries. */
  instance: string;
  /** Tries in flight at once in this process; 0: this instance delivers nothing. */
  concurrency: number;
  /** Waits after each failed try (retry-schedule.ts); a delivery fails once they are used up. */
  schedule: readonly number[];
  /** A try's timeout; the lease outlasts it, so a live worker never loses a delivery to another. */
  timeoutMs: number;
  pollMs: number;
  /** Ended deliveries (and their log and events) are kept this long. */
  retentionMs: number;
  now: () => number;
  log: { warn(obj: unknown, msg: string): void };
}

/**
 * Sends the outbox's deliveries: leases the due ones, sends each with its Standard Webhooks headers, logs the try and
 * schedules the next (backoff with jitter, Retry-After honoured) or ends the delivery. Every instance on the same
 * store may run one; leases make each try happen in one place. A process killed mid-try leaves its lease to run
 * out, and the delivery is tried again — with the same webhook-id — by whichever worker comes next.
 */
export function createDeliveryWorker(deps: DeliveryWorkerDeps) {
  const leaseMs = deps.timeoutMs + 5_000;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const active = new Set<Promise<void>>();
  let sweeper: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> = Promise.resolve();

  async function sweep(): Promise<void> {
    try {
      // A thousand at a time, until none is left.
      while (running && (await deps.deliveries.sweep(deps.now() - deps.retentionMs)) === 1000);
    } catch (error) {
      deps.log.warn({ err: error }, 'webhook retention sweep failed');
    }
  }

  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function attempt(d: ClaimedDelivery, token: string): Promise<void> {
    const now = deps.now();
    const secrets = [d.secret];
    if (d.previousSecret && d.previousSecretUntil !== null && d.previousSecretUntil > now) secrets.push(d.previousSecret);
    const headers = signedHeaders(secrets, d.eventId, Math.floor(now / 1000), d.body);
    const result = await deps.send(d.url, headers, d.body);
    const at = deps.now();
    const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
    const gone = result.status === 410;
    let state: 'delivered' | 'pending' | 'failed' = ok ? 'delivered' : 'failed';
    let nextAttemptAt = at;
    if (!ok && !gone) {
      const delay = nextDelay(deps.schedule, d.roundAttempts + 1, parseRetryAfter(result.retryAfter, at));
      if (delay !== undefined) {
        state = 'pending';
        nextAttemptAt = at + delay;
      }
    }
    const error = result.error ?? (ok ? null : `HTTP ${result.status}`);
    const recorded = await deps.deliveries.recordTry(d.endpointId, d.eventSeq, token, d.attempts + 1, {
      at, status: result.status ?? null, latencyMs: result.latencyMs, error, instance: deps.instance, state, nextAttemptAt,
    });
    if (recorded && gone) await deps.endpoints.disable(d.endpointId, `The endpoint answered 410 Gone at ${new Date(at).toISOString()}`, at);
  }

  async function poll(): Promise<void> {
    while (running) {
      let claimed = 0;
      const room = deps.concurrency - active.size;
      if (room > 0) {
        try {
          const token = randomBytes(16).toString('hex');
          const batch = await deps.deliveries.claim(token, deps.now(), leaseMs, room);
          claimed = batch.length;
          for (const d of batch) {
            const work = attempt(d, token).catch((error: unknown) => deps.log.warn({ err: error, eventId: d.eventId }, 'webhook try not recorded'));
            active.add(work);
            void work.finally(() => {
              active.delete(work);
              wake?.();
            });
          }
        } catch (error) {
          deps.log.warn({ err: error }, 'could not claim webhook deliveries');
        }
      }
      if (running && (claimed === 0 || active.size >= deps.concurrency)) await nap(deps.pollMs);
    }
  }

  return {
    start(): void {
      if (running || deps.concurrency === 0) return;
      running = true;
      loop = poll();
      const sweepNow = () => {
        sweeping = sweeping.then(sweep);
      };
      sweepNow();
      sweeper = setInterval(sweepNow, 3600_000);
      sweeper.unref();
    },
    /** Events were committed here: look now rather than at the next poll. */
    kick(): void {
      wake?.();
    },
    /** Stops claiming; tries under way finish and are logged. */
    async stop(): Promise<void> {
      running = false;
      if (sweeper) clearInterval(sweeper);
      wake?.();
      await loop;
      await Promise.allSettled([...active]);
      await sweeping;
    },
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { guardedLookup, isPrivateAddress } from './target-guard.js';

export interface SendResult {
  /** The receiver's status; undefined when no answer came. */
  status?: number;
  retryAfter?: string;
  /** Why no answer came (refused, timed out, a private address). */
  error?: string;
  latencyMs: number;
}

export interface SenderOptions {
  timeoutMs: number;
  allowPrivate: boolean;
}

/** What of an answer's body is read before the connection is let go; the body is not kept. */
const MAX_BODY_BYTES = 64 * 1024;

/** POSTs one try of a delivery. Never throws: every way it can end is a SendResult. */
export function createHttpSender(options: SenderOptions) {
  const lookup = guardedLookup(options.allowPrivate);
  return function send(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    return new Promise<SendResult>((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return resolve({ error: 'url is not valid', latencyMs: 0 });
      }
      const host = target.hostname.replace(/^\[|\]$/g, '');
      // An address literal is not looked up, so it is checked here.
      if (!options.allowPrivate && net.isIP(host) && isPrivateAddress(host)) {
        return resolve({ error: `${host} is a private or loopback address`, latencyMs: 0 });
      }
      const client = target.protocol === 'https:' ? https : http;
      const request = client.request(
        target,
        {
          method: 'POST',
          lookup,
          timeout: options.timeoutMs,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'Dialbook-Webhooks/1',
          },
        },
        (response) => {
          let read = 0;
          response.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_BODY_BYTES) response.destroy();
          });
          const done = () =>
            resolve({ status: response.statusCode, retryAfter: header(response.headers['retry-after']), latencyMs: latency() });
          response.on('end', done);
          response.on('close', done);
          response.on('error', done);
        },
      );
      // The whole try, not only an idle socket, ends at the timeout.
      const timedOut = () => request.destroy(new Error(`timed out: no answer within ${options.timeoutMs} ms`));
      const timer = setTimeout(timedOut, options.timeoutMs);
      request.on('timeout', timedOut);
      request.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ? `${error.code}: ${error.message}` : error.message, latencyMs: latency() }));
      request.on('close', () => clearTimeout(timer));
      request.end(body);
    });
  };
}

export type HttpSender = ReturnType<typeof createHttpSender>;

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

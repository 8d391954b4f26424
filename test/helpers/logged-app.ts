import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createMemoryRateLimiter } from '../../src/auth/rate-limiter.js';
import { createMemoryReplayCache } from '../../src/auth/replay-cache.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { Store } from '../../src/db/database.js';
import { loggerRedaction } from '../../src/http/log-redaction.js';

export interface LoggedApp {
  app: FastifyInstance;
  config: Config;
  /** Every log line written so far, as text. */
  lines: string[];
  port: number;
  close(): Promise<void>;
}

/** The app as `npm start` configures its logger (level info, redaction), listening on a free port, its log kept. */
export async function listenLogged(store: Store, env: Record<string, string> = {}): Promise<LoggedApp> {
  const config = loadConfig({ RATE_LIMIT_PER_MINUTE: '0', ...env });
  const rateLimiter = config.rateLimitPerMinute > 0 ? createMemoryRateLimiter(config.rateLimitPerMinute) : undefined;
  const replayCache = createMemoryReplayCache();
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const app = await buildApp({ config, store, shared: { rateLimiter, replayCache }, logger: { level: 'info', stream, ...loggerRedaction } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app, config, lines, port,
    async close() {
      await app.close();
      await rateLimiter?.close();
      await replayCache.close();
    },
  };
}

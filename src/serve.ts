import type { DestinationStream } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { createSharedState, type SharedState } from './auth/shared-state.js';
import type { Config } from './config/config.js';
import { openStore } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';

export interface RunningServer {
  app: FastifyInstance;
  address: string;
  /** Stops taking requests, lets those under way finish (up to the grace period), then closes the store. */
  stop(): Promise<void>;
}

/** Whether logs are for a person: LOG_FORMAT=pretty, or (auto) standard output is a terminal. */
function pretty(config: Config): boolean {
  return config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
}

/**
 * pino-pretty as the log's stream, written synchronously so the last line (the server stopped) is out before the
 * process exits; loaded only when used, so a JSON log costs nothing of it.
 */
async function prettyStream(): Promise<DestinationStream> {
  const { default: pinoPretty } = await import('pino-pretty');
  return pinoPretty({ sync: true, translateTime: 'SYS:standard', ignore: 'pid,hostname', singleLine: true });
}

/** Opens the store, brings its schema up to date, and listens. */
export async function startServer(config: Config): Promise<RunningServer> {
  const store = openStore(config.database, {
    poolSize: config.pgPoolSize,
    statementTimeoutMs: config.pgStatementTimeoutMs,
  });
  let shared: SharedState | undefined;
  let app: FastifyInstance | undefined;
  try {
    await migrateToLatest(store.db);
    shared = createSharedState(config);
    app = await buildApp({
      config,
      store,
      shared,
      logger: {
        level: config.logLevel,
        // Fastify logs no headers by default; should a header ever be logged, credentials stay out.
        redact: ['req.headers.auth', 'req.headers.authorization', 'req.headers.cookie', '*.clientSecret', '*.token'],
        ...(pretty(config) && { stream: await prettyStream() }),
      },
    });
    const address = await app.listen({ host: config.host, port: config.port });
    return { app, address, stop: stopper(config, app, shared, store) };
  } catch (error) {
    // A port in use or a store that refuses must not leave a Redis connection or a pool holding the process open.
    await app?.close().catch(() => {});
    await shared?.close().catch(() => {});
    await store.close().catch(() => {});
    throw error;
  }
}

function stopper(config: Config, app: FastifyInstance, shared: SharedState, store: { close(): Promise<void> }): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      const grace = setTimeout(() => app.server.closeAllConnections(), config.shutdownGraceMs);
      grace.unref();
      await app.close();
      clearTimeout(grace);
      await shared.close();
      await store.close();
    })();
    return stopping;
  };
}

/**
 * Stops gracefully on the first SIGTERM or SIGINT and exits 0 (1 if closing failed). A second signal is not
 * caught, so it ends the process at once when a graceful stop takes too long for the operator.
 */
export function stopOnSignals(server: RunningServer): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      server.app.log.info({ signal }, 'stopping');
      server.stop().then(
        () => {
          server.app.log.info('stopped');
          process.exit(0);
        },
        (error: unknown) => {
          server.app.log.error({ err: error }, 'stop failed');
          process.exit(1);
        },
      );
    });
  }
}

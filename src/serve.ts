import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { createSharedState } from './auth/shared-state.js';
import type { Config } from './config/config.js';
import { openStore } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';

export interface RunningServer {
  app: FastifyInstance;
  address: string;
  /** Stops taking requests, lets those under way finish (up to the grace period), then closes the store. */
  stop(): Promise<void>;
}

/** Opens the store, brings its schema up to date, and listens. */
export async function startServer(config: Config): Promise<RunningServer> {
  const store = openStore(config.database, {
    poolSize: config.pgPoolSize,
    statementTimeoutMs: config.pgStatementTimeoutMs,
  });
  await migrateToLatest(store.db);
  const shared = createSharedState(config);
  const app = await buildApp({
    config,
    store,
    shared,
    logger: {
      level: config.logLevel,
      // Fastify logs no headers by default; should a header ever be logged, credentials stay out.
      redact: ['req.headers.auth', 'req.headers.authorization', 'req.headers.cookie', '*.clientSecret', '*.token'],
    },
  });
  const address = await app.listen({ host: config.host, port: config.port });
  let stopping: Promise<void> | undefined;
  const stop = () => {
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
  return { app, address, stop };
}

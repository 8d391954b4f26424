import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createAppCache } from './auth/app-cache.js';
import { createAuthenticator } from './auth/authenticator.js';
import type { SharedState } from './auth/shared-state.js';
import type { Config } from './config/config.js';
import { contactInputSchema, contactSchema } from './contacts/contact.schemas.js';
import { createContacts } from './contacts/contacts.js';
import { contactsRoutes } from './contacts/contacts.routes.js';
import type { Store } from './db/database.js';
import { createTransact } from './db/group-commit.js';
import { createStoreHealth } from './db/store-health.js';
import { authenticateHook } from './http/authenticate.js';
import { answerFrameworkError, registerErrorHandling } from './http/error-handler.js';
import { answerClientError } from './http/client-errors.js';
import { errorBodySchema } from './http/schemas.js';
import { healthRoutes } from './http/health.routes.js';
import { registerRequestBodies } from './http/request-body.js';
import { idempotencyHooks } from './idempotency/idempotency.hooks.js';
import { createIdempotencyService } from './idempotency/idempotency.service.js';
import { createIdempotentUpload } from './idempotency/idempotent-upload.js';
import { registerOpenApi } from './http/openapi.js';
import { importRoutes } from './imports/import.routes.js';
import { importJobRoutes } from './imports/import-jobs.routes.js';
import { importProgressRoutes } from './imports/import-progress.routes.js';
import { importJobSchema } from './imports/import.schemas.js';
import { createImports } from './imports/imports.js';
import { ServiceUnavailableError } from './shared/errors.js';
import { consoleSessionRoutes } from './console/console-session.routes.js';
import { consoleStaticRoutes } from './console/console-static.routes.js';
import { createSessionAuthenticator } from './console/session-authenticator.js';
import { createSessionService } from './users/session.service.js';
import { createTenancyRepository } from './tenancy/tenancy.repository.js';
import { createContactRepository } from './contacts/contact.repository.js';
import { createHistoryRepository } from './history/history.repository.js';
import { historyEntrySchema, historyRoutes } from './history/history.routes.js';
import { createHistoryService } from './history/history.service.js';
import { webhookRoutes } from './webhooks/webhook.routes.js';
import { webhookDeliverySchema, webhookEndpointSchema } from './webhooks/webhook.schemas.js';
import { createWebhooks } from './webhooks/webhooks.js';

export interface AppDeps {
  config: Config;
  store: Store;
  shared: Pick<SharedState, 'rateLimiter' | 'replayCache'>;
  logger?: FastifyServerOptions['logger'];
}

export const API_PREFIX = '/agentassist/api/v1/public/:streamId';

/** Builds the HTTP application without listening; tests drive it with `inject`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, store } = deps;
  // The server's client-error path needs the logger the instance is about to make.
  const made: { log?: FastifyBaseLogger } = {};
  const app = Fastify({
    logger: deps.logger ?? false,
    // Fastify turns Node's request timeout off; an upload must still end some time.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    keepAliveTimeout: 5_000,
    bodyLimit: config.bodyLimitBytes,
    // While closing, requests on kept-alive connections get our own 503 (below) instead of Fastify's body.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { allErrors: true, removeAdditional: true, coerceTypes: 'array' } },
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: (error, socket) => answerClientError(made.log!, error as unknown as Parameters<typeof answerClientError>[1], socket),
  });
  made.log = app.log;
  // `Expect: 100-continue` is answered once the body is read (request-body.ts), after the request's checks; other
  // expectations are refused in the contract's shape.
  app.server.on('checkContinue', (req, res) => app.server.emit('request', req, res));
  app.server.on('checkExpectation', (_req, res) => {
    const body = JSON.stringify({ errors: [{ msg: 'Only Expect: 100-continue is understood', code: 'EXPECTATION_FAILED' }] });
    res.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  });

  app.addSchema(errorBodySchema);
  app.addSchema(contactSchema);
  app.addSchema(contactInputSchema);
  app.addSchema(importJobSchema);
  app.addSchema(webhookEndpointSchema);
  app.addSchema(webhookDeliverySchema);
  app.addSchema(historyEntrySchema);
  const health = createStoreHealth(store);
  registerErrorHandling(app, { onStoreFault: health.fault });
  registerRequestBodies(app);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (closing) {
      reply.header('connection', 'close');
      throw new ServiceUnavailableError({ msg: 'The service is shutting down; retry on another instance', code: 'SHUTTING_DOWN' });
    }
  });

  const authenticator = createAuthenticator({
    apps: createAppCache({ tenancy: createTenancyRepository(store.db) }),
    replayCache: deps.shared.replayCache,
    rateLimiter: deps.shared.rateLimiter,
    clockSkewSeconds: config.jwtClockSkewSeconds,
    jtiRetentionSeconds: config.jtiRetentionSeconds,
  });
  const transact = createTransact(store);
  const contacts = createContacts({
    store,
    transact,
    maxContactsPerRequest: config.maxContactsPerRequest,
    exportChunkRows: config.exportChunkRows,
  });
  const imports = createImports({ store, config, log: app.log, transact });
  // The worker runs while the app does: started once it is ready, stopped (after its current batch) as it closes.
  app.addHook('onReady', async () => imports.worker.start());
  app.addHook('onClose', async () => imports.worker.stop());
  // Webhook deliveries go out while the app runs; tries under way finish as it closes.
  const webhooks = createWebhooks({ store, config, log: app.log });
  app.addHook('onReady', async () => webhooks.worker.start());
  app.addHook('onClose', async () => webhooks.worker.stop());
  const history = createHistoryService({ history: createHistoryRepository(store.db), contacts: createContactRepository(store.db) });
  // A running key unrenewed for longer than any request may last (plus a margin) belongs to a process that died.
  const idempotency = createIdempotencyService({ db: store.db, ttlSeconds: config.idempotencyTtlSeconds, leaseMs: config.requestTimeoutMs + 60_000 });
  const idempotent = idempotencyHooks(idempotency);

  // The console (docs/console.md): its sessions authenticate API requests like a token does.
  const sessions = createSessionService({
    db: store.db,
    settings: {
      idleMs: config.sessionIdleMinutes * 60_000,
      maxAgeMs: config.sessionMaxHours * 3_600_000,
      maxFailuresPerUser: config.signInMaxFailuresPerUser,
      maxFailuresPerAddress: config.signInMaxFailuresPerAddress,
      windowMs: config.signInWindowMinutes * 60_000,
    },
  });
  const sessionAuthenticator = createSessionAuthenticator({ sessions, rateLimiter: deps.shared.rateLimiter });

  // Before every route: the document is built from the routes registered after it.
  await registerOpenApi(app, { apiPrefix: API_PREFIX });
  await app.register(healthRoutes({ health }));
  await app.register(consoleSessionRoutes({ sessions, cookie: { secure: config.sessionCookieSecure, maxAgeSeconds: config.sessionMaxHours * 3600 } }));
  await app.register(consoleStaticRoutes());
  await app.register(
    async (api) => {
      api.addHook('onRequest', authenticateHook(authenticator, sessionAuthenticator));
      api.addHook('preHandler', idempotent.preHandler);
      api.addHook('onSend', idempotent.onSend);
      await api.register(contactsRoutes(contacts));
      const runOnce = createIdempotentUpload({ idempotency, maxBytes: config.importMaxBytes });
      await api.register(importRoutes({ importCsv: imports.importCsv, jobs: imports.jobs, maxBytes: config.importMaxBytes, runOnce }));
      await api.register(importJobRoutes({ jobs: imports.jobs }));
      await api.register(importProgressRoutes({ jobs: imports.jobs }));
      await api.register(historyRoutes({ history }));
      await api.register(webhookRoutes({ webhooks: webhooks.endpoints }));
    },
    { prefix: API_PREFIX },
  );
  return app;
}

import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../db/database.js';

const status = {
  type: 'object',
  properties: { status: { type: 'string' } },
} as const;

/** Liveness (`/healthz`) and readiness (`/readyz`: the store answers). */
export function healthRoutes(deps: { store: Pick<Store, 'ping'> }): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', { schema: { response: { 200: status } } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: { response: { 200: status, 503: { $ref: 'ErrorBody#' } } } }, async (_request, reply) => {
      try {
        await deps.store.ping();
        return { status: 'ready' };
      } catch {
        reply.header('retry-after', '5');
        return reply.code(503).send({ errors: [{ msg: 'The store is not answering', code: 'STORE_UNAVAILABLE' }] });
      }
    });
  };
}

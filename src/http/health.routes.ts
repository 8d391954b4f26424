import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../db/database.js';

const status = {
  type: 'object',
  properties: { status: { type: 'string' } },
} as const;

const liveness = {
  tags: ['health'],
  summary: 'Liveness',
  description: 'Answers 200 once the process can serve; it does not ask the store.',
  response: { 200: { ...status, description: 'The process is up' } },
};
const readiness = {
  tags: ['health'],
  summary: 'Readiness',
  description: 'Answers 200 when the store answers, 503 when it does not (take the instance out of the load balancer).',
  response: { 200: { ...status, description: 'The store answers' }, 503: { description: 'The store is not answering', $ref: 'ErrorBody#' } },
};

/** Liveness (`/healthz`) and readiness (`/readyz`: the store answers). */
export function healthRoutes(deps: { store: Pick<Store, 'ping'> }): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', { schema: liveness }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: readiness }, async (_request, reply) => {
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

import type { FastifyPluginAsync } from 'fastify';
import type { StoreHealth } from '../db/store-health.js';

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
  description: 'Answers 200 when the store answers, 503 when it does not, or when a write failed and writes do not work yet (take the instance out of the load balancer).',
  response: { 200: { ...status, description: 'The store answers' }, 503: { description: 'The store is not answering', $ref: 'ErrorBody#' } },
};

/** Liveness (`/healthz`) and readiness (`/readyz`: the store answers). */
export function healthRoutes(deps: { health: Pick<StoreHealth, 'check'> }): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', { schema: liveness }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: readiness }, async (_request, reply) => {
      try {
        await deps.health.check();
        return { status: 'ready' };
      } catch {
        reply.header('retry-after', '5');
        return reply.code(503).send({ errors: [{ msg: 'The store is not answering or cannot be written', code: 'STORE_UNAVAILABLE' }] });
      }
    });
  };
}

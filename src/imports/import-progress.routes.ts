import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../http/schemas.js';
import type { ImportJob } from './import-job.mapper.js';
import { importJobParams } from './import.schemas.js';
import type { ImportJobs } from './import-jobs.service.js';

const FINISHED = new Set(['completed', 'failed', 'cancelled', 'reverted']);

export interface ProgressSettings {
  /** How often the job is read while it runs. */
  intervalMs: number;
  /** A comment line this often keeps proxies from closing a quiet stream. */
  heartbeatMs: number;
}

/**
 * GET /contacts/imports/{id}/events: the job as server-sent events, one `data:` line of the job's JSON (as GET
 * /contacts/imports/{id} answers it) each time it changes, the stream ending after the finished job. One request
 * (one count against the rate limit) follows a whole job, where polling would spend the account's minute.
 */
export function importProgressRoutes(deps: { jobs: Pick<ImportJobs, 'get'>; settings?: ProgressSettings }): FastifyPluginAsync {
  const settings = deps.settings ?? { intervalMs: 150, heartbeatMs: 15_000 };
  return async (app) => {
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });

    app.get<{ Params: { streamId: string; id: string } }>('/contacts/imports/:id/events', {
      schema: {
        tags: ['import'],
        summary: 'An import job as server-sent events, until it finishes',
        params: importJobParams,
        response: {
          200: { description: 'text/event-stream: each `data:` line is the job as GET /contacts/imports/{id} answers it', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          ...errorResponses,
        },
      },
      handler: async (request, reply) => {
        // Read once before answering, so an unknown or foreign job is the usual 404, not an empty stream.
        const first = await deps.jobs.get(request.ctx, request.params.id);
        const ctx = request.ctx;
        const id = request.params.id;
        async function* events(): AsyncGenerator<string> {
          let job: ImportJob = first;
          let last = '';
          let quietSince = Date.now();
          for (;;) {
            const text = JSON.stringify(job);
            if (text !== last) {
              last = text;
              quietSince = Date.now();
              yield `data: ${text}\n\n`;
            } else if (Date.now() - quietSince >= settings.heartbeatMs) {
              quietSince = Date.now();
              yield ': still running\n\n';
            }
            if (FINISHED.has(job.state) || closing) return;
            await new Promise((resolve) => setTimeout(resolve, settings.intervalMs));
            job = await deps.jobs.get(ctx, id);
          }
        }
        return reply
          .type('text/event-stream; charset=utf-8')
          .header('cache-control', 'no-store')
          .header('x-accel-buffering', 'no')
          .send(Readable.from(events()));
      },
    });
  };
}

import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses, streamParams } from '../http/schemas.js';
import { importJobParams, pageQuery } from './import.schemas.js';
import type { ImportJobs } from './import-jobs.service.js';

type JobRoute = { Params: { streamId: string; id: string } };
type PageRoute = { Querystring: { limit: number; cursor?: string } };

const failureSchema = {
  type: 'object',
  properties: {
    row: { type: 'integer' },
    errors: { $ref: 'ErrorBody#/properties/errors' },
    values: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

const pageOf = (items: object) =>
  ({
    type: 'object',
    properties: { results: { type: 'array', items }, hasMore: { type: 'boolean' }, nextCursor: { type: ['string', 'null'] } },
  }) as const;

/** Following import jobs: list, one job, its failures (JSON and CSV), cancel. */
export function importJobRoutes(deps: { jobs: ImportJobs }): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { streamId: string } } & PageRoute>('/contacts/imports', {
      schema: {
        tags: ['import'],
        summary: "The stream's import jobs, newest first",
        params: streamParams,
        querystring: pageQuery,
        response: { ...errorResponses, 200: pageOf({ $ref: 'ImportJob#' }) },
      },
      handler: (request) => deps.jobs.list(request.ctx, request.query.cursor, request.query.limit),
    });

    app.get<JobRoute>('/contacts/imports/:id', {
      schema: { tags: ['import'], summary: 'An import job', params: importJobParams, response: { ...errorResponses, 200: { $ref: 'ImportJob#' } } },
      handler: (request) => deps.jobs.get(request.ctx, request.params.id),
    });

    app.get<JobRoute & PageRoute>('/contacts/imports/:id/failures', {
      schema: {
        tags: ['import'],
        summary: 'The rows of an import that failed, in file order',
        params: importJobParams,
        querystring: pageQuery,
        response: { ...errorResponses, 200: pageOf(failureSchema) },
      },
      handler: (request) => deps.jobs.failures(request.ctx, request.params.id, request.query.cursor, request.query.limit),
    });

    app.get<JobRoute>('/contacts/imports/:id/failures.csv', {
      schema: {
        tags: ['import'],
        summary: 'The failed rows as uploaded, with errorCode and errorMessage: fix them and upload the file again',
        params: importJobParams,
        response: errorResponses,
      },
      handler: async (request, reply) => {
        const csv = await deps.jobs.failuresCsv(request.ctx, request.params.id);
        reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="import-${request.params.id}-failures.csv"`);
        return reply.send(Readable.from(csv));
      },
    });

    app.post<JobRoute>('/contacts/imports/:id/revert', {
      schema: {
        tags: ['import'],
        summary: 'Undo an import',
        description:
          'Contacts the import created become INACTIVE; contacts it updated get their earlier values back, except contacts changed ' +
          'since the import, which are left alone and listed in `revert.skippedIds`. The job gets state `reverted`; a second revert ' +
          'changes nothing. A queued or running import: 409 (cancel it first).',
        params: importJobParams,
        response: { ...errorResponses, 200: { $ref: 'ImportJob#' } },
      },
      handler: (request) => deps.jobs.revert(request.ctx, request.params.id),
    });

    app.post<JobRoute>('/contacts/imports/:id/cancel', {
      schema: {
        tags: ['import'],
        summary: 'Cancel an import job',
        description: 'A queued job is cancelled at once; a running one stops before its next batch. A finished job: 409.',
        params: importJobParams,
        response: { ...errorResponses, 200: { $ref: 'ImportJob#' } },
      },
      handler: (request) => deps.jobs.cancel(request.ctx, request.params.id),
    });
  };
}

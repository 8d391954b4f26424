import type { FastifyPluginAsync } from 'fastify';
import type { BulkUpdateItem, ContactBulk } from './contact-bulk.service.js';
import { errorResponses, streamParams, type StreamParams } from '../http/schemas.js';
import { bulkDeleteBodySchema, bulkDeleteReportSchema, bulkUpdateItemSchema, bulkUpdateReportSchema, type BulkDeleteBody } from './contact.schemas.js';

/** DELETE /contacts/bulk-delete and PUT /contacts/bulk-update: 200 with a report of every element. */
export function contactBulkRoutes(deps: { bulk: ContactBulk }): FastifyPluginAsync {
  return async (app) => {
    app.delete<{ Params: StreamParams; Body: BulkDeleteBody }>('/contacts/bulk-delete', {
      schema: { tags: ['contacts'], summary: 'Delete contacts in bulk', params: streamParams, body: bulkDeleteBodySchema, response: { 200: bulkDeleteReportSchema, ...errorResponses } },
      handler: async (request) => deps.bulk.bulkDelete(request.ctx, request.body.ids),
    });

    app.put<{ Params: StreamParams; Body: BulkUpdateItem[] }>('/contacts/bulk-update', {
      schema: {
        tags: ['contacts'],
        summary: 'Update contacts in bulk',
        params: streamParams,
        body: { type: 'array', items: bulkUpdateItemSchema },
        response: { 200: bulkUpdateReportSchema, ...errorResponses },
      },
      // As for POST /contacts: a single object is taken as an array of one.
      preValidation: async (request) => {
        if (request.body !== null && typeof request.body === 'object' && !Array.isArray(request.body)) {
          request.body = [request.body as BulkUpdateItem];
        }
      },
      handler: async (request) => deps.bulk.bulkUpdate(request.ctx, request.body),
    });
  };
}

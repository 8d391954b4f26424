import type { FastifyPluginAsync } from 'fastify';
import type { BulkUpdateItem } from './contact-bulk.service.js';
import { errorResponses, streamParams } from '../http/schemas.js';
import { bulkDeleteBodySchema, bulkDeleteReportSchema, bulkUpdateItemSchema, bulkUpdateReportSchema } from './contact.schemas.js';
import type { ContactService } from './contact.service.js';

/** DELETE /contacts/bulk-delete and PUT /contacts/bulk-update: 200 with a report of every element. */
export function contactBulkRoutes(deps: { contacts: Pick<ContactService, 'bulkDelete' | 'bulkUpdate'> }): FastifyPluginAsync {
  return async (app) => {
    app.delete<{ Params: { streamId: string }; Body: { ids: string[] } }>('/contacts/bulk-delete', {
      schema: { params: streamParams, body: bulkDeleteBodySchema, response: { 200: bulkDeleteReportSchema, ...errorResponses } },
      handler: async (request) => deps.contacts.bulkDelete(request.ctx, request.body.ids),
    });

    app.put<{ Params: { streamId: string }; Body: BulkUpdateItem[] }>('/contacts/bulk-update', {
      schema: {
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
      handler: async (request) => deps.contacts.bulkUpdate(request.ctx, request.body),
    });
  };
}

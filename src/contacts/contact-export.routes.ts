import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses, streamParams, type StreamParams } from '../http/schemas.js';
import { searchQuerySchema, type SearchQuery } from './contact.schemas.js';
import type { ContactExport } from './contact-export.service.js';

/** GET /contacts/export: the contacts of a search as CSV. A route of its own, so the router never takes it for an id. */
export function contactExportRoutes(deps: { export: Pick<ContactExport, 'exportContacts'> }): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: StreamParams; Querystring: SearchQuery }>('/contacts/export', {
      schema: {
        tags: ['contacts'],
        summary: 'Export contacts as CSV',
        params: streamParams,
        querystring: searchQuerySchema,
        response: {
          200: { description: 'CSV, the import\'s columns first', content: { 'text/csv': { schema: { type: 'string' } } } },
          ...errorResponses,
        },
      },
      handler: async (request, reply) => {
        const csv = await deps.export.exportContacts(request.ctx, request.query);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="contacts.csv"')
          .send(Readable.from(csv, { objectMode: false, highWaterMark: 1 }));
      },
    });
  };
}

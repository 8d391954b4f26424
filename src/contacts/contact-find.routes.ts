import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { FindingQuery, ListQuery } from './contact-query.js';
import { errorResponses, streamParams } from '../http/schemas.js';
import { contactPageSchema, contactParams, findingQuerySchema, listQuerySchema } from './contact.schemas.js';
import type { ContactService } from './contact.service.js';

/**
 * GET /contacts (list and find), GET /contacts/export and GET /contacts/{id}. `export` is a route of its own, so
 * the router never takes it for an id.
 */
export function contactFindRoutes(deps: { contacts: Pick<ContactService, 'listContacts' | 'getContact' | 'exportContacts'> }): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { streamId: string }; Querystring: ListQuery }>('/contacts', {
      schema: {
        params: streamParams,
        querystring: listQuerySchema,
        response: { 200: contactPageSchema, ...errorResponses },
      },
      handler: async (request) => deps.contacts.listContacts(request.ctx, request.query),
    });

    app.get<{ Params: { streamId: string }; Querystring: FindingQuery }>('/contacts/export', {
      schema: {
        params: streamParams,
        querystring: findingQuerySchema,
        response: {
          200: { description: 'CSV, the import\'s columns first', content: { 'text/csv': { schema: { type: 'string' } } } },
          ...errorResponses,
        },
      },
      handler: async (request, reply) => {
        const csv = await deps.contacts.exportContacts(request.ctx, request.query);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="contacts.csv"')
          .send(Readable.from(csv, { objectMode: false, highWaterMark: 1 }));
      },
    });

    app.get<{ Params: { streamId: string; id: string } }>('/contacts/:id', {
      schema: { params: contactParams, response: { 200: { $ref: 'Contact#' }, ...errorResponses } },
      handler: async (request) => deps.contacts.getContact(request.ctx, request.params.id),
    });
  };
}

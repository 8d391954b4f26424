import type { FastifyPluginAsync } from 'fastify';
import { errorResponses, streamParams, type StreamParams } from '../http/schemas.js';
import { contactPageSchema, contactParams, searchPageQuerySchema, type ContactParams, type SearchPageQuery } from './contact.schemas.js';
import type { ContactSearch } from './contact-search.service.js';

/** GET /contacts (a page of a search) and GET /contacts/{id}. */
export function contactSearchRoutes(deps: { search: Pick<ContactSearch, 'searchContacts' | 'getContact'> }): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: StreamParams; Querystring: SearchPageQuery }>('/contacts', {
      schema: {
        tags: ['contacts'],
        summary: 'List contacts, or search them by name or number',
        params: streamParams,
        querystring: searchPageQuerySchema,
        response: { 200: contactPageSchema, ...errorResponses },
      },
      handler: async (request) => deps.search.searchContacts(request.ctx, request.query),
    });

    app.get<{ Params: ContactParams }>('/contacts/:id', {
      schema: { tags: ['contacts'], summary: 'Get a contact', params: contactParams, response: { 200: { $ref: 'Contact#' }, ...errorResponses } },
      handler: async (request) => deps.search.getContact(request.ctx, request.params.id),
    });
  };
}

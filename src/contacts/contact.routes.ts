import type { FastifyPluginAsync } from 'fastify';
import { contactBulkRoutes } from './contact-bulk.routes.js';
import { contactFindRoutes } from './contact-find.routes.js';
import type { ContactInput } from './contact-input.js';
import { contactLifecycleRoutes } from './contact-lifecycle.routes.js';
import { errorResponses, streamParams } from '../http/schemas.js';
import { contactParams } from './contact.schemas.js';
import type { ContactService } from './contact.service.js';

export interface ContactRoutesDeps {
  contacts: Pick<
    ContactService,
    | 'createContacts' | 'updateContact' | 'listContacts' | 'getContact' | 'exportContacts'
    | 'deleteContact' | 'restoreContact' | 'bulkDelete' | 'bulkUpdate'
  >;
}

/**
 * The contacts family, mounted under `/agentassist/api/v1/public/:streamId`: POST /contacts and PUT /contacts/{id}
 * here, the rest in the plugins registered below. Static paths (`export`, `bulk-delete`, `bulk-update`,
 * `import-contacts`) win over `:id` in the router, so they are never read as contact ids.
 */
export function contactRoutes(deps: ContactRoutesDeps): FastifyPluginAsync {
  return async (app) => {
    // Contacts are JSON only; Fastify would otherwise hand a text/plain body on as a string.
    app.removeContentTypeParser('text/plain');

    app.post<{ Params: { streamId: string }; Body: ContactInput[] }>('/contacts', {
      schema: {
        tags: ['contacts'],
        summary: 'Create contacts',
        description:
          'A JSON array of contacts (a single object is taken as an array of one). All or nothing: any invalid or ' +
          'duplicate element, also a number repeated inside the array, fails the request, each failure listed with ' +
          'its `index`. A number held by an ACTIVE contact of the stream: 409 naming that contact.',
        params: streamParams,
        body: { type: 'array', items: { $ref: 'ContactInput#' } },
        response: {
          200: { description: 'The created contacts, in input order', type: 'array', items: { $ref: 'Contact#' } },
          ...errorResponses,
        },
      },
      // The seeds send an array; a single object is taken as an array of one.
      preValidation: async (request) => {
        if (request.body !== null && typeof request.body === 'object' && !Array.isArray(request.body)) {
          request.body = [request.body as ContactInput];
        }
      },
      handler: async (request) => deps.contacts.createContacts(request.ctx, request.body),
    });

    app.put<{ Params: { streamId: string; id: string }; Body: ContactInput }>('/contacts/:id', {
      schema: {
        tags: ['contacts'],
        summary: 'Update a contact',
        description:
          'Fields present replace, fields absent are kept. A new number is checked for uniqueness as on create. ' +
          'An unknown id, a malformed one, or one of another stream: 404.',
        params: contactParams,
        body: { $ref: 'ContactInput#' },
        response: { 200: { description: 'The updated contact', $ref: 'Contact#' }, ...errorResponses },
      },
      handler: async (request) => deps.contacts.updateContact(request.ctx, request.params.id, request.body),
    });

    await app.register(contactFindRoutes(deps));
    await app.register(contactLifecycleRoutes(deps));
    await app.register(contactBulkRoutes(deps));
  };
}

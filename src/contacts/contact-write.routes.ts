import type { FastifyPluginAsync } from 'fastify';
import { errorResponses, streamParams, type StreamParams } from '../http/schemas.js';
import type { ContactInput } from './contact-input.js';
import { contactParams, type ContactParams } from './contact.schemas.js';
import type { ContactWrite } from './contact-write.service.js';

/** POST /contacts and PUT /contacts/{id}. */
export function contactWriteRoutes(deps: { write: ContactWrite }): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Params: StreamParams; Body: ContactInput[] }>('/contacts', {
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
      handler: async (request) => deps.write.createContacts(request.ctx, request.body),
    });

    app.put<{ Params: ContactParams; Body: ContactInput }>('/contacts/:id', {
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
      handler: async (request) => deps.write.updateContact(request.ctx, request.params.id, request.body),
    });
  };
}

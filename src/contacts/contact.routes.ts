import type { FastifyPluginAsync } from 'fastify';
import type { ContactInput } from './contact-input.js';
import { contactParams, errorResponses, streamParams } from './contact.schemas.js';
import type { ContactService } from './contact.service.js';

export interface ContactRoutesDeps {
  contacts: Pick<ContactService, 'createContacts' | 'updateContact'>;
}

/** POST /contacts and PUT /contacts/{id}; mounted under `/agentassist/api/v1/public/:streamId`. */
export function contactRoutes(deps: ContactRoutesDeps): FastifyPluginAsync {
  return async (app) => {
    // Contacts are JSON only; Fastify would otherwise hand a text/plain body on as a string.
    app.removeContentTypeParser('text/plain');

    app.post<{ Params: { streamId: string }; Body: ContactInput[] }>('/contacts', {
      schema: {
        params: streamParams,
        body: { type: 'array', items: { $ref: 'ContactInput#' } },
        response: { 200: { type: 'array', items: { $ref: 'Contact#' } }, ...errorResponses },
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
        params: contactParams,
        body: { $ref: 'ContactInput#' },
        response: { 200: { $ref: 'Contact#' }, ...errorResponses },
      },
      handler: async (request) => deps.contacts.updateContact(request.ctx, request.params.id, request.body),
    });
  };
}

import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../http/schemas.js';
import { contactParams } from './contact.schemas.js';
import type { ContactService } from './contact.service.js';

/** DELETE /contacts/{id} and POST /contacts/{id}/restore. Neither reads a body. */
export function contactLifecycleRoutes(deps: { contacts: Pick<ContactService, 'deleteContact' | 'restoreContact'> }): FastifyPluginAsync {
  return async (app) => {
    // Clients often send `Content-Type: application/json` on every request; with no body that is not an error here.
    const json = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
      body === '' ? done(null, undefined) : json(request, body as string, done),
    );

    app.delete<{ Params: { streamId: string; id: string } }>('/contacts/:id', {
      schema: { params: contactParams, response: { 200: { $ref: 'Contact#' }, ...errorResponses } },
      handler: async (request) => deps.contacts.deleteContact(request.ctx, request.params.id),
    });

    app.post<{ Params: { streamId: string; id: string } }>('/contacts/:id/restore', {
      schema: { params: contactParams, response: { 200: { $ref: 'Contact#' }, ...errorResponses } },
      handler: async (request) => deps.contacts.restoreContact(request.ctx, request.params.id),
    });
  };
}

import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../http/schemas.js';
import { contactParams, type ContactParams } from './contact.schemas.js';
import type { ContactLifecycle } from './contact-lifecycle.service.js';

/** DELETE /contacts/{id} and POST /contacts/{id}/restore. Neither reads a body. */
export function contactLifecycleRoutes(deps: { lifecycle: ContactLifecycle }): FastifyPluginAsync {
  return async (app) => {
    // Clients often send `Content-Type: application/json` on every request; with no body that is not an error here.
    const json = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
      body === '' ? done(null, undefined) : json(request, body as string, done),
    );

    app.delete<{ Params: ContactParams }>('/contacts/:id', {
      schema: { tags: ['contacts'], summary: 'Delete a contact (it becomes INACTIVE)', params: contactParams, response: { 200: { $ref: 'Contact#' }, ...errorResponses } },
      handler: async (request) => deps.lifecycle.deleteContact(request.ctx, request.params.id),
    });

    app.post<{ Params: ContactParams }>('/contacts/:id/restore', {
      schema: { tags: ['contacts'], summary: 'Restore a deleted contact', params: contactParams, response: { 200: { $ref: 'Contact#' }, ...errorResponses } },
      handler: async (request) => deps.lifecycle.restoreContact(request.ctx, request.params.id),
    });
  };
}

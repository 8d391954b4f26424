import type { FastifyPluginAsync } from 'fastify';
import { cursorPageQuery as pageQuery, errorResponses, streamParams } from '../http/schemas.js';
import type { DeliveryState } from '../db/schema.js';
import type { EndpointChanges, NewEndpoint, WebhookEndpoints } from './webhook-endpoint.service.js';
import { deliveryParams, endpointChangesBody, endpointParams, newEndpointBody, pageOf } from './webhook.schemas.js';

type EndpointRoute = { Params: { streamId: string; id: string } };
type PageRoute = { Querystring: { limit: number; cursor?: string } };
const ENDPOINT = { $ref: 'WebhookEndpoint#' };
const DELIVERY = { $ref: 'WebhookDelivery#' };
const tags = ['webhooks'];

/** A stream's webhook endpoints and their deliveries (docs/webhooks.md). */
export function webhookRoutes(deps: { webhooks: WebhookEndpoints }): FastifyPluginAsync {
  const { webhooks } = deps;
  return async (app) => {
    app.post<{ Params: { streamId: string }; Body: NewEndpoint }>('/webhooks', {
      schema: {
        tags,
        summary: 'Add a webhook endpoint',
        description: 'The answer holds the `whsec_…` signing secret; no later answer shows it again (rotate-secret makes a new one).',
        params: streamParams,
        body: newEndpointBody,
        response: { ...errorResponses, 201: ENDPOINT },
      },
      handler: async (request, reply) => reply.code(201).send(await webhooks.create(request.ctx, request.body)),
    });

    app.get<{ Params: { streamId: string } } & PageRoute>('/webhooks', {
      schema: { tags, summary: "The stream's webhook endpoints, oldest first", params: streamParams, querystring: pageQuery, response: { ...errorResponses, 200: pageOf(ENDPOINT) } },
      handler: (request) => webhooks.list(request.ctx, request.query.cursor, request.query.limit),
    });

    app.get<EndpointRoute>('/webhooks/:id', {
      schema: { tags, summary: 'A webhook endpoint', params: endpointParams, response: { ...errorResponses, 200: ENDPOINT } },
      handler: (request) => webhooks.get(request.ctx, request.params.id),
    });

    app.patch<EndpointRoute & { Body: EndpointChanges }>('/webhooks/:id', {
      schema: { tags, summary: 'Change a webhook endpoint', params: endpointParams, body: endpointChangesBody, response: { ...errorResponses, 200: ENDPOINT } },
      handler: (request) => webhooks.update(request.ctx, request.params.id, request.body),
    });

    app.delete<EndpointRoute>('/webhooks/:id', {
      schema: { tags, summary: 'Remove a webhook endpoint, its deliveries and their log', params: endpointParams, response: { ...errorResponses, 200: ENDPOINT } },
      handler: (request) => webhooks.remove(request.ctx, request.params.id),
    });

    app.post<EndpointRoute>('/webhooks/:id/rotate-secret', {
      schema: {
        tags,
        summary: 'Make a new signing secret',
        description: 'Deliveries carry signatures by the new and the old secret until `previousSecretExpiresAt` (WEBHOOK_SECRET_GRACE_SECONDS).',
        params: endpointParams,
        response: { ...errorResponses, 200: ENDPOINT },
      },
      handler: (request) => webhooks.rotateSecret(request.ctx, request.params.id),
    });

    app.get<EndpointRoute & { Querystring: { limit: number; cursor?: string; state?: DeliveryState } }>('/webhooks/:id/deliveries', {
      schema: {
        tags,
        summary: "The endpoint's deliveries, newest first, each with its log of tries",
        params: endpointParams,
        querystring: { ...pageQuery, properties: { ...pageQuery.properties, state: { type: 'string', enum: ['pending', 'delivered', 'failed'] } } },
        response: { ...errorResponses, 200: pageOf(DELIVERY) },
      },
      handler: (request) => webhooks.deliveries(request.ctx, request.params.id, request.query.cursor, request.query.limit, request.query.state),
    });

    app.post<EndpointRoute>('/webhooks/:id/deliveries/replay', {
      schema: {
        tags,
        summary: 'Send every failed delivery of the endpoint again',
        params: endpointParams,
        response: { ...errorResponses, 200: { type: 'object', properties: { replayed: { type: 'integer' } }, required: ['replayed'] } },
      },
      handler: (request) => webhooks.replayFailed(request.ctx, request.params.id),
    });

    app.post<{ Params: { streamId: string; id: string; deliveryId: string } }>('/webhooks/:id/deliveries/:deliveryId/replay', {
      schema: {
        tags,
        summary: 'Send one event to the endpoint again (same webhook-id), from the start of the retry schedule',
        params: deliveryParams,
        response: { ...errorResponses, 200: DELIVERY },
      },
      handler: (request) => webhooks.replay(request.ctx, request.params.id, request.params.deliveryId),
    });
  };
}

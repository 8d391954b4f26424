import { WEBHOOK_EVENT_TYPES } from './webhook-events.js';

const eventList = {
  type: 'array',
  items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
  minItems: 1,
  uniqueItems: true,
  description: 'The event types sent to this endpoint; every type when absent',
} as const;

export const webhookEndpointSchema = {
  $id: 'WebhookEndpoint',
  type: 'object',
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    events: { type: 'array', items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] } },
    description: { type: 'string' },
    disabled: { type: 'boolean' },
    disabledReason: { type: ['string', 'null'], description: 'Why deliveries stopped (a 410 from the endpoint, or a user)' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    secret: { type: 'string', description: 'The `whsec_…` signing secret: only in the answers of create and rotate-secret' },
    previousSecretExpiresAt: { type: 'string', format: 'date-time', description: 'rotate-secret: until when the old secret still signs' },
  },
  required: ['id', 'url', 'events', 'description', 'disabled', 'createdAt', 'updatedAt'],
} as const;

export const webhookDeliverySchema = {
  $id: 'WebhookDelivery',
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The event id, sent as `webhook-id` on every try' },
    type: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
    attempts: { type: 'integer' },
    nextAttemptAt: { type: ['string', 'null'], format: 'date-time' },
    lastStatus: { type: ['integer', 'null'] },
    lastError: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    log: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          attempt: { type: 'integer' },
          at: { type: 'string', format: 'date-time' },
          status: { type: ['integer', 'null'], description: "The receiver's status; null when none came" },
          latencyMs: { type: 'integer' },
          error: { type: ['string', 'null'] },
          instance: { type: ['string', 'null'], description: 'The INSTANCE_ID of the Dialbook instance that made the try; null for tries logged before it was recorded' },
        },
        required: ['attempt', 'at', 'status', 'latencyMs', 'error', 'instance'],
      },
    },
  },
  required: ['id', 'type', 'state', 'attempts', 'createdAt', 'log'],
} as const;

export const newEndpointBody = {
  type: 'object',
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 2000 },
    events: eventList,
    description: { type: 'string', maxLength: 500 },
  },
  required: ['url'],
} as const;

export const endpointChangesBody = {
  type: 'object',
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 2000 },
    events: { anyOf: [eventList, { type: 'null' }], description: 'null: every event type again' },
    description: { type: 'string', maxLength: 500 },
    disabled: { type: 'boolean', description: 'false enables an endpoint again; its pending deliveries then go out' },
  },
} as const;

export const endpointParams = {
  type: 'object',
  properties: { streamId: { type: 'string' }, id: { type: 'string' } },
  required: ['streamId', 'id'],
} as const;

export const deliveryParams = {
  type: 'object',
  properties: { streamId: { type: 'string' }, id: { type: 'string' }, deliveryId: { type: 'string' } },
  required: ['streamId', 'id', 'deliveryId'],
} as const;

export const pageOf = (items: object) =>
  ({
    type: 'object',
    properties: { results: { type: 'array', items }, hasMore: { type: 'boolean' }, nextCursor: { type: ['string', 'null'] } },
    required: ['results', 'hasMore', 'nextCursor'],
  }) as const;

import type { FromSchema } from 'json-schema-to-ts';

/**
 * JSON schemas every API route shares: the error body and the stream path parameter. They belong to no feature
 * folder, so contacts/ and imports/ both take them from here.
 */

/** One entry of `errors`: the schema of ErrorDetail. */
export const errorDetailSchema = {
  type: 'object',
  properties: {
    msg: { type: 'string' },
    code: { type: 'string' },
    field: { type: 'string' },
    index: { type: 'integer' },
    row: { type: 'integer' },
    id: { type: 'string' },
  },
  required: ['msg', 'code'],
} as const;

export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  properties: {
    errors: { type: 'array', items: errorDetailSchema },
  },
  required: ['errors'],
} as const;

export const streamParams = {
  type: 'object',
  properties: { streamId: { type: 'string' } },
  required: ['streamId'],
} as const;

export type StreamParams = FromSchema<typeof streamParams>;

/** The error answers a route may give, all in the contract's `{"errors":[…]}` shape. */
export const errorResponses = {
  400: { $ref: 'ErrorBody#' },
  401: { $ref: 'ErrorBody#' },
  403: { $ref: 'ErrorBody#' },
  404: { $ref: 'ErrorBody#' },
  409: { $ref: 'ErrorBody#' },
  413: { $ref: 'ErrorBody#' },
  415: { $ref: 'ErrorBody#' },
  429: { $ref: 'ErrorBody#' },
  503: { $ref: 'ErrorBody#' },
} as const;

/** `limit` and `cursor` of the keyset-paged lists (import jobs, webhooks, deliveries, history). */
export const cursorPageQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    cursor: { type: 'string', minLength: 1, maxLength: 200, description: 'nextCursor of the previous page' },
  },
} as const;

import type { FastifyPluginAsync } from 'fastify';
import { cursorPageQuery, errorResponses } from '../http/schemas.js';
import type { HistoryService } from './history.service.js';

const change = { type: 'object', properties: { from: { type: ['string', 'null'] }, to: { type: ['string', 'null'] } }, required: ['from', 'to'] } as const;

export const historyEntrySchema = {
  $id: 'HistoryEntry',
  type: 'object',
  properties: {
    at: { type: 'string', format: 'date-time' },
    action: { type: 'string', enum: ['created', 'updated', 'deleted', 'restored', 'imported', 'reverted'] },
    userId: { type: 'string' },
    appId: { type: 'string' },
    importId: { type: 'string', description: 'The import that made the change (`imported`) or whose revert did (`reverted`)' },
    changes: {
      type: 'object',
      description: 'Each changed field by its API name (`firstName`, `cellPhone.phoneNumber`, `status`), from its earlier value to its new one',
      additionalProperties: change,
    },
  },
  required: ['at', 'action', 'userId', 'appId', 'changes'],
} as const;

const contactParams = {
  type: 'object',
  properties: { streamId: { type: 'string' }, id: { type: 'string' } },
  required: ['streamId', 'id'],
} as const;

/** GET /contacts/{id}/history. */
export function historyRoutes(deps: { history: HistoryService }): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { streamId: string; id: string }; Querystring: { limit: number; cursor?: string } }>('/contacts/:id/history', {
      schema: {
        tags: ['contacts'],
        summary: 'Every change to a contact, newest first',
        params: contactParams,
        querystring: cursorPageQuery,
        response: {
          ...errorResponses,
          200: {
            type: 'object',
            properties: { results: { type: 'array', items: { $ref: 'HistoryEntry#' } }, hasMore: { type: 'boolean' }, nextCursor: { type: ['string', 'null'] } },
            required: ['results', 'hasMore', 'nextCursor'],
          },
        },
      },
      handler: (request) => deps.history.contactHistory(request.ctx, request.params.id, request.query.cursor, request.query.limit),
    });
  };
}

import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest, onSendHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import { fingerprint, idempotencyKeyOf } from './fingerprint.js';
import type { Answer, Claim, IdempotencyService } from './idempotency.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The key of a route that claims it itself (`config.idempotency: 'upload'`). */
    idempotencyKey?: string;
    /** Held while a JSON request runs under its Idempotency-Key; the onSend hook stores or releases it. */
    idempotencyClaim?: Claim;
  }
  interface FastifyContextConfig {
    /** `upload`: the route reads its own body, so it claims the key itself once it can hash the file. */
    idempotency?: 'upload';
  }
}

// The methods that change something; a GET with the header is simply served.
const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const REPLAYED_HEADER = 'idempotent-replayed';

/** Sends a fresh or stored answer; a stored one is marked `Idempotent-Replayed: true`. */
export function sendAnswer(reply: FastifyReply, answer: Answer): FastifyReply {
  reply.code(answer.status).type(answer.contentType);
  if (answer.replayed) reply.header(REPLAYED_HEADER, 'true');
  // A streamed answer (an import's, hundreds of MB at a million rows) is read a piece at a time as the client takes it.
  return reply.send(Buffer.isBuffer(answer.body) ? answer.body : Readable.from(answer.body, { highWaterMark: 1 }));
}

/** What names a request besides its body: method, route, path parameters and (defaulted) query. */
export function requestParts(request: FastifyRequest): unknown[] {
  return [request.method, request.routeOptions.url, request.params, request.query];
}

/**
 * Hooks for every route of an authenticated scope. preHandler runs after authentication and after the body is
 * parsed and validated: it claims the key, or replays the stored answer without running the handler. onSend stores
 * the answer of the request that holds the key (4xx included), or releases the key after a 5xx.
 */
export function idempotencyHooks(service: Pick<IdempotencyService, 'start' | 'complete' | 'release' | 'storedAnswer'>) {
  const preHandler: preHandlerAsyncHookHandler = async function (request, reply) {
    if (!METHODS.has(request.method)) return;
    const key = idempotencyKeyOf(request.headers);
    if (key === undefined) return;
    if (request.routeOptions.config.idempotency === 'upload') {
      request.idempotencyKey = key;
      return;
    }
    const start = await service.start(request.ctx.accountId, key, fingerprint([...requestParts(request), request.body]));
    // Returning the reply after sending it tells Fastify to skip the handler.
    if (start.kind === 'done') return sendAnswer(reply, { ...(await service.storedAnswer(start.record)), replayed: true });
    request.idempotencyClaim = start.claim;
  };

  const onSend: onSendHookHandler = async function (request, reply, payload) {
    const claim = request.idempotencyClaim;
    if (!claim || claim.settled) return payload;
    const storable = typeof payload === 'string' || Buffer.isBuffer(payload);
    try {
      if (reply.statusCode < 500 && claim.fingerprint && storable) {
        const contentType = String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8');
        await service.complete(claim, reply.statusCode, contentType, [payload as string | Buffer]);
      } else {
        await service.release(claim);
      }
    } catch (error) {
      // The answer stands; the key was freed (or is left to its lease), and a retry runs the request again.
      request.log.warn({ err: error }, 'could not store the answer of an idempotent request');
    }
    return payload;
  };

  return { preHandler, onSend };
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator, RequestContext } from '../auth/authenticator.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authenticate hook on every contacts route. */
    ctx: RequestContext;
  }
}

/** onRequest hook: runs before the body is read, so an unauthenticated upload is refused without reading it. */
export function authenticateHook(authenticator: Authenticator) {
  return async function authenticate(request: FastifyRequest<{ Params: { streamId: string } }>, _reply: FastifyReply) {
    request.ctx = await authenticator.authenticate({
      token: tokenOf(request),
      accountId: single(request.headers.accountid),
      streamId: request.params.streamId,
    });
  };
}

function tokenOf(request: FastifyRequest): string | undefined {
  const auth = single(request.headers.auth)?.trim();
  if (auth) return auth.replace(/^bearer\s+/i, '');
  const bearer = /^bearer\s+(\S+)\s*$/i.exec(single(request.headers.authorization) ?? '');
  return bearer?.[1];
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

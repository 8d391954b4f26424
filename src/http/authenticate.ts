import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/authenticator.js';
import type { RequestContext } from '../shared/request-context.js';
import type { SessionAuthenticator } from '../console/session-authenticator.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authenticate hook on every contacts route. */
    ctx: RequestContext;
  }
}

/**
 * onRequest hook: runs before the body is read, so an unauthenticated upload is refused without reading it. A request
 * without a token but with a console session cookie is authenticated by its session, into the same context.
 */
export function authenticateHook(authenticator: Authenticator, session?: SessionAuthenticator) {
  return async function authenticate(request: FastifyRequest<{ Params: { streamId: string } }>, _reply: FastifyReply) {
    const token = tokenOf(request);
    if (token === undefined && session) {
      const ctx = await session.authenticate(request, request.params.streamId);
      if (ctx) {
        request.ctx = ctx;
        return;
      }
    }
    request.ctx = await authenticator.authenticate({
      token,
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

import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../shared/request-context.js';
import type { RateLimiter } from '../auth/rate-limiter.js';
import { AuthenticationError, NotFoundError, PermissionError, RateLimitedError } from '../shared/errors.js';
import type { SessionRecord } from '../users/user.repository.js';
import type { SessionService } from '../users/session.service.js';
import { sameToken } from '../users/session.service.js';
import { consoleAppId } from '../users/console-app.js';
import { CSRF_HEADER, sessionTokenOf } from './session-cookie.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const sessionEnded = () =>
  new AuthenticationError({ msg: 'Your session has ended; sign in again', code: 'SESSION_ENDED' });

/** A state-changing request of a session must carry the session's CSRF token in X-CSRF-Token. */
export function checkCsrf(request: FastifyRequest, session: SessionRecord): void {
  if (SAFE_METHODS.has(request.method)) return;
  const sent = request.headers[CSRF_HEADER];
  const value = Array.isArray(sent) ? sent[0] : sent;
  if (!value || !sameToken(value, session.csrfToken)) {
    throw new PermissionError({ msg: 'This request lacks the CSRF token of your session; reload the page and try again', code: 'CSRF_TOKEN_INVALID' });
  }
}

/**
 * A console session as one more way to authenticate an API request. It yields the same request context a token
 * does (the user, the account's console app), after the same checks where they apply: the stream must be one of
 * the session's account (404 as for a token), and the account's per-minute rate limit counts the request. The
 * JWT-only checks (signature, jti, scope) have no session counterpart; a session's equivalent is its own expiry,
 * revocation and CSRF token.
 */
export function createSessionAuthenticator(deps: { sessions: Pick<SessionService, 'resolve' | 'streamOfAccount'>; rateLimiter: RateLimiter | undefined }) {
  return {
    /** The context for a request that carries a session cookie and no token; undefined when it carries no cookie. */
    async authenticate(request: FastifyRequest, streamId: string): Promise<RequestContext | undefined> {
      const token = sessionTokenOf(request);
      if (token === undefined) return undefined;
      const session = await deps.sessions.resolve(token);
      if (!session) throw sessionEnded();
      checkCsrf(request, session);
      if (!STREAM_ID.test(streamId) || !(await deps.sessions.streamOfAccount(session.accountId, streamId))) {
        throw new NotFoundError({ msg: `Stream ${streamId} was not found`, code: 'STREAM_NOT_FOUND' });
      }
      if (deps.rateLimiter) {
        const decision = await deps.rateLimiter.hit(session.accountId);
        if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds);
      }
      return { orgId: session.orgId, accountId: session.accountId, streamId, userId: session.userId, appId: consoleAppId(session.accountId) };
    },
  };
}

export type SessionAuthenticator = ReturnType<typeof createSessionAuthenticator>;

const STREAM_ID = /^st-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

import type { FastifyPluginAsync } from 'fastify';
import { UnsupportedMediaError } from '../shared/errors.js';
import type { SessionService } from '../users/session.service.js';
import { checkCsrf, sessionEnded } from './session-authenticator.js';
import { clearSessionCookie, setSessionCookie, sessionTokenOf, type CookieSettings } from './session-cookie.js';

const errorResponses = { 400: { $ref: 'ErrorBody#' }, 401: { $ref: 'ErrorBody#' }, 403: { $ref: 'ErrorBody#' }, 415: { $ref: 'ErrorBody#' }, 429: { $ref: 'ErrorBody#' } };

const sessionSchema = {
  type: 'object',
  properties: {
    user: { type: 'object', properties: { userId: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' } } },
    accountId: { type: 'string' },
    orgId: { type: 'string' },
    csrfToken: { type: 'string' },
    streams: { type: 'array', items: { type: 'object', properties: { streamId: { type: 'string' }, name: { type: 'string' } } } },
  },
} as const;

interface SignInBody {
  email: string;
  password: string;
}

/**
 * The console's own routes: sign in, sign out, and who is signed in (with the account's streams and the CSRF token
 * the page sends back). Everything else the console does goes through the public API routes.
 */
export function consoleSessionRoutes(deps: { sessions: SessionService; cookie: CookieSettings }): FastifyPluginAsync {
  return async (app) => {
    app.removeContentTypeParser('text/plain');

    async function view(session: { userId: string; email: string; name: string; accountId: string; orgId: string; csrfToken: string }) {
      const streams = await deps.sessions.streams(session.accountId);
      return {
        user: { userId: session.userId, email: session.email, name: session.name },
        accountId: session.accountId,
        orgId: session.orgId,
        csrfToken: session.csrfToken,
        streams: streams.map((s) => ({ streamId: s.id, name: s.name })),
      };
    }

    app.post<{ Body: SignInBody }>('/console/api/sign-in', {
      schema: {
        tags: ['console'],
        summary: 'Console: sign in',
        description:
          'Checks the email and password of a console user (docs/console.md) and sets the session cookie. Refused sign-ins ' +
          'are counted per email and per address; at the limit, 429 SIGN_IN_LIMITED. JSON only: a cross-site form cannot sign anyone in.',
        body: {
          type: 'object',
          // No control characters in the email: PostgreSQL refuses a NUL in text, which would be a 500.
          properties: { email: { type: 'string', maxLength: 320, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }, password: { type: 'string', maxLength: 4096 } },
          required: ['email', 'password'],
        },
        response: { 200: { ...sessionSchema, description: 'Signed in: the session, with its CSRF token and the account\'s streams' }, ...errorResponses },
      },
      // A cross-site form cannot send JSON without the browser asking first (and it is never allowed): no login CSRF.
      onRequest: async (request) => {
        if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
          throw new UnsupportedMediaError({ msg: 'Sign in with a JSON body {"email","password"}', code: 'UNSUPPORTED_MEDIA_TYPE' });
        }
      },
      handler: async (request, reply) => {
        const { token, session } = await deps.sessions.signIn({ email: request.body.email, password: request.body.password, address: request.ip });
        setSessionCookie(request, reply, token, deps.cookie);
        return view(session);
      },
    });

    app.get('/console/api/session', {
      schema: {
        tags: ['console'],
        summary: 'Console: the signed-in user',
        description: 'The session the cookie names: its user, account, streams and the CSRF token state-changing requests must send in X-CSRF-Token. 401 SESSION_ENDED when there is none.',
        response: { 200: { ...sessionSchema, description: 'The session' }, ...errorResponses },
      },
      handler: async (request, reply) => {
        reply.header('cache-control', 'no-store');
        const token = sessionTokenOf(request);
        const session = token === undefined ? undefined : await deps.sessions.resolve(token);
        if (!session) throw sessionEnded();
        return view(session);
      },
    });

    app.post('/console/api/sign-out', {
      schema: {
        tags: ['console'],
        summary: 'Console: sign out',
        description: 'Ends the session at once (its cookie is refused from then on) and clears the cookie. Needs X-CSRF-Token.',
        response: { 204: { description: 'Signed out', type: 'null' }, ...errorResponses },
      },
      handler: async (request, reply) => {
        const token = sessionTokenOf(request);
        const session = token === undefined ? undefined : await deps.sessions.resolve(token);
        if (!session) throw sessionEnded();
        checkCsrf(request, session);
        await deps.sessions.signOut(session.id);
        clearSessionCookie(request, reply, deps.cookie);
        return reply.code(204).send();
      },
    });
  };
}

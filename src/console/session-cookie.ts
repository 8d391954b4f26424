import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'dialbook_session';
export const CSRF_HEADER = 'x-csrf-token';

/** The session token a request carries in its Cookie header, if any. */
export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieSettings {
  secure: 'auto' | 'always' | 'never';
  /** Seconds; the session's absolute lifetime, so the browser forgets the cookie when the store does. */
  maxAgeSeconds: number;
}

/** Over https: directly, or behind a proxy that says so. Trusting the header can only add the Secure flag. */
function overHttps(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return request.protocol === 'https' || proto === 'https';
}

function attributes(request: FastifyRequest, settings: CookieSettings, maxAge: number): string {
  const secure = settings.secure === 'always' || (settings.secure === 'auto' && overHttps(request));
  // HttpOnly: no script reads it. SameSite=Lax: not sent on cross-site subrequests or form posts; the CSRF token
  // guards every state-changing request besides.
  return `Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, settings: CookieSettings): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=${token}; ${attributes(request, settings, settings.maxAgeSeconds)}`);
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply, settings: CookieSettings): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=; ${attributes(request, settings, 0)}`);
}

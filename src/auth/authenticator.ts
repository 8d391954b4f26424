import { decodeJwt, errors as joseErrors, importSPKI, jwtVerify, type JWTPayload } from 'jose';
import { AuthenticationError, NotFoundError, PermissionError, RateLimitedError, ValidationError } from '../shared/errors.js';
import type { RequestContext } from '../shared/request-context.js';
import { CONFIGURATION_SCOPE } from '../tenancy/app-credentials.js';
import type { AppCache, CachedApp } from './app-cache.js';
import type { RateLimiter } from './rate-limiter.js';
import type { ReplayCache } from './replay-cache.js';

export interface Credentials {
  token: string | undefined;
  accountId: string | undefined;
  streamId: string;
}

export interface AuthenticatorDeps {
  apps: Pick<AppCache, 'find'>;
  replayCache: ReplayCache;
  /** Absent when the rate limit is turned off. */
  rateLimiter: RateLimiter | undefined;
  clockSkewSeconds: number;
  jtiRetentionSeconds: number;
  now?: () => number;
}

const invalidToken = (msg = 'The token is not valid') => new AuthenticationError({ msg, code: 'INVALID_TOKEN' });

/** Tokens whose signature was checked, kept; past it the memory starts over. */
const MAX_VERIFIED = 10_000;

/** The contract's request checks, in its order: token, account, stream, scope, rate limit. */
export function createAuthenticator(deps: AuthenticatorDeps) {
  const now = deps.now ?? Date.now;

  // A token's signature, checked once against its app as read at one tenancy version: the same token under the same
  // version verifies the same way, so only its time claims are looked at again. Any change to the app (a rotated
  // secret) moves the version, and the token is checked from scratch.
  const verified = new Map<string, JWTPayload>();

  async function verifyToken(token: string): Promise<{ app: CachedApp; payload: JWTPayload }> {
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      throw invalidToken('The token is not a JWT');
    }
    const clientId = clientIdOf(claims);
    if (!clientId) throw invalidToken('The token does not name an app in its appId claim');
    const { version, app } = await deps.apps.find(clientId);
    if (!app) throw invalidToken();
    const key = `${version}:${token}`;
    const known = verified.get(key);
    if (known) {
      checkTimes(known);
      return { app, payload: known };
    }
    try {
      const secret = app.algorithm === 'HS256'
        ? new TextEncoder().encode(app.clientSecret)
        : await importSPKI(app.publicKey ?? '', app.algorithm);
      // The algorithm comes from the app, never from the token's header.
      const { payload } = await jwtVerify(token, secret, {
        algorithms: [app.algorithm],
        clockTolerance: deps.clockSkewSeconds,
        currentDate: new Date(now()),
      });
      if (verified.size >= MAX_VERIFIED) verified.clear();
      verified.set(key, payload);
      return { app, payload };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw expired();
      if (error instanceof joseErrors.JWTClaimValidationFailed) throw invalidToken(`The token's ${error.claim} claim is not valid now`);
      throw invalidToken();
    }
  }

  /** exp and nbf of a token verified before, judged as jose judged them then (both were numbers, or absent). */
  function checkTimes(payload: JWTPayload): void {
    const seconds = Math.floor(now() / 1000);
    // In jose's order: nbf, then exp.
    if (typeof payload.nbf === 'number' && payload.nbf > seconds + deps.clockSkewSeconds) throw invalidToken("The token's nbf claim is not valid now");
    if (typeof payload.exp === 'number' && payload.exp <= seconds - deps.clockSkewSeconds) throw expired();
  }

  /** The jti rules that need no memory: a jti, and a lifetime no longer than the jti is remembered. */
  function jtiLifetime(app: CachedApp, payload: JWTPayload): { jti: string; ttl: number } | undefined {
    if (!app.enforceJti) return undefined;
    if (typeof payload.jti !== 'string' || payload.jti === '') {
      throw new AuthenticationError({ msg: 'This app requires a jti claim in every token', code: 'JTI_REQUIRED' });
    }
    const nowSeconds = now() / 1000;
    // A jti is remembered for a bounded time, so a token must not outlive that memory: its end is its exp,
    // or iat plus the retention when it has no exp.
    const end = typeof payload.exp === 'number' ? payload.exp : typeof payload.iat === 'number' ? payload.iat + deps.jtiRetentionSeconds : undefined;
    if (end === undefined) {
      throw new AuthenticationError({ msg: 'This app requires tokens to carry exp or iat', code: 'TOKEN_LIFETIME_REQUIRED' });
    }
    if (end - nowSeconds > deps.jtiRetentionSeconds + deps.clockSkewSeconds || end + deps.clockSkewSeconds < nowSeconds) {
      throw new AuthenticationError({ msg: `This app accepts tokens that live at most ${deps.jtiRetentionSeconds} seconds`, code: 'TOKEN_LIFETIME_TOO_LONG' });
    }
    return { jti: payload.jti, ttl: end - nowSeconds + deps.clockSkewSeconds };
  }

  return {
    async authenticate(credentials: Credentials): Promise<RequestContext> {
      if (!credentials.token) {
        throw new AuthenticationError({ msg: 'The auth header must carry a JWT', code: 'AUTH_REQUIRED' });
      }
      const { app, payload } = await verifyToken(credentials.token);
      const replay = jtiLifetime(app, payload);
      if (!credentials.accountId) {
        throw new ValidationError({ msg: 'The accountId header is required', code: 'ACCOUNT_ID_REQUIRED', field: 'accountId' });
      }
      if (credentials.accountId.trim().toLowerCase() !== app.accountId) {
        throw new PermissionError({ msg: 'The token does not belong to this account', code: 'ACCOUNT_MISMATCH' });
      }
      if (!STREAM_ID.test(credentials.streamId) || !app.streamIds.has(credentials.streamId)) {
        throw new NotFoundError({ msg: `Stream ${credentials.streamId} was not found`, code: 'STREAM_NOT_FOUND' });
      }
      if (!app.scopes.includes(CONFIGURATION_SCOPE)) {
        throw new PermissionError({ msg: `The app lacks the ${CONFIGURATION_SCOPE} scope`, code: 'SCOPE_REQUIRED' });
      }
      if (deps.rateLimiter) {
        const decision = await deps.rateLimiter.hit(app.accountId);
        if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds);
      }
      // Used up last: a token refused for its account, stream, scope or the rate limit may be sent again.
      if (replay && !(await deps.replayCache.firstUse(`${app.id}:${replay.jti}`, replay.ttl))) {
        throw new AuthenticationError({ msg: 'This token was used before', code: 'TOKEN_REPLAYED' });
      }
      return { orgId: app.orgId, accountId: app.accountId, streamId: credentials.streamId, userId: app.userId, appId: app.id };
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

/**
 * The vendor's JWT tool puts the client id in `appId`. Its older samples carry it in `name` instead
 * (seed 002's token), so a `cs-` value there is accepted too; the signature still decides.
 */
function clientIdOf(claims: JWTPayload): string | undefined {
  // Checked for form before the store sees it: PostgreSQL refuses text with a NUL, which would be a 500.
  if (typeof claims.appId === 'string') return CLIENT_ID.test(claims.appId) ? claims.appId : undefined;
  if (typeof claims.name === 'string' && CLIENT_ID.test(claims.name)) return claims.name;
  return undefined;
}

const expired = () => new AuthenticationError({ msg: 'The token has expired', code: 'TOKEN_EXPIRED' });

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const CLIENT_ID = new RegExp(`^cs-${UUID}$`);
const STREAM_ID = new RegExp(`^st-${UUID}$`);

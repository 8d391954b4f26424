import { decodeJwt, errors as joseErrors, importSPKI, jwtVerify, type JWTPayload } from 'jose';
import { AuthenticationError, NotFoundError, PermissionError, RateLimitedError, ValidationError } from '../shared/errors.js';
import type { AppRecord, TenancyRepository } from '../tenancy/tenancy.repository.js';
import { CONFIGURATION_SCOPE } from '../tenancy/tenancy.service.js';
import type { RateLimiter } from './rate-limiter.js';
import type { ReplayCache } from './replay-cache.js';

/** Who is calling and on which stream: what every write records and every read is scoped to. */
export interface RequestContext {
  orgId: string;
  accountId: string;
  streamId: string;
  /** The app's owner, written to createdBy / updatedBy. */
  userId: string;
  /** The app's id (`a-…`), written to createdByAId / updatedByAId. */
  appId: string;
}

export interface Credentials {
  token: string | undefined;
  accountId: string | undefined;
  streamId: string;
}

export interface AuthenticatorDeps {
  tenancy: Pick<TenancyRepository, 'findAppByClientId' | 'appReachesStream'>;
  replayCache: ReplayCache;
  /** Absent when the rate limit is turned off. */
  rateLimiter: RateLimiter | undefined;
  clockSkewSeconds: number;
  jtiRetentionSeconds: number;
  now?: () => number;
}

const invalidToken = (msg = 'The token is not valid') => new AuthenticationError({ msg, code: 'INVALID_TOKEN' });

/** The contract's request checks, in its order: token, account, stream, scope, rate limit. */
export function createAuthenticator(deps: AuthenticatorDeps) {
  const now = deps.now ?? Date.now;

  async function verifyToken(token: string): Promise<{ app: AppRecord; payload: JWTPayload }> {
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      throw invalidToken('The token is not a JWT');
    }
    const clientId = clientIdOf(claims);
    if (!clientId) throw invalidToken('The token does not name an app in its appId claim');
    const app = await deps.tenancy.findAppByClientId(clientId);
    if (!app) throw invalidToken();
    try {
      const key = app.algorithm === 'HS256'
        ? new TextEncoder().encode(app.clientSecret)
        : await importSPKI(app.publicKey ?? '', app.algorithm);
      // The algorithm comes from the app, never from the token's header.
      const { payload } = await jwtVerify(token, key, {
        algorithms: [app.algorithm],
        clockTolerance: deps.clockSkewSeconds,
        currentDate: new Date(now()),
      });
      return { app, payload };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AuthenticationError({ msg: 'The token has expired', code: 'TOKEN_EXPIRED' });
      if (error instanceof joseErrors.JWTClaimValidationFailed) throw invalidToken(`The token's ${error.claim} claim is not valid now`);
      throw invalidToken();
    }
  }

  async function checkReplay(app: AppRecord, payload: JWTPayload): Promise<void> {
    if (!app.enforceJti) return;
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
    if (end - nowSeconds > deps.jtiRetentionSeconds || end + deps.clockSkewSeconds < nowSeconds) {
      throw new AuthenticationError({ msg: `This app accepts tokens that live at most ${deps.jtiRetentionSeconds} seconds`, code: 'TOKEN_LIFETIME_TOO_LONG' });
    }
    const ttl = end - nowSeconds + deps.clockSkewSeconds;
    if (!(await deps.replayCache.firstUse(`${app.id}:${payload.jti}`, ttl))) {
      throw new AuthenticationError({ msg: 'This token was used before', code: 'TOKEN_REPLAYED' });
    }
  }

  return {
    async authenticate(credentials: Credentials): Promise<RequestContext> {
      if (!credentials.token) {
        throw new AuthenticationError({ msg: 'The auth header must carry a JWT', code: 'AUTH_REQUIRED' });
      }
      const { app, payload } = await verifyToken(credentials.token);
      await checkReplay(app, payload);
      if (!credentials.accountId) {
        throw new ValidationError({ msg: 'The accountId header is required', code: 'ACCOUNT_ID_REQUIRED', field: 'accountId' });
      }
      if (credentials.accountId.trim().toLowerCase() !== app.accountId) {
        throw new PermissionError({ msg: 'The token does not belong to this account', code: 'ACCOUNT_MISMATCH' });
      }
      if (!(await deps.tenancy.appReachesStream(app.accountId, app.id, credentials.streamId))) {
        throw new NotFoundError({ msg: `Stream ${credentials.streamId} was not found`, code: 'STREAM_NOT_FOUND' });
      }
      if (!app.scopes.includes(CONFIGURATION_SCOPE)) {
        throw new PermissionError({ msg: `The app lacks the ${CONFIGURATION_SCOPE} scope`, code: 'SCOPE_REQUIRED' });
      }
      if (deps.rateLimiter) {
        const decision = await deps.rateLimiter.hit(app.accountId);
        if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds);
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
  if (typeof claims.appId === 'string' && claims.appId) return claims.appId;
  if (typeof claims.name === 'string' && claims.name.startsWith('cs-')) return claims.name;
  return undefined;
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { AuthenticationError, RateLimitedError, ValidationError } from '../shared/errors.js';
import { decoyHash, MAX_PASSWORD_LENGTH, verifyPassword } from './password.js';
import { createConsoleAppRepository, createUserRepository, type SessionRecord } from './user.repository.js';
import { consoleAppId, consoleClientId } from './console-app.js';
import { normaliseEmail } from './user.service.js';
import { newClientSecret } from '../shared/ids.js';

export interface SessionSettings {
  idleMs: number;
  maxAgeMs: number;
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  windowMs: number;
}

/** A sign-in refused because too many attempts failed lately; says when to try again. */
export class SignInLimitedError extends RateLimitedError {
  constructor(retryAfterSeconds: number, what: 'user' | 'address') {
    super(retryAfterSeconds);
    this.details[0] = {
      msg: what === 'user'
        ? `Too many failed sign-ins for this email; try again in ${Math.ceil(retryAfterSeconds / 60)} minutes`
        : `Too many failed sign-ins from this address; try again in ${Math.ceil(retryAfterSeconds / 60)} minutes`,
      code: 'SIGN_IN_LIMITED',
    };
  }
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Equal-time comparison of two tokens. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const badCredentials = () => new AuthenticationError({ msg: 'The email or the password is not right', code: 'INVALID_CREDENTIALS' });

/** Console sign-in and the sessions it makes: kept in the store, so that ending one takes effect at once everywhere. */
export function createSessionService(deps: { db: Kysely<Database>; settings: SessionSettings; now?: () => number }) {
  const { db, settings } = deps;
  const now = deps.now ?? Date.now;
  const repo = createUserRepository(db);
  let lastSweep = 0;

  async function sweepNow(t: number): Promise<void> {
    if (t - lastSweep < 60_000) return;
    lastSweep = t;
    await repo.sweep(t - settings.windowMs, t - settings.maxAgeMs, t - settings.idleMs);
  }

  async function limitCheck(key: string, max: number, what: 'user' | 'address', t: number): Promise<void> {
    if ((await repo.countFailures(key, t - settings.windowMs)) >= max) {
      throw new SignInLimitedError(Math.ceil(settings.windowMs / 1000), what);
    }
  }

  return {
    /** Checks the password (argon2id) within the attempt limits; a session token and its CSRF token on success. */
    async signIn(input: { email: string; password: string; address: string }): Promise<{ token: string; session: SessionRecord }> {
      const t = now();
      await sweepNow(t);
      const email = normaliseEmail(input.email);
      if (email === '' || input.password === '') {
        throw new ValidationError([
          ...(email === '' ? [{ msg: 'Enter your email', code: 'FIELD_REQUIRED' as const, field: 'email' }] : []),
          ...(input.password === '' ? [{ msg: 'Enter your password', code: 'FIELD_REQUIRED' as const, field: 'password' }] : []),
        ]);
      }
      const userKey = `user:${email}`;
      const addressKey = `address:${input.address}`;
      await limitCheck(addressKey, settings.maxFailuresPerAddress, 'address', t);
      await limitCheck(userKey, settings.maxFailuresPerUser, 'user', t);
      const user = await repo.findCredentials(email);
      const ok = input.password.length <= MAX_PASSWORD_LENGTH && (await verifyPassword(user?.passwordHash ?? (await decoyHash()), input.password));
      if (!user || !ok || user.disabled) {
        await repo.recordFailure([userKey, addressKey], t);
        throw badCredentials();
      }
      await repo.clearFailures(userKey);
      // Made with the first user, but an account whose console app row went missing gets it back here.
      await createConsoleAppRepository(db).ensureApp(
        user.accountId,
        { id: consoleAppId(user.accountId), clientId: consoleClientId(user.accountId), clientSecret: newClientSecret(), userId: user.id },
        t,
      );
      const token = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(32).toString('base64url');
      const id = hashToken(token);
      await repo.insertSession({ id, userId: user.id, accountId: user.accountId, csrfToken }, t);
      return {
        token,
        session: { id, userId: user.id, accountId: user.accountId, orgId: user.orgId, csrfToken, createdAt: t, lastSeenAt: t, email: user.email, name: user.name },
      };
    },

    /** The live session a cookie's token names; undefined when unknown, ended, idle too long or too old. */
    async resolve(token: string): Promise<SessionRecord | undefined> {
      if (token.length === 0 || token.length > 100) return undefined;
      const session = await repo.findSession(hashToken(token));
      if (!session) return undefined;
      const t = now();
      if (t - session.createdAt >= settings.maxAgeMs || t - session.lastSeenAt >= settings.idleMs) {
        await repo.deleteSession(session.id);
        return undefined;
      }
      // Written at most once a minute: a busy page must not turn every read into a write.
      if (t - session.lastSeenAt >= Math.min(60_000, settings.idleMs / 10)) await repo.touchSession(session.accountId, session.id, t);
      return session;
    },

    async signOut(sessionId: string): Promise<void> {
      await repo.deleteSession(sessionId);
    },

    async streams(accountId: string) {
      return repo.listAccountStreams(accountId);
    },

    async streamOfAccount(accountId: string, streamId: string): Promise<boolean> {
      return repo.streamOfAccount(accountId, streamId);
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;

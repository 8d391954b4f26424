import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { newClientSecret, newUserId } from '../shared/ids.js';
import { createTenancyRepository } from '../tenancy/tenancy.repository.js';
import { consoleAppId, consoleClientId } from './console-app.js';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, newPassword } from './password.js';
import { createConsoleAppRepository, createUserRepository, type UserRecord } from './user.repository.js';

/** What `users list` shows: never the hash. */
export interface UserView {
  userId: string;
  email: string;
  name: string;
  disabled: boolean;
  createdAt: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** Emails compare without letter case or surrounding spaces. */
export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new ValidationError({ msg: `the password must be at least ${MIN_PASSWORD_LENGTH} characters`, code: 'PASSWORD_TOO_SHORT', field: 'password' });
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new ValidationError({ msg: `the password must be at most ${MAX_PASSWORD_LENGTH} characters`, code: 'PASSWORD_TOO_LONG', field: 'password' });
  }
}

const toView = (u: UserRecord): UserView => ({ userId: u.id, email: u.email, name: u.name, disabled: u.disabled, createdAt: new Date(u.createdAt).toISOString() });

/** Console users of an account: what the `dialbook users` commands do. */
export function createUserService(deps: { db: Kysely<Database>; now?: () => number }) {
  const { db } = deps;
  const now = deps.now ?? Date.now;

  async function accountOrThrow(accountId: string): Promise<void> {
    if (!(await createTenancyRepository(db).findAccount(accountId))) {
      throw new NotFoundError({ msg: `account ${accountId} does not exist`, code: 'ACCOUNT_NOT_FOUND' });
    }
  }

  async function userOrThrow(accountId: string, email: string): Promise<UserRecord> {
    const user = await createUserRepository(db).findUser(accountId, normaliseEmail(email));
    if (!user) throw new NotFoundError({ msg: `no user ${normaliseEmail(email)} in account ${accountId}`, code: 'USER_NOT_FOUND' });
    return user;
  }

  return {
    /** A new user; the password is the one given, or a new one, returned once and never stored in the clear. */
    async createUser(input: { accountId: string; email: string; name?: string; password?: string }): Promise<{ userId: string; email: string; password: string }> {
      const email = normaliseEmail(input.email);
      if (!EMAIL.test(email) || email.length > 320) throw new ValidationError({ msg: `"${input.email}" is not an email address`, code: 'INVALID_EMAIL', field: 'email' });
      const password = input.password ?? newPassword();
      checkPassword(password);
      await accountOrThrow(input.accountId);
      const passwordHash = await hashPassword(password);
      const userId = newUserId();
      return db.transaction().execute(async (trx) => {
        const repo = createUserRepository(trx);
        if (await repo.findCredentials(email)) throw new ValidationError({ msg: `a user with the email ${email} exists already`, code: 'EMAIL_TAKEN', field: 'email' });
        await repo.insertUser(input.accountId, { id: userId, email, name: input.name?.trim() || email, passwordHash }, now());
        await createConsoleAppRepository(trx).ensureApp(
          input.accountId,
          { id: consoleAppId(input.accountId), clientId: consoleClientId(input.accountId), clientSecret: newClientSecret(), userId },
          now(),
        );
        return { userId, email, password };
      });
    },

    async listUsers(accountId: string): Promise<UserView[]> {
      await accountOrThrow(accountId);
      return (await createUserRepository(db).listUsers(accountId)).map(toView);
    },

    /** A new password; every session of the user ends, as after a suspected leak. */
    async resetPassword(input: { accountId: string; email: string; password?: string }): Promise<{ userId: string; email: string; password: string }> {
      const user = await userOrThrow(input.accountId, input.email);
      const password = input.password ?? newPassword();
      checkPassword(password);
      const passwordHash = await hashPassword(password);
      const repo = createUserRepository(db);
      await repo.setPassword(input.accountId, user.id, passwordHash);
      await repo.deleteUserSessions(input.accountId, user.id);
      return { userId: user.id, email: user.email, password };
    },

    /** The user can no longer sign in, and every session they hold ends now. */
    async disableUser(input: { accountId: string; email: string }): Promise<{ userId: string; email: string; sessionsEnded: number }> {
      const user = await userOrThrow(input.accountId, input.email);
      const repo = createUserRepository(db);
      await repo.setDisabled(input.accountId, user.id, now());
      const sessionsEnded = await repo.deleteUserSessions(input.accountId, user.id);
      return { userId: user.id, email: user.email, sessionsEnded };
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;

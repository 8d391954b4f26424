import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

type Db = Kysely<Database>;

/** A console user as the services see it; the hash never leaves the users folder. */
export interface UserRecord {
  id: string;
  accountId: string;
  orgId: string;
  email: string;
  name: string;
  disabled: boolean;
  createdAt: number;
}

export interface SessionRecord {
  id: string;
  userId: string;
  accountId: string;
  orgId: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  email: string;
  name: string;
}

/** Console users, their sessions and their refused sign-ins. Reads made for a request take the account first. */
export function createUserRepository(db: Db) {
  const userColumns = ['users.id', 'users.account_id', 'accounts.org_id', 'users.email', 'users.name', 'users.disabled_at', 'users.created_at'] as const;
  const toUser = (row: { id: string; account_id: string; org_id: string; email: string | null; name: string; disabled_at: number | null; created_at: number }): UserRecord => ({
    id: row.id,
    accountId: row.account_id,
    orgId: row.org_id,
    email: row.email ?? '',
    name: row.name,
    disabled: row.disabled_at !== null,
    createdAt: Number(row.created_at),
  });

  return {
    async insertUser(accountId: string, user: { id: string; email: string; name: string; passwordHash: string }, now: number): Promise<void> {
      await db
        .insertInto('users')
        .values({ id: user.id, account_id: accountId, name: user.name, email: user.email, password_hash: user.passwordHash, created_at: now })
        .execute();
    },

    async listUsers(accountId: string): Promise<UserRecord[]> {
      const rows = await db
        .selectFrom('users')
        .innerJoin('accounts', 'accounts.id', 'users.account_id')
        .select(userColumns)
        .where('users.account_id', '=', accountId)
        .where('users.email', 'is not', null)
        .orderBy('users.created_at')
        .orderBy('users.id')
        .execute();
      return rows.map(toUser);
    },

    async findUser(accountId: string, email: string): Promise<UserRecord | undefined> {
      const row = await db
        .selectFrom('users')
        .innerJoin('accounts', 'accounts.id', 'users.account_id')
        .select(userColumns)
        .where('users.account_id', '=', accountId)
        .where('users.email', '=', email)
        .executeTakeFirst();
      return row && toUser(row);
    },

    /** The sign-in lookup: it comes before any tenant is known (it is how the tenant is known). */
    async findCredentials(email: string): Promise<(UserRecord & { passwordHash: string }) | undefined> {
      const row = await db
        .selectFrom('users')
        .innerJoin('accounts', 'accounts.id', 'users.account_id')
        .select([...userColumns, 'users.password_hash'])
        .where('users.email', '=', email)
        .executeTakeFirst();
      if (!row || row.password_hash === null) return undefined;
      return { ...toUser(row), passwordHash: row.password_hash };
    },

    async setPassword(accountId: string, userId: string, passwordHash: string): Promise<void> {
      await db.updateTable('users').set({ password_hash: passwordHash }).where('account_id', '=', accountId).where('id', '=', userId).execute();
    },

    async setDisabled(accountId: string, userId: string, at: number | null): Promise<void> {
      await db.updateTable('users').set({ disabled_at: at }).where('account_id', '=', accountId).where('id', '=', userId).execute();
    },

    async insertSession(session: { id: string; userId: string; accountId: string; csrfToken: string }, now: number): Promise<void> {
      await db
        .insertInto('console_sessions')
        .values({ id: session.id, user_id: session.userId, account_id: session.accountId, csrf_token: session.csrfToken, created_at: now, last_seen_at: now })
        .execute();
    },

    /** A session by its token's hash, with its user, if the user is still enabled. */
    async findSession(id: string): Promise<SessionRecord | undefined> {
      const row = await db
        .selectFrom('console_sessions')
        .innerJoin('users', 'users.id', 'console_sessions.user_id')
        .innerJoin('accounts', 'accounts.id', 'console_sessions.account_id')
        .select([
          'console_sessions.id', 'console_sessions.user_id', 'console_sessions.account_id', 'accounts.org_id',
          'console_sessions.csrf_token', 'console_sessions.created_at', 'console_sessions.last_seen_at', 'users.email', 'users.name',
        ])
        .where('console_sessions.id', '=', id)
        .where('users.disabled_at', 'is', null)
        // The session's account is its user's: a user moved or re-made elsewhere does not carry it along.
        .whereRef('users.account_id', '=', 'console_sessions.account_id')
        .executeTakeFirst();
      return row && {
        id: row.id,
        userId: row.user_id,
        accountId: row.account_id,
        orgId: row.org_id,
        csrfToken: row.csrf_token,
        createdAt: Number(row.created_at),
        lastSeenAt: Number(row.last_seen_at),
        email: row.email ?? '',
        name: row.name,
      };
    },

    async touchSession(accountId: string, id: string, now: number): Promise<void> {
      await db.updateTable('console_sessions').set({ last_seen_at: now }).where('account_id', '=', accountId).where('id', '=', id).execute();
    },

    async deleteSession(id: string): Promise<void> {
      await db.deleteFrom('console_sessions').where('id', '=', id).execute();
    },

    async deleteUserSessions(accountId: string, userId: string): Promise<number> {
      const result = await db.deleteFrom('console_sessions').where('account_id', '=', accountId).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async recordFailure(keys: string[], now: number): Promise<void> {
      await db.insertInto('sign_in_failures').values(keys.map((key) => ({ key, at: now }))).execute();
    },

    async countFailures(key: string, since: number): Promise<number> {
      const row = await db
        .selectFrom('sign_in_failures')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('key', '=', key)
        .where('at', '>', since)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async clearFailures(key: string): Promise<void> {
      await db.deleteFrom('sign_in_failures').where('key', '=', key).execute();
    },

    /** Old failures and sessions past their absolute expiry: housekeeping, not a check. */
    async sweep(failuresBefore: number, sessionsCreatedBefore: number, sessionsIdleBefore: number): Promise<void> {
      await db.deleteFrom('sign_in_failures').where('at', '<=', failuresBefore).execute();
      await db
        .deleteFrom('console_sessions')
        .where((eb) => eb.or([eb('created_at', '<=', sessionsCreatedBefore), eb('last_seen_at', '<=', sessionsIdleBefore)]))
        .execute();
    },

    async listAccountStreams(accountId: string): Promise<{ id: string; name: string }[]> {
      return db.selectFrom('streams').select(['id', 'name']).where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
    },

    async streamOfAccount(accountId: string, streamId: string): Promise<boolean> {
      const row = await db.selectFrom('streams').select('id').where('account_id', '=', accountId).where('id', '=', streamId).executeTakeFirst();
      return row !== undefined;
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;

/** The per-account console app (users/console-app.ts): inserted once, whoever gets there first. */
export function createConsoleAppRepository(db: Db) {
  return {
    async ensureApp(accountId: string, app: { id: string; clientId: string; clientSecret: string; userId: string }, now: number): Promise<void> {
      await db
        .insertInto('apps')
        .values({
          id: app.id,
          client_id: app.clientId,
          account_id: accountId,
          user_id: app.userId,
          name: 'Dialbook console',
          client_secret: app.clientSecret,
          algorithm: 'HS256',
          public_key: null,
          // No scope and no stream: the row names the console in createdByAId; it can never be used as a JWT client.
          scopes: '[]',
          enforce_jti: 0,
          created_at: now,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },
  };
}

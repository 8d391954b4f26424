import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface AppRecord {
  id: string;
  clientId: string;
  accountId: string;
  orgId: string;
  userId: string;
  name: string;
  clientSecret: string;
  algorithm: string;
  publicKey: string | null;
  scopes: string[];
  enforceJti: boolean;
}

export interface NewApp extends Omit<AppRecord, 'orgId'> {
  streamIds: string[];
}

/** An app as an operator sees it: never its secret. */
export interface AppSummary {
  appId: string;
  clientId: string;
  accountId: string;
  name: string;
  algorithm: string;
  scopes: string[];
  enforceJti: boolean;
  streamIds: string[];
  createdAt: string;
  /** When the app was disabled, or null. */
  disabledAt: string | null;
}

export interface AccountSummary {
  accountId: string;
  orgId: string;
  name: string;
  createdAt: string;
}

export interface StreamSummary {
  streamId: string;
  accountId: string;
  name: string;
  createdAt: string;
}

const iso = (millis: number | string): string => new Date(Number(millis)).toISOString();

type Db = Kysely<Database>;

// Compiled once: it runs on every request.
const VERSION_QUERY = CompiledQuery.raw('select version from tenancy_version where id = 1');

/**
 * Organisations, accounts, streams, users and apps. Reads that answer a request take the account first;
 * the app lookup by client id is the one that comes before any tenant is known (it is how a tenant is known).
 */
export function createTenancyRepository(db: Db) {
  return {
    async insertOrganisation(id: string, name: string, now: number): Promise<void> {
      await db.insertInto('organisations').values({ id, name, created_at: now }).execute();
    },

    async insertAccount(id: string, orgId: string, name: string, now: number): Promise<void> {
      await db.insertInto('accounts').values({ id, org_id: orgId, name, created_at: now }).execute();
    },

    async findAccount(accountId: string): Promise<{ id: string; orgId: string } | undefined> {
      const row = await db.selectFrom('accounts').select(['id', 'org_id']).where('id', '=', accountId).executeTakeFirst();
      return row && { id: row.id, orgId: row.org_id };
    },

    async insertStream(accountId: string, id: string, name: string, now: number): Promise<void> {
      await db.insertInto('streams').values({ id, account_id: accountId, name, created_at: now }).execute();
    },

    async listStreamIds(accountId: string, streamIds: string[]): Promise<string[]> {
      if (streamIds.length === 0) return [];
      const rows = await db
        .selectFrom('streams')
        .select('id')
        .where('account_id', '=', accountId)
        .where('id', 'in', streamIds)
        .execute();
      return rows.map((r) => r.id);
    },

    /** A stream with its account and organisation, whoever asks (the CLI, which acts for the stream's tenant). */
    async findStream(streamId: string): Promise<{ id: string; accountId: string; orgId: string } | undefined> {
      const row = await db
        .selectFrom('streams')
        .innerJoin('accounts', 'accounts.id', 'streams.account_id')
        .select(['streams.id', 'streams.account_id', 'accounts.org_id'])
        .where('streams.id', '=', streamId)
        .executeTakeFirst();
      return row && { id: row.id, accountId: row.account_id, orgId: row.org_id };
    },

    /** The account's first user (the owner of its first app, which `setup` or `apps create` made), if it has one. */
    async findFirstUserId(accountId: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('users')
        .select('id')
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      return row?.id;
    },

    async insertUser(accountId: string, id: string, name: string, now: number): Promise<void> {
      await db.insertInto('users').values({ id, account_id: accountId, name, created_at: now }).execute();
    },

    async insertApp(app: NewApp, now: number): Promise<void> {
      await db
        .insertInto('apps')
        .values({
          id: app.id,
          client_id: app.clientId,
          account_id: app.accountId,
          user_id: app.userId,
          name: app.name,
          client_secret: app.clientSecret,
          algorithm: app.algorithm,
          public_key: app.publicKey,
          scopes: JSON.stringify(app.scopes),
          enforce_jti: app.enforceJti ? 1 : 0,
          created_at: now,
        })
        .execute();
      if (app.streamIds.length > 0) {
        await db
          .insertInto('app_streams')
          .values(app.streamIds.map((streamId) => ({ app_id: app.id, stream_id: streamId })))
          .execute();
      }
    },

    async findAppByClientId(clientId: string): Promise<AppRecord | undefined> {
      const row = await db
        .selectFrom('apps')
        .innerJoin('accounts', 'accounts.id', 'apps.account_id')
        .select([
          'apps.id', 'apps.client_id', 'apps.account_id', 'accounts.org_id', 'apps.user_id', 'apps.name',
          'apps.client_secret', 'apps.algorithm', 'apps.public_key', 'apps.scopes', 'apps.enforce_jti',
        ])
        .where('apps.client_id', '=', clientId)
        // A disabled app is as unknown to a request as one never made.
        .where('apps.disabled_at', 'is', null)
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        id: row.id,
        clientId: row.client_id,
        accountId: row.account_id,
        orgId: row.org_id,
        userId: row.user_id,
        name: row.name,
        clientSecret: row.client_secret,
        algorithm: row.algorithm,
        publicKey: row.public_key,
        scopes: JSON.parse(row.scopes) as string[],
        enforceJti: row.enforce_jti === 1,
      };
    },

    /** The streams of the account that the app may reach. */
    async listAppStreamIds(accountId: string, appId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('app_streams')
        .innerJoin('streams', 'streams.id', 'app_streams.stream_id')
        .select('streams.id')
        .where('streams.account_id', '=', accountId)
        .where('app_streams.app_id', '=', appId)
        .execute();
      return rows.map((r) => r.id);
    },

    /** The number that moves with every change to accounts, streams, apps and their streams (migration 0006). */
    async tenancyVersion(): Promise<number> {
      const { rows } = await db.executeQuery<{ version: number | string }>(VERSION_QUERY);
      return Number(rows[0]?.version ?? 0);
    },

    async listAccounts(): Promise<AccountSummary[]> {
      const rows = await db.selectFrom('accounts').select(['id', 'org_id', 'name', 'created_at']).orderBy('created_at').orderBy('id').execute();
      return rows.map((r) => ({ accountId: r.id, orgId: r.org_id, name: r.name, createdAt: iso(r.created_at) }));
    },

    /** The streams of one account, or of every account. */
    async listStreams(accountId: string | undefined): Promise<StreamSummary[]> {
      let q = db.selectFrom('streams').select(['id', 'account_id', 'name', 'created_at']);
      if (accountId !== undefined) q = q.where('account_id', '=', accountId);
      const rows = await q.orderBy('created_at').orderBy('id').execute();
      return rows.map((r) => ({ streamId: r.id, accountId: r.account_id, name: r.name, createdAt: iso(r.created_at) }));
    },

    /** The apps of one account, or of every account, each with its streams; an app named by id or client id. */
    async listApps(filter: { accountId?: string; app?: string }): Promise<AppSummary[]> {
      let q = db
        .selectFrom('apps')
        .select(['id', 'client_id', 'account_id', 'name', 'algorithm', 'scopes', 'enforce_jti', 'created_at', 'disabled_at']);
      if (filter.accountId !== undefined) q = q.where('account_id', '=', filter.accountId);
      if (filter.app !== undefined) {
        const app = filter.app;
        q = q.where((eb) => eb.or([eb('id', '=', app), eb('client_id', '=', app)]));
      }
      const rows = await q.orderBy('created_at').orderBy('id').execute();
      if (rows.length === 0) return [];
      const links = await db
        .selectFrom('app_streams')
        .select(['app_id', 'stream_id'])
        .where('app_id', 'in', rows.map((r) => r.id))
        .orderBy('stream_id')
        .execute();
      return rows.map((r) => ({
        appId: r.id,
        clientId: r.client_id,
        accountId: r.account_id,
        name: r.name,
        algorithm: r.algorithm,
        scopes: JSON.parse(r.scopes) as string[],
        enforceJti: r.enforce_jti === 1,
        streamIds: links.filter((l) => l.app_id === r.id).map((l) => l.stream_id),
        createdAt: iso(r.created_at),
        disabledAt: r.disabled_at === null ? null : iso(r.disabled_at),
      }));
    },

    /** A new secret (HS256) or public key; the update moves the tenancy version, so old tokens fail at once. */
    async replaceCredentials(appId: string, credentials: { clientSecret: string; publicKey: string | null }): Promise<void> {
      await db
        .updateTable('apps')
        .set({ client_secret: credentials.clientSecret, public_key: credentials.publicKey })
        .where('id', '=', appId)
        .execute();
    },

    /** Turns an app off (kept, so its id stays in what it wrote); false when it was off already. */
    async disableApp(appId: string, now: number): Promise<boolean> {
      const result = await db.updateTable('apps').set({ disabled_at: now }).where('id', '=', appId).where('disabled_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async getSetting(key: string): Promise<string | undefined> {
      const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
      return row?.value;
    },

    async putSetting(key: string, value: string): Promise<void> {
      await db.insertInto('settings').values({ key, value }).execute();
    },
  };
}

export type TenancyRepository = ReturnType<typeof createTenancyRepository>;

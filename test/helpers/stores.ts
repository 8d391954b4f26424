import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Dialect, type Store } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { StoreUrl } from '../../src/config/config.js';

/** Where PostgreSQL tests run: TEST_DATABASE_URL, else the local server CI and developers have. */
export const PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let pgReachable: Promise<boolean> | undefined;

/** Whether PostgreSQL answers; a store that does not answer is skipped, with that reason printed. */
export function postgresReachable(): Promise<boolean> {
  pgReachable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return pgReachable;
}

export interface TestStore {
  store: Store;
  url: StoreUrl;
  /** Closes the store and removes its file or database. */
  destroy(): Promise<void>;
}

/** A place for a store that nothing has touched yet: a new SQLite path, or a new, empty PostgreSQL database. */
export async function createEmptyStoreUrl(dialect: Dialect): Promise<{ url: StoreUrl; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-test-'));
    return { url: { kind: 'sqlite', file: path.join(dir, 'test.db') }, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `dialbook_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const target = new URL(PG_ADMIN_URL);
  target.pathname = `/${name}`;
  return { url: { kind: 'postgres', url: target.toString() }, drop: () => adminQuery(`drop database if exists ${name} with (force)`) };
}

/** A fresh, migrated store of the given kind: a temp SQLite file, or a new PostgreSQL database. */
export async function createTestStore(dialect: Dialect): Promise<TestStore> {
  const { url, drop } = await createEmptyStoreUrl(dialect);
  const store = openStore(url, dialect === 'postgres' ? { poolSize: 20 } : {});
  await migrateToLatest(store.db);
  return {
    store,
    url,
    async destroy() {
      await store.close();
      await drop();
    },
  };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const ALL_DIALECTS: Dialect[] = ['sqlite', 'postgres'];

/**
 * The stores every behaviour test runs on: both, or those `DIALECTS` names (`DIALECTS=sqlite npm test`, as Kysely's
 * own suite filters its dialects). A name that is not a store is a mistake, not an empty run.
 */
export const DIALECTS: Dialect[] = (() => {
  const wanted = process.env.DIALECTS?.split(',').map((d) => d.trim()).filter(Boolean);
  if (!wanted || wanted.length === 0) return ALL_DIALECTS;
  const unknown = wanted.filter((d) => !(ALL_DIALECTS as string[]).includes(d));
  if (unknown.length > 0) throw new Error(`DIALECTS names ${unknown.join(', ')}; the stores are ${ALL_DIALECTS.join(', ')}`);
  return ALL_DIALECTS.filter((d) => wanted.includes(d));
})();

/** Why a dialect is skipped on this machine, or false when it runs. */
export async function skipReason(dialect: Dialect): Promise<string | false> {
  // Probed before the first suite is registered, even for SQLite: once suites run, their synchronous SQLite work can
  // starve the event loop and make the probe's connect time out.
  const reachable = await postgresReachable();
  if (dialect === 'postgres' && !reachable) {
    // Asked for explicitly (as CI does): an unreachable server is a failure, not a skip.
    if (process.env.TEST_DATABASE_URL) throw new Error(`TEST_DATABASE_URL is set but PostgreSQL does not answer at ${PG_ADMIN_URL}`);
    return `PostgreSQL is not reachable at ${PG_ADMIN_URL}`;
  }
  return false;
}

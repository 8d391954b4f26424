import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { StoreUrl } from '../config/config.js';
import { postgresSnapshot, sharedConnectionReads, sqliteSnapshot, type ReadSnapshot } from './read-snapshot.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

interface StoreBase {
  readonly db: Kysely<Database>;
  /**
   * Reads of one committed state, on a connection of their own (SQLite: a read-only one on the same file; PostgreSQL:
   * a pooled one). Close it when done; `close()` of the store closes those still open.
   */
  snapshot(): Promise<ReadSnapshot>;
  /** Resolves when the store answers a trivial query. */
  ping(): Promise<void>;
  /** Rewrites the probe row: throws when the store answers but cannot be written (a full disk, a read-only file). */
  probeWrite(): Promise<void>;
  close(): Promise<void>;
}

/** A SQLite store: what only SQLite has is there when, and only when, `dialect` says so. */
export interface SqliteStore extends StoreBase {
  readonly dialect: 'sqlite';
  /**
   * The connection itself, for the import engine's prepared statements. Use it only inside
   * `db.connection().execute(…)`, which holds Kysely's lock on this single connection.
   */
  readonly sqlite: SQLite.Database;
  /** The database file (`:memory:` for none). */
  readonly file: string;
}

export interface PostgresStore extends StoreBase {
  readonly dialect: 'postgres';
  /** The pool, for COPY streams that Kysely does not cover. */
  readonly pool: pg.Pool;
}

/** The database the service runs on. Code that differs by store asks `dialect`, never whether a handle is there. */
export type Store = SqliteStore | PostgresStore;

/** Snapshots handed out and not yet closed, so that closing the store closes them too. */
function trackSnapshots(open: () => Promise<ReadSnapshot>) {
  const live = new Set<ReadSnapshot>();
  return {
    async snapshot(): Promise<ReadSnapshot> {
      const inner = await open();
      const tracked: ReadSnapshot = {
        rows: (query) => inner.rows(query),
        async close() {
          live.delete(tracked);
          await inner.close();
        },
      };
      live.add(tracked);
      return tracked;
    },
    async closeAll(): Promise<void> {
      await Promise.all([...live].map((s) => s.close().catch(() => {})));
    },
  };
}

export interface StoreOptions {
  poolSize?: number;
  statementTimeoutMs?: number;
  /** How long a request waits for a pooled connection before failing (PostgreSQL). */
  connectTimeoutMs?: number;
}

const INT8_OID = 20;

export function openStore(url: StoreUrl, options: StoreOptions = {}): Store {
  return url.kind === 'sqlite' ? openSqlite(url.file) : openPostgres(url.url, options);
}

/**
 * The page cache of the connection every write goes through, in KiB (negative, as SQLite takes it). better-sqlite3
 * builds SQLite with 16 MB; the kernel's page cache holds the file anyway, so a miss costs a copy, not a disk read.
 */
const PAGE_CACHE_KIB = -8000;

function openSqlite(file: string): SqliteStore {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const handle = new SQLite(file);
  handle.pragma('journal_mode = WAL');
  // better-sqlite3 leaves WAL at NORMAL; FULL makes every acknowledged commit survive power loss.
  handle.pragma('synchronous = FULL');
  handle.pragma('foreign_keys = ON');
  handle.pragma('busy_timeout = 5000');
  handle.pragma(`cache_size = ${PAGE_CACHE_KIB}`);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(handle) }) });
  const snapshots = trackSnapshots(async () => (file === ':memory:' ? sharedConnectionReads(db) : sqliteSnapshot(file)));
  return {
    db,
    dialect: 'sqlite',
    sqlite: handle,
    file,
    snapshot: snapshots.snapshot,
    async ping() {
      await sql`select 1`.execute(db);
    },
    probeWrite: () => probeWrite(db),
    async close() {
      await snapshots.closeAll();
      // Kysely only destroys a driver it has used; a store closed before its first query keeps its file open.
      await db.destroy();
      if (handle.open) handle.close();
    },
  };
}

// A write that needs room: a row of a few pages, inserted and deleted in one transaction, so it takes space from the
// disk (or the file's free pages) as a real write would, and leaves nothing behind.
const PROBE_PADDING = 'p'.repeat(16 * 1024);

async function probeWrite(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.insertInto('store_probe').values({ id: 2, written_at: Date.now(), padding: PROBE_PADDING }).execute();
    await tx.deleteFrom('store_probe').where('id', '=', 2).execute();
    await tx.updateTable('store_probe').set({ written_at: Date.now() }).where('id', '=', 1).execute();
  });
}

const STATEMENT_CACHE = 500;

type KyselyStatement = ReturnType<SqliteDatabase['prepare']>;

/**
 * The connection as Kysely sees it, with its statements kept by SQL text: preparing costs about as much as running
 * a small query, and Kysely prepares every statement it sends. A statement still being iterated is not handed out
 * twice; past the bound (statements whose text varies, as `in (…)` lists do) the cache starts over.
 */
function withStatementCache(handle: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, { statement: SQLite.Statement; forKysely: KyselyStatement }>();
  return {
    close() {
      if (handle.open) handle.close();
    },
    prepare(text: string) {
      const hit = cache.get(text);
      if (hit && !hit.statement.busy) return hit.forKysely;
      const statement = handle.prepare(text);
      const forKysely = rowsBuiltInJs(statement);
      if (!hit) {
        if (cache.size >= STATEMENT_CACHE) cache.clear();
        cache.set(text, { statement, forKysely });
      }
      return forKysely;
    },
  };
}

/**
 * A reading statement whose rows come back from better-sqlite3 as arrays and are made into objects by a function
 * compiled for its columns: the same rows (a later column of the same name wins, as better-sqlite3's own objects
 * do), built in a fraction of the time better-sqlite3 takes to set each property from C++.
 */
function rowsBuiltInJs(statement: SQLite.Statement): KyselyStatement {
  if (!statement.reader) return statement;
  const toRow = rowBuilder(statement.columns().map((c) => c.name));
  statement.raw(true);
  return {
    reader: true,
    all(parameters) {
      const rows = statement.all(parameters) as unknown[][];
      const objects: unknown[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) objects[i] = toRow(rows[i]!);
      return objects;
    },
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      for (const row of statement.iterate(parameters) as IterableIterator<unknown[]>) yield toRow(row);
    },
  };
}

const PLAIN_KEY = /^[A-Za-z_$][\w$]*$/;

function rowBuilder(columns: string[]): (values: unknown[]) => unknown {
  // A computed key defines an own property whatever the name (`__proto__` included); a plain one is the fast literal.
  const entries = columns.map((name, i) => `${PLAIN_KEY.test(name) && name !== '__proto__' ? name : `[${JSON.stringify(name)}]`}: v[${i}]`);
  return new Function('v', `return { ${entries.join(', ')} };`) as (values: unknown[]) => unknown;
}

function openPostgres(connectionString: string, options: StoreOptions): PostgresStore {
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    // Millisecond timestamps are BIGINT; they fit a JS number exactly.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its server emits 'error' on the pool; without a listener that would crash the process.
  pool.on('error', () => {});
  // A checked-out client (inside a transaction, between two queries) emits 'error' on itself, where the pool
  // does not listen, and an unheard 'error' kills the process. Its next query fails as "not queryable", which
  // the error handler answers with 503, and the pool discards it on release.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const snapshots = trackSnapshots(() => postgresSnapshot(pool));
  return {
    db,
    dialect: 'postgres',
    pool,
    snapshot: snapshots.snapshot,
    async ping() {
      await sql`select 1`.execute(db);
    },
    probeWrite: () => probeWrite(db),
    async close() {
      await snapshots.closeAll();
      // As for SQLite: a pool Kysely never used is not ended by it.
      await db.destroy();
      if (!pool.ending && !pool.ended) await pool.end();
    },
  };
}

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

function openSqlite(file: string): SqliteStore {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const handle = new SQLite(file);
  handle.pragma('journal_mode = WAL');
  // better-sqlite3 leaves WAL at NORMAL; FULL makes every acknowledged commit survive power loss.
  handle.pragma('synchronous = FULL');
  handle.pragma('foreign_keys = ON');
  handle.pragma('busy_timeout = 5000');
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
    async close() {
      await snapshots.closeAll();
      // Kysely only destroys a driver it has used; a store closed before its first query keeps its file open.
      await db.destroy();
      if (handle.open) handle.close();
    },
  };
}

const STATEMENT_CACHE = 500;

/**
 * The connection as Kysely sees it, with its statements kept by SQL text: preparing costs about as much as running
 * a small query, and Kysely prepares every statement it sends. A statement still being iterated is not handed out
 * twice; past the bound (statements whose text varies, as `in (…)` lists do) the cache starts over.
 */
function withStatementCache(handle: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close() {
      if (handle.open) handle.close();
    },
    prepare(text: string) {
      const hit = cache.get(text);
      if (hit && !hit.busy) return hit;
      const statement = handle.prepare(text);
      if (!hit) {
        if (cache.size >= STATEMENT_CACHE) cache.clear();
        cache.set(text, statement);
      }
      return statement;
    },
  };
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
    async close() {
      await snapshots.closeAll();
      // As for SQLite: a pool Kysely never used is not ended by it.
      await db.destroy();
      if (!pool.ending && !pool.ended) await pool.end();
    },
  };
}

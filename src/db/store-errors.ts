import path from 'node:path';
import type { Config, StoreUrl } from '../config/config.js';
import { openStore, type Store } from './database.js';
import { migrateToLatest } from './migrate.js';

/** A store that cannot be opened, reached or written at start: one line naming the setting and what to do. */
export class StoreStartError extends Error {
  override name = 'StoreStartError';
}

/** The store as the operator named it: the SQLite file's full path, or the PostgreSQL URL without its password. */
export function describeStore(url: StoreUrl): string {
  if (url.kind === 'sqlite') return `sqlite:${url.file === ':memory:' ? ':memory:' : path.resolve(url.file)}`;
  try {
    const parsed = new URL(url.url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(a URL that does not parse)';
  }
}

interface CodedError {
  code?: unknown;
  message?: unknown;
  errors?: CodedError[];
}

function codeOf(error: unknown): string {
  const e = error as CodedError | null;
  if (typeof e?.code === 'string') return e.code;
  // Node's connect to a name with several addresses fails with an AggregateError of one error each.
  const inner = e?.errors?.find((x) => typeof x?.code === 'string');
  return typeof inner?.code === 'string' ? inner.code : '';
}

function messageOf(error: unknown): string {
  const e = error as CodedError | null;
  const own = typeof e?.message === 'string' ? e.message : '';
  return own || (typeof e?.errors?.[0]?.message === 'string' ? e.errors[0].message : String(error));
}

/** Why a store failed at start, in the operator's words: the variable, its value, and what to do. */
export function explainStoreFailure(url: StoreUrl, error: unknown): StoreStartError {
  const code = codeOf(error);
  const store = describeStore(url);
  const setting = `DATABASE_URL=${store}`;
  if (url.kind === 'postgres') {
    let host = '?';
    let user = 'postgres';
    let database = '?';
    try {
      const parsed = new URL(url.url);
      host = `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`;
      user = decodeURIComponent(parsed.username) || user;
      database = decodeURIComponent(parsed.pathname.slice(1)) || user;
    } catch {
      // Explained below with the driver's own words.
    }
    if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET'].includes(code) || /timeout exceeded when trying to connect/i.test(messageOf(error))) {
      return new StoreStartError(`${setting}: PostgreSQL does not answer at ${host} (${code || 'connection timeout'}); start it, or point DATABASE_URL at a server that runs`);
    }
    if (code === '3D000') {
      const [h, p] = host.split(':');
      return new StoreStartError(`${setting}: database "${database}" does not exist on ${host}; create it with: createdb -h ${h} -p ${p} -U ${user} ${database}`);
    }
    if (code === '28P01' || code === '28000') {
      return new StoreStartError(`${setting}: PostgreSQL refused user "${user}" (${code === '28P01' ? 'wrong password' : 'not allowed to connect'}); fix the user and password in DATABASE_URL`);
    }
    if (code === '42501') return new StoreStartError(`${setting}: user "${user}" may not create the tables Dialbook needs (${messageOf(error)}); grant it CREATE on the database`);
    return new StoreStartError(`${setting}: the store could not be used: ${messageOf(error)}`);
  }
  const file = store.slice('sqlite:'.length);
  const folder = path.dirname(file);
  if (['EEXIST', 'ENOTDIR'].includes(code)) {
    return new StoreStartError(`${setting}: the folder ${folder} cannot be made, a file is in the way; choose another path for sqlite:`);
  }
  if (['EACCES', 'EPERM', 'EROFS'].includes(code) || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN') {
    return new StoreStartError(`${setting}: ${file} cannot be written (${code}); give this process write access to it and to ${folder}, or choose another path`);
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') {
    return new StoreStartError(`${setting}: no space left for ${file} (${code}); free space on its disk or choose another path`);
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new StoreStartError(`${setting}: ${file} is not a SQLite database Dialbook can read (${code}); point DATABASE_URL at the right file`);
  }
  return new StoreStartError(`${setting}: the store could not be used (${code || 'error'}: ${messageOf(error)})`);
}

/**
 * Opens the store, brings its schema up to date and writes its probe row: a store that cannot be reached, made or
 * written stops the start here, in one line that names DATABASE_URL and what to do.
 */
export async function openWritableStore(config: Pick<Config, 'database'> & Partial<Pick<Config, 'pgPoolSize' | 'pgStatementTimeoutMs'>>): Promise<Store> {
  let store: Store | undefined;
  try {
    store = openStore(config.database, { poolSize: config.pgPoolSize, statementTimeoutMs: config.pgStatementTimeoutMs });
    await migrateToLatest(store.db);
    await store.probeWrite();
    return store;
  } catch (error) {
    await store?.close().catch(() => {});
    throw explainStoreFailure(config.database, error);
  }
}

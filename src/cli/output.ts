import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import { openStore } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import type { Database } from '../db/schema.js';

/** Runs a command against the store named by DATABASE_URL, schema brought up to date first, and closes it. */
export async function withStore<T>(config: Config, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  const store = openStore(config.database, { poolSize: 2 });
  try {
    await migrateToLatest(store.db);
    return await fn(store.db);
  } finally {
    await store.close();
  }
}

/** One object: `key: value` lines, or with --json one JSON object. */
export function print(result: Record<string, unknown>, json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    for (const [key, value] of Object.entries(result)) {
      process.stdout.write(`${key}: ${Array.isArray(value) ? value.join(', ') : String(value)}\n`);
    }
  }
}

/** A list: one line a row, its columns two spaces apart, or with --json one JSON array. */
export function printList<T>(rows: T[], json: boolean | undefined, line: (row: T) => string[]): void {
  if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else for (const row of rows) process.stdout.write(`${line(row).join('  ')}\n`);
}

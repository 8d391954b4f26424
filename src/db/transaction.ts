import type { Kysely } from 'kysely';
import type { Transact } from './group-commit.js';
import type { Database } from './schema.js';

/**
 * Runs `work` in one transaction with repositories bound to it, and resolves once it is committed. A service gets
 * this instead of the database handle: it decides where a transaction begins, never how repositories are built.
 */
export type TransactionRunner<R> = <T>(work: (repos: R) => Promise<T>) => Promise<T>;

/** A runner over `transact` (db/group-commit.ts) that hands `work` the repositories `bind` makes for its transaction. */
export function transactionRunner<R>(transact: Transact, bind: (trx: Kysely<Database>) => R): TransactionRunner<R> {
  return (work) => transact((trx) => work(bind(trx)));
}

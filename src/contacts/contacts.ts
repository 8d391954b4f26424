import type { Store } from '../db/database.js';
import type { Transact } from '../db/group-commit.js';
import { transactionRunner } from '../db/transaction.js';
import { createContactBulk } from './contact-bulk.service.js';
import { createContactChangeLog } from './contact-change-log.js';
import { createContactExportRepository } from './contact-export.repository.js';
import { createContactExport } from './contact-export.service.js';
import { createContactLifecycle } from './contact-lifecycle.service.js';
import { createContactSearchRepository } from './contact-search.repository.js';
import { createContactSearch } from './contact-search.service.js';
import { createContactWrite } from './contact-write.service.js';
import { createContactRepository } from './contact.repository.js';

export interface ContactsDeps {
  store: Pick<Store, 'db' | 'snapshot'>;
  /** How a write's transaction runs (SQLite: group commit, db/group-commit.ts); a plain transaction by default. */
  transact?: Transact;
  maxContactsPerRequest: number;
  /** Rows an export reads and writes at a time. */
  exportChunkRows?: number;
  now?: () => number;
}

/**
 * Every contacts use case, wired for one store: the only place that builds the repositories and hands each service
 * the narrow part it uses. HTTP, the CLI or a job call the same services.
 */
export function createContacts(deps: ContactsDeps) {
  const { db } = deps.store;
  const now = deps.now ?? Date.now;
  const transact: Transact = deps.transact ?? ((work) => db.transaction().execute((trx) => work(trx)));
  // Every write's transaction also records its history and events (contact-change-log.ts).
  const inTransaction = transactionRunner(transact, (trx) => ({
    contacts: createContactRepository(trx),
    changes: createContactChangeLog(trx),
  }));
  const contacts = createContactRepository(db);
  const { maxContactsPerRequest } = deps;

  const write = createContactWrite({ contacts, inTransaction, maxContactsPerRequest, now });
  return {
    write,
    search: createContactSearch({ contacts, search: createContactSearchRepository(db) }),
    export: createContactExport({ rows: createContactExportRepository(deps.store), chunkRows: deps.exportChunkRows }),
    lifecycle: createContactLifecycle({ inTransaction, now }),
    bulk: createContactBulk({ inTransaction, maxContactsPerRequest, now, updateContact: write.updateContact }),
  };
}

export type Contacts = ReturnType<typeof createContacts>;

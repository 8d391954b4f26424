import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/config.js';
import type { Store } from '../db/database.js';
import { finishWithEvent } from './import-events.js';
import { createImportRevert } from './import-revert.service.js';
import type { Transact } from '../db/group-commit.js';
import { transactionRunner } from '../db/transaction.js';
import { createContactChangeLog } from '../contacts/contact-change-log.js';
import { createContactRepository } from '../contacts/contact.repository.js';
import { createHistoryRepository } from '../history/history.repository.js';
import { createImportJobRepository } from './import-job.repository.js';
import { createImportJobs } from './import-jobs.service.js';
import { createImportRunner } from './import-runner.js';
import { createPostgresImportStore } from './import-store.postgres.js';
import { createSqliteImportStore } from './import-store.sqlite.js';
import type { ImportStore } from './import-store.js';
import { createImportWorker, type WorkerDeps } from './import-worker.js';
import { createSyncImport } from './sync-import.js';
import { createFileUploadStore, createTableUploadStore, type UploadStore } from './upload-store.js';

export type ImportsConfig = Pick<
  Config,
  'importMaxBytes' | 'importMaxRows' | 'importRetentionDays' | 'importWorkers' | 'importLeaseSeconds' | 'importPollMs' | 'importBatchRows' | 'importUploadDir'
>;

/** Where uploads of a SQLite store wait: beside its file, so they live and go with it. */
function uploadDir(store: Store, config: ImportsConfig): string {
  if (config.importUploadDir) return config.importUploadDir;
  if (store.dialect === 'sqlite' && store.file !== ':memory:') return `${path.resolve(store.file)}-uploads`;
  return path.join(os.tmpdir(), `dialbook-uploads-${process.pid}`);
}

/** Everything imports are made of, wired for one store: jobs, the synchronous endpoint, the worker. */
export function createImports(deps: { store: Store; config: ImportsConfig; log: WorkerDeps['log']; now?: () => number; transact?: Transact }) {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  // Every way a job ends goes through this `finish`, which writes the import's event with it.
  const jobs = { ...createImportJobRepository(store.db, store.dialect), finish: finishWithEvent(store.db, store.dialect) };
  const engineStore: ImportStore =
    store.dialect === 'sqlite' ? createSqliteImportStore(store.db, store.sqlite) : createPostgresImportStore(store.pool);
  const uploads: UploadStore = store.dialect === 'sqlite' ? createFileUploadStore(uploadDir(store, config)) : createTableUploadStore(store.db, now);
  // A synchronous run reads its upload back from a local scratch file; no other process ever takes it over.
  const scratchDir = path.join(os.tmpdir(), 'dialbook-sync-imports');
  const scratch = createFileUploadStore(scratchDir, { durable: false });
  const leaseMs = config.importLeaseSeconds * 1000;
  const limits = { maxBytes: config.importMaxBytes, maxRows: config.importMaxRows };
  const runnerDeps = { jobs, store: engineStore, leaseMs, batchRows: config.importBatchRows, now };
  // A job stops at a batch's end when the process shuts down, and another worker goes on with it; a synchronous run
  // belongs to its request, which the shutdown lets finish.
  // `worker` is made just below; the runner asks it only while a job runs.
  const run = createImportRunner({ ...runnerDeps, stopping: () => worker.isStopping() });
  const runInRequest = createImportRunner(runnerDeps);
  const worker = createImportWorker({
    jobs, uploads, scratch, store: engineStore, run, concurrency: config.importWorkers, leaseMs, pollMs: config.importPollMs,
    retentionMs: config.importRetentionDays * 86_400_000, now, log: deps.log,
  });
  const transact: Transact = deps.transact ?? ((work) => store.db.transaction().execute((trx) => work(trx)));
  const revert = createImportRevert({
    inTransaction: transactionRunner(transact, (trx) => ({
      contacts: createContactRepository(trx),
      history: createHistoryRepository(trx),
      changes: createContactChangeLog(trx),
    })),
    jobs,
    now,
  });
  const service = createImportJobs({ jobs, uploads, limits, now, queued: () => worker.kick(), revert });
  const importCsv = createSyncImport({ jobs, scratch, scratchDir, run: runInRequest, limits, leaseMs, now });
  return {
    jobs: service,
    importCsv,
    worker: { start: () => worker.start(), stop: () => worker.stop() },
    /** Runs one job in this process now (the CLI), whatever the worker is doing. */
    runJob: (id: string) => worker.runJob(id),
  };
}

export type Imports = ReturnType<typeof createImports>;

import type { Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { Database, ImportJobState } from '../db/schema.js';
import { createOutbox } from '../webhooks/outbox.js';
import { toImportJob } from './import-job.mapper.js';
import { createImportJobRepository, type ImportJobRepository } from './import-job.repository.js';

/**
 * The job repository's `finish`, with the import's one event (`import.completed` or `import.failed`) written in the
 * same transaction as the job's end: an import tells its end once, never one event per row.
 */
export function finishWithEvent(db: Kysely<Database>, dialect: Dialect): ImportJobRepository['finish'] {
  return (id: string, token: string, state: ImportJobState, now: number, error?: { msg: string; code: string }) =>
    db.transaction().execute(async (trx) => {
      const jobs = createImportJobRepository(trx, dialect);
      if (!(await jobs.finish(id, token, state, now, error))) return false;
      if (state !== 'completed' && state !== 'failed') return true;
      const row = await jobs.byId(id);
      if (row) {
        await createOutbox(trx).publish(
          { streamId: row.stream_id, accountId: row.account_id },
          [{ type: state === 'completed' ? 'import.completed' : 'import.failed', subject: id, data: { import: toImportJob(row) } }],
          now,
        );
      }
      return true;
    });
}

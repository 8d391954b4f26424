import type { ImportJobRow } from '../db/schema.js';
import { DomainError } from '../shared/errors.js';
import { runImport, type EngineHooks, type EngineResult, type ImportOptions } from './import-engine.js';
import type { ImportJobRepository } from './import-job.repository.js';
import { DEFAULT_FORMAT, type CsvFormat } from './upload-check.js';
import { LeaseLost, Stopped, type ImportStore, type JobRef } from './import-store.js';

export interface RunnerDeps {
  jobs: Pick<ImportJobRepository, 'renew' | 'finish' | 'release'>;
  store: ImportStore;
  leaseMs: number;
  batchRows: number;
  now: () => number;
  /** Asked before each batch: stop there and leave the job to another worker (a graceful shutdown). */
  stopping?: () => boolean;
}

/** Statistics are refreshed after an import that added at least this many contacts. */
const ANALYZE_AFTER_ROWS = 10_000;

export type RunOutcome = EngineResult | { state: 'lost' } | { state: 'failed'; error: { msg: string; code: string }; cause: DomainError };

/** What a run needs of the job's row. */
export type RunnableJob = Pick<
  ImportJobRow,
  'id' | 'stream_id' | 'account_id' | 'org_id' | 'created_by' | 'created_by_aid' | 'options' | 'csv_format' | 'resume_line' | 'processed_rows' | 'created_count' | 'updated_count' | 'failed_count'
>;

/**
 * Runs a job that this process holds the lease of, to its end: renews the lease while it works, and records how
 * the job ended. A job whose lease was taken over is left to its new holder; one stopped by a shutdown is released.
 */
export function createImportRunner(deps: RunnerDeps) {
  return async function run(row: RunnableJob, token: string, source: () => AsyncIterable<Buffer>, hooks?: EngineHooks): Promise<RunOutcome> {
    const job: JobRef = {
      id: row.id,
      tenant: { streamId: row.stream_id, accountId: row.account_id },
      actor: { orgId: row.org_id, userId: row.created_by, appId: row.created_by_aid },
      leaseToken: token,
    };
    const session = deps.store.session(job);
    // The seen-number table is the job's, not this run's: a run that lost its lease (or stopped, or broke) leaves
    // it to the worker that goes on — dropping it could pull it from under that worker. The sweep drops leftovers.
    let ended = false;
    const renew = setInterval(() => {
      deps.jobs.renew(row.id, token, deps.now() + deps.leaseMs).catch(() => {});
    }, Math.max(1000, Math.floor(deps.leaseMs / 3)));
    renew.unref();
    try {
      const result = await runImport({
        job,
        options: JSON.parse(row.options) as ImportOptions,
        format: row.csv_format ? (JSON.parse(row.csv_format) as CsvFormat) : DEFAULT_FORMAT,
        session,
        source,
        resumeLine: Number(row.resume_line),
        counts: {
          processed: Number(row.processed_rows),
          created: Number(row.created_count),
          updated: Number(row.updated_count),
          failed: Number(row.failed_count),
        },
        leaseMs: deps.leaseMs,
        batchRows: deps.batchRows,
        prefetch: deps.store.writesElsewhere,
        hooks,
        now: deps.now,
        stopping: deps.stopping,
      });
      if (!(await deps.jobs.finish(row.id, token, result.state, deps.now()))) return { state: 'lost' };
      ended = true;
      if (result.counts.created >= ANALYZE_AFTER_ROWS) await deps.store.refreshStatistics().catch(() => {});
      return result;
    } catch (error) {
      if (error instanceof LeaseLost) return { state: 'lost' };
      if (error instanceof Stopped) {
        await deps.jobs.release(row.id, token).catch(() => {});
        return { state: 'lost' };
      }
      if (error instanceof DomainError) {
        const detail = { msg: error.details[0]!.msg, code: error.details[0]!.code };
        ended = await deps.jobs.finish(row.id, token, 'failed', deps.now(), detail);
        return { state: 'failed', error: detail, cause: error };
      }
      throw error;
    } finally {
      clearInterval(renew);
      if (ended) await session.close().catch(() => {});
    }
  };
}

export type ImportRunner = ReturnType<typeof createImportRunner>;


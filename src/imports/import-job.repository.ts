import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { Database, ImportFailureRow, ImportJobRow, ImportJobState } from '../db/schema.js';
import type { Actor, Tenant } from '../shared/request-context.js';

export interface NewJob {
  id: string;
  kind: 'job' | 'sync';
  options: string;
  fileName: string | null;
  bytes: number;
  header: string[];
  totalRows: number;
  /** JSON of the file's CsvFormat. */
  format: string;
  /** A sync run starts held by its request. */
  leaseToken: string | null;
  leaseExpiresAt: number | null;
  now: number;
}

const FINISHED: ImportJobState[] = ['completed', 'failed', 'cancelled'];
/** Finished, or reverted after: gone once the retention period is over. */
const ENDED: ImportJobState[] = [...FINISHED, 'reverted'];

/** Import jobs and their failures. Every read a caller makes is scoped to its tenant first. */
export function createImportJobRepository(db: Kysely<Database>, dialect: Dialect) {
  return {
    async create(tenant: Tenant, actor: Actor, job: NewJob): Promise<void> {
      await db
        .insertInto('import_jobs')
        .values({
          id: job.id,
          stream_id: tenant.streamId,
          account_id: tenant.accountId,
          org_id: actor.orgId,
          created_by: actor.userId,
          created_by_aid: actor.appId,
          kind: job.kind,
          state: job.leaseToken ? 'running' : 'queued',
          options: job.options,
          file_name: job.fileName,
          bytes: job.bytes,
          header: JSON.stringify(job.header),
          total_rows: job.totalRows,
          csv_format: job.format,
          cancel_requested: 0,
          lease_token: job.leaseToken,
          lease_expires_at: job.leaseExpiresAt,
          created_at: job.now,
          started_at: job.leaseToken ? job.now : null,
          updated_at: job.now,
          finished_at: null,
          error: null,
        })
        .execute();
    },

    async find(tenant: Tenant, id: string): Promise<ImportJobRow | undefined> {
      return db
        .selectFrom('import_jobs')
        .selectAll()
        .where('stream_id', '=', tenant.streamId)
        .where('account_id', '=', tenant.accountId)
        .where('kind', '=', 'job')
        .where('id', '=', id)
        .executeTakeFirst();
    },

    /** A job or synchronous run by id alone: for the event of its end, which its runner, not a caller, asks for. */
    async byId(id: string): Promise<ImportJobRow | undefined> {
      return db.selectFrom('import_jobs').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /**
     * Newest first, by creation time and then id (ids alone order jobs of one process only); `before` is the last
     * job of the previous page.
     */
    async page(tenant: Tenant, before: { createdAt: number; id: string } | undefined, limit: number): Promise<ImportJobRow[]> {
      let q = db
        .selectFrom('import_jobs')
        .selectAll()
        .where('stream_id', '=', tenant.streamId)
        .where('account_id', '=', tenant.accountId)
        .where('kind', '=', 'job');
      if (before) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(before.createdAt, before.id)));
      return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    },

    /** In file order, after `afterLine`. The caller has already found the job in its tenant. */
    async failures(jobId: string, afterLine: number, limit: number): Promise<ImportFailureRow[]> {
      return db
        .selectFrom('import_failures')
        .selectAll()
        .where('job_id', '=', jobId)
        .where('line', '>', afterLine)
        .orderBy('line')
        .limit(limit)
        .execute();
    },

    /** A queued job is cancelled at once; a running one is asked to stop. Returns false when the job had finished. */
    async requestCancel(tenant: Tenant, id: string, now: number): Promise<boolean> {
      const queued = await db
        .updateTable('import_jobs')
        .set({ state: 'cancelled', cancel_requested: 1, finished_at: now, updated_at: now, lease_token: null })
        .where('stream_id', '=', tenant.streamId)
        .where('id', '=', id)
        .where('state', '=', 'queued')
        .executeTakeFirst();
      if (Number(queued.numUpdatedRows) > 0) return true;
      const running = await db
        .updateTable('import_jobs')
        .set({ cancel_requested: 1, updated_at: now })
        .where('stream_id', '=', tenant.streamId)
        .where('id', '=', id)
        .where('state', '=', 'running')
        .executeTakeFirst();
      return Number(running.numUpdatedRows) > 0;
    },

    /**
     * Takes the oldest job that is queued, or running under a lease that ran out (its worker died), and gives it a
     * new lease. On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets instances claim side by side without waiting on each
     * other; on SQLite the write itself is exclusive.
     */
    async claim(token: string, now: number, leaseMs: number, onlyId?: string): Promise<ImportJobRow | undefined> {
      // One statement: it takes the write lock (SQLite) or the row (PostgreSQL) at once, so two claimers never both win.
      return db
        .updateTable('import_jobs')
        .set((eb) => ({
          state: 'running',
          lease_token: token,
          lease_expires_at: now + leaseMs,
          attempts: eb('attempts', '+', 1),
          // A claim's clock may be read just before the job's insert commits: a job never starts before it was made.
          started_at: eb.fn.coalesce('started_at', eb.case().when('created_at', '>', now).then(eb.ref('created_at')).else(now).end()),
          updated_at: now,
        }))
        .where('id', '=', (eb) => {
          let next = eb
            .selectFrom('import_jobs')
            .select('id')
            .where('kind', '=', 'job')
            .where((w) => w.or([w('state', '=', 'queued'), w.and([w('state', '=', 'running'), w('lease_expires_at', '<', now)])]))
            .orderBy('created_at')
            .limit(1);
          if (onlyId) next = next.where('id', '=', onlyId);
          return dialect === 'postgres' ? next.forUpdate().skipLocked() : next;
        })
        .returningAll()
        .executeTakeFirst();
    },

    /** Renews a lease; false when it is no longer this holder's. */
    async renew(id: string, token: string, until: number): Promise<boolean> {
      const r = await db.updateTable('import_jobs').set({ lease_expires_at: until }).where('id', '=', id).where('lease_token', '=', token).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    /** Gives a lease up so another worker may take the job at once (a graceful stop). */
    async release(id: string, token: string): Promise<void> {
      await db.updateTable('import_jobs').set({ lease_expires_at: 0 }).where('id', '=', id).where('lease_token', '=', token).where('state', '=', 'running').execute();
    },

    async finish(id: string, token: string, state: ImportJobState, now: number, error?: { msg: string; code: string }): Promise<boolean> {
      const r = await db
        .updateTable('import_jobs')
        .set((eb) => ({
          state,
          finished_at: now,
          updated_at: now,
          lease_token: null,
          lease_expires_at: null,
          error: error ? JSON.stringify(error) : null,
          // A completed job counted every row of the file.
          total_rows: state === 'completed' ? eb.ref('processed_rows') : eb.ref('total_rows'),
        }))
        .where('id', '=', id)
        .where('lease_token', '=', token)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    /** Takes a finished job's revert: none ran, or one that started before `staleBefore` died with its process. */
    async claimRevert(tenant: Tenant, id: string, now: number, staleBefore: number): Promise<boolean> {
      const r = await db
        .updateTable('import_jobs')
        .set({ revert: JSON.stringify({ startedAt: now }), updated_at: now })
        .where('stream_id', '=', tenant.streamId)
        .where('account_id', '=', tenant.accountId)
        .where('id', '=', id)
        .where('state', 'in', FINISHED)
        // A revert under way has bumped updated_at when it started.
        .where((eb) => eb.or([eb('revert', 'is', null), eb('updated_at', '<', staleBefore)]))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async finishRevert(tenant: Tenant, id: string, outcome: object, now: number): Promise<void> {
      await db
        .updateTable('import_jobs')
        .set({ state: 'reverted', revert: JSON.stringify(outcome), updated_at: now })
        .where('stream_id', '=', tenant.streamId)
        .where('account_id', '=', tenant.accountId)
        .where('id', '=', id)
        .execute();
    },

    async removeFailures(id: string): Promise<void> {
      await db.deleteFrom('import_failures').where('job_id', '=', id).execute();
    },

    async remove(id: string): Promise<void> {
      await db.deleteFrom('import_failures').where('job_id', '=', id).execute();
      await db.deleteFrom('import_jobs').where('id', '=', id).execute();
    },

    /** Jobs finished before `before`, and synchronous runs whose process died (their lease ran out before `staleBefore`). */
    async expired(before: number, staleBefore: number): Promise<string[]> {
      const rows = await db
        .selectFrom('import_jobs')
        .select('id')
        .where((eb) =>
          eb.or([
            eb.and([eb('state', 'in', ENDED), eb('finished_at', '<', before)]),
            eb.and([eb('kind', '=', 'sync'), eb('state', '=', 'running'), eb('lease_expires_at', '<', staleBefore)]),
          ]),
        )
        .limit(1000)
        .execute();
      return rows.map((r) => r.id);
    },

    /** Of these ids, those whose job still needs its upload or its seen numbers. */
    async unfinished(ids: string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await db.selectFrom('import_jobs').select('id').where('id', 'in', ids).where('state', 'in', ['queued', 'running']).execute();
      return new Set(rows.map((r) => r.id));
    },

    async allUnfinished(): Promise<Set<string>> {
      const rows = await db.selectFrom('import_jobs').select('id').where('state', 'in', ['queued', 'running']).execute();
      return new Set(rows.map((r) => r.id));
    },

    /** PostgreSQL reuses the space of deleted rows only once vacuumed, and autovacuum may be off. */
    async reclaimSpace(): Promise<void> {
      if (dialect === 'postgres') await sql`vacuum import_failures, import_jobs`.execute(db).catch(() => {});
    },
  };
}

export type ImportJobRepository = ReturnType<typeof createImportJobRepository>;

import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { sqliteStreamCounter } from '../contacts/stream-counts.repository.js';
import type { ContactRow, Database } from '../db/schema.js';
import { sqliteImportHistory } from './import-history.sqlite.js';
import { LeaseLost, type BatchTx, type ImportSession, type ImportStore } from './import-store.js';

/**
 * The import's store work on SQLite: prepared statements, row by row, on the one connection, each batch one
 * `BEGIN IMMEDIATE` transaction taken while Kysely's lock on the connection is held, so that no other query can
 * interleave with it. The statements are synchronous, so a batch holds the write lock only as long as it computes.
 * Numbers seen in the file are kept in a TEMP table (its own file, not the database), one per job.
 */
/** Cache of the TEMP database, negative: KiB. */
const TEMP_CACHE_KIB = -2048;

export function createSqliteImportStore(db: Kysely<Database>, handle: SQLite.Database): ImportStore {
  const locked = <T>(work: () => Promise<T>): Promise<T> => db.connection().execute(() => work());

  return {
    writesElsewhere: false,
    session(job) {
      const seen = `temp.import_seen_${job.id}`;
      let s: ReturnType<typeof prepare> | undefined;
      const prepare = () => ({
        lease: handle.prepare('select cancel_requested from import_jobs where id = ? and lease_token = ?').pluck(),
        seenLine: handle.prepare(`select line from ${seen} where phone = ?`).pluck(),
        addSeen: handle.prepare(`insert or ignore into ${seen} (phone, line) values (?, ?)`),
        holder: handle.prepare("select id from contacts where stream_id = ? and account_id = ? and status = 'ACTIVE' and phone_number = ?").pluck(),
        insert: handle.prepare(
          `insert into contacts (id, stream_id, account_id, org_id, status, first_name, last_name, salutation, phone_number,
             country_code, extension, created_by, created_by_aid, import_id, created_at, updated_at, last_name_key, full_name_key,
             history_pending)
           values (?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) on conflict do nothing`,
        ),
        update: handle.prepare(
          `update contacts set first_name = ?, last_name = ?, salutation = ?, extension = ?, last_name_key = ?, full_name_key = ?,
             updated_by = ?, updated_by_aid = ?, updated_at = ?, history_pending = 0
           where stream_id = ? and account_id = ? and id = ? and status = 'ACTIVE' returning *`,
        ),
        countCreated: sqliteStreamCounter(handle),
        failure: handle.prepare('insert or replace into import_failures (job_id, line, cells, errors) values (?, ?, ?, ?)'),
        clearFailures: handle.prepare('delete from import_failures where job_id = ?'),
        failedLines: handle.prepare('select line from import_failures where job_id = ? and line between ? and ?').pluck(),
        history: sqliteImportHistory(handle, job),
        progress: handle.prepare(
          `update import_jobs set processed_rows = processed_rows + ?, created_count = created_count + ?,
             updated_count = updated_count + ?, failed_count = failed_count + ?, resume_line = ?, lease_expires_at = ?, updated_at = ?
           where id = ? and lease_token = ?`,
        ),
      });
      const { streamId, accountId } = job.tenant;
      const { orgId, userId, appId } = job.actor;

      const tx: BatchTx = {
        async checkLease() {
          const flag = s!.lease.get(job.id, job.leaseToken) as number | undefined;
          if (flag === undefined) throw new LeaseLost();
          return { cancelRequested: flag === 1 };
        },
        async claimNumbers(keys, lines) {
          // Most numbers are new: the insert alone answers for them, and only a number remembered already is looked up.
          return keys.map((k, i) => (s!.addSeen.run(k, lines[i]).changes > 0 ? null : ((s!.seenLine.get(k) as number | undefined) ?? null)));
        },
        async holders(phones) {
          return phones.map((p) => (s!.holder.get(streamId, accountId, p) as string | undefined) ?? null);
        },
        async addSeen(keys, lines) {
          for (let i = 0; i < keys.length; i++) s!.addSeen.run(keys[i], lines[i]);
        },
        async insertContacts(rows, now) {
          const inserted = new Set<string>();
          // In number order: neighbouring keys of the phone indexes share pages, which the cache then keeps.
          const sorted = [...rows].sort((a, b) => (a.values.phoneNumber < b.values.phoneNumber ? -1 : 1));
          for (const { id, values: v } of sorted) {
            const info = s!.insert.run(
              id, streamId, accountId, orgId, v.firstName, v.lastName, v.salutation, v.phoneNumber, v.countryCode, v.extension,
              userId, appId, job.id, now, now, v.last_name_key, v.full_name_key,
            );
            if (info.changes > 0) inserted.add(id);
          }
          s!.countCreated(job.tenant, { active: inserted.size, inactive: 0 });
          // No history entries: each new contact's is read off it until it first changes (history/imported-creation.ts).
          return inserted;
        },
        async updateContacts(updates, now) {
          const rows = new Map<string, ContactRow>();
          const changed: { before: ContactRow; after: ContactRow }[] = [];
          for (const { holderId, values: v } of updates) {
            const before = s!.history.earlier(holderId);
            const row = s!.update.get(v.firstName, v.lastName, v.salutation, v.extension, v.last_name_key, v.full_name_key, userId, appId, now, streamId, accountId, holderId) as ContactRow | undefined;
            if (row) rows.set(holderId, row);
            if (row && before) changed.push({ before, after: row });
          }
          s!.history.recordUpdated(changed, now);
          return rows;
        },
        async addFailures(failures) {
          for (const f of failures) s!.failure.run(job.id, f.line, JSON.stringify(f.cells), JSON.stringify(f.errors));
        },
        async clearFailures() {
          s!.clearFailures.run(job.id);
        },
        async failedLines(from, to) {
          return new Set(s!.failedLines.all(job.id, from, to) as number[]);
        },
        async saveProgress(p) {
          const info = s!.progress.run(p.delta.processed, p.delta.created, p.delta.updated, p.delta.failed, p.resumeLine, p.leaseExpiresAt, p.now, job.id, job.leaseToken);
          if (info.changes === 0) throw new LeaseLost();
        },
      };

      const session: ImportSession = {
        async open() {
          await locked(async () => {
            handle.exec(`drop table if exists ${seen}; create table ${seen} (phone integer primary key, line integer not null)`);
            // The TEMP database holds only these tables: a small cache is enough for it (better-sqlite3's default, 16 MB
            // a database, would add that much to the process for nothing; the main database keeps its cache).
            handle.pragma(`temp.cache_size = ${TEMP_CACHE_KIB}`);
            s = prepare();
          });
        },
        transaction(work) {
          return locked(async () => {
            // A short wait here, not the connection's 5 s: better-sqlite3 waits synchronously, holding up every request
            // of this process, and the engine retries a busy store without blocking.
            const patience = handle.pragma('busy_timeout', { simple: true }) as number;
            handle.pragma('busy_timeout = 50');
            try {
              handle.exec('begin immediate');
            } finally {
              handle.pragma(`busy_timeout = ${patience}`);
            }
            try {
              const result = await work(tx);
              handle.exec('commit');
              return result;
            } catch (error) {
              if (handle.inTransaction) handle.exec('rollback');
              throw error;
            }
          });
        },
        async close() {
          await locked(async () => {
            handle.exec(`drop table if exists ${seen}`);
          });
        },
      };
      return session;
    },
    async refreshStatistics() {
      // SQLite plans these queries from its indexes alone; nothing to refresh.
    },
    async dropLeftovers() {
      // TEMP tables end with the connection that made them.
    },
  };
}


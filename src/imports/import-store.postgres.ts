import type pg from 'pg';
import { copyField, copyText } from '../db/pg-copy.js';
import { adjustStreamCountsOn } from '../contacts/stream-counts.repository.js';
import { updateWithHistory } from './import-history.postgres.js';
import { LeaseLost, type BatchTx, type ImportSession, type ImportStore, type JobRef, type NewContact } from './import-store.js';

const BATCH_COLUMNS = ['id', 'first_name', 'last_name', 'salutation', 'phone_number', 'country_code', 'extension', 'last_name_key', 'full_name_key'];

/**
 * The import's store work on PostgreSQL: a batch's new contacts go through COPY into a temporary table and then
 * into `contacts` with one `INSERT … SELECT … ON CONFLICT DO NOTHING`; numbers are probed with one statement per
 * batch whose lookups are correlated subqueries, so each is an index probe whatever the statistics say. Numbers
 * seen in the file are kept in an UNLOGGED table per job, which every instance can read when it takes a job over.
 */
export function createPostgresImportStore(pool: pg.Pool): ImportStore {
  return {
    writesElsewhere: true,
    session(job) {
      const seen = `import_seen_${job.id}`;
      const direct = { skip: 0, seenSkip: 0 };
      const session: ImportSession = {
        async open() {
          await pool.query(`drop table if exists ${seen}`);
          await pool.query(`create unlogged table ${seen} (phone bigint primary key, line integer not null)`);
        },
        async transaction(work) {
          const client = await pool.connect();
          let broken: Error | undefined;
          try {
            await client.query('begin');
            try {
              const pending = { created: 0 };
              const result = await work(batchTx(client, job, seen, direct, pending));
              // The stream's counts, last before the commit: its row lock is then held only while committing.
              await adjustStreamCountsOn(client, job.tenant, { active: pending.created, inactive: 0 });
              await client.query('commit');
              return result;
            } catch (error) {
              await client.query('rollback').catch((e: Error) => (broken = e));
              throw error;
            }
          } finally {
            client.release(broken);
          }
        },
        async close() {
          await pool.query(`drop table if exists ${seen}`);
        },
      };
      return session;
    },
    async refreshStatistics() {
      // What the import filled: its contacts, and the history entries of those it updated (a revert reads them).
      await pool.query('analyze contacts, contact_history');
    },
    async dropLeftovers(liveJobs) {
      // Tables first, then the jobs alive: a job that starts in between has a table not in the list.
      const { rows } = await pool.query<{ name: string }>(
        "select tablename as name from pg_tables where schemaname = current_schema() and tablename ~ '^import_seen_[0-9a-f]{24}$'",
      );
      if (rows.length === 0) return;
      const live = await liveJobs();
      for (const { name } of rows) {
        if (!live.has(name.slice('import_seen_'.length))) await pool.query(`drop table if exists ${name}`);
      }
    },
  };
}

function batchTx(client: pg.PoolClient, job: JobRef, seen: string, direct: { skip: number; seenSkip: number }, pending: { created: number }): BatchTx {
  const { streamId, accountId } = job.tenant;
  const { orgId, userId, appId } = job.actor;
  let staged = false;
  return {
    async checkLease(mode) {
      const { rows } = await client.query<{ cancel_requested: number }>(
        `select cancel_requested from import_jobs where id = $1 and lease_token = $2${mode === 'lock' ? ' for update' : ''}`,
        [job.id, job.leaseToken],
      );
      if (rows.length === 0) throw new LeaseLost();
      return { cancelRequested: Number(rows[0]!.cancel_requested) === 1 };
    },
    async claimNumbers(keys, lines) {
      if (keys.length === 0) return [];
      // Most numbers are new: a COPY of them all is the cheapest way in, and a number remembered already fails it
      // (undone by a savepoint), which sends this group the careful way.
      if (direct.seenSkip === 0) {
        await client.query('savepoint import_seen');
        try {
          let text = '';
          for (let i = 0; i < keys.length; i++) text += `${keys[i]}\t${lines[i]}\n`;
          await copyText(client, seen, ['phone', 'line'], text);
          await client.query('release savepoint import_seen');
          return keys.map(() => null);
        } catch (error) {
          if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
          await client.query('rollback to savepoint import_seen');
          direct.seenSkip = DIRECT_PAUSE;
        }
      } else {
        direct.seenSkip -= 1;
      }
      // The insert answers for the numbers it adds; only those remembered already are looked up.
      const { rows: added } = await client.query<{ phone: string }>(
        `insert into ${seen} (phone, line) select * from unnest($1::bigint[], $2::int[]) on conflict do nothing returning phone`,
        [keys, lines],
      );
      const fresh = new Set(added.map((r) => String(r.phone)));
      const known = keys.filter((k) => !fresh.has(String(k)));
      const earlier = new Map<number, number | null>();
      if (known.length) {
        // A correlated subquery is an index probe whatever the (never gathered) statistics of the table say.
        const { rows } = await client.query<{ line: number | null }>(
          `select (select s.line from ${seen} s where s.phone = u.k) as line from unnest($1::bigint[]) with ordinality as u(k, n) order by u.n`,
          [known],
        );
        known.forEach((k, i) => earlier.set(k, rows[i]!.line));
      }
      return keys.map((k) => (fresh.has(String(k)) ? null : (earlier.get(k) ?? null)));
    },
    async holders(phones) {
      if (phones.length === 0) return [];
      const { rows } = await client.query<{ holder: string | null }>(
        `select (select c.id from contacts c where c.stream_id = $2 and c.account_id = $3 and c.status = 'ACTIVE' and c.phone_number = u.p) as holder
         from unnest($1::text[]) with ordinality as u(p, n) order by u.n`,
        [phones, streamId, accountId],
      );
      return rows.map((r) => r.holder);
    },
    async addSeen(keys, lines) {
      if (keys.length === 0) return;
      await client.query(`insert into ${seen} (phone, line) select * from unnest($1::bigint[], $2::int[]) on conflict do nothing`, [keys, lines]);
    },
    async insertContacts(rows, now) {
      if (rows.length === 0) return new Set();
      // Most numbers of an import are free: COPY straight into contacts (what psql \copy does) is much cheaper than
      // INSERT … ON CONFLICT, whose speculative insertion costs each row more. A number held by a contact fails the
      // COPY, which a savepoint undoes; the batch then goes the careful way below, as do the next few after such a
      // file (a re-import, most of whose numbers are held, would fail every COPY).
      if (direct.skip === 0) {
        await client.query('savepoint import_copy');
        try {
          const sorted = [...rows].sort((a, b) => (a.values.phoneNumber < b.values.phoneNumber ? -1 : 1));
          const fixed = `\t${copyField(streamId)}\t${copyField(accountId)}\t${copyField(orgId)}\tACTIVE`;
          const actor = `\t${copyField(userId)}\t${copyField(appId)}\t${job.id}\t${now}\t${now}`;
          await copyText(client, 'contacts', CONTACT_COPY_COLUMNS, contactsCopyText(sorted, fixed, actor));
          await client.query('release savepoint import_copy');
          pending.created += rows.length;
          // No history entries: each new contact's is read off it until it first changes (history/imported-creation.ts).
          return new Set(rows.map((r) => r.id));
        } catch (error) {
          if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
          await client.query('rollback to savepoint import_copy');
          direct.skip = DIRECT_PAUSE;
        }
      } else {
        direct.skip -= 1;
      }
      if (!staged) {
        await client.query(
          `create temp table if not exists import_batch (${BATCH_COLUMNS.map((c) => `${c} text`).join(', ')}) on commit delete rows`,
        );
        staged = true;
      } else {
        await client.query('truncate import_batch');
      }
      await copyText(client, 'import_batch', BATCH_COLUMNS, batchCopyText(rows));
      const { rows: inserted } = await client.query<{ id: string }>(
        `insert into contacts (id, stream_id, account_id, org_id, status, first_name, last_name, salutation, phone_number,
           country_code, extension, created_by, created_by_aid, import_id, created_at, updated_at, last_name_key, full_name_key,
           history_pending)
         select id, $1, $2, $3, 'ACTIVE', first_name, last_name, salutation, phone_number, country_code, extension,
           $4, $5, $6, $7, $7, last_name_key, full_name_key, 1
         from import_batch
         -- Every writer takes the unique index's entries in one order, so two imports of the same numbers wait for
         -- each other instead of deadlocking.
         order by phone_number
         on conflict do nothing
         returning id`,
        [streamId, accountId, orgId, userId, appId, job.id, now],
      );
      pending.created += inserted.length;
      return new Set(inserted.map((r) => r.id));
    },
    async updateContacts(updates, now) {
      return updateWithHistory(client, job, updates, now);
    },
    async addFailures(failures) {
      if (failures.length === 0) return;
      await client.query(
        `insert into import_failures (job_id, line, cells, errors) select $1, * from unnest($2::int[], $3::text[], $4::text[])
         on conflict (job_id, line) do update set cells = excluded.cells, errors = excluded.errors`,
        [job.id, failures.map((f) => f.line), failures.map((f) => JSON.stringify(f.cells)), failures.map((f) => JSON.stringify(f.errors))],
      );
    },
    async clearFailures() {
      await client.query('delete from import_failures where job_id = $1', [job.id]);
    },
    async failedLines(from, to) {
      const { rows } = await client.query<{ line: number }>('select line from import_failures where job_id = $1 and line between $2 and $3', [job.id, from, to]);
      return new Set(rows.map((r) => r.line));
    },
    async saveProgress(p) {
      const { rowCount } = await client.query(
        `update import_jobs set processed_rows = processed_rows + $1, created_count = created_count + $2, updated_count = updated_count + $3,
           failed_count = failed_count + $4, resume_line = $5, lease_expires_at = $6, updated_at = $7
         where id = $8 and lease_token = $9`,
        [p.delta.processed, p.delta.created, p.delta.updated, p.delta.failed, p.resumeLine, p.leaseExpiresAt, p.now, job.id, job.leaseToken],
      );
      if (rowCount === 0) throw new LeaseLost();
    },
  };
}

const UNIQUE_VIOLATION = '23505';
/** Groups of rows that go the careful way after one whose direct COPY met a number already there. */
const DIRECT_PAUSE = 8;
const CONTACT_COPY_COLUMNS = [
  'id', 'stream_id', 'account_id', 'org_id', 'status', 'first_name', 'last_name', 'salutation', 'phone_number', 'country_code',
  'extension', 'created_by', 'created_by_aid', 'import_id', 'created_at', 'updated_at', 'last_name_key', 'full_name_key',
  'history_pending',
];

/** New contacts as COPY text in CONTACT_COPY_COLUMNS' order; `fixed` and `actor` are the columns every row shares. */
function contactsCopyText(rows: NewContact[], fixed: string, actor: string): string {
  let text = '';
  for (const { id, values: v } of rows) {
    text += `${id}${fixed}\t${copyField(v.firstName)}\t${copyField(v.lastName)}\t${copyField(v.salutation)}\t${v.phoneNumber}\t` +
      `${v.countryCode}\t${copyField(v.extension)}${actor}\t${copyField(v.last_name_key)}\t${copyField(v.full_name_key)}\t1\n`;
  }
  return text;
}

function batchCopyText(rows: NewContact[]): string {
  let text = '';
  for (const { id, values: v } of rows) {
    text += `${id}\t${copyField(v.firstName)}\t${copyField(v.lastName)}\t${copyField(v.salutation)}\t${v.phoneNumber}\t${v.countryCode}\t` +
      `${copyField(v.extension)}\t${copyField(v.last_name_key)}\t${copyField(v.full_name_key)}\n`;
  }
  return text;
}

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { adjustStreamCountsOn } from '../contacts/stream-counts.repository.js';
import type { ContactRow } from '../db/schema.js';
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
              const result = await work(batchTx(client, job, seen, pending));
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
      await pool.query('analyze contacts');
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

function batchTx(client: pg.PoolClient, job: JobRef, seen: string, pending: { created: number }): BatchTx {
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
    async probe(keys, phones, withHolders) {
      if (keys.length === 0) return { seen: [], holders: [] };
      const holder = withHolders
        ? `(select c.id from contacts c where c.stream_id = $3 and c.account_id = $4 and c.status = 'ACTIVE' and c.phone_number = u.p)`
        : 'null::text';
      const { rows } = await client.query<{ seen: number | null; holder: string | null }>(
        `select (select s.line from ${seen} s where s.phone = u.k) as seen, ${holder} as holder
         from unnest($1::bigint[], $2::text[]) with ordinality as u(k, p, n) order by u.n`,
        withHolders ? [keys, phones, streamId, accountId] : [keys, phones],
      );
      return { seen: rows.map((r) => r.seen), holders: rows.map((r) => r.holder) };
    },
    async holders(phones) {
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
      if (!staged) {
        await client.query(
          `create temp table if not exists import_batch (${BATCH_COLUMNS.map((c) => `${c} text`).join(', ')}) on commit delete rows`,
        );
        staged = true;
      } else {
        await client.query('truncate import_batch');
      }
      await pipeline(Readable.from([copyText(rows)]), client.query(copyFrom(`copy import_batch (${BATCH_COLUMNS.join(', ')}) from stdin`)));
      const { rows: inserted } = await client.query<{ id: string }>(
        `insert into contacts (id, stream_id, account_id, org_id, status, first_name, last_name, salutation, phone_number,
           country_code, extension, created_by, created_by_aid, import_id, created_at, updated_at, last_name_key, full_name_key)
         select id, $1, $2, $3, 'ACTIVE', first_name, last_name, salutation, phone_number, country_code, extension,
           $4, $5, $6, $7, $7, last_name_key, full_name_key
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
      const result = new Map<string, ContactRow>();
      if (updates.length === 0) return result;
      const col = (pick: (u: (typeof updates)[number]) => string) => updates.map(pick);
      const { rows } = await client.query<ContactRow>(
        `update contacts c set first_name = u.first_name, last_name = u.last_name, salutation = u.salutation, extension = u.extension,
           last_name_key = u.last_name_key, full_name_key = u.full_name_key, updated_by = $8, updated_by_aid = $9, updated_at = $10
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
           as u(id, first_name, last_name, salutation, extension, last_name_key, full_name_key)
         where c.stream_id = $11 and c.account_id = $12 and c.id = u.id and c.status = 'ACTIVE'
         returning c.*`,
        [
          col((u) => u.holderId), col((u) => u.values.firstName), col((u) => u.values.lastName), col((u) => u.values.salutation),
          col((u) => u.values.extension), col((u) => u.values.last_name_key), col((u) => u.values.full_name_key),
          userId, appId, now, streamId, accountId,
        ],
      );
      for (const row of rows) result.set(row.id, row);
      return result;
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

function copyText(rows: NewContact[]): string {
  let text = '';
  for (const { id, values: v } of rows) {
    text += `${id}\t${copyField(v.firstName)}\t${copyField(v.lastName)}\t${copyField(v.salutation)}\t${v.phoneNumber}\t${v.countryCode}\t` +
      `${copyField(v.extension)}\t${copyField(v.last_name_key)}\t${copyField(v.full_name_key)}\n`;
  }
  return text;
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY's text format: backslash escapes for the delimiter, newlines and backslash. */
function copyField(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : value;
}

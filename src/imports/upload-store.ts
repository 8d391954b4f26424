import fs from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { ServiceUnavailableError } from '../shared/errors.js';

/**
 * Where an import's upload waits for its worker. `save` resolves only once the bytes would survive a crash, so a
 * job is acknowledged only after its file is safe.
 */
export interface UploadStore {
  save(jobId: string, chunks: AsyncIterable<Buffer>): Promise<void>;
  open(jobId: string): AsyncIterable<Buffer>;
  remove(jobId: string): Promise<void>;
  /** Uploads saved before `before` whose job is not in `keep`: left by a crash between save and the job's row. */
  removeOrphans(before: number, keep: (ids: string[]) => Promise<Set<string>>): Promise<number>;
}

const PIECE = 256 * 1024;

/** The job's upload is no longer where it was kept (removed by hand, or a store restored without it). */
export function uploadMissing(jobId: string): ServiceUnavailableError {
  return new ServiceUnavailableError({ msg: `The upload of import ${jobId} is no longer kept; upload the file again`, code: 'UPLOAD_MISSING', id: jobId });
}

/**
 * SQLite: one file per upload in a folder beside the database. Kept out of the database file so that a removed
 * upload leaves no free pages behind in it.
 */
export function createFileUploadStore(dir: string, options: { durable?: boolean } = {}): UploadStore {
  const durable = options.durable ?? true;
  const fileOf = (jobId: string) => path.join(dir, `${jobId}.csv`);
  return {
    async save(jobId, chunks) {
      await fs.promises.mkdir(dir, { recursive: true });
      const partial = `${fileOf(jobId)}.part`;
      const handle = await fs.promises.open(partial, 'w');
      try {
        for await (const chunk of chunks) await handle.write(chunk);
        if (durable) await handle.sync();
      } catch (error) {
        await handle.close();
        await fs.promises.rm(partial, { force: true });
        throw error;
      }
      await handle.close();
      await fs.promises.rename(partial, fileOf(jobId));
      if (!durable) return;
      // The rename is durable only once the folder's entry is on disk too.
      const folder = await fs.promises.open(dir, 'r');
      try {
        await folder.sync();
      } finally {
        await folder.close();
      }
    },
    async *open(jobId) {
      let stream: fs.ReadStream;
      try {
        const handle = await fs.promises.open(fileOf(jobId), 'r');
        // 64 KiB reads: a heap snapshot of an import at 256 KiB held four decoded reads of 0.5 MB each (two-byte
        // text), and the 1M-row synchronous import peaked 9 MB higher at 256 KiB than at 64 KiB, for the same time
        // (docs/benchmarks.md).
        stream = handle.createReadStream({ highWaterMark: 64 * 1024 });
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') throw uploadMissing(jobId);
        throw error;
      }
      yield* stream;
    },
    async remove(jobId) {
      await fs.promises.rm(fileOf(jobId), { force: true });
      await fs.promises.rm(`${fileOf(jobId)}.part`, { force: true });
    },
    async removeOrphans(before, keep) {
      let names: string[];
      try {
        names = await fs.promises.readdir(dir);
      } catch {
        return 0;
      }
      const old: string[] = [];
      for (const name of names) {
        const stat = await fs.promises.stat(path.join(dir, name)).catch(() => undefined);
        if (stat && stat.mtimeMs < before) old.push(name);
      }
      // `<id>.csv`, `<id>.csv.part`, and (the synchronous endpoint's scratch folder) `<id>.answer/`.
      const ids = old.map((name) => name.split('.')[0]!);
      const live = await keep(ids);
      let removed = 0;
      for (const [i, name] of old.entries()) {
        if (live.has(ids[i]!)) continue;
        await fs.promises.rm(path.join(dir, name), { force: true, recursive: true });
        removed += 1;
      }
      return removed;
    },
  };
}

/**
 * PostgreSQL: pieces of 256 KiB in `import_files`, so that every instance on the same database can read them. A piece
 * arrives as hex text twice its size, in a message buffer grown to fit it, and all of it is garbage once parsed: with
 * 1 MiB pieces a 200,000-row job peaked at 162–163 MB, with 256 KiB at 118–121 MB (docs/benchmarks.md). Uploads kept
 * in larger pieces before still read, piece by piece.
 */
export function createTableUploadStore(db: Kysely<Database>, now: () => number = Date.now): UploadStore {
  // Without autovacuum the space of deleted pieces is never reused; the table holds only uploads waiting for their
  // jobs, so vacuuming it after a removal is cheap.
  const reclaim = () => sql`vacuum import_files`.execute(db).catch(() => {});
  return {
    async save(jobId, chunks) {
      let seq = 0;
      let pending: Buffer[] = [];
      let size = 0;
      const flush = async () => {
        if (size === 0) return;
        await db.insertInto('import_files').values({ job_id: jobId, seq, data: Buffer.concat(pending, size), created_at: now() }).execute();
        seq += 1;
        pending = [];
        size = 0;
      };
      try {
        for await (const chunk of chunks) {
          pending.push(chunk);
          size += chunk.length;
          if (size >= PIECE) await flush();
        }
        await flush();
      } catch (error) {
        await db.deleteFrom('import_files').where('job_id', '=', jobId).execute().catch(() => {});
        throw error;
      }
    },
    async *open(jobId) {
      for (let seq = 0; ; seq++) {
        const piece = await db.selectFrom('import_files').select('data').where('job_id', '=', jobId).where('seq', '=', seq).executeTakeFirst();
        if (!piece && seq === 0) throw uploadMissing(jobId);
        if (!piece) return;
        yield piece.data;
      }
    },
    async remove(jobId) {
      const result = await db.deleteFrom('import_files').where('job_id', '=', jobId).executeTakeFirst();
      if (Number(result.numDeletedRows) > 0) await reclaim();
    },
    async removeOrphans(before, keep) {
      const rows = await db.selectFrom('import_files').select('job_id').distinct().where('created_at', '<', before).execute();
      const ids = rows.map((r) => r.job_id);
      const live = await keep(ids);
      const dead = ids.filter((id) => !live.has(id));
      if (dead.length === 0) return 0;
      await db.deleteFrom('import_files').where('job_id', 'in', dead).execute();
      await reclaim();
      return dead.length;
    },
  };
}

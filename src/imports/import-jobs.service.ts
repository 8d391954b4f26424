import type { RequestContext } from '../shared/request-context.js';
import { ConflictError, NotFoundError, ValidationError, type ErrorDetail } from '../shared/errors.js';
import { newObjectId, OBJECT_ID } from '../shared/ids.js';
import type { ImportJobRow } from '../db/schema.js';
import type { ImportOptions } from './import-engine.js';
import { finished, toImportJob, type ImportJob } from './import-job.mapper.js';
import type { ImportJobRepository } from './import-job.repository.js';
import { checkUpload, type UploadLimits } from './upload-check.js';
import type { UploadStore } from './upload-store.js';

export interface ImportJobsDeps {
  /** Undoes a finished import (import-revert.service.ts). */
  revert?: (ctx: RequestContext, job: ImportJobRow) => Promise<void>;
  jobs: ImportJobRepository;
  uploads: UploadStore;
  limits: UploadLimits;
  /** Told when a job is queued, so that a worker in this process starts on it without waiting for its next poll. */
  queued?: () => void;
  now?: () => number;
}

export interface Page<T> {
  results: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

export interface ImportFailure {
  row: number;
  errors: ErrorDetail[];
  values: Record<string, string>;
}

export const MAX_PAGE = 100;
/** Lines are stored as 32-bit integers. */
const MAX_LINE = 2 ** 31 - 1;

/** Import jobs as callers see them: submit an upload, follow the job, read its failures, cancel it. */
export function createImportJobs(deps: ImportJobsDeps) {
  const now = deps.now ?? Date.now;
  const { jobs, uploads } = deps;

  async function found(ctx: RequestContext, id: string) {
    const row = OBJECT_ID.test(id) ? await jobs.find(ctx, id) : undefined;
    if (!row) throw new NotFoundError({ msg: `Import ${id} was not found in this stream`, code: 'IMPORT_NOT_FOUND', id });
    return row;
  }

  return {
    /**
     * Keeps the upload durably and queues its job. A file refused as a whole (not text, too large, a missing
     * column) is refused here, before any job exists. `fileName` may be a function: a multipart part's name is known
     * only once the upload is being read.
     */
    async submit(ctx: RequestContext, upload: AsyncIterable<Buffer>, options: ImportOptions, fileName: string | null | (() => string | null), charset?: () => string | undefined): Promise<ImportJob> {
      const id = newObjectId(now());
      const checked = checkUpload(upload, deps.limits, charset);
      await uploads.save(id, checked.chunks);
      try {
        const file = checked.result();
        await jobs.create(ctx, ctx, {
          id, kind: 'job', options: JSON.stringify(options), fileName: typeof fileName === 'function' ? fileName() : fileName, bytes: file.bytes, header: file.header, totalRows: file.rows, format: JSON.stringify(file.format),
          leaseToken: null, leaseExpiresAt: null, now: now(),
        });
      } catch (error) {
        await uploads.remove(id).catch(() => {});
        throw error;
      }
      deps.queued?.();
      return toImportJob((await jobs.find(ctx, id))!);
    },

    async get(ctx: RequestContext, id: string): Promise<ImportJob> {
      return toImportJob(await found(ctx, id));
    },

    async list(ctx: RequestContext, cursor: string | undefined, limit: number): Promise<Page<ImportJob>> {
      const before = cursor === undefined ? undefined : (decodeCursor(cursor, isJobPosition) as [number, string]);
      const rows = await jobs.page(ctx, before && { createdAt: before[0], id: before[1] }, limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        results: page.map(toImportJob),
        hasMore: rows.length > limit,
        nextCursor: rows.length > limit && last ? encodeCursor([Number(last.created_at), last.id]) : null,
      };
    },

    async failures(ctx: RequestContext, id: string, cursor: string | undefined, limit: number): Promise<Page<ImportFailure>> {
      const job = await found(ctx, id);
      const header = JSON.parse(job.header ?? '[]') as string[];
      const after = cursor === undefined ? 0 : (decodeCursor(cursor, (v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_LINE) as number);
      const rows = await jobs.failures(job.id, after, limit + 1);
      const page = rows.slice(0, limit);
      return {
        results: page.map((r) => ({ row: r.line, errors: JSON.parse(r.errors) as ErrorDetail[], values: valuesOf(header, JSON.parse(r.cells) as string[]) })),
        hasMore: rows.length > limit,
        nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.line) : null,
      };
    },

    /** The file's header with errorCode and errorMessage added, then each failed row as uploaded: fix it and upload it again. */
    async failuresCsv(ctx: RequestContext, id: string): Promise<AsyncIterable<string>> {
      const job = await found(ctx, id);
      const header = JSON.parse(job.header ?? '[]') as string[];
      return (async function* () {
        yield csvRecord([...header, 'errorCode', 'errorMessage']);
        for (let after = 0; ; ) {
          const rows = await jobs.failures(job.id, after, 1000);
          if (rows.length === 0) return;
          let text = '';
          for (const r of rows) {
            const cells = JSON.parse(r.cells) as string[];
            const first = (JSON.parse(r.errors) as ErrorDetail[])[0];
            // Short rows are padded so the two columns stay under their header.
            const padded = header.map((_, i) => cells[i] ?? '');
            text += csvRecord([...padded, ...cells.slice(header.length), first?.code ?? '', first?.msg ?? '']);
          }
          yield text;
          after = rows[rows.length - 1]!.line;
        }
      })();
    },

    /** Undoes the import (docs/imports.md, "Reverting an import"); a reverted one answers as it is. */
    async revert(ctx: RequestContext, id: string): Promise<ImportJob> {
      const job = await found(ctx, id);
      if (!deps.revert) throw new Error('imports are wired without revert');
      await deps.revert(ctx, job);
      return toImportJob(await found(ctx, id));
    },

    async cancel(ctx: RequestContext, id: string): Promise<ImportJob> {
      const job = await found(ctx, id);
      if (finished(job.state) || !(await jobs.requestCancel(ctx, id, now()))) {
        throw new ConflictError({ msg: `Import ${id} has already finished (${(await found(ctx, id)).state})`, code: 'IMPORT_FINISHED', id });
      }
      return toImportJob(await found(ctx, id));
    },
  };
}

export type ImportJobs = ReturnType<typeof createImportJobs>;

function valuesOf(header: string[], cells: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  header.forEach((name, i) => {
    if (cells[i] !== undefined) values[name.replace(/^\uFEFF/, '').trim()] = cells[i]!;
  });
  return values;
}

/** One RFC 4180 record, the cells exactly as uploaded (quoted where they hold a comma, a quote or a line break). */
function csvRecord(cells: string[]): string {
  return cells.map((c) => (/[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',') + '\r\n';
}

const isJobPosition = (v: unknown) => Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && OBJECT_ID.test(v[1]);

const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function decodeCursor(cursor: string, valid: (value: unknown) => boolean): unknown {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!valid(value)) throw new ValidationError({ msg: 'cursor is not a cursor this service returned', code: 'INVALID_CURSOR', field: 'cursor' });
  return value;
}

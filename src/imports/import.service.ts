import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestContext } from '../auth/authenticator.js';
import { checkNewContact } from '../contacts/contact-input.js';
import { toContact, type Contact } from '../contacts/contact.mapper.js';
import { createContactRepository } from '../contacts/contact.repository.js';
import { nameKeys } from '../contacts/name-key.js';
import type { Store } from '../db/database.js';
import { isTransactionConflict } from '../db/errors.js';
import type { NewImportRow } from '../db/schema.js';
import { ServiceUnavailableError, TooLargeError, ValidationError, type ErrorDetail } from '../shared/errors.js';
import { newObjectId } from '../shared/ids.js';
import { csvRecords } from './csv-rows.js';
import { mapHeader, rowToInput, type ColumnMap } from './csv-header.js';
import { createImportRepository, type ImportRepository, type LineRange, type OutcomeCounts } from './import.repository.js';
import { decodeUtf8Text } from './text-decoding.js';

export interface ImportOptions {
  /** `update`: a number already held by an ACTIVE contact updates that contact instead of failing. */
  onDuplicate: 'reject' | 'update';
  /** Create nothing unless every row is good. */
  atomic: boolean;
  /** Check and report, write nothing. */
  dryRun: boolean;
}

export interface ImportLimits {
  maxBytes: number;
  maxRows: number;
}

export interface ImportedRow {
  row: number;
  action: 'created' | 'updated';
  /** Absent in a dry run for rows that would create a contact. */
  id?: string;
}

export interface FailedRow {
  row: number;
  errors: ErrorDetail[];
}

/** What an import did; rows are read back page by page, so no answer is held whole in memory. */
export interface ImportOutcome {
  importId: string;
  options: ImportOptions;
  counts: OutcomeCounts;
  /** Failure codes and how many rows failed with each. */
  failureCodes: Map<string, number>;
  succeeded(): AsyncGenerator<ImportedRow>;
  /** The contacts created or updated, in file order. */
  contacts(): AsyncGenerator<Contact>;
  failed(): AsyncGenerator<FailedRow>;
  /** Drops the staging rows; call once the answer is sent. */
  dispose(): Promise<void>;
}

const STAGE_BATCH = 2000;
const APPLY_CHUNK_LINES = 5000;
const PAGE = 500;
const ATOMIC_ATTEMPTS = 3;
const CONFLICT_ATTEMPTS = 5;
const STALE_STAGING_MS = 24 * 3600 * 1000;

// CSV rows are checked as JSON contacts are; their errors name the CSV column.
const CSV_FIELD: Record<string, string> = {
  'cellPhone.phoneNumber': 'cellPhoneNumber',
  'cellPhone.countryCode': 'cellPhoneCountryCode',
  'cellPhone.extension': 'cellPhoneExtension',
};

/**
 * CSV import as a pipeline: bytes → text → records → checked rows → staging table (in batches) → set-based
 * apply → report. Only a batch of rows is in memory at any time.
 */
export function createImportService(deps: { store: Pick<Store, 'db' | 'pool'>; limits: ImportLimits; now?: () => number }) {
  const { db } = deps.store;
  const now = deps.now ?? Date.now;
  const repo = createImportRepository(db, deps.store.pool);

  async function stage(importId: string, upload: AsyncIterable<Buffer>): Promise<number> {
    let columns: ColumnMap | undefined;
    let rows = 0;
    let batch: NewImportRow[] = [];
    // One batch is written while the next is parsed and checked; never more than one in flight.
    let writing: Promise<void> = Promise.resolve();
    const write = async (rows: NewImportRow[]) => {
      await writing;
      writing = repo.stageRows(rows);
      writing.catch(() => {}); // surfaced by the next await of `writing`, never left unhandled
    };
    try {
      for await (const record of csvRecords(decodeUtf8Text(upload, deps.limits.maxBytes))) {
        if (!columns) {
          columns = mapHeader(record.fields);
          continue;
        }
        rows += 1;
        if (rows > deps.limits.maxRows) {
          throw new TooLargeError({ msg: `The file has more than ${deps.limits.maxRows} data rows (IMPORT_MAX_ROWS)`, code: 'TOO_MANY_ROWS' });
        }
        batch.push(stagingRow(importId, record.line, record.fields, columns, record.problem));
        if (batch.length >= STAGE_BATCH) {
          await write(batch);
          batch = [];
        }
      }
      if (!columns) throw new ValidationError({ msg: 'The file is empty; it needs a header row and data rows', code: 'EMPTY_FILE' });
      if (batch.length) await write(batch);
      await writing;
      if (rows === 0) throw new ValidationError({ msg: 'The file has a header but no data rows', code: 'NO_DATA_ROWS' });
      return rows;
    } finally {
      // A failed import deletes its staging rows: no write may land after that.
      await writing.catch(() => {});
    }
  }

  /**
   * One apply transaction, run again when PostgreSQL aborts it to break a deadlock with a concurrent import of
   * the same numbers (the whole transaction rolled back, so running it again is safe).
   */
  async function inTransaction(work: (tx: ImportRepository) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction().execute((trx) => work(createImportRepository(trx)));
      } catch (error) {
        if (!isTransactionConflict(error)) throw error;
        if (attempt >= CONFLICT_ATTEMPTS) throw storeBusy();
        await sleep(Math.random() * 20 * attempt);
      }
    }
  }

  async function applyAll(ctx: RequestContext, importId: string, options: ImportOptions, span: LineRange): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await inTransaction(async (tx) => {
          await tx.failRepeatsInFile(importId);
          await tx.noteHolders(ctx, importId, span);
          if (options.onDuplicate === 'reject') await tx.failHeld(importId);
          if (options.atomic && (await tx.countFailed(importId)) > 0) {
            await tx.failOpen(importId, 'NOT_WRITTEN');
            return;
          }
          if (options.dryRun) {
            await tx.settleWithoutWriting(importId);
            return;
          }
          const t = now();
          if (options.onDuplicate === 'update') await tx.applyUpdates(ctx, importId, span, ctx, t);
          await tx.insertOpen(ctx, importId, span, ctx, t);
          // A concurrent writer took a number after the check: undo all and look again.
          if (options.atomic && (await tx.countFailed(importId)) > 0) throw new LostRace();
        });
        return;
      } catch (error) {
        if (!(error instanceof LostRace)) throw error;
        if (attempt >= ATOMIC_ATTEMPTS) throw storeBusy();
      }
    }
  }

  async function applyInChunks(ctx: RequestContext, importId: string, options: ImportOptions, span: LineRange): Promise<void> {
    await repo.failRepeatsInFile(importId);
    // Short transactions let other requests in between chunks of a large file.
    for (let from = span.from; from <= span.to; from += APPLY_CHUNK_LINES) {
      const range = { from, to: Math.min(span.to, from + APPLY_CHUNK_LINES - 1) };
      await inTransaction(async (tx) => {
        const t = now();
        await tx.noteHolders(ctx, importId, range);
        if (options.onDuplicate === 'reject') await tx.failHeld(importId, range);
        else await tx.applyUpdates(ctx, importId, range, ctx, t);
        await tx.insertOpen(ctx, importId, range, ctx, t);
      });
    }
  }

  async function importCsv(ctx: RequestContext, upload: AsyncIterable<Buffer>, options: ImportOptions): Promise<ImportOutcome> {
    const importId = newObjectId();
    await repo.deleteStaleStaging(now() - STALE_STAGING_MS);
    await repo.createImport(ctx, importId, ctx, now());
    try {
      await stage(importId, upload);
      await repo.setImportStatus(importId, 'applying');
      await repo.refreshStagingStatistics();
      const span = (await repo.lineSpan(importId))!;
      if (options.atomic || options.dryRun) await applyAll(ctx, importId, options, span);
      else await applyInChunks(ctx, importId, options, span);
      const counts = await repo.counts(importId);
      await repo.finishImport(importId, 'done', counts, now());
      return outcome(ctx, importId, options, counts, await repo.failureCodes(importId));
    } catch (error) {
      await repo.deleteStaging(importId).catch(() => {});
      await repo.finishImport(importId, 'failed', { total: 0, created: 0, updated: 0, failed: 0 }, now()).catch(() => {});
      throw error;
    }
  }

  function outcome(ctx: RequestContext, importId: string, options: ImportOptions, counts: OutcomeCounts, failureCodes: Map<string, number>): ImportOutcome {
    async function* pages(kind: 'failed' | 'succeeded') {
      for (let after = 0; ; ) {
        const page = await repo.pageOfRows(importId, kind, after, PAGE);
        if (page.length === 0) return;
        yield page;
        after = page[page.length - 1]!.line;
      }
    }
    return {
      importId,
      options,
      counts,
      failureCodes,
      async *succeeded() {
        for await (const page of pages('succeeded')) {
          for (const r of page) {
            const entry: ImportedRow = { row: r.line, action: r.outcome as 'created' | 'updated' };
            if (r.contact_id) entry.id = r.contact_id;
            yield entry;
          }
        }
      },
      async *contacts() {
        const contacts = createContactRepository(db);
        for await (const page of pages('succeeded')) {
          const rows = await contacts.findByIds(ctx, page.map((r) => r.contact_id!).filter(Boolean));
          const byId = new Map(rows.map((row) => [row.id, row]));
          for (const r of page) {
            const row = r.contact_id ? byId.get(r.contact_id) : undefined;
            if (row) yield toContact(row);
          }
        }
      },
      async *failed() {
        for await (const page of pages('failed')) {
          for (const r of page) yield { row: r.line, errors: rowErrors(r) };
        }
      },
      dispose: () => repo.deleteStaging(importId),
    };
  }

  return { importCsv };
}

export type ImportService = ReturnType<typeof createImportService>;

class LostRace extends Error {}

function storeBusy(): ServiceUnavailableError {
  return new ServiceUnavailableError({ msg: 'Other writes to the same phone numbers kept this import from applying; try again', code: 'IMPORT_CONTENDED' });
}

function stagingRow(importId: string, line: number, fields: string[], columns: ColumnMap, problem: string | undefined): NewImportRow {
  const base = { import_id: importId, line, candidate_id: newObjectId(), contact_id: null, first_line: null };
  const checked = problem ? undefined : checkNewContact(rowToInput(fields, columns));
  if (checked?.ok) {
    const v = checked.value;
    return {
      ...base,
      first_name: v.firstName, last_name: v.lastName, salutation: v.salutation,
      phone_number: v.phoneNumber, country_code: v.countryCode, extension: v.extension,
      ...nameKeys(v.firstName, v.lastName),
      outcome: null, error_code: null, errors: null,
    };
  }
  const errors: ErrorDetail[] = checked
    ? checked.errors.map((e) => (e.field ? { ...e, field: CSV_FIELD[e.field] ?? e.field } : e))
    : [{ msg: `The row is not valid CSV: ${problem}`, code: 'MALFORMED_CSV' }];
  return {
    ...base,
    first_name: '', last_name: '', salutation: '', phone_number: null, country_code: '', extension: '',
    last_name_key: '', full_name_key: '',
    outcome: 'failed', error_code: errors[0]!.code, errors: JSON.stringify(errors),
  };
}

function rowErrors(r: { errors: string | null; error_code: string | null; first_line: number | null; contact_id: string | null; phone_number: string | null }): ErrorDetail[] {
  if (r.errors) return JSON.parse(r.errors) as ErrorDetail[];
  switch (r.error_code) {
    case 'DUPLICATE_IN_FILE':
      return [{ msg: `cellPhoneNumber ${r.phone_number} repeats line ${r.first_line}, which keeps it`, code: 'DUPLICATE_IN_FILE', field: 'cellPhoneNumber', row: r.first_line ?? undefined }];
    case 'PHONE_TAKEN':
      return [{ msg: `cellPhoneNumber ${r.phone_number} already belongs to contact ${r.contact_id}`, code: 'PHONE_TAKEN', field: 'cellPhoneNumber', id: r.contact_id ?? undefined }];
    case 'NOT_WRITTEN':
      return [{ msg: 'Not written: the import is atomic and other rows failed', code: 'NOT_WRITTEN' }];
    default:
      return [{ msg: 'The row failed', code: r.error_code ?? 'ROW_FAILED' }];
  }
}

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RequestContext } from '../shared/request-context.js';
import { contactJsonWriter } from '../contacts/contact.mapper.js';
import { newObjectId } from '../shared/ids.js';
import { JsonBytes } from '../shared/json-bytes.js';
import type { ImportOptions, SettledRow } from './import-engine.js';
import type { ImportJobRepository } from './import-job.repository.js';
import type { ImportRunner, RunnableJob } from './import-runner.js';
import { checkUpload, type CsvFormat, type UploadLimits } from './upload-check.js';
import type { UploadStore } from './upload-store.js';

export interface OutcomeCounts {
  total: number;
  created: number;
  updated: number;
  failed: number;
}

/** What a synchronous import did. Its answer's pieces were written to files as rows settled; nothing is read back. */
export interface ImportOutcome {
  options: ImportOptions;
  /** How the file was read. */
  format: CsvFormat;
  counts: OutcomeCounts;
  /** The first error code of each failed row. */
  failureCodes: Set<string>;
  /** The created and updated contacts as JSON, comma-separated, in file order. */
  contactsJson(): AsyncIterable<string | Buffer>;
  /** `{row, action, id}` entries, comma-separated, in file order. */
  succeededJson(): AsyncIterable<string | Buffer>;
  /** `{row, errors}` entries, comma-separated, in file order. */
  failedJson(): AsyncIterable<string>;
  /** Removes the run's files and records; call once the answer is sent. */
  dispose(): Promise<void>;
}

export interface SyncImportDeps {
  jobs: Pick<ImportJobRepository, 'create' | 'failures' | 'remove' | 'removeFailures'>;
  /** Where the upload waits while the request runs it: a local scratch folder, since no other worker takes it over. */
  scratch: UploadStore;
  /** The scratch store's folder, where the pieces of the answer are written too (`<id>.answer/`), so that the
   * worker's sweep also removes those of a run whose process died. */
  scratchDir: string;
  run: ImportRunner;
  limits: UploadLimits;
  leaseMs: number;
  now: () => number;
}

/**
 * Appends comma-separated JSON entries to a file as rows settle. Writes are queued, not waited for, so that the
 * import goes on while the file takes them; a write that failed is reported by the next `rollback` or `close`.
 * Entries of a batch that rolls back are cut off again (`rollback` returns to the last `commit`).
 */
const MAX_QUEUED_BYTES = 2 ** 20;

class JsonList {
  private first = true;
  private position = 0;
  private kept = { first: true, position: 0 };
  private handle: fs.promises.FileHandle | undefined;
  /** The writes queued so far, in order; rejects with the first that failed. */
  private written: Promise<void> = Promise.resolve();
  /** Bytes queued and not yet written. */
  private queued = 0;
  /** Buffers whose bytes are written, for `entries` to reuse. */
  private readonly spare: Buffer[] = [];
  constructor(readonly file: string) {}

  async reset(): Promise<void> {
    await this.close();
    this.handle = await fs.promises.open(this.file, 'w');
    this.first = true;
    this.position = 0;
    this.commit();
  }

  /** Resolves once the bytes queued and not yet written are few enough to queue more. */
  async room(): Promise<void> {
    if (this.queued > MAX_QUEUED_BYTES) await this.written;
  }

  /**
   * A buffer to write entries into, for `add`: one whose bytes are written already when there is one big enough, so
   * that the list reuses a few buffers instead of allocating one per group (outside V8's heap, whose collector the
   * allocations of a million-row answer would otherwise keep triggering).
   */
  entries(capacity: number): JsonBytes {
    const i = this.spare.findIndex((b) => b.length >= capacity);
    if (i >= 0) return new JsonBytes(this.spare.splice(i, 1)[0]!);
    // None is big enough: one fewer kept, so that the bigger buffer made now can take its place.
    this.spare.shift();
    return new JsonBytes(capacity);
  }

  /** Queues the entries written into `entries` (comma-separated) without waiting (`room` waits when a slow disk has let the queue grow). */
  add(entries: JsonBytes): void {
    if (entries.empty) return;
    const data = this.first ? entries.bytes() : entries.bytes(COMMA);
    const whole = entries.buffer;
    const { handle } = this;
    const at = this.position;
    this.queued += data.length;
    this.written = this.written.then(async () => {
      await handle!.write(data, 0, data.length, at);
      this.queued -= data.length;
      if (this.spare.length < SPARE_BUFFERS) this.spare.push(whole);
    });
    this.position += data.length;
    this.first = false;
  }

  commit(): void {
    this.kept = { first: this.first, position: this.position };
  }

  async rollback(): Promise<void> {
    await this.written;
    ({ first: this.first, position: this.position } = this.kept);
    await this.handle?.truncate(this.position);
  }

  async close(): Promise<void> {
    const { handle } = this;
    this.handle = undefined;
    try {
      await this.written;
    } finally {
      this.written = Promise.resolve();
      await handle?.close();
    }
  }

  /** The file as it was written, in bytes (an answer is sent as it is: nothing to decode and encode again). */
  read(): AsyncIterable<Buffer> {
    // Small reads: a 1M-row synchronous import read back at 64 KiB peaked while sending its answer, and one at 16 KiB
    // did not (one run each, not alternating: docs/benchmarks.md, "Imports at a million rows, one index fewer").
    return fs.createReadStream(this.file, { highWaterMark: 16 * 1024 });
  }
}

/** About what one entry of each list takes (a contact of an import is some 560 bytes): the buffers start that big. */
const CONTACT_BYTES = 640;
const SUCCEEDED_BYTES = 64;
const COMMA = 0x2c;
/** Written buffers a list keeps for reuse: about the writes it lets queue (MAX_QUEUED_BYTES) and one more. */
const SPARE_BUFFERS = 3;

/** Groups of settled rows at most waiting for their answer entries. */
const MAX_WAITING_GROUPS = 2;

/**
 * Turns settled rows into the answer's entries a little later, when the process would otherwise wait: the import's
 * next statements are sent first, so on PostgreSQL this JSON is made while the database works on them.
 */
class AnswerPieces {
  private rows: SettledRow[][] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly contactJson = contactJsonWriter();
  constructor(private readonly contacts: JsonList, private readonly succeeded: JsonList) {}

  later(rows: SettledRow[]): void {
    this.rows.push(rows);
    // A store that answers synchronously (SQLite) may not let the process wait before its batch ends: a few groups
    // are kept at most, so that the rows waiting stay few.
    if (this.rows.length >= MAX_WAITING_GROUPS) this.now();
    else this.scheduled ??= setImmediate(() => this.now());
  }

  /** Writes every entry still waiting (before a commit marks what the answer keeps). */
  now(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    for (const rows of this.rows) {
      const contacts = this.contacts.entries(rows.length * CONTACT_BYTES);
      const succeeded = this.succeeded.entries(rows.length * SUCCEEDED_BYTES);
      for (const r of rows) {
        if (r.contact) {
          if (!contacts.empty) contacts.raw(',');
          this.contactJson(r.contact, contacts);
        }
        succeeded.raw(`${succeeded.empty ? '' : ','}{"row":${r.line},"action":"${r.action}"`);
        if (r.id) {
          succeeded.raw(',"id":');
          succeeded.string(r.id);
        }
        succeeded.raw('}');
      }
      this.contacts.add(contacts);
      this.succeeded.add(succeeded);
    }
    this.rows = [];
  }

  drop(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.rows = [];
  }
}

/**
 * POST /contacts/import-contacts without `Prefer: respond-async`: the same engine as a job, run inside the request.
 * The answer's status depends on every row, so its pieces are written to scratch files as batches settle and sent
 * once the run has ended.
 */
export function createSyncImport(deps: SyncImportDeps) {
  return async function importCsv(ctx: RequestContext, upload: AsyncIterable<Buffer>, options: ImportOptions, charset?: () => string | undefined): Promise<ImportOutcome> {
    const id = newObjectId(deps.now());
    const token = randomBytes(16).toString('hex');
    const dir = path.join(deps.scratchDir, `${id}.answer`);
    await fs.promises.mkdir(dir, { recursive: true });
    const contacts = new JsonList(path.join(dir, 'contacts.json'));
    const succeeded = new JsonList(path.join(dir, 'succeeded.json'));
    const failureCodes = new Set<string>();
    let created = false;
    const dispose = async () => {
      await contacts.close();
      await succeeded.close();
      await fs.promises.rm(dir, { recursive: true, force: true });
      await deps.scratch.remove(id);
      // The run's record stays (removed with the finished jobs after IMPORT_RETENTION_DAYS); its failures were the answer.
      if (created) await deps.jobs.removeFailures(id);
    };
    try {
      const checked = checkUpload(upload, deps.limits, charset);
      await deps.scratch.save(id, checked.chunks);
      const file = checked.result();
      const now = deps.now();
      await deps.jobs.create(ctx, ctx, {
        id, kind: 'sync', options: JSON.stringify(options), fileName: null, bytes: file.bytes, header: file.header, totalRows: file.rows, format: JSON.stringify(file.format),
        leaseToken: token, leaseExpiresAt: now + deps.leaseMs, now,
      });
      created = true;
      const row: RunnableJob = {
        id, stream_id: ctx.streamId, account_id: ctx.accountId, org_id: ctx.orgId, created_by: ctx.userId, created_by_aid: ctx.appId,
        options: JSON.stringify(options), csv_format: JSON.stringify(file.format), resume_line: 0, processed_rows: 0, created_count: 0, updated_count: 0, failed_count: 0,
      };
      const answer = new AnswerPieces(contacts, succeeded);
      const outcome = await deps.run(row, token, () => deps.scratch.open(id), {
        async beginAnswer() {
          answer.drop();
          await contacts.reset();
          await succeeded.reset();
        },
        async settled(rows: SettledRow[]) {
          answer.later(rows);
          await contacts.room();
          await succeeded.room();
        },
        failed(rows) {
          for (const r of rows) failureCodes.add(r.errors[0]!.code);
        },
        async commit() {
          answer.now();
          contacts.commit();
          succeeded.commit();
        },
        async rollback() {
          answer.drop();
          await contacts.rollback();
          await succeeded.rollback();
        },
      });
      if (outcome.state === 'failed') throw outcome.cause;
      if (outcome.state !== 'completed') throw new Error(`the import ended as ${outcome.state}`);
      // An atomic import's one transaction has no commit hook after it: what its last rows made is written here.
      answer.now();
      await contacts.close();
      await succeeded.close();
      const c = outcome.counts;
      return {
        options,
        format: file.format,
        counts: { total: c.processed, created: c.created, updated: c.updated, failed: c.failed },
        failureCodes,
        contactsJson: () => contacts.read(),
        succeededJson: () => succeeded.read(),
        failedJson: () => failedEntries(deps.jobs, id),
        dispose,
      };
    } catch (error) {
      await dispose().catch(() => {});
      // A run refused or stopped midway leaves no record behind.
      if (created) await deps.jobs.remove(id).catch(() => {});
      throw error;
    }
  };
}

async function* failedEntries(jobs: Pick<ImportJobRepository, 'failures'>, id: string): AsyncGenerator<string> {
  let first = true;
  for (let after = 0; ; ) {
    const rows = await jobs.failures(id, after, 1000);
    if (rows.length === 0) return;
    yield (first ? '' : ',') + rows.map((r) => `{"row":${r.line},"errors":${r.errors}}`).join(',');
    first = false;
    after = rows[rows.length - 1]!.line;
  }
}

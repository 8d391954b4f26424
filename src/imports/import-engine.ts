import { setTimeout as sleep } from 'node:timers/promises';
import { isTransactionConflict } from '../db/errors.js';
import { ServiceUnavailableError } from '../shared/errors.js';
import { retry } from '../shared/retry.js';
import { rowBatches, type ParsedRow } from './import-rows.js';
import type { CsvFormat } from './upload-check.js';
import { add, LostRace, NOT_WRITTEN, rememberNumbers, settleRows, zero, type SettledRow } from './settle-rows.js';
import { Stopped, type BatchTx, type Counts, type ImportSession, type JobRef, type NewFailure } from './import-store.js';

export interface ImportOptions {
  /** `update`: a number already held by an ACTIVE contact updates that contact instead of failing. */
  onDuplicate: 'reject' | 'update';
  /** Create nothing unless every row is good. */
  atomic: boolean;
  /** Check and report, write nothing. */
  dryRun: boolean;
}

export type { SettledRow } from './settle-rows.js';

export interface EngineHooks {
  /** A pass whose settled rows make the answer starts: rows reported by an earlier pass no longer count. */
  beginAnswer?(): Promise<void>;
  /** Rows settled, in file order, as they settle inside their batch's transaction (see commit and rollback). */
  settled?(rows: SettledRow[]): Promise<void>;
  /** Rows failed by a batch, in file order. */
  failed?(rows: NewFailure[]): void;
  /** The batch whose rows were reported since the last commit committed. */
  commit?(): Promise<void>;
  /** The batch whose rows were reported since the last commit rolled back: forget them. */
  rollback?(): Promise<void>;
}

export interface EngineRun {
  job: JobRef;
  options: ImportOptions;
  /** How the stored file is read (its encoding and delimiter). */
  format: CsvFormat;
  session: ImportSession;
  /** Opens the stored upload from its start; called once per pass. */
  source(): AsyncIterable<Buffer>;
  /** Last line whose batch is already committed (a job taken over), and the counters it left. */
  resumeLine: number;
  counts: Counts;
  leaseMs: number;
  batchRows: number;
  /** Parse the next batch while the store writes the current one. */
  prefetch: boolean;
  hooks?: EngineHooks;
  now?: () => number;
  /** Asked before each batch: true stops the run there (Stopped), leaving the job to another worker. */
  stopping?: () => boolean;
}

export type EngineResult = { state: 'completed' | 'cancelled'; counts: Counts };

const ATOMIC_ATTEMPTS = 3;
/** Rows parsed and settled together inside a batch's transaction. */
const GROUP_ROWS = 1000;
const CONFLICT_ATTEMPTS = 5;
/** SQLite busy: up to a minute of waiting for another process's write, a fifth of a second at a time. */
const BUSY_ATTEMPTS = 300;
const BUSY_WAIT_MS = 200;

class Cancelled extends Error {}

/**
 * One import through the store, a batch at a time: each batch's rows are checked, repeats in the file and numbers
 * already held found, contacts inserted or updated, failures recorded, and the job's counters and resume point
 * saved, all in one transaction. An atomic import checks every row first and then writes them all in a single
 * transaction, so that it leaves everything or nothing.
 */
export async function runImport(run: EngineRun): Promise<EngineResult> {
  const now = run.now ?? Date.now;
  const counts: Counts = { ...run.counts };
  // An atomic job commits its rows and its resume point together, once: one taken over after that is done.
  if (run.options.atomic && run.resumeLine > 0) return { state: 'completed', counts };
  await run.session.open();
  if (!run.options.atomic) return runInBatches(run, counts, now);
  return retry(
    async (attempt) => {
      if (attempt > 1) await run.session.open();
      return runAtomic(run, now);
    },
    {
      attempts: ATOMIC_ATTEMPTS,
      // A deadlock PostgreSQL broke in the write pass is a race lost like any other: start over.
      retryOn: (error) => error instanceof LostRace || isTransactionConflict(error),
      exhausted: () =>
        new ServiceUnavailableError({ msg: 'Other writes to the same phone numbers kept this import from applying; try again', code: 'IMPORT_CONTENDED' }),
    },
  );
}

/** Where a run stands: the counters and the last line committed so far. */
interface Committed {
  counts: Counts;
  resumeLine: number;
}

async function runInBatches(run: EngineRun, counts: Counts, now: () => number): Promise<EngineResult> {
  const committed: Committed = { counts, resumeLine: run.resumeLine };
  await run.hooks?.beginAnswer?.();
  // On a passing failure, go on from the last batch committed, as a worker taking the job over would.
  const state = await retry(() => pass(run, now, committed, { write: !run.options.dryRun, lease: 'lock', publish: true }), { retryOn: worthRetrying });
  return { state, counts: committed.counts };
}

interface PassOptions {
  write: boolean;
  lease: 'lock' | 'read';
  /** Add each batch's counts to the job's counters and move its resume point (else only the lease is renewed). */
  publish: boolean;
}

/**
 * The file from `committed.resumeLine` on, in transactions of about `batchRows` rows. Rows are parsed and settled a
 * group at a time inside the transaction, so that only a small group is alive at once (a batch built whole lives
 * long enough to be promoted to the old generation, and the heap grows with it).
 */
async function pass(run: EngineRun, now: () => number, committed: Committed, how: PassOptions): Promise<'completed' | 'cancelled'> {
  const groups = groupsOf(run);
  try {
    let next = await groups.next();
    // Rows a taken-over job already applied only tell which numbers the file has had.
    while (!next.done && next.value[next.value.length - 1]!.line <= committed.resumeLine) {
      const done = next.value;
      await transaction(run, (tx) => rememberNumbers(tx, done));
      next = await groups.next();
    }
    let pending = next.done ? undefined : next.value;
    if (pending && pending[0]!.line <= committed.resumeLine) {
      const done = pending.filter((r) => r.line <= committed.resumeLine);
      await transaction(run, (tx) => rememberNumbers(tx, done));
      pending = pending.filter((r) => r.line > committed.resumeLine);
    }
    while (pending) {
      if (run.stopping?.()) throw new Stopped();
      const first: ParsedRow[] = pending;
      let outcome: { delta: Counts; last: number; more: boolean } | undefined;
      try {
        outcome = await run.session.transaction(async (tx) => {
          if ((await tx.checkLease(how.lease)).cancelRequested) return undefined;
          const t = now();
          const delta = zero();
          let group: ParsedRow[] | undefined = first;
          let last = 0;
          while (group) {
            const part = await settleRows(tx, run, group, { write: how.write, strict: false, now: t });
            await tx.addFailures(part.failures);
            run.hooks?.failed?.(part.failures);
            await run.hooks?.settled?.(part.settled);
            add(delta, part.delta);
            last = group[group.length - 1]!.line;
            if (delta.processed >= run.batchRows) break;
            const more = await groups.next();
            group = more.done ? undefined : more.value;
          }
          await tx.saveProgress({ delta: how.publish ? delta : zero(), resumeLine: how.publish ? last : 0, leaseExpiresAt: t + run.leaseMs, now: t });
          return { delta, last, more: group !== undefined };
        });
      } catch (error) {
        await run.hooks?.rollback?.();
        throw error;
      }
      if (!outcome) return 'cancelled';
      await run.hooks?.commit?.();
      add(committed.counts, outcome.delta);
      committed.resumeLine = outcome.last;
      // Between batches, requests waiting for the store (SQLite's one connection) go first.
      await new Promise((resolve) => setImmediate(resolve));
      pending = outcome.more ? await nextOf(groups) : undefined;
    }
    return 'completed';
  } finally {
    await groups.return(undefined);
  }
}

async function nextOf<T>(source: AsyncGenerator<T>): Promise<T | undefined> {
  const item = await source.next();
  return item.done ? undefined : item.value;
}

async function runAtomic(run: EngineRun, now: () => number): Promise<EngineResult> {
  // Failures an earlier attempt recorded (a race lost, or a worker that died) are found again by this one.
  await transaction(run, (tx) => tx.clearFailures());
  // Pass 1: check every row, write no contact.
  const checked: Committed = { counts: zero(), resumeLine: 0 };
  await run.hooks?.beginAnswer?.();
  const hooks = run.hooks;
  // A dry run's answer is what the check pass found; otherwise the write pass makes the answer.
  const checkRun: EngineRun = run.options.dryRun ? run : { ...run, hooks: hooks && { failed: hooks.failed } };
  if ((await pass(checkRun, now, checked, { write: false, lease: 'read', publish: false }).catch(cancelled)) !== 'completed') {
    return cancelAtomic(run);
  }
  const check = checked.counts;
  const lastLine = checked.resumeLine;

  if (check.failed > 0) return failAllRows(run, check.processed, lastLine, now);
  if (run.options.dryRun) return finishAtomic(run, check, lastLine, now);

  // Pass 2: every row is good; write them all in one transaction.
  await run.hooks?.beginAnswer?.();
  const result = await run.session.transaction(async (tx) => {
    const written: Counts = zero();
    for await (const rows of groupsOf(run)) {
      if (run.stopping?.()) throw new Stopped();
      if ((await tx.checkLease('read')).cancelRequested) throw new Cancelled();
      const batch = await settleRows(tx, run, rows, { write: true, strict: true, now: now() });
      add(written, batch.delta);
      await run.hooks?.settled?.(batch.settled);
    }
    const t = now();
    await tx.saveProgress({ delta: written, resumeLine: lastLine, leaseExpiresAt: t + run.leaseMs, now: t });
    return written;
  }).catch(cancelled);
  return result ? { state: 'completed', counts: result } : cancelAtomic(run);
}

/** A cancelled atomic import leaves nothing: no contact, and none of the failures its check pass found. */
async function cancelAtomic(run: EngineRun): Promise<EngineResult> {
  await transaction(run, (tx) => tx.clearFailures());
  return { state: 'cancelled', counts: zero() };
}

/** An atomic import with a bad row: every other row fails as NOT_WRITTEN, so every row is counted and listed. */
async function failAllRows(run: EngineRun, total: number, lastLine: number, now: () => number): Promise<EngineResult> {
  for await (const rows of rowBatches(run.source(), run.batchRows, run.format)) {
    await transaction(run, async (tx) => {
      const failed = await tx.failedLines(rows[0]!.line, rows[rows.length - 1]!.line);
      const notWritten = rows.filter((r) => !failed.has(r.line)).map((r) => ({ line: r.line, cells: r.cells, errors: [NOT_WRITTEN] }));
      await tx.addFailures(notWritten);
      run.hooks?.failed?.(notWritten);
      const t = now();
      await tx.saveProgress({ delta: zero(), resumeLine: 0, leaseExpiresAt: t + run.leaseMs, now: t });
    });
  }
  await run.hooks?.beginAnswer?.();
  return finishAtomic(run, { processed: total, created: 0, updated: 0, failed: total }, lastLine, now);
}

async function finishAtomic(run: EngineRun, counts: Counts, lastLine: number, now: () => number): Promise<EngineResult> {
  await transaction(run, async (tx) => {
    const t = now();
    await tx.saveProgress({ delta: counts, resumeLine: lastLine, leaseExpiresAt: t + run.leaseMs, now: t });
  });
  return { state: 'completed', counts };
}

/**
 * The file's rows, a group at a time. Where the store works in another process (PostgreSQL, on the other core), the
 * next batch is parsed while the current one is written; where it works in this thread (SQLite), that would only
 * keep two batches in memory.
 */
function groupsOf(run: EngineRun): AsyncGenerator<ParsedRow[]> {
  // A batch is whole groups: groups no larger than a batch keep IMPORT_BATCH_ROWS what it says below a thousand.
  const groups = rowBatches(run.source(), Math.min(GROUP_ROWS, run.batchRows), run.format);
  return run.prefetch ? prefetched(groups) : groups;
}

/**
 * The next item is asked for once the current one is handed out and its consumer has let the event loop turn (sent
 * its statements). Asked for at once, a group whose bytes are read already was parsed inside that call, before the
 * current group's statements went out, so that the parse and the database took turns instead of overlapping.
 */
async function* prefetched<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = source.next();
  try {
    for (;;) {
      const item = await next;
      if (item.done) return;
      next = new Promise((resolve) => setImmediate(resolve)).then(() => source.next());
      next.catch(() => {});
      yield item.value;
    }
  } finally {
    await source.return(undefined);
  }
}

/**
 * A transaction run again when the store refused it for a passing reason (the whole transaction rolled back, and its
 * decisions are made again inside it, so running it again is safe).
 */
async function transaction<T>(run: EngineRun, work: (tx: BatchTx) => Promise<T>): Promise<T> {
  return retry(() => run.session.transaction(work), { retryOn: worthRetrying });
}

/**
 * Whether a transaction that failed this way is worth running again, after a pause: PostgreSQL broke a deadlock by
 * rolling it back, or (SQLite) another process — the CLI, a second server on the same file — holds the write lock,
 * which is waited for here without blocking the process.
 */
async function worthRetrying(error: unknown, attempt: number): Promise<boolean> {
  if ((error as { code?: unknown } | null)?.code === 'SQLITE_BUSY' && attempt < BUSY_ATTEMPTS) {
    await sleep(BUSY_WAIT_MS);
    return true;
  }
  if (!isTransactionConflict(error) || attempt >= CONFLICT_ATTEMPTS) return false;
  await sleep(Math.random() * 20 * attempt);
  return true;
}

function cancelled(error: unknown): undefined {
  if (error instanceof Cancelled) return undefined;
  throw error;
}


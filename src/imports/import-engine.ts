import { setTimeout as sleep } from 'node:timers/promises';
import { isTransactionConflict } from '../db/errors.js';
import type { ContactRow } from '../db/schema.js';
import { ServiceUnavailableError, type ErrorDetail } from '../shared/errors.js';
import { newObjectId } from '../shared/ids.js';
import { rowBatches, type ParsedRow } from './import-rows.js';
import { Stopped, type BatchTx, type Counts, type HolderUpdate, type ImportSession, type JobRef, type NewContact, type NewFailure } from './import-store.js';

export interface ImportOptions {
  /** `update`: a number already held by an ACTIVE contact updates that contact instead of failing. */
  onDuplicate: 'reject' | 'update';
  /** Create nothing unless every row is good. */
  atomic: boolean;
  /** Check and report, write nothing. */
  dryRun: boolean;
}

/** A row that created or updated a contact (or would have, in a dry run). */
export interface SettledRow {
  line: number;
  action: 'created' | 'updated';
  /** The contact; absent in a dry run for a row that would create one. */
  id?: string;
  /** The contact as stored: for an update the row the store returned, for a creation the row inserted. */
  contact?: ContactRow;
}

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

/** The rows' fate could not be kept in an atomic import: a concurrent writer took a number after the check. */
class LostRace extends Error {}
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
  for (let attempt = 1; ; attempt++) {
    try {
      return await runAtomic(run, now);
    } catch (error) {
      // A deadlock PostgreSQL broke in the write pass is a race lost like any other: start over.
      if (!(error instanceof LostRace) && !isTransactionConflict(error)) throw error;
      if (attempt >= ATOMIC_ATTEMPTS) {
        throw new ServiceUnavailableError({ msg: 'Other writes to the same phone numbers kept this import from applying; try again', code: 'IMPORT_CONTENDED' });
      }
      await run.session.open();
    }
  }
}

/** Where a run stands: the counters and the last line committed so far. */
interface Committed {
  counts: Counts;
  resumeLine: number;
}

async function runInBatches(run: EngineRun, counts: Counts, now: () => number): Promise<EngineResult> {
  const committed: Committed = { counts, resumeLine: run.resumeLine };
  await run.hooks?.beginAnswer?.();
  for (let attempt = 1; ; attempt++) {
    try {
      const state = await pass(run, now, committed, { write: !run.options.dryRun, lease: 'lock', publish: true });
      return { state, counts: committed.counts };
    } catch (error) {
      // PostgreSQL broke a deadlock by rolling one batch back: go on from the last batch committed, as a worker taking
      // the job over would.
      if (!isTransactionConflict(error) || attempt >= CONFLICT_ATTEMPTS) throw error;
      await sleep(Math.random() * 20 * attempt);
    }
  }
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
    return { state: 'cancelled', counts: zero() };
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
  return result ? { state: 'completed', counts: result } : { state: 'cancelled', counts: zero() };
}

/** An atomic import with a bad row: every other row fails as NOT_WRITTEN, so every row is counted and listed. */
async function failAllRows(run: EngineRun, total: number, lastLine: number, now: () => number): Promise<EngineResult> {
  for await (const rows of rowBatches(run.source(), run.batchRows)) {
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

const NOT_WRITTEN: ErrorDetail = { msg: 'Not written: the import is atomic and other rows failed', code: 'NOT_WRITTEN' };

interface BatchOutcome {
  settled: SettledRow[];
  failures: NewFailure[];
  delta: Counts;
}

/**
 * The fate of each row of a batch. A number is kept by the first row of the file that has it; a later row with it
 * fails naming that row. A number held by an ACTIVE contact fails the row (or, with onDuplicate=update, updates the
 * holder). `strict` (the write pass of an atomic import) refuses any failure: the check pass found none, so one now
 * means a concurrent writer, and the whole transaction must be undone.
 */
async function settleRows(tx: BatchTx, run: EngineRun, rows: ParsedRow[], how: { write: boolean; strict: boolean; now: number }): Promise<BatchOutcome> {
  const { onDuplicate } = run.options;
  const valid = rows.filter((r) => r.contact);
  const probe = await tx.probe(
    valid.map((r) => r.phoneKey!),
    valid.map((r) => r.contact!.phoneNumber),
    !how.write || onDuplicate === 'update',
  );
  const firsts = new Map<number, number>();
  const seenKeys: number[] = [];
  const seenLines: number[] = [];
  const creates: NewContact[] = [];
  const updates: HolderUpdate[] = [];
  const failures: NewFailure[] = [];
  const taken = (r: ParsedRow, holder: string) => failures.push({ line: r.line, cells: r.cells, errors: [phoneTaken(r.contact!.phoneNumber, holder)] });
  let v = 0;
  for (const r of rows) {
    if (!r.contact) {
      failures.push({ line: r.line, cells: r.cells, errors: r.errors! });
      continue;
    }
    const seen = probe.seen[v];
    const holder = probe.holders[v];
    v += 1;
    const first = seen !== null && seen !== undefined && seen < r.line ? seen : firsts.get(r.phoneKey!);
    if (first !== undefined) {
      failures.push({ line: r.line, cells: r.cells, errors: [repeated(r.contact.phoneNumber, first)] });
      continue;
    }
    firsts.set(r.phoneKey!, r.line);
    if (seen === null || seen === undefined) {
      seenKeys.push(r.phoneKey!);
      seenLines.push(r.line);
    }
    if (holder && onDuplicate === 'reject') taken(r, holder);
    else if (holder) updates.push({ holderId: holder, line: r.line, values: r.contact });
    else creates.push({ id: newObjectId(how.now), line: r.line, values: r.contact });
  }
  await tx.addSeen(seenKeys, seenLines);

  const settled: SettledRow[] = [];
  if (!how.write) {
    for (const c of creates) settled.push({ line: c.line, action: 'created' });
    for (const u of updates) settled.push({ line: u.line, action: 'updated', id: u.holderId });
  } else {
    await writeRows(tx, run, new Map(valid.map((r) => [r.line, r])), { creates, updates }, { failures, settled }, how);
  }
  if (how.strict && failures.length) throw new LostRace();
  settled.sort((a, b) => a.line - b.line);
  failures.sort((a, b) => a.line - b.line);
  const created = settled.filter((s) => s.action === 'created').length;
  return {
    settled,
    failures,
    delta: { processed: rows.length, created, updated: settled.length - created, failed: failures.length },
  };
}

async function writeRows(
  tx: BatchTx,
  run: EngineRun,
  rows: Map<number, ParsedRow>,
  plan: { creates: NewContact[]; updates: HolderUpdate[] },
  out: { failures: NewFailure[]; settled: SettledRow[] },
  how: { strict: boolean; now: number },
): Promise<void> {
  const failTaken = (line: number, holder: string | null) => {
    if (how.strict) throw new LostRace();
    const row = rows.get(line)!;
    out.failures.push({ line, cells: row.cells, errors: [phoneTaken(row.contact!.phoneNumber, holder ?? 'unknown')] });
  };
  let toCreate = plan.creates;
  let toUpdate = plan.updates;
  // Two rounds at most: a holder deleted meanwhile frees its number for a creation, and a number taken meanwhile
  // turns a creation into a failure (or, with onDuplicate=update, into an update of the new holder).
  for (let round = 0; round < 2 && (toCreate.length || toUpdate.length); round++) {
    const inserted = await tx.insertContacts(toCreate, how.now);
    const nextUpdates: HolderUpdate[] = [];
    const lost: NewContact[] = [];
    for (const c of toCreate) {
      if (inserted.has(c.id)) out.settled.push({ line: c.line, action: 'created', id: c.id, contact: createdRow(run.job, c, how.now) });
      else lost.push(c);
    }
    if (lost.length) {
      if (how.strict) throw new LostRace();
      const holders = await tx.holders(lost.map((c) => c.values.phoneNumber));
      lost.forEach((c, i) => {
        const holder = holders[i] ?? null;
        if (holder && run.options.onDuplicate === 'update' && round === 0) nextUpdates.push({ holderId: holder, line: c.line, values: c.values });
        else failTaken(c.line, holder);
      });
    }
    const updated = await tx.updateContacts(toUpdate, how.now);
    const nextCreates: NewContact[] = [];
    for (const u of toUpdate) {
      const row = updated.get(u.holderId);
      if (row) out.settled.push({ line: u.line, action: 'updated', id: row.id, contact: row });
      else if (how.strict) throw new LostRace();
      else nextCreates.push({ id: newObjectId(how.now), line: u.line, values: u.values });
    }
    toCreate = nextCreates;
    toUpdate = nextUpdates;
  }
  for (const c of toCreate) failTaken(c.line, null);
  for (const u of toUpdate) failTaken(u.line, u.holderId);
}

/** The row a creation inserted, as the store holds it. */
export function createdRow(job: JobRef, c: NewContact, now: number): ContactRow {
  const v = c.values;
  return {
    id: c.id,
    stream_id: job.tenant.streamId,
    account_id: job.tenant.accountId,
    org_id: job.actor.orgId,
    status: 'ACTIVE',
    first_name: v.firstName,
    last_name: v.lastName,
    salutation: v.salutation,
    phone_number: v.phoneNumber,
    country_code: v.countryCode,
    extension: v.extension,
    created_by: job.actor.userId,
    created_by_aid: job.actor.appId,
    updated_by: null,
    updated_by_aid: null,
    import_id: job.id,
    created_at: now,
    updated_at: now,
    last_name_key: v.last_name_key,
    full_name_key: v.full_name_key,
  };
}

/** Rows a taken-over job had applied: only their numbers are remembered, so later repeats still name them. */
async function rememberNumbers(tx: BatchTx, rows: ParsedRow[]): Promise<void> {
  const firsts = new Map<number, number>();
  for (const r of rows) if (r.contact && !firsts.has(r.phoneKey!)) firsts.set(r.phoneKey!, r.line);
  await tx.addSeen([...firsts.keys()], [...firsts.values()]);
}

export function repeated(phone: string, firstLine: number): ErrorDetail {
  return { msg: `cellPhoneNumber ${phone} repeats line ${firstLine}, which keeps it`, code: 'DUPLICATE_IN_FILE', field: 'cellPhoneNumber', row: firstLine };
}

export function phoneTaken(phone: string, holder: string): ErrorDetail {
  return { msg: `cellPhoneNumber ${phone} already belongs to contact ${holder}`, code: 'PHONE_TAKEN', field: 'cellPhoneNumber', id: holder };
}

/**
 * The file's rows, a group at a time. Where the store works in another process (PostgreSQL, on the other core), the
 * next batch is parsed while the current one is written; where it works in this thread (SQLite), that would only
 * keep two batches in memory.
 */
function groupsOf(run: EngineRun): AsyncGenerator<ParsedRow[]> {
  const groups = rowBatches(run.source(), GROUP_ROWS);
  return run.prefetch ? prefetched(groups) : groups;
}

/** The next item is asked for as soon as the current one is handed out. */
async function* prefetched<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = source.next();
  try {
    for (;;) {
      const item = await next;
      if (item.done) return;
      next = source.next();
      next.catch(() => {});
      yield item.value;
    }
  } finally {
    await source.return(undefined);
  }
}

/**
 * One batch's transaction, run again when PostgreSQL aborts it to break a deadlock with a concurrent writer (the
 * whole transaction rolled back, and the batch's decisions are made again inside it, so running it again is safe).
 */
async function transaction<T>(run: EngineRun, work: (tx: BatchTx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run.session.transaction(work);
    } catch (error) {
      if (!isTransactionConflict(error) || attempt >= CONFLICT_ATTEMPTS) throw error;
      await sleep(Math.random() * 20 * attempt);
    }
  }
}

function cancelled(error: unknown): undefined {
  if (error instanceof Cancelled) return undefined;
  throw error;
}

const zero = (): Counts => ({ processed: 0, created: 0, updated: 0, failed: 0 });

function add(to: Counts, delta: Counts): void {
  to.processed += delta.processed;
  to.created += delta.created;
  to.updated += delta.updated;
  to.failed += delta.failed;
}

import type { ContactRow } from '../db/schema.js';
import type { ErrorDetail } from '../shared/errors.js';
import { newObjectId } from '../shared/ids.js';
import type { ImportOptions } from './import-engine.js';
import type { ParsedRow } from './import-rows.js';
import type { BatchTx, Counts, HolderUpdate, JobRef, NewContact, NewFailure } from './import-store.js';

/** What settling rows needs of the run: whose rows, and what to do with a number already held. */
export interface SettleContext {
  job: JobRef;
  options: Pick<ImportOptions, 'onDuplicate'>;
  /** Whether the settled rows are looked at (the synchronous answer writes their contacts); a job's are not. */
  hooks?: { settled?: unknown };
}

/** A row that created or updated a contact (or would have, in a dry run). */
export interface SettledRow {
  line: number;
  action: 'created' | 'updated';
  /** The contact; absent in a dry run for a row that would create one. */
  id?: string;
  /**
   * The contact as stored: for an update the row the store returned, for a creation the row inserted (made only for
   * a run whose settled rows are looked at).
   */
  contact?: ContactRow;
}

/** The rows' fate could not be kept in an atomic import: a concurrent writer took a number after the check. */
export class LostRace extends Error {}

export const NOT_WRITTEN: ErrorDetail = { msg: 'Not written: the import is atomic and other rows failed', code: 'NOT_WRITTEN' };

export interface BatchOutcome {
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
export async function settleRows(tx: BatchTx, run: SettleContext, rows: ParsedRow[], how: { write: boolean; strict: boolean; now: number }): Promise<BatchOutcome> {
  const { onDuplicate } = run.options;
  const valid = rows.filter((r) => r.contact);
  // The group's first row of each number, remembered for the rows after it; and what was remembered before.
  const groupFirst = new Map<number, number>();
  for (const r of valid) if (!groupFirst.has(r.phoneKey!)) groupFirst.set(r.phoneKey!, r.line);
  const keys = [...groupFirst.keys()];
  const earlier = await tx.claimNumbers(keys, [...groupFirst.values()]);
  const before = new Map<number, number | null>();
  keys.forEach((k, i) => before.set(k, earlier[i]!));

  const failures: NewFailure[] = [];
  const candidates: ParsedRow[] = [];
  for (const r of rows) {
    if (!r.contact) {
      failures.push({ line: r.line, cells: r.cells, errors: r.errors! });
      continue;
    }
    const key = r.phoneKey!;
    const seen = before.get(key);
    const inGroup = groupFirst.get(key)!;
    const first = seen !== null && seen !== undefined && seen < r.line ? seen : inGroup < r.line ? inGroup : undefined;
    if (first !== undefined) failures.push({ line: r.line, cells: r.cells, errors: [repeated(r.contact.phoneNumber, first)] });
    else candidates.push(r);
  }

  // Holders matter to a dry run (which writes nothing to find them out) and to onDuplicate=update; a creation that
  // meets a holder finds out when its insert does nothing.
  const holders = !how.write || onDuplicate === 'update' ? await tx.holders(candidates.map((r) => r.contact!.phoneNumber)) : undefined;
  const creates: NewContact[] = [];
  const updates: HolderUpdate[] = [];
  candidates.forEach((r, i) => {
    const holder = holders?.[i];
    if (holder && onDuplicate === 'reject') failures.push({ line: r.line, cells: r.cells, errors: [phoneTaken(r.contact!.phoneNumber, holder)] });
    else if (holder) updates.push({ holderId: holder, line: r.line, values: r.contact! });
    else creates.push({ id: newObjectId(how.now), line: r.line, values: r.contact! });
  });

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
  run: SettleContext,
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
  // A million rows' contacts made for nobody were a good part of a job's garbage.
  const answered = run.hooks?.settled !== undefined;
  let toCreate = plan.creates;
  let toUpdate = plan.updates;
  // Two rounds at most: a holder deleted meanwhile frees its number for a creation, and a number taken meanwhile
  // turns a creation into a failure (or, with onDuplicate=update, into an update of the new holder).
  for (let round = 0; round < 2 && (toCreate.length || toUpdate.length); round++) {
    const inserted = await tx.insertContacts(toCreate, how.now);
    const nextUpdates: HolderUpdate[] = [];
    const lost: NewContact[] = [];
    for (const c of toCreate) {
      if (inserted.has(c.id)) out.settled.push({ line: c.line, action: 'created', id: c.id, ...(answered && { contact: createdRow(run.job, c, how.now) }) });
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
    history_pending: 1,
    created_at: now,
    updated_at: now,
    last_name_key: v.last_name_key,
    full_name_key: v.full_name_key,
  };
}

/** Rows a taken-over job had applied: only their numbers are remembered, so later repeats still name them. */
export async function rememberNumbers(tx: BatchTx, rows: ParsedRow[]): Promise<void> {
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

export const zero = (): Counts => ({ processed: 0, created: 0, updated: 0, failed: 0 });

export function add(to: Counts, delta: Counts): void {
  to.processed += delta.processed;
  to.created += delta.created;
  to.updated += delta.updated;
  to.failed += delta.failed;
}

import type { ContactRow, ImportJobRow } from '../db/schema.js';
import type { TransactionRunner } from '../db/transaction.js';
import type { ContactChangeLog, ContactChange } from '../contacts/contact-change-log.js';
import type { ContactRepository } from '../contacts/contact.repository.js';
import { nameKeys } from '../contacts/name-key.js';
import type { FieldChanges } from '../history/contact-diff.js';
import type { HistoryRepository } from '../history/history.repository.js';
import { ConflictError } from '../shared/errors.js';
import type { Actor, Tenant } from '../shared/request-context.js';

/** What a revert did, kept on the job and shown as its `revert`. */
export interface RevertOutcome {
  revertedAt: number;
  /** Contacts the import created, made INACTIVE. */
  deactivated: number;
  /** Contacts the import updated, given their earlier values back. */
  restored: number;
  /** Contacts changed since the import, left alone. */
  skippedIds: string[];
}

/** What a revert's transaction works with, bound to it. */
export interface RevertRepositories {
  contacts: Pick<ContactRepository, 'findByIds' | 'update' | 'deactivate'>;
  history: Pick<HistoryRepository, 'ofImport' | 'laterEntries' | 'pendingOfImport' | 'writePendingCreations'>;
  changes: ContactChangeLog;
}

export interface ImportRevertDeps {
  inTransaction: TransactionRunner<RevertRepositories>;
  jobs: {
    /** Marks the job as being reverted by this caller; false when it is reverted already or another revert runs. */
    claimRevert(tenant: Tenant, id: string, now: number, staleBefore: number): Promise<boolean>;
    finishRevert(tenant: Tenant, id: string, outcome: RevertOutcome, now: number): Promise<void>;
  };
  now: () => number;
}

/** Entries of the import read and undone per transaction. */
const BATCH = 500;
/** Contacts of the stream looked at per transaction for the import's untouched creations. */
const SPAN = 500;
/** A revert that has not finished after this long is taken to have died with its process, and may run again. */
const STALE_MS = 10 * 60_000;
const RESTORED_FIELDS = [
  ['firstName', 'first_name'],
  ['lastName', 'last_name'],
  ['salutation', 'salutation'],
  ['cellPhone.extension', 'extension'],
] as const;

/**
 * Undoes an import from its history: contacts it created become INACTIVE, contacts it updated get their earlier values
 * back, except contacts changed since the import (any later entry), which are left alone and reported. Each batch is
 * one transaction with its history entries (`reverted`) and events, through the contacts' one write path. A reverted
 * import is not reverted again.
 *
 * First the contacts it created that nothing has changed since, whose entries are still pending
 * (history/imported-creation.ts): found by a walk of the stream's contacts in key order, made INACTIVE, which writes
 * their creation's entry and the revert's. Then the import's entries: those it wrote for its updates, and the
 * creations that later changes wrote. An entry followed by this revert's own (`reverted` with the import's id: the
 * first part's, or a revert's that died and runs again) is done already and passed over.
 */
export function createImportRevert(deps: ImportRevertDeps) {
  return async function revertImport(ctx: Tenant & Actor, job: ImportJobRow): Promise<void> {
    if (job.state === 'reverted') return;
    if (job.state === 'queued' || job.state === 'running') {
      throw new ConflictError({ msg: `Import ${job.id} is still ${job.state}: cancel it or let it finish, then revert it`, code: 'IMPORT_NOT_FINISHED', id: job.id });
    }
    const started = deps.now();
    if (!(await deps.jobs.claimRevert(ctx, job.id, started, started - STALE_MS))) {
      throw new ConflictError({ msg: `Import ${job.id} is being reverted already`, code: 'IMPORT_REVERTING', id: job.id });
    }
    const outcome: RevertOutcome = { revertedAt: 0, deactivated: 0, restored: 0, skippedIds: [] };
    for (let after: string | undefined = ''; after !== undefined; ) {
      const from: string = after;
      const step = await deps.inTransaction(async ({ contacts, history, changes: changeLog }) => {
        const { rows: untouched, next } = await history.pendingOfImport(ctx, job.id, from, SPAN);
        if (untouched.length === 0) return { next, deactivated: 0 };
        const now = deps.now();
        const byId = new Map(untouched.map((r) => [r.id, r]));
        const inactive = await contacts.deactivate(ctx, [...byId.keys()], now);
        await changeLog.record(ctx, ctx, inactive.map((after) => ({ action: 'reverted', before: byId.get(after.id)!, after, importId: job.id })), now);
        // A pending contact is as its import made it, ACTIVE; should one not be, its creation's entry is written all
        // the same, so that the second part below finds it.
        const left = new Set(byId.keys());
        for (const row of inactive) left.delete(row.id);
        await history.writePendingCreations(ctx, [...left].map((id) => byId.get(id)!));
        return { next, deactivated: inactive.length };
      });
      // Counted once the step commits.
      outcome.deactivated += step.deactivated;
      after = step.next;
    }
    for (let after = 0; ; ) {
      const last = await deps.inTransaction(async ({ contacts, history, changes: changeLog }) => {
        const entries = await history.ofImport(ctx, job.id, after, BATCH);
        if (entries.length === 0) return undefined;
        const imported = entries.filter((e) => e.action === 'imported');
        const { changed, reverted } = await history.laterEntries(ctx, job.id, imported.map((e) => ({ contactId: e.contact_id, seq: Number(e.seq) })));
        const current = new Map((await contacts.findByIds(ctx, imported.map((e) => e.contact_id))).map((r) => [r.id, r]));
        const now = deps.now();
        // Counted once the batch commits.
        const part = { deactivated: 0, restored: 0, skippedIds: [] as string[] };
        const writes: ContactChange[] = [];
        const toDeactivate: string[] = [];
        for (const entry of imported) {
          const row = current.get(entry.contact_id);
          if (!row || reverted.has(row.id)) continue;
          if (changed.has(row.id)) {
            part.skippedIds.push(row.id);
            continue;
          }
          const changes = JSON.parse(entry.changes) as FieldChanges;
          if (changes.status?.from === null) {
            if (row.status === 'ACTIVE') toDeactivate.push(row.id);
            continue;
          }
          const restored = await contacts.update(ctx, row.id, restoredValues(row, changes, ctx, now));
          if (restored) {
            writes.push({ action: 'reverted', before: row, after: restored, importId: job.id });
            part.restored += 1;
          }
        }
        for (const inactive of await contacts.deactivate(ctx, toDeactivate, now)) {
          writes.push({ action: 'reverted', before: current.get(inactive.id)!, after: inactive, importId: job.id });
          part.deactivated += 1;
        }
        await changeLog.record(ctx, ctx, writes, now);
        return { seq: Number(entries[entries.length - 1]!.seq), part };
      });
      if (last === undefined) break;
      outcome.deactivated += last.part.deactivated;
      outcome.restored += last.part.restored;
      outcome.skippedIds.push(...last.part.skippedIds);
      after = last.seq;
    }
    outcome.revertedAt = deps.now();
    await deps.jobs.finishRevert(ctx, job.id, outcome, outcome.revertedAt);
  };
}

/** The earlier values of the fields an import's update changed. */
function restoredValues(row: ContactRow, changes: FieldChanges, actor: Actor, now: number) {
  const values: Record<string, string> = {};
  for (const [name, column] of RESTORED_FIELDS) {
    const from = changes[name]?.from;
    if (typeof from === 'string') values[column] = from;
  }
  const names = values.first_name !== undefined || values.last_name !== undefined ? nameKeys(values.first_name ?? row.first_name, values.last_name ?? row.last_name) : {};
  return { ...values, ...names, updated_by: actor.userId, updated_by_aid: actor.appId, updated_at: Math.max(now, Number(row.updated_at) + 1) };
}

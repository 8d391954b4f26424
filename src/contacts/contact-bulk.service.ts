import type { RequestContext } from '../shared/request-context.js';
import type { TransactionRunner } from '../db/transaction.js';
import { contactNotFound, DomainError, ServiceUnavailableError, type ErrorDetail } from '../shared/errors.js';
import { OBJECT_ID } from '../shared/ids.js';
import { checkRequestSize } from './contact-errors.js';
import type { ContactInput } from './contact-input.js';
import type { Contact } from './contact.mapper.js';
import type { ContactChangeLog } from './contact-change-log.js';
import type { ContactRepository } from './contact.repository.js';

/** The answer of every bulk route: each element of the request is counted once, as a success or a failure. */
export interface BulkReport<S> {
  totalRequested: number;
  successful: number;
  failed: number;
  successfulRecords: S[];
  failedRecords: FailedRecord[];
}

export interface FailedRecord {
  /** Absent when the element named no id. */
  id?: string;
  index: number;
  errors: ErrorDetail[];
}

/** A contact as bulk-update answers it: the vendor's shape carries the id twice, as `id` and `_id`. */
export type BulkUpdatedContact = Contact & { _id: string };

export type BulkUpdateItem = ContactInput & { id?: unknown };

export interface ContactBulkDeps {
  inTransaction: TransactionRunner<{ contacts: Pick<ContactRepository, 'deactivate' | 'findByIds'>; changes: ContactChangeLog }>;
  maxContactsPerRequest: number;
  now: () => number;
  /** The single-contact update; bulk-update applies it to each element. */
  updateContact(ctx: RequestContext, id: string, input: ContactInput): Promise<Contact>;
}

/**
 * DELETE /contacts/bulk-delete and PUT /contacts/bulk-update. Both judge each element on its own and report every
 * one (partial success), unlike POST /contacts, which is all or nothing.
 */
export function createContactBulk(deps: ContactBulkDeps) {
  const { inTransaction, now } = deps;
  const checkSize = (count: number) => checkRequestSize(count, deps.maxContactsPerRequest);

  /**
   * Marks every listed contact INACTIVE, in one transaction. An id that is unknown, of another stream or malformed
   * fails as a missing one does; a contact already INACTIVE succeeds unchanged, as DELETE /contacts/{id} does.
   */
  async function bulkDelete(ctx: RequestContext, ids: unknown[]): Promise<BulkReport<{ id: string }>> {
    checkSize(ids.length);
    const outcomes: ({ ok: true; id: string } | FailedRecord)[] = [];
    const firstIndex = new Map<string, number>();
    const wanted: string[] = [];
    ids.forEach((raw, index) => {
      const id = typeof raw === 'string' ? raw : String(raw);
      const repeated = firstIndex.get(id);
      if (!OBJECT_ID.test(id)) outcomes.push({ id, index, errors: contactNotFound(id).details });
      else if (repeated !== undefined) outcomes.push({ id, index, errors: [repeatedId(id, repeated)] });
      else {
        firstIndex.set(id, index);
        wanted.push(id);
        outcomes.push({ ok: true, id });
      }
    });
    const found = await inTransaction(async ({ contacts, changes }) => {
      const t = now();
      const changed = await contacts.deactivate(ctx, wanted, t);
      // deactivate changes ACTIVE contacts only, and only their status among the fields history follows.
      await changes.record(ctx, ctx, changed.map((after) => ({ action: 'deleted', before: { ...after, status: 'ACTIVE' }, after })), t);
      return new Set((await contacts.findByIds(ctx, wanted)).map((row) => row.id));
    });
    return report(outcomes.map((o, index) => ('ok' in o && !found.has(o.id) ? { id: o.id, index, errors: contactNotFound(o.id).details } : o)), (o) => ({ id: o.id }));
  }

  /**
   * Applies each element as PUT /contacts/{id} would, in array order, each in its own transaction: an element that
   * fails (unknown id, invalid field, number taken) is reported and the others still apply.
   */
  async function bulkUpdate(ctx: RequestContext, items: BulkUpdateItem[]): Promise<BulkReport<{ id: string; contact: BulkUpdatedContact }>> {
    checkSize(items.length);
    const outcomes: ({ ok: true; id: string; contact: BulkUpdatedContact } | FailedRecord)[] = [];
    const firstIndex = new Map<string, number>();
    for (const [index, item] of items.entries()) {
      const id = item.id;
      if (typeof id !== 'string' || id.trim() === '') {
        outcomes.push({ index, errors: [{ msg: 'id is required: it names the contact to update', code: 'FIELD_REQUIRED', field: 'id' }] });
        continue;
      }
      const repeated = firstIndex.get(id);
      if (repeated !== undefined) {
        outcomes.push({ id, index, errors: [repeatedId(id, repeated)] });
        continue;
      }
      firstIndex.set(id, index);
      try {
        const contact = await deps.updateContact(ctx, id, item);
        outcomes.push({ ok: true, id, contact: { ...contact, _id: contact.id } });
      } catch (error) {
        // A store that stops answering fails the request (503); what is wrong with the element fails the element.
        if (!(error instanceof DomainError) || error instanceof ServiceUnavailableError) throw error;
        outcomes.push({ id, index, errors: error.details });
      }
    }
    return report(outcomes, (o) => ({ id: o.id, contact: o.contact }));
  }

  return { bulkDelete, bulkUpdate };
}

export type ContactBulk = ReturnType<typeof createContactBulk>;

function repeatedId(id: string, firstIndex: number): ErrorDetail {
  return { msg: `Contact ${id} is already listed at index ${firstIndex}`, code: 'DUPLICATE_IN_REQUEST', field: 'id', id };
}

function report<O extends { ok: true }, S>(outcomes: (O | FailedRecord)[], success: (o: O) => S): BulkReport<S> {
  const successfulRecords: S[] = [];
  const failedRecords: FailedRecord[] = [];
  for (const o of outcomes) {
    if ('ok' in o) successfulRecords.push(success(o));
    else failedRecords.push(o);
  }
  return { totalRequested: outcomes.length, successful: successfulRecords.length, failed: failedRecords.length, successfulRecords, failedRecords };
}

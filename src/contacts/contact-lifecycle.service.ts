import { isUniqueViolation } from '../db/errors.js';
import type { TransactionRunner } from '../db/transaction.js';
import { contactNotFound } from '../shared/errors.js';
import { OBJECT_ID } from '../shared/ids.js';
import type { RequestContext } from '../shared/request-context.js';
import { AGAIN, retry } from '../shared/retry.js';
import { concurrentChange, phoneTaken, RACE_ATTEMPTS } from './contact-errors.js';
import { toContact, type Contact } from './contact.mapper.js';
import type { ContactChangeLog } from './contact-change-log.js';
import type { ContactRepository } from './contact.repository.js';

export interface ContactLifecycleDeps {
  inTransaction: TransactionRunner<{ contacts: Pick<ContactRepository, 'activate' | 'deactivate' | 'findActiveHolders' | 'findById'>; changes: ContactChangeLog }>;
  now: () => number;
}

/**
 * Deleting and restoring one contact. A delete marks the contact INACTIVE, which frees its number; a restore makes
 * it ACTIVE again if nobody took the number meanwhile. Both are idempotent: deleting an INACTIVE contact, or
 * restoring an ACTIVE one, answers the contact as it is and changes nothing.
 */
export function createContactLifecycle(deps: ContactLifecycleDeps) {
  const { inTransaction, now } = deps;

  async function deleteContact(ctx: RequestContext, id: string): Promise<Contact> {
    if (!OBJECT_ID.test(id)) throw contactNotFound(id);
    // One transaction: the status and the stream's counts change together.
    const row = await retry(
      () =>
        inTransaction(async ({ contacts, changes }) => {
          const t = now();
          const [changed] = await contacts.deactivate(ctx, [id], t);
          if (changed) {
            // deactivate changes ACTIVE contacts only, and only their status among the fields history follows.
            await changes.record(ctx, ctx, [{ action: 'deleted', before: { ...changed, status: 'ACTIVE' }, after: changed }], t);
            return changed;
          }
          const current = await contacts.findById(ctx, id);
          if (!current) throw contactNotFound(id);
          // Restored between the two statements: delete it again.
          return current.status === 'INACTIVE' ? current : AGAIN;
        }),
      { attempts: RACE_ATTEMPTS, exhausted: concurrentChange },
    );
    return toContact(row);
  }

  async function restoreContact(ctx: RequestContext, id: string): Promise<Contact> {
    if (!OBJECT_ID.test(id)) throw contactNotFound(id);
    const row = await retry(
      () =>
        inTransaction(async ({ contacts, changes }) => {
          const current = await contacts.findById(ctx, id);
          if (!current) throw contactNotFound(id);
          if (current.status === 'ACTIVE') return current;
          const [holder] = await contacts.findActiveHolders(ctx, [current.phone_number]);
          if (holder) throw phoneTaken(current.phone_number, holder.id);
          // Nothing when restored (or changed) by another request between the look and the write: look again.
          const t = now();
          const restored = await contacts.activate(ctx, id, t);
          if (!restored) return AGAIN;
          await changes.record(ctx, ctx, [{ action: 'restored', before: current, after: restored }], t);
          return restored;
        }),
      {
        attempts: RACE_ATTEMPTS,
        // The number was taken between the look and the write; the next look names the holder.
        retryOn: (error) => isUniqueViolation(error),
        exhausted: concurrentChange,
      },
    );
    return toContact(row);
  }

  return { deleteContact, restoreContact };
}

export type ContactLifecycle = ReturnType<typeof createContactLifecycle>;

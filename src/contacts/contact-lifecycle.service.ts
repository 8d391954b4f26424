import type { RequestContext } from '../shared/request-context.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Transact } from '../db/group-commit.js';
import { contactNotFound } from '../shared/errors.js';
import { OBJECT_ID } from '../shared/ids.js';
import { concurrentChange, phoneTaken, RACE_ATTEMPTS } from './contact-errors.js';
import { toContact, type Contact } from './contact.mapper.js';
import { createContactRepository } from './contact.repository.js';

/**
 * Deleting and restoring one contact. A delete marks the contact INACTIVE, which frees its number; a restore makes
 * it ACTIVE again if nobody took the number meanwhile. Both are idempotent: deleting an INACTIVE contact, or
 * restoring an ACTIVE one, answers the contact as it is and changes nothing.
 */
export function createContactLifecycle(deps: { transact: Transact; now: () => number }) {
  const { transact, now } = deps;

  async function deleteContact(ctx: RequestContext, id: string): Promise<Contact> {
    if (!OBJECT_ID.test(id)) throw contactNotFound(id);
    for (let attempt = 1; ; attempt++) {
      // One transaction: the status and the stream's counts change together.
      const row = await transact(async (trx) => {
        const repo = createContactRepository(trx);
        const [changed] = await repo.deactivate(ctx, [id], ctx, now());
        if (changed) return changed;
        const current = await repo.findById(ctx, id);
        if (!current) throw contactNotFound(id);
        return current.status === 'INACTIVE' ? current : undefined;
      });
      if (row) return toContact(row);
      // Restored between the two statements: delete it again.
      if (attempt === RACE_ATTEMPTS) throw concurrentChange();
    }
  }

  async function restoreContact(ctx: RequestContext, id: string): Promise<Contact> {
    if (!OBJECT_ID.test(id)) throw contactNotFound(id);
    for (let attempt = 1; ; attempt++) {
      try {
        const row = await transact(async (trx) => {
          const repo = createContactRepository(trx);
          const current = await repo.findById(ctx, id);
          if (!current) throw contactNotFound(id);
          if (current.status === 'ACTIVE') return current;
          const [holder] = await repo.findActiveHolders(ctx, [current.phone_number]);
          if (holder) throw phoneTaken(current.phone_number, holder.id);
          // Undefined when restored (or changed) by another request between the look and the write: look again.
          return repo.activate(ctx, id, ctx, now());
        });
        if (row) return toContact(row);
      } catch (error) {
        // The number was taken between the look and the write; the next look names the holder.
        if (!isUniqueViolation(error)) throw error;
      }
      if (attempt === RACE_ATTEMPTS) throw concurrentChange();
    }
  }

  return { deleteContact, restoreContact };
}

import { isUniqueViolation } from '../db/errors.js';
import type { ContactRow, NewContactRow } from '../db/schema.js';
import type { TransactionRunner } from '../db/transaction.js';
import { ConflictError, contactNotFound, ValidationError, type ErrorDetail } from '../shared/errors.js';
import { newObjectId, OBJECT_ID } from '../shared/ids.js';
import type { RequestContext } from '../shared/request-context.js';
import { retry } from '../shared/retry.js';
import { checkRequestSize, concurrentChange, phoneTaken, phoneTakenDetail, RACE_ATTEMPTS } from './contact-errors.js';
import { checkContactChanges, checkNewContact, type ContactFields, type ContactInput } from './contact-input.js';
import { toContact, type Contact } from './contact.mapper.js';
import type { ContactChangeLog } from './contact-change-log.js';
import type { ContactRepository } from './contact.repository.js';
import { nameKeys } from './name-key.js';

export interface ContactWriteDeps {
  /** Read outside any transaction: who holds a number, once a write has lost a race for it. */
  contacts: Pick<ContactRepository, 'findActiveHolders'>;
  inTransaction: TransactionRunner<{ contacts: Pick<ContactRepository, 'findActiveHolders' | 'findById' | 'insertMany' | 'update'>; changes: ContactChangeLog }>;
  maxContactsPerRequest: number;
  now?: () => number;
}

/** POST /contacts and PUT /contacts/{id}: creating and updating, callable from HTTP, the CLI or a job alike. */
export function createContactWrite(deps: ContactWriteDeps) {
  const now = deps.now ?? Date.now;

  /** Creates every contact or none; each failure names the element's index. */
  async function createContacts(ctx: RequestContext, inputs: ContactInput[]): Promise<Contact[]> {
    checkRequestSize(inputs.length, deps.maxContactsPerRequest);
    const errors: ErrorDetail[] = [];
    const valid: { index: number; fields: ContactFields }[] = [];
    const firstIndexOf = new Map<string, number>();
    inputs.forEach((input, index) => {
      const checked = checkNewContact(input);
      if (!checked.ok) {
        errors.push(...checked.errors.map((e) => ({ ...e, index })));
        return;
      }
      const first = firstIndexOf.get(checked.value.phoneNumber);
      if (first !== undefined) {
        errors.push({ msg: `phoneNumber ${checked.value.phoneNumber} repeats the contact at index ${first}`, code: 'DUPLICATE_IN_REQUEST', field: 'cellPhone.phoneNumber', index });
        return;
      }
      firstIndexOf.set(checked.value.phoneNumber, index);
      valid.push({ index, fields: checked.value });
    });

    return retry(
      () =>
        deps.inTransaction(async ({ contacts, changes }) => {
          const found = [...errors, ...(await conflictsWithStore(contacts, ctx, valid))];
          if (found.length > 0) throw failure(found);
          const t = now();
          const rows = valid.map(({ fields }) => newRow(ctx, fields, t) as ContactRow);
          await contacts.insertMany(ctx, rows);
          // History and events in the same transaction (contact-change-log.ts).
          await changes.record(ctx, ctx, rows.map((after) => ({ action: 'created', after })), t);
          return rows.map((row) => toContact(row));
        }),
      {
        attempts: RACE_ATTEMPTS,
        // Another request took one of the numbers between the check and the insert; the index saw it. Nobody holds
        // them now: the holder moved off the number meanwhile, so the attempt is made again.
        retryOn: async (error) => {
          if (!isUniqueViolation(error)) return false;
          const conflicts = await conflictsWithStore(deps.contacts, ctx, valid);
          if (conflicts.length > 0) throw failure(conflicts);
          return true;
        },
        exhausted: concurrentChange,
      },
    );
  }

  /** Replaces the fields present, keeps the rest; the number stays unique among ACTIVE contacts. */
  async function updateContact(ctx: RequestContext, id: string, input: ContactInput): Promise<Contact> {
    if (!OBJECT_ID.test(id)) throw contactNotFound(id);
    return retry(() => applyUpdate(ctx, id, input), {
      attempts: RACE_ATTEMPTS,
      // Another request took the number between the check and the write; the index saw it. Nobody holds it now:
      // its holder moved off it meanwhile, so the attempt is made again.
      retryOn: async (error) => {
        if (!(error instanceof LostPhoneRace)) return false;
        const [holder] = await deps.contacts.findActiveHolders(ctx, [error.phoneNumber]);
        if (holder) throw phoneTaken(error.phoneNumber, holder.id);
        return true;
      },
      exhausted: concurrentChange,
    });
  }

  async function applyUpdate(ctx: RequestContext, id: string, input: ContactInput): Promise<Contact> {
    return deps.inTransaction(async ({ contacts, changes: changeLog }) => {
      const current = await contacts.findById(ctx, id);
      if (!current) throw contactNotFound(id);
      const checked = checkContactChanges(input, { phoneNumber: current.phone_number, countryCode: current.country_code });
      if (!checked.ok) throw new ValidationError(checked.errors);
      const changes = checked.value;
      if (Object.keys(changes).length === 0) {
        throw new ValidationError({ msg: 'Send at least one of firstName, lastName, salutation, cellPhone', code: 'NOTHING_TO_UPDATE' });
      }
      const newNumber = changes.phoneNumber;
      if (newNumber && newNumber !== current.phone_number && current.status === 'ACTIVE') {
        const [holder] = await contacts.findActiveHolders(ctx, [newNumber]);
        if (holder && holder.id !== id) throw phoneTaken(newNumber, holder.id);
      }
      try {
        // Forward even within the creating millisecond or when the clock steps back, so updatedAt always
        // tells that the contact changed.
        const at = Math.max(now(), current.updated_at + 1);
        const row = await contacts.update(ctx, id, {
          ...(changes.firstName !== undefined && { first_name: changes.firstName }),
          ...(changes.lastName !== undefined && { last_name: changes.lastName }),
          ...(changes.salutation !== undefined && { salutation: changes.salutation }),
          ...(changes.phoneNumber !== undefined && { phone_number: changes.phoneNumber }),
          ...(changes.countryCode !== undefined && { country_code: changes.countryCode }),
          ...(changes.extension !== undefined && { extension: changes.extension }),
          ...((changes.firstName !== undefined || changes.lastName !== undefined) &&
            nameKeys(changes.firstName ?? current.first_name, changes.lastName ?? current.last_name)),
          updated_by: ctx.userId,
          updated_by_aid: ctx.appId,
          updated_at: at,
        });
        if (!row) throw contactNotFound(id);
        await changeLog.record(ctx, ctx, [{ action: 'updated', before: current, after: row }], at);
        return toContact(row);
      } catch (error) {
        throw isUniqueViolation(error) && newNumber ? new LostPhoneRace(newNumber) : error;
      }
    });
  }

  return { createContacts, updateContact };
}

export type ContactWrite = ReturnType<typeof createContactWrite>;

/** The unique index refused a new number inside a transaction; the holder is looked up once it is over. */
class LostPhoneRace extends Error {
  constructor(readonly phoneNumber: string) {
    super('phone number taken concurrently');
  }
}

async function conflictsWithStore(
  contacts: Pick<ContactRepository, 'findActiveHolders'>,
  ctx: RequestContext,
  valid: { index: number; fields: ContactFields }[],
): Promise<ErrorDetail[]> {
  const holders = await contacts.findActiveHolders(ctx, valid.map((v) => v.fields.phoneNumber));
  const holderOf = new Map(holders.map((h) => [h.phoneNumber, h.id]));
  return valid.flatMap(({ index, fields }) => {
    const holder = holderOf.get(fields.phoneNumber);
    return holder ? [{ ...phoneTakenDetail(fields.phoneNumber, holder), index }] : [];
  });
}

/** 409 when every failure is a taken number, 400 otherwise. */
function failure(errors: ErrorDetail[]): Error {
  return errors.every((e) => e.code === 'PHONE_TAKEN') ? new ConflictError(errors) : new ValidationError(errors);
}

function newRow(ctx: RequestContext, fields: ContactFields, t: number): NewContactRow {
  return {
    id: newObjectId(t),
    stream_id: ctx.streamId,
    account_id: ctx.accountId,
    org_id: ctx.orgId,
    status: 'ACTIVE',
    first_name: fields.firstName,
    last_name: fields.lastName,
    salutation: fields.salutation,
    phone_number: fields.phoneNumber,
    country_code: fields.countryCode,
    extension: fields.extension,
    created_by: ctx.userId,
    created_by_aid: ctx.appId,
    updated_by: null,
    updated_by_aid: null,
    import_id: null,
    created_at: t,
    updated_at: t,
    ...nameKeys(fields.firstName, fields.lastName),
  };
}

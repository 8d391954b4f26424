import type { Kysely } from 'kysely';
import type { RequestContext } from '../shared/request-context.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Store } from '../db/database.js';
import type { Transact } from '../db/group-commit.js';
import type { ContactRow, Database, NewContactRow } from '../db/schema.js';
import { ConflictError, contactNotFound, TooLargeError, ValidationError, type ErrorDetail } from '../shared/errors.js';
import { newObjectId, OBJECT_ID } from '../shared/ids.js';
import { createContactBulk } from './contact-bulk.service.js';
import { concurrentChange, phoneTaken, phoneTakenDetail, RACE_ATTEMPTS } from './contact-errors.js';
import { createContactExport } from './contact-export.js';
import { createContactExportRepository } from './contact-export.repository.js';
import { checkContactChanges, checkNewContact, type ContactFields, type ContactInput } from './contact-input.js';
import { createContactLifecycle } from './contact-lifecycle.service.js';
import { createContactListing } from './contact-listing.service.js';
import { toContact, type Contact } from './contact.mapper.js';
import { createContactRepository, type ContactRepository } from './contact.repository.js';
import { nameKeys } from './name-key.js';

export interface ContactServiceDeps {
  db: Kysely<Database>;
  /** Where an export reads its one consistent state from (db/read-snapshot.ts). */
  snapshot: Store['snapshot'];
  /** Rows an export reads and writes at a time. */
  exportChunkRows?: number;
  /** How a write's transaction runs (SQLite: group commit, db/group-commit.ts); a plain transaction by default. */
  transact?: Transact;
  maxContactsPerRequest: number;
  now?: () => number;
}

/**
 * Contact writes and reads, callable from HTTP, the CLI or a job alike. Creating and updating live here; finding,
 * exporting, delete/restore and the bulk routes in their own files, gathered into one service below.
 */
export function createContactService(deps: ContactServiceDeps) {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const transact: Transact = deps.transact ?? ((work) => db.transaction().execute((trx) => work(trx)));

  /** Creates every contact or none; each failure names the element's index. */
  async function createContacts(ctx: RequestContext, inputs: ContactInput[]): Promise<Contact[]> {
    if (inputs.length === 0) throw new ValidationError({ msg: 'Send at least one contact', code: 'EMPTY_REQUEST' });
    if (inputs.length > deps.maxContactsPerRequest) {
      throw new TooLargeError({ msg: `At most ${deps.maxContactsPerRequest} contacts per request (MAX_CONTACTS_PER_REQUEST)`, code: 'TOO_MANY_CONTACTS' });
    }
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

    for (let attempt = 1; ; attempt += 1) {
      try {
        return await transact(async (trx) => {
          const repo = createContactRepository(trx);
          errors.push(...(await conflictsWithStore(repo, ctx, valid)));
          if (errors.length > 0) throw failure(errors);
          const t = now();
          const rows = valid.map(({ fields }) => newRow(ctx, fields, t));
          await repo.insertMany(ctx, rows);
          return rows.map((row) => toContact(row as ContactRow));
        });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // Another request took one of the numbers between the check and the insert; the index saw it.
        const conflicts = await conflictsWithStore(createContactRepository(db), ctx, valid);
        if (conflicts.length > 0) throw failure(conflicts);
        // Nobody holds them now: the holder moved off the number meanwhile, so the attempt is made again.
        if (attempt === RACE_ATTEMPTS) throw concurrentChange();
      }
    }
  }

  /** Replaces the fields present, keeps the rest; the number stays unique among ACTIVE contacts. */
  async function updateContact(ctx: RequestContext, id: string, input: ContactInput): Promise<Contact> {
    if (!OBJECT_ID.test(id)) throw contactNotFound(id);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await applyUpdate(ctx, id, input);
      } catch (error) {
        if (!(error instanceof LostPhoneRace)) throw error;
        // Another request took the number between the check and the write; the index saw it.
        const [holder] = await createContactRepository(db).findActiveHolders(ctx, [error.phoneNumber]);
        if (holder) throw phoneTaken(error.phoneNumber, holder.id);
        // Nobody holds it now: its holder moved off it meanwhile, so the attempt is made again.
        if (attempt === RACE_ATTEMPTS) throw concurrentChange();
      }
    }
  }

  async function applyUpdate(ctx: RequestContext, id: string, input: ContactInput): Promise<Contact> {
    return transact(async (trx) => {
      const repo = createContactRepository(trx);
      const current = await repo.findById(ctx, id);
      if (!current) throw contactNotFound(id);
      const checked = checkContactChanges(input, { phoneNumber: current.phone_number, countryCode: current.country_code });
      if (!checked.ok) throw new ValidationError(checked.errors);
      const changes = checked.value;
      if (Object.keys(changes).length === 0) {
        throw new ValidationError({ msg: 'Send at least one of firstName, lastName, salutation, cellPhone', code: 'NOTHING_TO_UPDATE' });
      }
      const newNumber = changes.phoneNumber;
      if (newNumber && newNumber !== current.phone_number && current.status === 'ACTIVE') {
        const [holder] = await repo.findActiveHolders(ctx, [newNumber]);
        if (holder && holder.id !== id) throw phoneTaken(newNumber, holder.id);
      }
      try {
        const row = await repo.update(ctx, id, {
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
          // Forward even within the creating millisecond or when the clock steps back, so updatedAt always
          // tells that the contact changed.
          updated_at: Math.max(now(), current.updated_at + 1),
        });
        if (!row) throw contactNotFound(id);
        return toContact(row);
      } catch (error) {
        throw isUniqueViolation(error) && newNumber ? new LostPhoneRace(newNumber) : error;
      }
    });
  }

  return {
    createContacts,
    updateContact,
    ...createContactListing({ db }),
    ...createContactExport({ rows: createContactExportRepository({ db, snapshot: deps.snapshot }), chunkRows: deps.exportChunkRows }),
    ...createContactLifecycle({ transact, now }),
    ...createContactBulk({ transact, maxContactsPerRequest: deps.maxContactsPerRequest, now, updateContact }),
  };
}

export type ContactService = ReturnType<typeof createContactService>;

/** The unique index refused a new number inside a transaction; the holder is looked up once it is over. */
class LostPhoneRace extends Error {
  constructor(readonly phoneNumber: string) {
    super('phone number taken concurrently');
  }
}

async function conflictsWithStore(
  repo: ContactRepository,
  ctx: RequestContext,
  valid: { index: number; fields: ContactFields }[],
): Promise<ErrorDetail[]> {
  const holders = await repo.findActiveHolders(ctx, valid.map((v) => v.fields.phoneNumber));
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

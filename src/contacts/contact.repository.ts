import { sql, type Kysely, type Updateable } from 'kysely';
import type { ContactRow, ContactTable, Database, NewContactRow } from '../db/schema.js';
import type { Actor, Tenant } from '../shared/request-context.js';
import { preparedQuery, type SlotOf } from '../db/prepared.js';
import { createStreamCountsRepository } from './stream-counts.repository.js';

/** The stream a change is confined to and who makes it (written to `updatedBy` / `updatedByAId`). */
export type ContactWriter = Tenant & Pick<Actor, 'userId' | 'appId'>;

export interface PhoneHolder {
  id: string;
  phoneNumber: string;
}

// SQLite allows 32,766 bound parameters; 18 columns a row keeps a batch well under it.
const INSERT_BATCH = 500;
const LOOKUP_BATCH = 500;

// GET /contacts/{id} and every write's read of the contact it changes.
const findOne = preparedQuery((db: Kysely<Database>, slot: SlotOf<{ streamId: string; accountId: string; id: string }>) =>
  db.selectFrom('contacts').selectAll().where('stream_id', '=', slot('streamId')).where('account_id', '=', slot('accountId')).where('id', '=', slot('id')),
);

/**
 * Contacts of a stream. The writes that add contacts or change their status also adjust the stream's counts
 * (stream-counts.repository.ts), once per call: call them inside a transaction, so that both commit together.
 */
export function createContactRepository(db: Kysely<Database>) {
  const counts = createStreamCountsRepository(db);
  const inStream = (tenant: Tenant) =>
    db.selectFrom('contacts').where('stream_id', '=', tenant.streamId).where('account_id', '=', tenant.accountId);

  return {
    async insertMany(tenant: Tenant, rows: NewContactRow[]): Promise<void> {
      for (const row of rows) {
        if (row.stream_id !== tenant.streamId || row.account_id !== tenant.accountId) {
          throw new Error('contact row does not belong to the tenant it is written for');
        }
      }
      // Every writer takes the unique index's entries in one order (by number), so two requests holding some of
      // the same numbers wait for each other instead of deadlocking (PostgreSQL aborts one with 40P01).
      const ordered = [...rows].sort((a, b) => (a.phone_number < b.phone_number ? -1 : a.phone_number > b.phone_number ? 1 : 0));
      for (let i = 0; i < ordered.length; i += INSERT_BATCH) {
        await db.insertInto('contacts').values(ordered.slice(i, i + INSERT_BATCH)).execute();
      }
      const inactive = rows.filter((r) => r.status === 'INACTIVE').length;
      await counts.adjust(tenant, { active: rows.length - inactive, inactive });
    },

    async findById(tenant: Tenant, id: string): Promise<ContactRow | undefined> {
      const [row] = await findOne(db, { streamId: tenant.streamId, accountId: tenant.accountId, id });
      return row;
    },

    async findByIds(tenant: Tenant, ids: string[]): Promise<ContactRow[]> {
      const rows: ContactRow[] = [];
      for (let i = 0; i < ids.length; i += LOOKUP_BATCH) {
        rows.push(...(await inStream(tenant).selectAll().where('id', 'in', ids.slice(i, i + LOOKUP_BATCH)).execute()));
      }
      return rows;
    },

    /** The ACTIVE contacts that hold any of these numbers. */
    async findActiveHolders(tenant: Tenant, phoneNumbers: string[]): Promise<PhoneHolder[]> {
      const holders: PhoneHolder[] = [];
      for (let i = 0; i < phoneNumbers.length; i += LOOKUP_BATCH) {
        const rows = await inStream(tenant)
          .select(['id', 'phone_number'])
          .where('status', '=', 'ACTIVE')
          .where('phone_number', 'in', phoneNumbers.slice(i, i + LOOKUP_BATCH))
          .execute();
        holders.push(...rows.map((r) => ({ id: r.id, phoneNumber: r.phone_number })));
      }
      return holders;
    },

    async update(tenant: Tenant, id: string, changes: Updateable<ContactTable>): Promise<ContactRow | undefined> {
      return db
        .updateTable('contacts')
        .set(changes)
        .where('stream_id', '=', tenant.streamId)
        .where('account_id', '=', tenant.accountId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    /** Marks the ACTIVE ones among these contacts INACTIVE, which frees their numbers; returns the rows it changed. */
    async deactivate(writer: ContactWriter, ids: string[], now: number): Promise<ContactRow[]> {
      const changed: ContactRow[] = [];
      for (let i = 0; i < ids.length; i += LOOKUP_BATCH) {
        const rows = await db
          .updateTable('contacts')
          .set({ status: 'INACTIVE', updated_by: writer.userId, updated_by_aid: writer.appId, updated_at: forwardFrom(now) })
          .where('stream_id', '=', writer.streamId)
          .where('account_id', '=', writer.accountId)
          .where('id', 'in', ids.slice(i, i + LOOKUP_BATCH))
          .where('status', '=', 'ACTIVE')
          .returningAll()
          .execute();
        changed.push(...rows);
      }
      await counts.adjust(writer, { active: -changed.length, inactive: changed.length });
      return changed;
    },

    /**
     * Makes an INACTIVE contact ACTIVE again; undefined when it is not INACTIVE (or not there). The unique index
     * refuses it while another ACTIVE contact holds the number.
     */
    async activate(writer: ContactWriter, id: string, now: number): Promise<ContactRow | undefined> {
      const row = await db
        .updateTable('contacts')
        .set({ status: 'ACTIVE', updated_by: writer.userId, updated_by_aid: writer.appId, updated_at: forwardFrom(now) })
        .where('stream_id', '=', writer.streamId)
        .where('account_id', '=', writer.accountId)
        .where('id', '=', id)
        .where('status', '=', 'INACTIVE')
        .returningAll()
        .executeTakeFirst();
      if (row) await counts.adjust(writer, { active: 1, inactive: -1 });
      return row;
    },
  };
}

/** `now`, or just after the stored `updated_at` when the clock has not passed it, so updatedAt always moves forward. */
function forwardFrom(now: number) {
  return sql<number>`case when updated_at >= ${now} then updated_at + 1 else ${now} end`;
}

export type ContactRepository = ReturnType<typeof createContactRepository>;

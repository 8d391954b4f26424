import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { ContactRow, Database } from '../db/schema.js';
import type { Tenant } from './contact.repository.js';
import type { ContactFilter, ContactSort, Position, SortField } from './contact-query.js';
import { createStreamCountsRepository } from './stream-counts.repository.js';

/** A name search counts its matches up to this many; past it, `totalResults` says "at least this many". */
export const SEARCH_COUNT_CAP = 1000;

export interface PageRequest {
  filter: ContactFilter;
  sort: ContactSort;
  /** Keyset: start after this contact. */
  after?: Position;
  skip: number;
  /** Rows wanted; one more is read to tell whether there are more. */
  limit: number;
}

const SORT_COLUMN = {
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  lastName: 'last_name_key',
} as const satisfies Record<SortField, keyof ContactRow>;

type Status = ContactRow['status'];
type ContactSelect = SelectQueryBuilder<Database, 'contacts', ContactRow>;

/** The keyset position of a row in a given sort: its sort key and id. */
export function positionOf(row: ContactRow, sort: ContactSort): Position {
  return { key: row[SORT_COLUMN[sort.field]], id: row.id };
}

/**
 * Finding contacts. Each status is read along its own index, (stream_id, status, sort column, id), so that a page
 * after a keyset position reads one page of index entries however deep it is; `status=all` reads a page from each
 * status and merges them.
 */
export function createContactListingRepository(db: Kysely<Database>) {
  const matching = (tenant: Tenant, filter: ContactFilter, status: Status | undefined) => {
    let q = db.selectFrom('contacts').where('stream_id', '=', tenant.streamId).where('account_id', '=', tenant.accountId);
    if (status) q = q.where('status', '=', status);
    if (filter.phoneNumber !== undefined) q = q.where('phone_number', '=', filter.phoneNumber);
    const name = filter.name;
    if (name) {
      q = q.where((eb) => {
        const within = (column: 'full_name_key' | 'last_name_key') =>
          name.to === undefined ? eb(column, '>=', name.from) : eb.and([eb(column, '>=', name.from), eb(column, '<', name.to)]);
        return eb.or([within('full_name_key'), within('last_name_key')]);
      });
    }
    return q;
  };

  const statusesOf = (filter: ContactFilter): Status[] => (filter.status === 'all' ? ['ACTIVE', 'INACTIVE'] : [filter.status]);

  const ordered = (q: ContactSelect, sort: ContactSort, after: Position | undefined): ContactSelect => {
    const column = SORT_COLUMN[sort.field];
    const direction = sort.descending ? 'desc' : 'asc';
    let page = q;
    if (after) {
      // A row value comparison, (key, id) past the position: both stores take it as a range on the index. The key is
      // a number or a string as the column is, which the tuple's static type cannot follow, hence the cast.
      page = page.where((eb) => eb(eb.refTuple(column, 'id'), sort.descending ? '<' : '>', eb.tuple(after.key as never, after.id)));
    }
    return page.orderBy(column, direction).orderBy('id', direction);
  };

  return {
    /** Up to `limit + 1` contacts in sort order. */
    async page(tenant: Tenant, request: PageRequest): Promise<ContactRow[]> {
      const { filter, sort, after, skip, limit } = request;
      const statuses = statusesOf(filter);
      if (statuses.length === 1) {
        return ordered(matching(tenant, filter, statuses[0]).selectAll(), sort, after).limit(limit + 1).offset(skip).execute();
      }
      // Each status's page comes off its own index in order; the union of the two is at most 2 × (skip + limit + 1)
      // rows, sorted once more.
      const perStatus = skip + limit + 1;
      const [first, ...rest] = statuses.map((status, i) =>
        db.selectFrom(ordered(matching(tenant, filter, status).selectAll(), sort, after).limit(perStatus).as(`s${i}`)).selectAll(),
      );
      let union = first!;
      for (const other of rest) union = union.unionAll(other);
      const column = SORT_COLUMN[sort.field];
      const direction = sort.descending ? 'desc' : 'asc';
      return union.orderBy(column, direction).orderBy('id', direction).limit(limit + 1).offset(skip).execute();
    },

    /**
     * How many contacts match, without a cost that grows with the stream: the stream's maintained counts when only a
     * status filters; an exact count along the phone indexes when a number does (a number's contacts are few); and,
     * for a name prefix, the matches counted up to `SEARCH_COUNT_CAP`, with `exact: false` past it.
     */
    async count(tenant: Tenant, filter: ContactFilter): Promise<{ total: number; exact: boolean }> {
      if (filter.phoneNumber === undefined && filter.name === undefined) {
        const counts = await createStreamCountsRepository(db).read(tenant);
        const total = filter.status === 'ACTIVE' ? counts.active : filter.status === 'INACTIVE' ? counts.inactive : counts.active + counts.inactive;
        return { total, exact: true };
      }
      if (filter.phoneNumber !== undefined) {
        const status = filter.status === 'all' ? undefined : filter.status;
        const row = await matching(tenant, filter, status)
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirstOrThrow();
        return { total: Number(row.n), exact: true };
      }
      let total = 0;
      for (const status of statusesOf(filter)) {
        const capped = db.selectFrom(matching(tenant, filter, status).select('id').limit(SEARCH_COUNT_CAP + 1 - total).as('m'));
        const row = await capped.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
        total += Number(row.n);
        if (total > SEARCH_COUNT_CAP) return { total: SEARCH_COUNT_CAP, exact: false };
      }
      return { total, exact: true };
    },
  };
}

export type ContactListingRepository = ReturnType<typeof createContactListingRepository>;

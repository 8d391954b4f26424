import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { ContactRow, Database } from '../db/schema.js';
import type { Tenant } from '../shared/request-context.js';
import type { ContactFilter, ContactSort, Position, SortField } from './contact-search.js';
import type { KeyRange } from './name-key.js';
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
  /** For a name search: whether its matches, counted already (`count`), are within the cap; counted here if absent. */
  fewNameMatches?: boolean;
}

/** The column each sort orders by (its index follows stream_id and status). */
export const SORT_COLUMN = {
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
 * Searching contacts. Each status is read along its own index, (stream_id, status, sort column, id), so that a page
 * after a keyset position reads one page of index entries however deep it is; `status=all` reads a page from each
 * status and merges them.
 */
export function createContactSearchRepository(db: Kysely<Database>) {
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

  /**
   * The ids of the contacts a name prefix matches, read along the two name indexes — each key's matches in that
   * key's order, which keeps both stores on the index rather than on a walk of the stream — at most `cap` from each
   * status and key. Their union drops the contacts both keys match.
   */
  const nameMatches = (tenant: Tenant, name: KeyRange, statuses: Status[], cap: number) => {
    const along = (status: Status, column: 'full_name_key' | 'last_name_key', alias: string) =>
      db
        .selectFrom(
          matching(tenant, { status: 'all' }, status)
            .select('id')
            .where(column, '>=', name.from)
            .$if(name.to !== undefined, (q) => q.where(column, '<', name.to!))
            .orderBy(column)
            .orderBy('id')
            .limit(cap)
            .as(alias),
        )
        .select('id');
    const [first, ...rest] = statuses.flatMap((status, i) => [along(status, 'full_name_key', `f${i}`), along(status, 'last_name_key', `l${i}`)]);
    let union = first!;
    for (const other of rest) union = union.union(other);
    return union;
  };

  /** How many contacts a name prefix matches, counted up to `SEARCH_COUNT_CAP`. */
  const countNameMatches = async (tenant: Tenant, name: KeyRange, statuses: Status[]) => {
    const row = await db
      .selectFrom(nameMatches(tenant, name, statuses, SEARCH_COUNT_CAP + 1).as('m'))
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    const n = Number(row.n);
    // Fewer than CAP + 1 in the union means no branch was cut short: the count is exact.
    return n > SEARCH_COUNT_CAP ? { total: SEARCH_COUNT_CAP, exact: false } : { total: n, exact: true };
  };

  return {
    /**
     * Up to `limit + 1` contacts in sort order. A phone lookup, and a name search with at most `SEARCH_COUNT_CAP`
     * matches, read their few matches by their own indexes and sort them; any other page walks the sort's index and
     * stops after one page (a name matching more contacts than the cap matches densely enough to fill it soon).
     */
    async page(tenant: Tenant, request: PageRequest): Promise<ContactRow[]> {
      const { filter, sort, after, skip, limit } = request;
      const statuses = statusesOf(filter);
      const few = filter.phoneNumber !== undefined
        ? matching(tenant, filter, statuses.length === 1 ? statuses[0] : undefined).select('id')
        : filter.name !== undefined && (request.fewNameMatches ?? (await countNameMatches(tenant, filter.name, statuses)).exact)
          ? nameMatches(tenant, filter.name, statuses, SEARCH_COUNT_CAP + 1)
          : undefined;
      if (few) {
        // Only the ids decide: a status or a name here would let the planner prefer walking a sort index instead.
        const q = db.selectFrom('contacts').selectAll().where('stream_id', '=', tenant.streamId).where('account_id', '=', tenant.accountId).where('id', 'in', few);
        return ordered(q, sort, after).limit(limit + 1).offset(skip).execute();
      }
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
      if (filter.phoneNumber !== undefined) {
        const status = filter.status === 'all' ? undefined : filter.status;
        const row = await matching(tenant, filter, status)
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirstOrThrow();
        return { total: Number(row.n), exact: true };
      }
      if (filter.name !== undefined) return countNameMatches(tenant, filter.name, statusesOf(filter));
      const counts = await createStreamCountsRepository(db).read(tenant);
      const total = filter.status === 'ACTIVE' ? counts.active : filter.status === 'INACTIVE' ? counts.inactive : counts.active + counts.inactive;
      return { total, exact: true };
    },
  };
}

export type ContactSearchRepository = ReturnType<typeof createContactSearchRepository>;

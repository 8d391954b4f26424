import type { Kysely, SelectQueryBuilder } from 'kysely';
import { preparedQuery, type SlotOf } from '../db/prepared.js';
import type { ContactRow, Database } from '../db/schema.js';
import type { Tenant } from '../shared/request-context.js';
import type { ContactFilter, ContactSort, Position, SortField } from './contact-search.js';
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

/** The values a page's query takes; its shape (which of them it takes, the sort) is fixed by `PageShape`. */
interface PageValues {
  streamId: string;
  accountId: string;
  phone: string;
  nameFrom: string;
  nameTo: string;
  afterKey: number | string;
  afterId: string;
  /** Rows read: the page and one more. */
  limitPlusOne: number;
  skip: number;
  /** For `status=all`: rows read from each status, skip + limit + 1. */
  perStatus: number;
}

/** What decides a page's SQL text: one prepared statement each. */
interface PageShape {
  /** phone: the few contacts of a number; names: a name prefix's counted matches; walk: along the sort's index. */
  read: 'phone' | 'names' | 'walk';
  statuses: Status[];
  /** The status a phone lookup filters by; absent for `status=all`. */
  phoneStatus?: Status;
  name: 'none' | 'from' | 'range';
  field: SortField;
  descending: boolean;
  after: boolean;
}

type Prepared<Args extends object, Row> = (db: Kysely<Database>, args: Args) => Promise<Row[]>;

/**
 * Searching contacts. Each status is read along its own index, (stream_id, status, sort column, id), so that a page
 * after a keyset position reads one page of index entries however deep it is; `status=all` reads a page from each
 * status and merges them. Each query is built once per shape and kept prepared (db/prepared.ts): these run on
 * every list request.
 */
export function createContactSearchRepository(db: Kysely<Database>) {
  type Values = Partial<PageValues>;
  const matching = (v: Values, name: PageShape['name'], status: Status | undefined) => {
    let q = db.selectFrom('contacts').where('stream_id', '=', v.streamId!).where('account_id', '=', v.accountId!);
    if (status) q = q.where('status', '=', status);
    if (v.phone !== undefined) q = q.where('phone_number', '=', v.phone);
    if (name !== 'none') {
      q = q.where((eb) => {
        const within = (column: 'full_name_key' | 'last_name_key') =>
          name === 'from' ? eb(column, '>=', v.nameFrom!) : eb.and([eb(column, '>=', v.nameFrom!), eb(column, '<', v.nameTo!)]);
        return eb.or([within('full_name_key'), within('last_name_key')]);
      });
    }
    return q;
  };

  const statusesOf = (filter: ContactFilter): Status[] => (filter.status === 'all' ? ['ACTIVE', 'INACTIVE'] : [filter.status]);

  const ordered = (q: ContactSelect, shape: Pick<PageShape, 'field' | 'descending' | 'after'>, v: Values): ContactSelect => {
    const column = SORT_COLUMN[shape.field];
    const direction = shape.descending ? 'desc' : 'asc';
    let page = q;
    if (shape.after) {
      // A row value comparison, (key, id) past the position: both stores take it as a range on the index. The key is
      // a number or a string as the column is, which the tuple's static type cannot follow, hence the cast.
      page = page.where((eb) => eb(eb.refTuple(column, 'id'), shape.descending ? '<' : '>', eb.tuple(v.afterKey as never, v.afterId!)));
    }
    return page.orderBy(column, direction).orderBy('id', direction);
  };

  /**
   * The ids of the contacts a name prefix matches, read along the two name indexes — each key's matches in that
   * key's order, which keeps both stores on the index rather than on a walk of the stream — at most `cap` from each
   * status and key. Their union drops the contacts both keys match.
   */
  /**
   * One name key's matches in one status, at most `cap`, read from that key's index alone. The account is left out
   * here on purpose: it is not in the index, and checking it would fetch every entry's row (436 against 126 µs for
   * 1,001 entries at a million contacts). A stream belongs to one account, so the stream decides which contacts
   * these are; the rows a page returns are read by id with the account checked (`buildPage`).
   */
  const alongName = (v: Values, name: PageShape['name'], status: Status, column: 'full_name_key' | 'last_name_key', cap: number) =>
    db
      .selectFrom('contacts')
      .select('id')
      .where('stream_id', '=', v.streamId!)
      .where('status', '=', status)
      .where(column, '>=', v.nameFrom!)
      .$if(name === 'range', (q) => q.where(column, '<', v.nameTo!))
      .orderBy(column)
      .orderBy('id')
      .limit(cap);

  const NAME_KEYS = ['full_name_key', 'last_name_key'] as const;

  const nameMatches = (v: Values, name: PageShape['name'], statuses: Status[], cap: number) => {
    const along = (status: Status, column: 'full_name_key' | 'last_name_key', alias: string) =>
      db.selectFrom(alongName(v, name, status, column, cap).as(alias)).select('id');
    const [first, ...rest] = statuses.flatMap((status, i) => [along(status, 'full_name_key', `f${i}`), along(status, 'last_name_key', `l${i}`)]);
    let union = first!;
    for (const other of rest) union = union.union(other);
    return union;
  };

  const buildPage = (shape: PageShape, v: Values) => {
    const { statuses } = shape;
    if (shape.read === 'phone') {
      // Equality on the number picks its index on both stores (the ACTIVE one is unique); its few rows are sorted.
      return ordered(matching(v, 'none', shape.phoneStatus).selectAll(), shape, v).limit(v.limitPlusOne!).offset(v.skip!);
    }
    const few = shape.read === 'names' ? nameMatches(v, shape.name, statuses, SEARCH_COUNT_CAP + 1) : undefined;
    if (few) {
      // Only the ids decide: a status or a name here would let the planner prefer walking a sort index instead.
      const q = db.selectFrom('contacts').selectAll().where('stream_id', '=', v.streamId!).where('account_id', '=', v.accountId!).where('id', 'in', few);
      return ordered(q, shape, v).limit(v.limitPlusOne!).offset(v.skip!);
    }
    if (statuses.length === 1) {
      return ordered(matching(v, shape.name, statuses[0]).selectAll(), shape, v).limit(v.limitPlusOne!).offset(v.skip!);
    }
    // Each status's page comes off its own index in order; the union of the two is at most 2 × (skip + limit + 1)
    // rows, sorted once more.
    const [first, ...rest] = statuses.map((status, i) =>
      db.selectFrom(ordered(matching(v, shape.name, status).selectAll(), shape, v).limit(v.perStatus!).as(`s${i}`)).selectAll(),
    );
    let union = first!;
    for (const other of rest) union = union.unionAll(other);
    const column = SORT_COLUMN[shape.field];
    const direction = shape.descending ? 'desc' : 'asc';
    return union.orderBy(column, direction).orderBy('id', direction).limit(v.limitPlusOne!).offset(v.skip!);
  };

  /** Every value a query may take, as a slot: a shape's query takes those of them it uses. */
  const slotsOf = (slot: SlotOf<PageValues>): PageValues => ({
    streamId: slot('streamId'), accountId: slot('accountId'), phone: slot('phone'), nameFrom: slot('nameFrom'), nameTo: slot('nameTo'),
    afterKey: slot('afterKey'), afterId: slot('afterId'), limitPlusOne: slot('limitPlusOne'), skip: slot('skip'), perStatus: slot('perStatus'),
  });

  // A shape's values left out of `slotsOf` when absent: a phone lookup's query has no name, a first page no cursor.
  const withShape = (v: PageValues, shape: Omit<PageShape, 'field' | 'descending' | 'after'> & { phone: boolean }): Values => ({
    streamId: v.streamId, accountId: v.accountId, limitPlusOne: v.limitPlusOne, skip: v.skip, perStatus: v.perStatus,
    afterKey: v.afterKey, afterId: v.afterId,
    ...(shape.phone && { phone: v.phone }),
    ...(shape.name !== 'none' && { nameFrom: v.nameFrom }),
    ...(shape.name === 'range' && { nameTo: v.nameTo }),
  });

  const pages = new Map<string, Prepared<PageValues, ContactRow>>();
  const runPage = (shape: PageShape, values: PageValues): Promise<ContactRow[]> => {
    const key = JSON.stringify(shape);
    let run = pages.get(key);
    if (!run) {
      run = preparedQuery((_db: Kysely<Database>, slot: SlotOf<PageValues>) =>
        buildPage(shape, withShape(slotsOf(slot), { ...shape, phone: shape.read === 'phone' })),
      );
      pages.set(key, run);
    }
    return run(db, values);
  };

  const nameCounts = new Map<string, { branches: Prepared<PageValues, Record<string, number | string | null>>; union: Prepared<PageValues, { n: number | string }> }>();
  /**
   * How many contacts a name prefix matches, counted up to `SEARCH_COUNT_CAP`. Each key's matches are counted first,
   * in one statement, from its index alone; a key past the cap already puts the union past it, and only when none is
   * are the two keys' ids read and their union counted.
   */
  const countNameMatches = async (values: PageValues, name: PageShape['name'], statuses: Status[]) => {
    const key = `${name}:${statuses.join(',')}`;
    let counts = nameCounts.get(key);
    if (!counts) {
      const slotted = (slot: SlotOf<PageValues>) => withShape(slotsOf(slot), { read: 'names', statuses, name, phone: false });
      counts = {
        branches: preparedQuery((_db: Kysely<Database>, slot: SlotOf<PageValues>) =>
          db.selectNoFrom((eb) =>
            statuses.flatMap((status, i) =>
              NAME_KEYS.map((column) =>
                eb.selectFrom(alongName(slotted(slot), name, status, column, SEARCH_COUNT_CAP + 1).as('b')).select((b) => b.fn.countAll<number | string>().as('n')).as(`${column}_${i}`),
              ),
            ),
          ),
        ),
        union: preparedQuery((_db: Kysely<Database>, slot: SlotOf<PageValues>) =>
          db
            .selectFrom(nameMatches(slotted(slot), name, statuses, SEARCH_COUNT_CAP + 1).as('m'))
            .select((eb) => eb.fn.countAll<number | string>().as('n')),
        ),
      };
      nameCounts.set(key, counts);
    }
    const [branches] = await counts.branches(db, values);
    const inexact = { total: SEARCH_COUNT_CAP, exact: false };
    if (Object.values(branches!).some((n) => Number(n) > SEARCH_COUNT_CAP)) return inexact;
    const [row] = await counts.union(db, values);
    const n = Number(row!.n);
    // Fewer than CAP + 1 in the union means no branch was cut short: the count is exact.
    return n > SEARCH_COUNT_CAP ? inexact : { total: n, exact: true };
  };

  const phoneCounts = new Map<string, Prepared<PageValues, { n: number | string }>>();
  const countPhone = async (values: PageValues, status: Status | undefined) => {
    const key = status ?? 'all';
    let run = phoneCounts.get(key);
    if (!run) {
      run = preparedQuery((_db: Kysely<Database>, slot: SlotOf<PageValues>) =>
        matching(withShape(slotsOf(slot), { read: 'phone', statuses: [], name: 'none', phone: true }), 'none', status)
          .select((eb) => eb.fn.countAll<number | string>().as('n')),
      );
      phoneCounts.set(key, run);
    }
    const [row] = await run(db, values);
    return Number(row!.n);
  };

  const valuesOf = (tenant: Tenant, filter: ContactFilter, request?: Pick<PageRequest, 'after' | 'skip' | 'limit'>): PageValues => ({
    streamId: tenant.streamId,
    accountId: tenant.accountId,
    phone: filter.phoneNumber ?? '',
    nameFrom: filter.name?.from ?? '',
    nameTo: filter.name?.to ?? '',
    afterKey: request?.after?.key ?? '',
    afterId: request?.after?.id ?? '',
    limitPlusOne: (request?.limit ?? 0) + 1,
    skip: request?.skip ?? 0,
    perStatus: (request?.skip ?? 0) + (request?.limit ?? 0) + 1,
  });

  const nameShape = (filter: ContactFilter): PageShape['name'] => (filter.name === undefined ? 'none' : filter.name.to === undefined ? 'from' : 'range');

  return {
    /**
     * Up to `limit + 1` contacts in sort order. A phone lookup, and a name search with at most `SEARCH_COUNT_CAP`
     * matches, read their few matches by their own indexes and sort them; any other page walks the sort's index and
     * stops after one page (a name matching more contacts than the cap matches densely enough to fill it soon).
     */
    async page(tenant: Tenant, request: PageRequest): Promise<ContactRow[]> {
      const { filter, sort, after } = request;
      const statuses = statusesOf(filter);
      const values = valuesOf(tenant, filter, request);
      const name = nameShape(filter);
      const read: PageShape['read'] = filter.phoneNumber !== undefined
        ? 'phone'
        : filter.name !== undefined && (request.fewNameMatches ?? (await countNameMatches(values, name, statuses)).exact)
          ? 'names'
          : 'walk';
      const shape: PageShape = {
        read,
        statuses,
        ...(read === 'phone' && statuses.length === 1 && { phoneStatus: statuses[0] }),
        // A phone lookup filters by its number alone; a name search's few matches are read by id.
        name: read === 'walk' ? name : read === 'names' ? name : 'none',
        field: sort.field,
        descending: sort.descending,
        after: after !== undefined,
      };
      return runPage(shape, values);
    },

    /**
     * How many contacts match, without a cost that grows with the stream: the stream's maintained counts when only a
     * status filters; an exact count along the phone indexes when a number does (a number's contacts are few); and,
     * for a name prefix, the matches counted up to `SEARCH_COUNT_CAP`, with `exact: false` past it.
     */
    async count(tenant: Tenant, filter: ContactFilter): Promise<{ total: number; exact: boolean }> {
      if (filter.phoneNumber !== undefined) {
        const total = await countPhone(valuesOf(tenant, filter), filter.status === 'all' ? undefined : filter.status);
        return { total, exact: true };
      }
      if (filter.name !== undefined) return countNameMatches(valuesOf(tenant, filter), nameShape(filter), statusesOf(filter));
      const counts = await createStreamCountsRepository(db).read(tenant);
      const total = filter.status === 'ACTIVE' ? counts.active : filter.status === 'INACTIVE' ? counts.inactive : counts.active + counts.inactive;
      return { total, exact: true };
    },
  };
}

export type ContactSearchRepository = ReturnType<typeof createContactSearchRepository>;

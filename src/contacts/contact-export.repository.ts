import type { Store } from '../db/database.js';
import type { ReadSnapshot } from '../db/read-snapshot.js';
import type { ContactRow } from '../db/schema.js';
import type { Tenant } from '../shared/request-context.js';
import { SORT_COLUMN } from './contact-search.repository.js';
import type { ContactFilter, ContactSort, Position, SortField } from './contact-search.js';

/**
 * An export's row: first name, last name, salutation, phone number, country code, extension, id, status, created
 * at, updated at (milliseconds) — then, for `sort=lastName`, the folded name key, which the export does not write.
 */
export type ExportRow = unknown[];

/** Where each value sits in an `ExportRow`. */
export const EXPORT_ROW = {
  firstName: 0, lastName: 1, salutation: 2, phoneNumber: 3, countryCode: 4, extension: 5, id: 6, status: 7, createdAt: 8, updatedAt: 9,
} as const;
/** Where a row's sort key sits: a time sort's column is among the row's own. */
const KEY_AT = { createdAt: EXPORT_ROW.createdAt, updatedAt: EXPORT_ROW.updatedAt, lastName: 10 } as const satisfies Record<SortField, number>;

const COLUMNS = [
  'first_name', 'last_name', 'salutation', 'phone_number', 'country_code', 'extension', 'id', 'status', 'created_at', 'updated_at',
] as const satisfies readonly (keyof ContactRow)[];

type Status = ContactRow['status'];

/** The rows of an export in order, a chunk at a time; `close` ends the read early. */
export interface ExportCursor {
  /** The next rows in order (at most the chunk size), or none once every row has been read. */
  next(): Promise<ExportRow[]>;
  close(): Promise<void>;
}

/**
 * The rows an export writes, read from one snapshot of the store (db/read-snapshot.ts) in keyset chunks: each
 * status along its own (stream_id, status, sort column, id) index, the chunk after the last row read, so a chunk
 * costs the same at the end of a million contacts as at the start. `status=all` merges the two statuses' runs in
 * the sort's order. The queries are built with Kysely and run as plain arrays of values on the snapshot.
 */
export function createContactExportRepository(store: Pick<Store, 'db' | 'snapshot'>) {
  const { db } = store;

  const chunkQuery = (tenant: Tenant, filter: ContactFilter, sort: ContactSort, status: Status, after: Position | undefined, limit: number) => {
    const column = SORT_COLUMN[sort.field];
    const direction = sort.descending ? 'desc' : 'asc';
    let q = db
      .selectFrom('contacts')
      .select(COLUMNS)
      .$if(sort.field === 'lastName', (qb) => qb.select((eb) => eb.ref('last_name_key').as('sort_key')))
      .where('stream_id', '=', tenant.streamId)
      .where('account_id', '=', tenant.accountId)
      .where('status', '=', status);
    if (filter.phoneNumber !== undefined) q = q.where('phone_number', '=', filter.phoneNumber);
    const name = filter.name;
    if (name) {
      q = q.where((eb) => {
        const within = (c: 'full_name_key' | 'last_name_key') =>
          name.to === undefined ? eb(c, '>=', name.from) : eb.and([eb(c, '>=', name.from), eb(c, '<', name.to)]);
        return eb.or([within('full_name_key'), within('last_name_key')]);
      });
    }
    if (after) {
      // As the list's keyset (contact-search.repository.ts): a row value comparison, a range on the index.
      q = q.where((eb) => eb(eb.refTuple(column, 'id'), sort.descending ? '<' : '>', eb.tuple(after.key as never, after.id)));
    }
    return q.orderBy(column, direction).orderBy('id', direction).limit(limit).compile();
  };

  /** One status's rows in order, a chunk a read. */
  const run = (snapshot: ReadSnapshot, tenant: Tenant, filter: ContactFilter, sort: ContactSort, status: Status, chunkRows: number) => {
    let after: Position | undefined;
    let done = false;
    return async (): Promise<ExportRow[]> => {
      if (done) return [];
      const rows = await snapshot.rows(chunkQuery(tenant, filter, sort, status, after, chunkRows));
      if (rows.length < chunkRows) done = true;
      const last = rows[rows.length - 1];
      if (last) after = { key: last[KEY_AT[sort.field]] as number | string, id: last[EXPORT_ROW.id] as string };
      return rows;
    };
  };

  return {
    /** Opens the snapshot the export reads; nothing is read until the first `next`. */
    async open(tenant: Tenant, filter: ContactFilter, sort: ContactSort, chunkRows: number): Promise<ExportCursor> {
      const snapshot = await store.snapshot();
      const statuses: Status[] = filter.status === 'all' ? ['ACTIVE', 'INACTIVE'] : [filter.status];
      const runs = statuses.map((status) => run(snapshot, tenant, filter, sort, status, chunkRows));
      const next = runs.length === 1 ? runs[0]! : merge(runs, KEY_AT[sort.field], sort.descending, chunkRows);
      let closed = false;
      const cursor: ExportCursor = {
        async next() {
          if (closed) return [];
          try {
            const rows = await next();
            if (rows.length === 0) await cursor.close();
            return rows;
          } catch (error) {
            await cursor.close();
            throw error;
          }
        },
        async close() {
          if (closed) return;
          closed = true;
          await snapshot.close();
        },
      };
      return cursor;
    },
  };
}

export type ContactExportRepository = ReturnType<typeof createContactExportRepository>;

/** Two runs in the sort's order, merged into chunks of `chunkRows`. */
function merge(runs: (() => Promise<ExportRow[]>)[], keyAt: number, descending: boolean, chunkRows: number): () => Promise<ExportRow[]> {
  const heads = runs.map((read) => ({ read, rows: [] as ExportRow[], i: 0, done: false }));
  const fill = async (h: (typeof heads)[number]) => {
    h.rows = await h.read();
    h.i = 0;
    if (h.rows.length === 0) h.done = true;
  };
  return async () => {
    const out: ExportRow[] = [];
    while (out.length < chunkRows) {
      for (const h of heads) if (h.i >= h.rows.length && !h.done) await fill(h);
      let best: (typeof heads)[number] | undefined;
      for (const h of heads) {
        if (h.i >= h.rows.length) continue;
        if (!best || (compareRows(h.rows[h.i]!, best.rows[best.i]!, keyAt) < 0) !== descending) best = h;
      }
      if (!best) break;
      out.push(best.rows[best.i++]!);
    }
    return out;
  };
}

/** By sort key, then id: the order both stores give (keys by code point, as BINARY and COLLATE "C" compare them). */
function compareRows(a: ExportRow, b: ExportRow, keyAt: number): number {
  return compareValues(a[keyAt], b[keyAt]) || compareValues(a[EXPORT_ROW.id], b[EXPORT_ROW.id]);
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return compareCodePoints(String(a), String(b));
}

function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

import type { Kysely } from 'kysely';
import type { RequestContext } from '../auth/authenticator.js';
import type { Database } from '../db/schema.js';
import { CSV_COLUMNS } from '../imports/csv-header.js';
import { parseFinding, type FindingQuery } from './contact-query.js';
import { createContactListingRepository, positionOf } from './contact-listing.repository.js';
import { toContact, type Contact } from './contact.mapper.js';
import { neutraliseCell } from './spreadsheet-cell.js';

/** The import's six columns, so the file imports back, then what only the export knows. */
export const EXPORT_COLUMNS = [...CSV_COLUMNS, 'id', 'status', 'createdAt', 'updatedAt'] as const;

const EXPORT_PAGE = 1000;

/**
 * GET /contacts/export: CSV of the contacts a list with the same filters would return, in the same order. It is
 * read a page at a time along the list's keyset, so memory holds one page however many contacts there are. Pages
 * are separate reads, not one snapshot: a contact changed while the file is written shows as it was when its page
 * was read (sorted by `createdAt`, the default, every contact appears exactly once).
 */
export function createContactExport(deps: { db: Kysely<Database>; pageSize?: number }) {
  const pageSize = deps.pageSize ?? EXPORT_PAGE;

  /**
   * Checks the filters and reads the first page before answering, so that a bad parameter or an unreachable store
   * is still an error answer rather than a broken download.
   */
  async function exportContacts(ctx: RequestContext, query: FindingQuery): Promise<AsyncIterable<string>> {
    const { filter, sort } = parseFinding(query);
    const repo = createContactListingRepository(deps.db);
    let rows = await repo.page(ctx, { filter, sort, skip: 0, limit: pageSize });
    return (async function* () {
      yield csvLine(EXPORT_COLUMNS);
      for (;;) {
        const page = rows.slice(0, pageSize);
        if (page.length > 0) yield page.map((row) => csvLine(exportRecord(toContact(row)))).join('');
        if (rows.length <= pageSize) return;
        rows = await repo.page(ctx, { filter, sort, after: positionOf(page[page.length - 1]!, sort), skip: 0, limit: pageSize });
      }
    })();
  }

  return { exportContacts };
}

function exportRecord(c: Contact): string[] {
  return [
    c.firstName, c.lastName, c.salutation, c.cellPhone.phoneNumber, c.cellPhone.countryCode, c.cellPhone.extension,
    c.id, c.status, c.createdAt, c.updatedAt,
  ];
}

/** One RFC 4180 record: CRLF-terminated, a field quoted when it holds a comma, a quote or a line break. */
export function csvLine(values: readonly string[]): string {
  return values.map((value) => quoteField(neutraliseCell(value))).join(',') + '\r\n';
}

function quoteField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

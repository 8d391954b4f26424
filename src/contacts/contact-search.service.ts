import type { ContactRow } from '../db/schema.js';
import type { RequestContext } from '../shared/request-context.js';
import { contactNotFound, ValidationError } from '../shared/errors.js';
import { OBJECT_ID } from '../shared/ids.js';
import { decodeCursor, DEFAULT_LIMIT, encodeCursor, MAX_SKIP, parseSearch, type SearchPageQuery } from './contact-search.js';
import { positionOf, type ContactSearchRepository } from './contact-search.repository.js';
import { toContact, type Contact } from './contact.mapper.js';
import type { ContactRepository } from './contact.repository.js';

/**
 * A page of GET /contacts: the vendor's envelope, plus `nextCursor` while there are more. A page asked for by
 * cursor leaves out `skip`, `totalPages` and `totalResults`: counting every match is the one cost that grows with
 * the stream, and a walk by cursor has the totals from its first page.
 */
export interface ContactPage {
  results: Contact[];
  skip?: number;
  limit: number;
  hasMore: boolean;
  totalPages?: number;
  totalResults?: number;
  /** Present (false) only when `totalResults` is a lower bound: a name search with more matches than it counts. */
  totalResultsExact?: false;
  nextCursor?: string;
}

export interface ContactSearchDeps {
  contacts: Pick<ContactRepository, 'findById'>;
  search: Pick<ContactSearchRepository, 'count' | 'page'>;
}

/** GET /contacts (a page of a search) and GET /contacts/{id}. */
export function createContactSearch(deps: ContactSearchDeps) {

  async function searchContacts(ctx: RequestContext, query: SearchPageQuery): Promise<ContactPage> {
    const search = parseSearch(query);
    const { filter, sort } = search;
    const limit = query.limit ?? DEFAULT_LIMIT;
    const repo = deps.search;
    if (query.after !== undefined) {
      if (query.skip) {
        throw new ValidationError({ msg: 'skip cannot be combined with after: a cursor already says where the page starts', code: 'SKIP_WITH_CURSOR', field: 'skip' });
      }
      const after = decodeCursor(query.after, search);
      return pageOf(await repo.page(ctx, { filter, sort, after, skip: 0, limit }));
    }
    const skip = query.skip ?? 0;
    if (skip > MAX_SKIP) {
      throw new ValidationError({ msg: `skip goes at most ${MAX_SKIP} contacts deep; follow nextCursor (after) for deeper pages`, code: 'SKIP_TOO_DEEP', field: 'skip' });
    }
    // A name search's count also decides how its page is read, so it comes first. A phone lookup's page nearly always
    // holds every match, which then is the count; other counts run beside the page.
    const [rows, count] = filter.phoneNumber !== undefined
      ? await repo.page(ctx, { filter, sort, skip, limit }).then(async (r) => [r, countedBy(r) ?? (await repo.count(ctx, filter))] as const)
      : filter.name !== undefined
        ? await repo.count(ctx, filter).then(async (c) => [await repo.page(ctx, { filter, sort, skip, limit, fewNameMatches: c.exact }), c] as const)
        : await Promise.all([repo.page(ctx, { filter, sort, skip, limit }), repo.count(ctx, filter)]);
    const { results, hasMore, nextCursor } = pageOf(rows);
    // A lower bound never undercuts what this page itself shows.
    const total = count.exact ? count.total : Math.max(count.total, skip + results.length + (hasMore ? 1 : 0));
    return {
      results, skip, limit, hasMore, totalPages: Math.ceil(total / limit), totalResults: total,
      ...(!count.exact && { totalResultsExact: false as const }),
      ...(nextCursor && { nextCursor }),
    };

    /** The total a page shows by itself: one that ends the matches (short of the row past it) and holds any of them. */
    function countedBy(rows: ContactRow[]): { total: number; exact: true } | undefined {
      return rows.length <= limit && (rows.length > 0 || skip === 0) ? { total: skip + rows.length, exact: true } : undefined;
    }

    /** The repository reads one row past the page: that row says whether more follow. */
    function pageOf(rows: ContactRow[]): ContactPage {
      const page = rows.slice(0, limit);
      const hasMore = rows.length > limit;
      return {
        results: page.map(toContact),
        limit,
        hasMore,
        ...(hasMore && { nextCursor: encodeCursor(search, positionOf(page[page.length - 1]!, sort)) }),
      };
    }
  }

  /** One contact of the stream, ACTIVE or INACTIVE. */
  async function getContact(ctx: RequestContext, id: string): Promise<Contact> {
    if (!OBJECT_ID.test(id)) throw contactNotFound(id);
    const row = await deps.contacts.findById(ctx, id);
    if (!row) throw contactNotFound(id);
    return toContact(row);
  }

  return { searchContacts, getContact };
}

export type ContactSearch = ReturnType<typeof createContactSearch>;

import { createHash } from 'node:crypto';
import { ValidationError, type ErrorDetail } from '../shared/errors.js';
import { OBJECT_ID } from '../shared/ids.js';
import { foldName, prefixRange, type KeyRange } from './name-key.js';
import type { SearchQuery, SORT_PARAMS, STATUS_FILTERS } from './contact.schemas.js';
import { normaliseLookupNumber } from './phone.js';

export type { SearchPageQuery, SearchQuery } from './contact.schemas.js';

export type StatusFilter = (typeof STATUS_FILTERS)[number];
export type SortParam = (typeof SORT_PARAMS)[number];
export type SortField = 'createdAt' | 'updatedAt' | 'lastName';

export interface ContactSort {
  field: SortField;
  descending: boolean;
}

/** Which contacts a list or an export covers. */
export interface ContactFilter {
  status: StatusFilter;
  /** E.164, normalised as input is. */
  phoneNumber?: string;
  /** Folded name prefix, as a key range (name-key.ts). */
  name?: KeyRange;
}

/** Where a page starts: after the contact with this sort key and id (keyset). */
export interface Position {
  key: number | string;
  id: string;
}

/** A search as the store reads it: filters normalised, the sort split into field and direction. */
export interface Search {
  filter: ContactFilter;
  sort: ContactSort;
  /** Ties a cursor to the sort and filters it was made for. */
  fingerprint: string;
}

export const DEFAULT_LIMIT = 10;
/** `skip` walks past every contact it skips; deeper than this, a page is asked for by cursor. */
export const MAX_SKIP = 10_000;

/** Reads the filters and the sort; a phone number that could not be normalised is a 400 naming the parameter. */
export function parseSearch(query: SearchQuery): Search {
  const errors: ErrorDetail[] = [];
  const filter: ContactFilter = { status: query.status ?? 'ACTIVE' };
  if (query.phoneNumber !== undefined && query.phoneNumber.trim() !== '') {
    const phone = normaliseLookupNumber(query.phoneNumber, query.countryCode);
    if (phone.ok) filter.phoneNumber = phone.value.phoneNumber;
    else errors.push({ msg: phone.msg, code: phone.code, field: phone.field === 'cellPhone.countryCode' ? 'countryCode' : 'phoneNumber' });
  } else if (query.countryCode !== undefined && query.countryCode.trim() !== '') {
    errors.push({ msg: 'countryCode qualifies phoneNumber; send phoneNumber with it', code: 'PHONE_NUMBER_REQUIRED', field: 'phoneNumber' });
  }
  // A q that folds to nothing (blank, or marks only) filters nothing.
  const prefix = query.q === undefined ? '' : foldName(query.q);
  if (prefix !== '') filter.name = prefixRange(prefix);
  if (errors.length > 0) throw new ValidationError(errors);

  const sortParam = query.sort ?? 'createdAt';
  const sort: ContactSort = { field: sortParam.replace(/^-/, '') as SortField, descending: sortParam.startsWith('-') };
  let fingerprint: string | undefined;
  return {
    filter,
    sort,
    // Made when a cursor is, not on every page: most pages make none.
    get fingerprint() {
      fingerprint ??= createHash('sha256')
        .update(JSON.stringify([sortParam, filter.status, filter.phoneNumber ?? null, prefix]))
        .digest('base64url')
        .slice(0, 12);
      return fingerprint;
    },
  };
}

interface CursorBody {
  /** Fingerprint of the sort and filters. */
  f: string;
  k: number | string;
  i: string;
}

/** An opaque cursor: base64url of a small JSON object, not meant to be read or made by callers. */
export function encodeCursor(search: Search, position: Position): string {
  const body: CursorBody = { f: search.fingerprint, k: position.key, i: position.id };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** The position a cursor holds; 400 when it is not one of ours or was made for other filters or another sort. */
/** A folded name key never holds control characters (and PostgreSQL refuses a NUL outright). */
function isFoldedKey(key: string): boolean {
  return !/\p{Cc}/u.test(key);
}

export function decodeCursor(raw: string, search: Search): Position {
  let body: Partial<CursorBody> | undefined;
  try {
    body = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<CursorBody>;
  } catch {
    body = undefined;
  }
  const keyType = search.sort.field === 'lastName' ? 'string' : 'number';
  const wellFormed =
    body !== null && typeof body === 'object' &&
    typeof body.f === 'string' && typeof body.i === 'string' && OBJECT_ID.test(body.i) &&
    typeof body.k === keyType && (keyType === 'string' ? isFoldedKey(body.k as string) : Number.isSafeInteger(body.k));
  if (!wellFormed) throw new ValidationError({ msg: 'after is not a cursor this service returned', code: 'INVALID_CURSOR', field: 'after' });
  if (body!.f !== search.fingerprint) {
    throw new ValidationError({ msg: 'after was returned for another sort or other filters; send the same q, phoneNumber, countryCode, status and sort with it', code: 'CURSOR_MISMATCH', field: 'after' });
  }
  return { key: body!.k!, id: body!.i! };
}

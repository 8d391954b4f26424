/**
 * Folded name keys: what name search compares and what `sort=lastName` orders by.
 *
 * A key is the name lower-cased, decomposed (NFKD, so ligatures and full-width letters become plain letters),
 * stripped of combining marks (é → e), with ß read as ss, final sigma as sigma, runs of white space as one space
 * and other control characters dropped (PostgreSQL cannot even be sent a NUL). Keys are stored beside the names (migration 0002) so that a prefix search is a range over a plain btree
 * index on both stores: `key >= p AND key < successor(p)`. Both stores compare keys by code point (SQLite's
 * BINARY collation; the columns are COLLATE "C" on PostgreSQL), and so does `successor`.
 *
 * Migration 0002 holds a frozen copy of `foldName` for the rows it backfills; change one, change the other in a
 * new migration that refolds.
 */
export function foldName(name: string): string {
  // Printable ASCII alone is the usual case: it has nothing to decompose, strip or drop, and its only white space
  // is the plain space, so the fold is lower-casing, runs of spaces made one, and the ends trimmed.
  if (PRINTABLE_ASCII.test(name)) return name.toLowerCase().replace(SPACES, ' ').trim();
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/ς/g, 'σ')
    .replace(/\s+/gu, ' ')
    .replace(/\p{Cc}/gu, '')
    .trim();
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const SPACES = / {2,}/g;

export interface NameKeys {
  last_name_key: string;
  /**
   * First and last name joined by a space, as `fullName` is. A prefix of the first name is a prefix of this key
   * too, so one column serves search on the first and on the full name.
   */
  full_name_key: string;
}

export function nameKeys(firstName: string, lastName: string): NameKeys {
  return { last_name_key: foldName(lastName), full_name_key: foldName(`${firstName} ${lastName}`) };
}

export interface KeyRange {
  /** Inclusive. */
  from: string;
  /** Exclusive: the smallest string above every string that starts with `from`; none when no string is. */
  to?: string;
}

const MAX_CODE_POINT = 0x10ffff;

/** The keys that start with `prefix`, as a range of code-point order. */
export function prefixRange(prefix: string): KeyRange {
  const points = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last === MAX_CODE_POINT) continue;
    // Surrogate code points never occur in well-formed text; the next real one after them is U+E000.
    const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
    return { from: prefix, to: String.fromCodePoint(...points, next) };
  }
  return { from: prefix };
}

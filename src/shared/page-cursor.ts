import { ValidationError } from './errors.js';

/** An opaque cursor for a keyset page: the position of the page's last item. */
export function encodePageCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** The position a cursor holds, if `valid` accepts it; a 400 naming `cursor` otherwise. */
export function decodePageCursor<T>(cursor: string, valid: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!valid(value))
    throw new ValidationError({
      msg: 'cursor is not a cursor this service returned',
      code: 'INVALID_CURSOR',
      field: 'cursor',
    });
  return value;
}

export const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

import { createHash } from 'node:crypto';
import { ValidationError } from '../shared/errors.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';

// Printable ASCII, as the IETF draft and the big payment APIs allow; long enough for a UUID or a caller's own id.
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/** The request's Idempotency-Key: undefined when absent, a 400 when present but not 1–255 printable ASCII characters. */
export function idempotencyKeyOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const raw = headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw.join(', ') : raw;
  if (!KEY_PATTERN.test(key)) {
    throw new ValidationError({
      msg: 'Idempotency-Key must be 1 to 255 printable ASCII characters',
      code: 'INVALID_IDEMPOTENCY_KEY',
      field: 'Idempotency-Key',
    });
  }
  return key;
}

/**
 * JSON with object keys sorted at every depth, so that two bodies that differ only in key order (which the
 * caller's JSON library may not keep) are the same request.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** sha256 of the canonical JSON of the parts that make a request what it is. */
export function fingerprint(parts: unknown[]): string {
  return sha256Hex(canonicalJson(parts));
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

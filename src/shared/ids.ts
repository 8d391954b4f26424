import { randomBytes, randomUUID } from 'node:crypto';

// ObjectId layout: 4 bytes of seconds, 5 random bytes fixed per process, 3 bytes of counter.
// Ids made later sort later, and two processes never collide on the random part in practice.
const processUnique = randomBytes(5).toString('hex');
// Start in the lower half so the counter does not wrap (and break ordering) in the first second.
let counter = randomBytes(3).readUIntBE(0, 3) & 0x7fffff;

/** A 24-hex-character id, time-ordered like a MongoDB ObjectId. */
export function newObjectId(now: number = Date.now()): string {
  counter = (counter + 1) % 0x1000000;
  const seconds = Math.floor(now / 1000) >>> 0;
  return seconds.toString(16).padStart(8, '0') + processUnique + counter.toString(16).padStart(6, '0');
}

export const OBJECT_ID = /^[0-9a-f]{24}$/;

export const newOrgId = (): string => `o-${randomUUID()}`;
export const newStreamId = (): string => `st-${randomUUID()}`;
export const newUserId = (): string => `u-${randomUUID()}`;
export const newAppId = (): string => `a-${randomUUID()}`;
export const newClientId = (): string => `cs-${randomUUID()}`;
/** 32 random bytes, URL-safe: enough for an HS256 key. */
export const newClientSecret = (): string => randomBytes(32).toString('base64url');

import { createHash } from 'node:crypto';

/** A UUID-shaped string derived from a name, so every instance and the CLI agree on it without asking the store. */
function derivedUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  // Version 8 (custom) and the RFC 4122 variant, so it reads as a well-formed UUID.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The app id written to createdByAId / updatedByAId for what a console user changes: one per account,
 * `a-` + a UUID derived from the account id. An `apps` row with that id (name "Dialbook console", no scope, no
 * stream, a random secret nobody is shown) is made with the account's first console user, so the id names a real
 * app of the account; it can never be used to sign a token that passes the API's checks.
 */
export function consoleAppId(accountId: string): string {
  return `a-${derivedUuid(`dialbook-console-app:${accountId}`)}`;
}

export function consoleClientId(accountId: string): string {
  return `cs-${derivedUuid(`dialbook-console-client:${accountId}`)}`;
}

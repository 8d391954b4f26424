import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): a sign-in costs ~20-40 ms of one core.
// `algorithm: 2` is Algorithm.Argon2id, a const enum that this build (verbatimModuleSyntax) cannot import.
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** False for a wrong password and for a hash that is not one (never throws on bad input). */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A password to hand out once: 20 URL-safe characters, 120 bits. */
export function newPassword(): string {
  return randomBytes(15).toString('base64url');
}

/** Hashed once at start: verified against when the email is unknown, so a wrong email costs as long as a wrong password. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(newPassword());
  return decoy;
}

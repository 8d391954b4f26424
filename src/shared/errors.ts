import type { ErrorCode } from './error-codes.js';

/** One entry of the contract's `{"errors": [...]}` body. */
export interface ErrorDetail {
  msg: string;
  code: ErrorCode;
  field?: string;
  index?: number;
  row?: number;
  id?: string;
}

/**
 * Errors the domain raises. They know nothing of HTTP: `http/error-handler.ts` maps each kind to a
 * status code in one table.
 */
export abstract class DomainError extends Error {
  abstract readonly kind: ErrorKind;
  readonly details: ErrorDetail[];

  constructor(details: ErrorDetail | ErrorDetail[]) {
    const list = Array.isArray(details) ? details : [details];
    super(list.map((d) => d.msg).join('; '));
    this.details = list;
  }
}

export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'too_large'
  | 'unsupported_media'
  | 'rate_limited'
  | 'unavailable';

export class ValidationError extends DomainError {
  readonly kind = 'invalid';
}
export class AuthenticationError extends DomainError {
  readonly kind = 'unauthenticated';
}
export class PermissionError extends DomainError {
  readonly kind = 'forbidden';
}
export class NotFoundError extends DomainError {
  readonly kind = 'not_found';
}
export class ConflictError extends DomainError {
  readonly kind = 'conflict';
}
/** Well-formed, but cannot be done as asked (an Idempotency-Key reused for a different request). */
export class UnprocessableError extends DomainError {
  readonly kind = 'unprocessable';
}
export class TooLargeError extends DomainError {
  readonly kind = 'too_large';
}
export class UnsupportedMediaError extends DomainError {
  readonly kind = 'unsupported_media';
}
export class ServiceUnavailableError extends DomainError {
  readonly kind = 'unavailable';
}
export class RateLimitedError extends DomainError {
  readonly kind = 'rate_limited';
  constructor(readonly retryAfterSeconds: number) {
    super({
      msg: "You've exceeded the per-minute rate limit. Please wait for sometime before retrying",
      code: 'RATE_LIMITED',
    });
  }
}

export function contactNotFound(id: string): NotFoundError {
  return new NotFoundError({ msg: `Contact ${id} was not found in this stream`, code: 'CONTACT_NOT_FOUND', id });
}

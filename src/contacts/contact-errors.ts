import { ConflictError, TooLargeError, ValidationError, type ErrorDetail } from '../shared/errors.js';

/** How often a write is tried when the index refused a number that no contact holds once we look. */
export const RACE_ATTEMPTS = 3;

export function phoneTakenDetail(phoneNumber: string, holderId: string): ErrorDetail {
  return { msg: `phoneNumber ${phoneNumber} already belongs to contact ${holderId}`, code: 'PHONE_TAKEN', field: 'cellPhone.phoneNumber', id: holderId };
}

export function phoneTaken(phoneNumber: string, holderId: string): ConflictError {
  return new ConflictError(phoneTakenDetail(phoneNumber, holderId));
}

export function concurrentChange(): ConflictError {
  return new ConflictError({ msg: 'Phone numbers kept changing hands while this request ran; send it again', code: 'CONCURRENT_CHANGE' });
}

/** A request of contacts (create, bulk delete, bulk update) holds at least one and at most `max`. */
export function checkRequestSize(count: number, max: number): void {
  if (count === 0) throw new ValidationError({ msg: 'Send at least one contact', code: 'EMPTY_REQUEST' });
  if (count > max) {
    throw new TooLargeError({ msg: `At most ${max} contacts per request (MAX_CONTACTS_PER_REQUEST)`, code: 'TOO_MANY_CONTACTS' });
  }
}

import { ConflictError, type ErrorDetail } from '../shared/errors.js';

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

import type { ErrorDetail } from '../shared/errors.js';
import { normalisePhone } from './phone.js';

/** A contact as a caller sends it (JSON body, or a CSV row mapped to the same shape). */
export interface ContactInput {
  firstName?: unknown;
  lastName?: unknown;
  salutation?: unknown;
  cellPhone?: { phoneNumber?: unknown; countryCode?: unknown; extension?: unknown } | unknown;
}

/** A contact that passed every check, phone number normalised. */
export interface ContactFields {
  firstName: string;
  lastName: string;
  salutation: string;
  phoneNumber: string;
  countryCode: string;
  extension: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: ErrorDetail[] };

const NAME_MAX = 256;
const EXTENSION_MAX = 32;
const PHONE_MAX = 64;
const COUNTRY_CODE_MAX = 8;

/** Longest value each field may have, once trimmed (UTF-16 code units). */
export const FIELD_MAX = { name: NAME_MAX, extension: EXTENSION_MAX, phoneNumber: PHONE_MAX, countryCode: COUNTRY_CODE_MAX } as const;

const TEXT_FIELDS = [
  ['firstName', 'firstName', NAME_MAX],
  ['lastName', 'lastName', NAME_MAX],
  ['salutation', 'salutation', NAME_MAX],
] as const;

/** Every field the contract documents is required on create. */
export function checkNewContact(input: ContactInput): Checked<ContactFields> {
  const errors: ErrorDetail[] = [];
  const text = (value: unknown, field: string, max: number): string => {
    const checked = checkText(value, field, max, true);
    if (typeof checked !== 'string') errors.push(checked);
    return typeof checked === 'string' ? checked : '';
  };
  const firstName = text(input.firstName, 'firstName', NAME_MAX);
  const lastName = text(input.lastName, 'lastName', NAME_MAX);
  const salutation = text(input.salutation, 'salutation', NAME_MAX);
  const cellPhone = isObject(input.cellPhone) ? input.cellPhone : {};
  if (input.cellPhone !== undefined && !isObject(input.cellPhone)) {
    errors.push({ msg: 'cellPhone must be an object', code: 'INVALID_FIELD', field: 'cellPhone' });
  }
  const phoneNumber = text(cellPhone.phoneNumber, 'cellPhone.phoneNumber', PHONE_MAX);
  const countryCode = text(cellPhone.countryCode, 'cellPhone.countryCode', COUNTRY_CODE_MAX);
  const extension = text(cellPhone.extension, 'cellPhone.extension', EXTENSION_MAX);
  if (phoneNumber && countryCode) {
    const phone = normalisePhone(phoneNumber, countryCode);
    if (phone.ok) return errors.length ? { ok: false, errors } : { ok: true, value: { firstName, lastName, salutation, extension, ...phone.value } };
    errors.push({ msg: phone.msg, code: phone.code, field: phone.field });
  }
  return { ok: false, errors };
}

/**
 * An update replaces the fields present and keeps the rest, so each field is optional here; a field that is
 * present must still be a non-empty string. The phone number is checked against the stored country code when
 * only one half of the pair is sent.
 */
export function checkContactChanges(
  input: ContactInput,
  current: Pick<ContactFields, 'phoneNumber' | 'countryCode'>,
): Checked<Partial<ContactFields>> {
  const errors: ErrorDetail[] = [];
  const changes: Partial<ContactFields> = {};
  for (const [key, field, max] of TEXT_FIELDS) {
    if (input[key] === undefined) continue;
    const checked = checkText(input[key], field, max, true);
    if (typeof checked === 'string') changes[key] = checked;
    else errors.push(checked);
  }
  if (input.cellPhone !== undefined) {
    if (!isObject(input.cellPhone)) {
      errors.push({ msg: 'cellPhone must be an object', code: 'INVALID_FIELD', field: 'cellPhone' });
    } else {
      const { phoneNumber, countryCode, extension } = input.cellPhone;
      const opt = (value: unknown, field: string, max: number): string | undefined => {
        if (value === undefined) return undefined;
        const checked = checkText(value, field, max, true);
        if (typeof checked === 'string') return checked;
        errors.push(checked);
        return undefined;
      };
      const number = opt(phoneNumber, 'cellPhone.phoneNumber', PHONE_MAX);
      const code = opt(countryCode, 'cellPhone.countryCode', COUNTRY_CODE_MAX);
      const ext = opt(extension, 'cellPhone.extension', EXTENSION_MAX);
      if (ext !== undefined) changes.extension = ext;
      if (number !== undefined || code !== undefined) {
        // A stored number is complete (`+91…`), so it re-checks cleanly against a new country code only
        // when the caller sends the number too; a lone new country code must agree with the stored number.
        const phone = normalisePhone(number ?? current.phoneNumber, code ?? current.countryCode);
        if (phone.ok) Object.assign(changes, phone.value);
        else errors.push({ msg: phone.msg, code: phone.code, field: phone.field });
      }
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: changes };
}

function checkText(value: unknown, field: string, max: number, required: boolean): string | ErrorDetail {
  if (value === undefined || value === null) {
    return { msg: `${field} is required`, code: 'FIELD_REQUIRED', field };
  }
  if (typeof value !== 'string') return { msg: `${field} must be a string`, code: 'INVALID_FIELD', field };
  const trimmed = value.trim();
  if (required && trimmed === '') return { msg: `${field} must not be empty`, code: 'FIELD_REQUIRED', field };
  // PostgreSQL refuses NUL in text; SQLite would keep it. Refused on both, so both stores answer alike (the CSV
  // import already refuses a file with NUL in it as not text).
  if (trimmed.includes('\u0000')) return { msg: `${field} must not contain a NUL character`, code: 'INVALID_FIELD', field };
  if (trimmed.length > max) return { msg: `${field} is longer than ${max} characters`, code: 'FIELD_TOO_LONG', field };
  return trimmed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import {
  isSupportedCountry,
  Metadata,
  ParseError,
  parsePhoneNumberWithError,
  validatePhoneNumberLength,
  type CountryCode,
} from 'libphonenumber-js';
import type { ErrorCode } from '../shared/error-codes.js';
import { internationalVerdict, nationalVerdict } from './phone-fast.js';

export interface NormalisedPhone {
  /** E.164: `+` country code, national number: `+919876543210`. */
  phoneNumber: string;
  /** `+` and the country calling code: `+91`. */
  countryCode: string;
}

export type PhoneField = 'cellPhone.phoneNumber' | 'cellPhone.countryCode';

export type PhoneResult =
  | { ok: true; value: NormalisedPhone }
  | { ok: false; field: PhoneField; code: ErrorCode; msg: string };

// What people type between digits; anything else that is not a digit is refused.
const SEPARATORS = /[\s\-.()\u00a0]/g;
const DIGITS = /^\d+$/;
const COUNTRY_CODE = /^\+?(\d{1,3})$/;
const E164_MAX_DIGITS = 15;

// Both methods are part of libphonenumber-js's Metadata at run time but missing from its type declarations.
const metadata = new Metadata() as Metadata & {
  hasCallingCode(code: string): boolean;
  countryCallingCodes(): Record<string, string[] | undefined>;
};

/**
 * How to read national digits for a calling code: as dialled in its main country, so that its trunk prefix
 * (`0 98765 43210`) and international prefix (`0091 98765 43210`) are understood; by the bare calling code for
 * the non-geographic ones (+800, +882, …).
 */
function nationalContext(cc: string): { defaultCountry: CountryCode } | { defaultCallingCode: string } {
  const country = metadata.countryCallingCodes()[cc]?.[0];
  return country && isSupportedCountry(country) ? { defaultCountry: country } : { defaultCallingCode: cc };
}

const LENGTH_MESSAGES: Record<string, string> = {
  TOO_SHORT: 'is too short for the numbering plan of',
  TOO_LONG: 'is too long for the numbering plan of',
  INVALID_LENGTH: 'has a length that the numbering plan does not allow for',
  NOT_A_NUMBER: 'is not a phone number for',
};

/** `+91`, `91`, ` +91 ` → `91`; anything else → undefined. */
export function parseCountryCode(raw: string): string | undefined {
  const match = COUNTRY_CODE.exec(raw.replace(SEPARATORS, ''));
  return match?.[1];
}

/**
 * Checks and normalises a number the way the contract asks: separators removed, letters refused, a number
 * that already starts with `+` taken as complete (and required to agree with the country code), and the
 * length checked against the country's numbering plan from libphonenumber's metadata.
 */
export function normalisePhone(rawNumber: string, rawCountryCode: string): PhoneResult {
  return normalisePhoneFast(rawNumber, rawCountryCode) ?? normalisePhoneReference(rawNumber, rawCountryCode);
}

/**
 * normalisePhone's answer for digits (national, or `+` and the calling code) whose reading is certain from the
 * metadata alone, without running libphonenumber's parser; undefined for everything else. Parsing was most of a
 * CSV import's JS time, and most rows are plain digits.
 */
export function normalisePhoneFast(rawNumber: string, rawCountryCode: string): PhoneResult | undefined {
  // Tried as typed first: a million-row import should not pay for a replace on every `+91`.
  const cc = COUNTRY_CODE.exec(rawCountryCode)?.[1] ?? parseCountryCode(rawCountryCode);
  if (cc === undefined) return undefined;
  let verdict;
  if (DIGITS.test(rawNumber)) {
    verdict = nationalVerdict(cc, rawNumber);
  } else {
    const compact = rawNumber.replace(SEPARATORS, '');
    if (DIGITS.test(compact)) verdict = nationalVerdict(cc, compact);
    else if (compact.startsWith('+') && DIGITS.test(compact.slice(1))) verdict = internationalVerdict(cc, compact.slice(1));
    // Letters, a misplaced `+`, nothing at all: the reference says which.
  }
  if (verdict === undefined) return undefined;
  if (verdict.startsWith('+')) return { ok: true, value: { phoneNumber: verdict, countryCode: `+${cc}` } };
  if (verdict === 'E164_TOO_LONG') return tooLong(rawNumber);
  return lengthFailure(rawNumber, cc, verdict);
}

/** normalisePhone done by libphonenumber-js alone: what the fast path must agree with, and its fallback. */
export function normalisePhoneReference(rawNumber: string, rawCountryCode: string): PhoneResult {
  const cc = parseCountryCode(rawCountryCode);
  if (!cc) {
    return fail('cellPhone.countryCode', 'INVALID_COUNTRY_CODE', `countryCode "${rawCountryCode}" is not a country calling code such as +91`);
  }
  // Checked up front: libphonenumber reports an unknown default calling code as a plain Error, not a ParseError.
  if (!metadata.hasCallingCode(cc)) {
    return fail('cellPhone.countryCode', 'INVALID_COUNTRY_CODE', `countryCode "+${cc}" is not a country calling code in use`);
  }
  const compact = rawNumber.replace(SEPARATORS, '');
  const international = compact.startsWith('+');
  const digits = international ? compact.slice(1) : compact;
  if (!DIGITS.test(digits)) {
    return fail('cellPhone.phoneNumber', 'INVALID_PHONE_NUMBER', `phoneNumber "${rawNumber}" may hold only digits (and spaces, dashes, dots or parentheses between them)`);
  }
  // National input is measured once parsed: a trunk prefix typed before it (`0 30 …`) is not part of E.164.
  if (international && digits.length > E164_MAX_DIGITS) return tooLong(rawNumber);
  let phone;
  try {
    phone = international
      ? parsePhoneNumberWithError(compact)
      : parsePhoneNumberWithError(digits, nationalContext(cc));
  } catch (error) {
    if (error instanceof ParseError && error.message === 'INVALID_COUNTRY') {
      return fail('cellPhone.countryCode', 'INVALID_COUNTRY_CODE', `countryCode "+${cc}" is not a country calling code in use`);
    }
    if (error instanceof ParseError && error.message === 'TOO_LONG') return tooLong(rawNumber);
    return fail('cellPhone.phoneNumber', 'INVALID_PHONE_NUMBER', `phoneNumber "${rawNumber}" is not a phone number`);
  }
  if (phone.number.length - 1 > E164_MAX_DIGITS) return tooLong(rawNumber);
  if (phone.countryCallingCode !== cc) {
    return fail('cellPhone.phoneNumber', 'COUNTRY_CODE_MISMATCH', `phoneNumber "${rawNumber}" starts with +${phone.countryCallingCode} but countryCode is +${cc}`);
  }
  if (!phone.isPossible()) {
    const reason = (international ? validatePhoneNumberLength(compact) : validatePhoneNumberLength(digits, nationalContext(cc))) ?? 'INVALID_LENGTH';
    return lengthFailure(rawNumber, cc, reason);
  }
  return { ok: true, value: { phoneNumber: phone.number, countryCode: `+${cc}` } };
}

function fail(field: PhoneField, code: ErrorCode, msg: string): PhoneResult {
  return { ok: false, field, code, msg };
}

function tooLong(rawNumber: string): PhoneResult {
  return fail('cellPhone.phoneNumber', 'PHONE_NUMBER_TOO_LONG', `phoneNumber "${rawNumber}" is longer than the 15 digits E.164 allows`);
}

function lengthFailure(rawNumber: string, cc: string, reason: string): PhoneResult {
  return fail('cellPhone.phoneNumber', 'INVALID_PHONE_LENGTH', `phoneNumber "${rawNumber}" ${LENGTH_MESSAGES[reason] ?? LENGTH_MESSAGES.INVALID_LENGTH} +${cc}`);
}

/**
 * A number to look up a contact by. With a country code it is read exactly as input is. Without one it must be
 * international: `+…`, or digits that start with a country calling code — a `+` typed into a URL's query string
 * arrives as a space (or is dropped by the caller), and `919876543210` is how many telephony systems present a
 * caller id.
 */
export function normaliseLookupNumber(rawNumber: string, rawCountryCode: string | undefined): PhoneResult {
  if (rawCountryCode !== undefined && rawCountryCode.trim() !== '') return normalisePhone(rawNumber, rawCountryCode);
  const compact = rawNumber.replace(SEPARATORS, '');
  const digits = compact.startsWith('+') ? compact.slice(1) : compact;
  if (!DIGITS.test(digits)) {
    return fail('cellPhone.phoneNumber', 'INVALID_PHONE_NUMBER', `phoneNumber "${rawNumber}" may hold only digits (and spaces, dashes, dots or parentheses between them)`);
  }
  // The common case without the parser: the calling code found as libphonenumber finds it, the number good.
  const quick = callingCodeOf(digits);
  if (quick !== undefined) {
    const result = normalisePhone(`+${digits}`, quick);
    if (result.ok) return result;
  }
  let cc: string | undefined;
  try {
    cc = parsePhoneNumberWithError(`+${digits}`).countryCallingCode;
  } catch {
    cc = undefined;
  }
  const result = cc ? normalisePhone(`+${digits}`, cc) : undefined;
  if (result?.ok) return result;
  const why = result ? `${result.msg}; ` : '';
  return fail(
    'cellPhone.phoneNumber',
    result?.code ?? 'INVALID_PHONE_NUMBER',
    `${why}without countryCode, phoneNumber "${rawNumber}" is read as an international number (country calling code first); send countryCode to give national digits`,
  );
}

/**
 * The country calling code an international number starts with: calling codes are a prefix code (ITU-T E.164), so
 * at most one of its first one, two or three digits is one; the same walk libphonenumber's own parser makes.
 */
function callingCodeOf(digits: string): string | undefined {
  for (let length = 1; length <= 3 && length <= digits.length; length++) {
    const cc = digits.slice(0, length);
    if (metadata.hasCallingCode(cc)) return cc;
  }
  return undefined;
}

import { checkNewContact, FIELD_MAX, type ContactFields } from '../contacts/contact-input.js';
import { normalisePhone } from '../contacts/phone.js';
import { mapHeader, restoreCell, rowToInput, type ColumnMap } from '../contacts/contact-csv.js';
import { nameKeys, type NameKeys } from '../contacts/name-key.js';
import type { ErrorDetail } from '../shared/errors.js';
import { csvRecordBatches } from './csv-rows.js';
import { decodeUtf8Text } from './text-decoding.js';

/** A data row of the file, checked as a JSON contact is. */
export interface ParsedRow {
  /** Line of the file on which the row starts (header = line 1). */
  line: number;
  /** The cells as uploaded. */
  cells: string[];
  /** The contact, when the row passed its own checks. */
  contact?: ContactFields & NameKeys;
  /** E.164 digits as a number (at most 15 digits, exact in a double): the key of in-file repeats. */
  phoneKey?: number;
  errors?: ErrorDetail[];
}

// CSV rows are checked as JSON contacts are; their errors name the CSV column.
const CSV_FIELD: Record<string, string> = {
  'cellPhone.phoneNumber': 'cellPhoneNumber',
  'cellPhone.countryCode': 'cellPhoneCountryCode',
  'cellPhone.extension': 'cellPhoneExtension',
};

export function parseRow(line: number, cells: string[], columns: ColumnMap, problem: string | undefined): ParsedRow {
  if (problem) return { line, cells, errors: [{ msg: `The row is not valid CSV: ${problem}`, code: 'MALFORMED_CSV' }] };
  const fast = goodRow(cells, columns);
  if (fast) return { line, cells, contact: fast, phoneKey: Number(fast.phoneNumber.slice(1)) };
  const checked = checkNewContact(rowToInput(cells, columns));
  if (!checked.ok) {
    return { line, cells, errors: checked.errors.map((e) => (e.field ? { ...e, field: CSV_FIELD[e.field] ?? e.field } : e)) };
  }
  const v = checked.value;
  return { line, cells, contact: { ...v, ...nameKeys(v.firstName, v.lastName) }, phoneKey: Number(v.phoneNumber.slice(1)) };
}

/** A cell trimmed, or undefined when checkNewContact would refuse it (missing, empty, NUL, too long). */
function plainCell(cells: string[], at: number, max: number): string | undefined {
  const raw = cells[at];
  if (raw === undefined) return undefined;
  const value = restoreCell(raw).trim();
  return value === '' || value.length > max || value.includes('\u0000') ? undefined : value;
}

/**
 * The common case without the detour through the JSON input's shape: every cell plainly good and the number valid.
 * It gives exactly checkNewContact's value; any row it is unsure of goes the long way, which also words the errors.
 */
function goodRow(cells: string[], c: ColumnMap): (ContactFields & NameKeys) | undefined {
  const firstName = plainCell(cells, c.firstName, FIELD_MAX.name);
  const lastName = plainCell(cells, c.lastName, FIELD_MAX.name);
  const salutation = plainCell(cells, c.salutation, FIELD_MAX.name);
  const number = plainCell(cells, c.cellPhoneNumber, FIELD_MAX.phoneNumber);
  const code = plainCell(cells, c.cellPhoneCountryCode, FIELD_MAX.countryCode);
  const extension = plainCell(cells, c.cellPhoneExtension, FIELD_MAX.extension);
  if (firstName === undefined || lastName === undefined || salutation === undefined || number === undefined || code === undefined || extension === undefined) {
    return undefined;
  }
  const phone = normalisePhone(number, code);
  if (!phone.ok) return undefined;
  const keys = nameKeys(firstName, lastName);
  return {
    firstName, lastName, salutation, extension,
    phoneNumber: phone.value.phoneNumber, countryCode: phone.value.countryCode,
    last_name_key: keys.last_name_key, full_name_key: keys.full_name_key,
  };
}

/**
 * The rows of a stored upload, a batch at a time; the upload was checked as a whole when it was received, so its
 * header is known to be good. Only one batch is in memory at a time.
 */
export async function* rowBatches(bytes: AsyncIterable<Buffer>, batchSize: number): AsyncGenerator<ParsedRow[]> {
  let columns: ColumnMap | undefined;
  let batch: ParsedRow[] = [];
  for await (const records of csvRecordBatches(decodeUtf8Text(bytes, Number.MAX_SAFE_INTEGER))) {
    for (const record of records) {
      if (!columns) {
        columns = mapHeader(record.fields);
        continue;
      }
      batch.push(parseRow(record.line, record.fields, columns, record.problem));
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}

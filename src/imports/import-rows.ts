import { checkNewContact, type ContactFields } from '../contacts/contact-input.js';
import { nameKeys, type NameKeys } from '../contacts/name-key.js';
import type { ErrorDetail } from '../shared/errors.js';
import { mapHeader, rowToInput, type ColumnMap } from './csv-header.js';
import { csvRecords } from './csv-rows.js';
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
  const checked = checkNewContact(rowToInput(cells, columns));
  if (!checked.ok) {
    return { line, cells, errors: checked.errors.map((e) => (e.field ? { ...e, field: CSV_FIELD[e.field] ?? e.field } : e)) };
  }
  const v = checked.value;
  return { line, cells, contact: { ...v, ...nameKeys(v.firstName, v.lastName) }, phoneKey: Number(v.phoneNumber.slice(1)) };
}

/**
 * The rows of a stored upload, a batch at a time; the upload was checked as a whole when it was received, so its
 * header is known to be good. Only one batch is in memory at a time.
 */
export async function* rowBatches(bytes: AsyncIterable<Buffer>, batchSize: number): AsyncGenerator<ParsedRow[]> {
  let columns: ColumnMap | undefined;
  let batch: ParsedRow[] = [];
  for await (const record of csvRecords(decodeUtf8Text(bytes, Number.MAX_SAFE_INTEGER))) {
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
  if (batch.length) yield batch;
}

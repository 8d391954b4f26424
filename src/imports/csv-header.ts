import { ValidationError, type ErrorDetail } from '../shared/errors.js';
import type { ContactInput } from '../contacts/contact-input.js';

/** The import's columns, as the seeds name them. */
export const CSV_COLUMNS = [
  'firstName',
  'lastName',
  'salutation',
  'cellPhoneNumber',
  'cellPhoneCountryCode',
  'cellPhoneExtension',
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** Where each column sits in a row. */
export type ColumnMap = Record<CsvColumn, number>;

const byKey = new Map<string, CsvColumn>(CSV_COLUMNS.map((c) => [c.toLowerCase(), c]));

/**
 * Reads the header row: names in any order, letter case and surrounding spaces ignored, extra columns
 * ignored. A missing or repeated column is refused, naming it.
 */
export function mapHeader(header: string[]): ColumnMap {
  const map: Partial<ColumnMap> = {};
  const errors: ErrorDetail[] = [];
  header.forEach((raw, index) => {
    const column = byKey.get(raw.replace(/^\uFEFF/, '').trim().toLowerCase());
    if (!column) return;
    if (map[column] !== undefined) {
      errors.push({ msg: `Column ${column} appears more than once in the header`, code: 'DUPLICATE_COLUMN', field: column, row: 1 });
      return;
    }
    map[column] = index;
  });
  for (const column of CSV_COLUMNS) {
    if (map[column] === undefined) {
      errors.push({ msg: `The header has no ${column} column`, code: 'MISSING_COLUMN', field: column, row: 1 });
    }
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return map as ColumnMap;
}

/** A data row in the JSON input's shape, so it is checked exactly as a JSON contact is. */
export function rowToInput(fields: string[], columns: ColumnMap): ContactInput {
  return {
    firstName: fields[columns.firstName],
    lastName: fields[columns.lastName],
    salutation: fields[columns.salutation],
    cellPhone: {
      phoneNumber: fields[columns.cellPhoneNumber],
      countryCode: fields[columns.cellPhoneCountryCode],
      extension: fields[columns.cellPhoneExtension],
    },
  };
}

import { ValidationError, type ErrorDetail } from '../shared/errors.js';
import type { ContactInput } from '../contacts/contact-input.js';
import { restoreCell } from '../contacts/spreadsheet-cell.js';

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

/**
 * A data row in the JSON input's shape, so it is checked exactly as a JSON contact is. A cell that the export
 * protected from spreadsheets (`'=…`, `'+91…`) loses that apostrophe here, so an export imports back unchanged.
 */
export function rowToInput(fields: string[], columns: ColumnMap): ContactInput {
  const cell = (column: CsvColumn): string | undefined => {
    const value = fields[columns[column]];
    return value === undefined ? undefined : restoreCell(value);
  };
  return {
    firstName: cell('firstName'),
    lastName: cell('lastName'),
    salutation: cell('salutation'),
    cellPhone: {
      phoneNumber: cell('cellPhoneNumber'),
      countryCode: cell('cellPhoneCountryCode'),
      extension: cell('cellPhoneExtension'),
    },
  };
}

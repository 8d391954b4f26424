import { ValidationError, type ErrorDetail } from '../shared/errors.js';
import type { ContactInput } from './contact-input.js';

/**
 * The contacts CSV format, one module for the import (which reads it) and the export (which writes it): the
 * columns, a header mapped to them, a row to the JSON input's shape, a line written out, and the guard that keeps a
 * spreadsheet from running a cell as a formula.
 */

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

/** The import's six columns, so the file imports back, then what only the export knows. */
export const EXPORT_COLUMNS = [...CSV_COLUMNS, 'id', 'status', 'createdAt', 'updatedAt'] as const;

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

/**
 * Cells a spreadsheet would run as a formula start with = + - @, a tab or a carriage return. The export writes
 * them with a leading apostrophe (the spreadsheet convention for "text"), and the import takes exactly one
 * apostrophe off again, so an exported file imports back unchanged.
 *
 * Apostrophes already in front of such a character get one more on the way out and lose one on the way in, so a
 * name that really is `'=x` survives the round trip too (it is written `''=x`).
 */
const FORMULA_START = /^'*[=+\-@\t\r]/;

/** A value as the export writes it. */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** A cell as the import reads it: the apostrophe the export added, removed. */
export function restoreCell(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell) ? cell.slice(1) : cell;
}

/** One RFC 4180 record: CRLF-terminated, a field quoted when it holds a comma, a quote or a line break. */
export function csvLine(values: readonly string[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

/** A cell a spreadsheet would run as a formula neutralised, then quoted if need be. */
export function csvField(value: string): string {
  // Most cells need neither: one test tells.
  if (!NEEDS_CARE.test(value)) return value;
  const cell = neutraliseCell(value);
  return NEEDS_QUOTES.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

const NEEDS_QUOTES = /[",\r\n]/;
/** A cell neutraliseCell might change (a quote or a formula character first) or that needs quotes. */
const NEEDS_CARE = /^['=+\-@\t\r]|[",\r\n]/;

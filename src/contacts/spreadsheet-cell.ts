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

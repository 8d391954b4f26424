import fs from 'node:fs';

/** The import's header, in the seeds' column order. */
export const HEADER = 'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension';

const SALUTATIONS = ['Mr', 'Ms', 'Dr'];
const LINES_PER_CHUNK = 1000;

/**
 * Data row `i` as parsed fields: every number distinct (a valid-length Indian mobile), so every row of an
 * import creates a contact; every 50th last name holds a comma, so parsers also meet RFC 4180 quoting.
 */
export function contactFields(i: number): string[] {
  const lastName = i % 50 === 0 ? `Last${i}, Jr.` : `Last${i}`;
  return [`First${i}`, lastName, SALUTATIONS[i % 3]!, `9${String(i).padStart(9, '0')}`, '+91', '+'];
}

function csvLine(i: number): string {
  return contactFields(i)
    .map((f) => (f.includes(',') ? `"${f}"` : f))
    .join(',');
}

/** The CSV text of `rows` data rows, header first, a chunk of lines at a time. */
export function* csvText(rows: number): Generator<string> {
  yield `${HEADER}\n`;
  for (let i = 0; i < rows; i += LINES_PER_CHUNK) {
    let chunk = '';
    for (let j = i; j < Math.min(rows, i + LINES_PER_CHUNK); j++) chunk += `${csvLine(j)}\n`;
    yield chunk;
  }
}

/** The same CSV as an upload arrives: bytes, produced as they are read, never held whole. */
export async function* csvUpload(rows: number): AsyncGenerator<Buffer> {
  for (const chunk of csvText(rows)) yield Buffer.from(chunk);
}

/** Writes the CSV to `file`; returns its size in bytes. */
export function writeCsvFile(file: string, rows: number): number {
  const fd = fs.openSync(file, 'w');
  let bytes = 0;
  try {
    for (const chunk of csvText(rows)) bytes += fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

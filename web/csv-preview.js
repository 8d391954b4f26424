// What the import page shows before anything is written: read from the first bytes of the file in the browser.
export const COLUMNS = ['firstName', 'lastName', 'salutation', 'cellPhoneNumber', 'cellPhoneCountryCode', 'cellPhoneExtension'];
const PREVIEW_BYTES = 64 * 1024;

function detectEncoding(bytes) {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { name: 'UTF-8 with BOM', ok: true };
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return { name: 'UTF-16', ok: false };
  if (bytes.includes(0)) return { name: 'binary (not text)', ok: false };
  try {
    // The last bytes may cut a character in two: decode a prefix that ends at a character boundary.
    let end = bytes.length;
    while (end > 0 && end > bytes.length - 4 && (bytes[end - 1] & 0xc0) === 0x80) end--;
    if (end > 0 && bytes[end - 1] >= 0xc0) end--;
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
    return { name: 'UTF-8', ok: true };
  } catch {
    return { name: 'not UTF-8 (Windows-1252 or Latin-1, perhaps)', ok: false };
  }
}

function detectDelimiter(firstLine) {
  const counts = [[',', 'comma'], [';', 'semicolon'], ['\t', 'tab'], ['|', 'vertical bar']].map(([d, name]) => ({ d, name, n: firstLine.split(d).length - 1 }));
  counts.sort((a, b) => b.n - a.n);
  return counts[0].n === 0 ? { d: ',', name: 'comma' } : counts[0];
}

/** RFC 4180 rows of a text, at most `max` of them (a last row cut by the preview's end is left out). */
function parseRows(text, delimiter, max, complete) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  for (; i < text.length && rows.length < max; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { cell += '"'; i++; } else quoted = false;
      } else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) { row.push(cell); cell = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (complete && rows.length < max && (cell !== '' || row.length > 0)) rows.push([...row, cell]);
  return rows;
}

/** Encoding, delimiter, the header mapped to the import's columns, and the first rows. */
export async function previewCsv(file, maxRows = 5) {
  const bytes = new Uint8Array(await file.slice(0, PREVIEW_BYTES).arrayBuffer());
  const encoding = detectEncoding(bytes);
  const text = new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = detectDelimiter(firstLine);
  const rows = parseRows(text, delimiter.d, maxRows + 1, file.size <= PREVIEW_BYTES);
  const header = rows[0] ?? [];
  const columns = header.map((name) => {
    const known = COLUMNS.find((c) => c.toLowerCase() === name.trim().toLowerCase());
    return { name, maps: known ?? null };
  });
  const missing = COLUMNS.filter((c) => !columns.some((col) => col.maps === c));
  const problems = [];
  if (!encoding.ok) problems.push(`The file is ${encoding.name}; the import reads UTF-8. Save it as “CSV UTF-8” and pick it again.`);
  if (delimiter.d !== ',') problems.push(`The columns are separated by a ${delimiter.name}; the import reads comma-separated files. Save it as CSV (comma delimited).`);
  if (header.length === 0) problems.push('The file is empty.');
  else if (missing.length) problems.push(`Missing column${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}.`);
  return { encoding: encoding.name, delimiter: delimiter.name, columns, rows: rows.slice(1), problems };
}

import Papa from 'papaparse';
import { TooLargeError, ValidationError } from '../shared/errors.js';
import { mapHeader, type ColumnMap } from '../contacts/contact-csv.js';
import { decodeUtf8Text } from './text-decoding.js';

export interface CheckedUpload {
  bytes: number;
  /** Data rows: records after the header, blank lines not counted. */
  rows: number;
  /** The header row as uploaded. */
  header: string[];
  columns: ColumnMap;
}

export interface UploadLimits {
  maxBytes: number;
  maxRows: number;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const MAX_HEADER_BYTES = 1024 * 1024;

/**
 * Counts CSV records in bytes as they stream by, the way the parser will split them (records end at a newline
 * outside quotes; a quote closes a field only before a comma or a newline; a line of white space alone is blank).
 * A byte loop: far cheaper than parsing, and enough to know the row count and the header before any row is applied.
 */
class RecordCounter {
  records = 0;
  private state = 0; // 0 field start, 1 unquoted, 2 quoted, 3 quote seen inside a quoted field
  private content = false;

  feed(chunk: Buffer): void {
    let { state, content, records } = this;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (state === 2) {
        if (b === QUOTE) state = 3;
        else if (b > 0x20) content = true;
        continue;
      }
      if (state === 3) {
        if (b === QUOTE) {
          state = 2;
          content = true;
          continue;
        }
        if (b === 0x0d || b === 0x20 || b === 0x09) continue;
        if (b !== COMMA && b !== LF) {
          state = 2;
          content = true;
          continue;
        }
      }
      if (b === LF) {
        if (content) records++;
        content = false;
        state = 0;
      } else if (b === COMMA) {
        content = true;
        state = 0;
      } else if (state === 0 && b === QUOTE) {
        state = 2;
      } else {
        if (b > 0x20) content = true;
        state = 1;
      }
    }
    this.state = state;
    this.content = content;
    this.records = records;
  }

  end(): number {
    if (this.content) this.records++;
    this.content = false;
    return this.records;
  }
}

/**
 * Passes an upload through while checking it as a whole: UTF-8 text without NUL, within the byte and row limits,
 * with a header that names every column. Throws the refusal the import would give, before any row is applied.
 * `result()` is ready once the bytes are read to the end.
 */
export function checkUpload(upload: AsyncIterable<Buffer>, limits: UploadLimits) {
  const counter = new RecordCounter();
  let bytes = 0;
  let head: Buffer[] = [];
  let headBytes = 0;
  let header: { fields: string[]; columns: ColumnMap } | undefined;
  let done = false;

  const readHeader = (final: boolean) => {
    if (header || (counter.records === 0 && !final)) return;
    const text = new TextDecoder('utf-8').decode(Buffer.concat(head, headBytes));
    const first = Papa.parse<string[]>(text, { delimiter: ',', newline: '\n', skipEmptyLines: 'greedy' }).data[0];
    head = [];
    if (!first) return;
    const fields = first.map((f, i) => (i === first.length - 1 ? f.replace(/\r$/, '') : f));
    header = { fields, columns: mapHeader(fields) };
  };

  /** Counts a chunk's records and reads the header once its first record is complete. */
  const take = (chunk: Buffer) => {
    bytes += chunk.length;
    counter.feed(chunk);
    if (!header) {
      head.push(chunk);
      headBytes += chunk.length;
      if (counter.records === 0 && headBytes > MAX_HEADER_BYTES) {
        throw new ValidationError({ msg: `The header row is longer than ${MAX_HEADER_BYTES} bytes`, code: 'HEADER_TOO_LONG', row: 1 });
      }
      readHeader(false);
    }
    if (counter.records - 1 > limits.maxRows) throw tooManyRows(limits.maxRows);
  };

  async function* checked(): AsyncGenerator<Buffer> {
    // decodeUtf8Text refuses what is not text and what is too large; the text itself is not needed here. A chunk
    // passes on once the decoder has taken it.
    const chunks: Buffer[] = [];
    const source = (async function* () {
      for await (const chunk of upload) {
        chunks.push(chunk);
        yield chunk;
      }
    })();
    for await (const _text of decodeUtf8Text(source, limits.maxBytes)) {
      for (const chunk of chunks.splice(0)) {
        take(chunk);
        yield chunk;
      }
    }
    // Chunks after the decoder's last text (the end of a UTF-8 sequence split across chunks).
    for (const chunk of chunks.splice(0)) {
      take(chunk);
      yield chunk;
    }
    const records = counter.end();
    readHeader(true);
    if (!header) throw new ValidationError({ msg: 'The file is empty; it needs a header row and data rows', code: 'EMPTY_FILE' });
    if (records - 1 > limits.maxRows) throw tooManyRows(limits.maxRows);
    if (records <= 1) throw new ValidationError({ msg: 'The file has a header but no data rows', code: 'NO_DATA_ROWS' });
    done = true;
  }

  return {
    chunks: checked(),
    result(): CheckedUpload {
      if (!done || !header) throw new Error('checkUpload: the upload was not read to its end');
      return { bytes, rows: counter.records - 1, header: header.fields, columns: header.columns };
    },
  };
}

function tooManyRows(maxRows: number): TooLargeError {
  return new TooLargeError({ msg: `The file has more than ${maxRows} data rows (IMPORT_MAX_ROWS)`, code: 'TOO_MANY_ROWS' });
}

import { TooLargeError, ValidationError } from '../shared/errors.js';
import { mapHeader, type ColumnMap } from '../contacts/contact-csv.js';
import { CsvParser, detectDelimiter, firstLineOf, type CsvDelimiter } from './csv-rows.js';
import { encodingOfCharset, SniffingDecoder, type CsvEncoding } from './text-decoding.js';

/** How a file was read: decided when it is received, kept with its job, reported in the answer. */
export interface CsvFormat {
  encoding: CsvEncoding;
  delimiter: CsvDelimiter;
}

export const DEFAULT_FORMAT: CsvFormat = { encoding: 'utf-8', delimiter: ',' };

export interface CheckedUpload {
  bytes: number;
  /** Data rows: records after the header, blank lines not counted. */
  rows: number;
  /** The header row as uploaded. */
  header: string[];
  columns: ColumnMap;
  format: CsvFormat;
}

export interface UploadLimits {
  maxBytes: number;
  maxRows: number;
}

const MAX_HEADER_CHARS = 1024 * 1024;
/** More columns than any spreadsheet of contacts has: a header past it is refused rather than mapped. */
export const MAX_COLUMNS = 1000;

/**
 * Passes an upload through while checking it as a whole: text (its encoding decided as it streams, see
 * SniffingDecoder), within the byte and row limits, with a header that names every column. The delimiter is taken
 * from the header line. Throws the refusal the import would give, before any row is applied. `result()` is ready
 * once the bytes are read to the end. `charset` gives a charset declared on the upload's part or body, once known.
 */
export function checkUpload(upload: AsyncIterable<Buffer>, limits: UploadLimits, charset?: () => string | undefined) {
  let decoder: SniffingDecoder | undefined;
  let parser: CsvParser | undefined;
  let pending = '';
  let header: { fields: string[]; columns: ColumnMap } | undefined;
  let bytes = 0;
  let done = false;

  const takeRecords = (records: { fields: string[] }[]) => {
    if (header || records.length === 0) return;
    const fields = records[0]!.fields;
    if (fields.length > MAX_COLUMNS) {
      throw new ValidationError({ msg: `The header has ${fields.length} columns; at most ${MAX_COLUMNS} are read`, code: 'TOO_MANY_COLUMNS', row: 1 });
    }
    header = { fields, columns: mapHeader(fields) };
    // Past the header, records are only counted.
    parser!.collect = false;
  };

  const feed = (text: string, final: boolean) => {
    if (!parser) {
      pending += text;
      const line = firstLineOf(pending, final);
      if (line === undefined) {
        if (pending.length > MAX_HEADER_CHARS) throw headerTooLong();
        return;
      }
      parser = new CsvParser(detectDelimiter(line));
      text = pending;
      pending = '';
    }
    takeRecords(parser.feed(text));
    if (!header && parser.records === 0 && text.length > MAX_HEADER_CHARS) throw headerTooLong();
    if (parser.records - 1 > limits.maxRows) throw tooManyRows(limits.maxRows);
  };

  async function* checked(): AsyncGenerator<Buffer> {
    for await (const chunk of upload) {
      if (!decoder) {
        const declared = charset?.();
        decoder = new SniffingDecoder(limits.maxBytes, declared ? encodingOfCharset(declared) : undefined);
      }
      bytes += chunk.length;
      feed(decoder.push(chunk), false);
      yield chunk;
    }
    decoder ??= new SniffingDecoder(limits.maxBytes);
    feed(decoder.end(), true);
    if (parser) takeRecords(parser.end());
    if (!header) throw new ValidationError({ msg: 'The file is empty; it needs a header row and data rows', code: 'EMPTY_FILE' });
    const records = parser!.records;
    if (records - 1 > limits.maxRows) throw tooManyRows(limits.maxRows);
    if (records <= 1) throw new ValidationError({ msg: 'The file has a header but no data rows', code: 'NO_DATA_ROWS' });
    done = true;
  }

  return {
    chunks: checked(),
    result(): CheckedUpload {
      if (!done || !header) throw new Error('checkUpload: the upload was not read to its end');
      return { bytes, rows: parser!.records - 1, header: header.fields, columns: header.columns, format: { encoding: decoder!.encoding, delimiter: parser!.delimiter } };
    },
  };
}

function headerTooLong(): ValidationError {
  return new ValidationError({ msg: `The header row is longer than ${MAX_HEADER_CHARS} characters`, code: 'HEADER_TOO_LONG', row: 1 });
}

function tooManyRows(maxRows: number): TooLargeError {
  return new TooLargeError({ msg: `The file has more than ${maxRows} data rows (IMPORT_MAX_ROWS)`, code: 'TOO_MANY_ROWS' });
}

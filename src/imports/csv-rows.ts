import Papa from 'papaparse';

const PIECE_CHARS = 16 * 1024;

export interface CsvRecord {
  /** Line of the file on which the record starts; the header is line 1. */
  line: number;
  fields: string[];
  /** Set when the record is malformed (an unterminated quote). */
  problem?: string;
}

/**
 * Parses CSV text (RFC 4180: comma-separated, quotes around commas and newlines) into records as the text arrives,
 * a chunk at a time, with the line each record starts on. Blank lines are skipped but counted, so line numbers
 * match the file. papaparse's parser does the parsing (measured fastest, bench/csv-parsers.ts); it is fed each chunk
 * synchronously and hands back the records the chunk completes, keeping the unfinished last one for the next chunk —
 * what papaparse's own streamer does, without a promise per record.
 */
export async function* csvRecordBatches(text: AsyncIterable<string>): AsyncGenerator<CsvRecord[]> {
  // Never guessed: papaparse guesses from the first chunk alone, and a chunk that ends before the first line does
  // (or between its \r and \n) makes it split a CRLF file on the wrong character. Splitting on \n and dropping the
  // \r left on the last field reads LF, CRLF and mixed files alike, chunked any way.
  const parser = new Papa.Parser({ delimiter: ',', newline: '\n', skipEmptyLines: false });
  let line = 1;
  let partial = '';
  const take = (input: string, last: boolean): CsvRecord[] => {
    const result = parser.parse(input, 0, !last) as Papa.ParseResult<string[]>;
    const quoteErrors = new Set(result.errors.filter((e) => e.type === 'Quotes').map((e) => e.row));
    const records: CsvRecord[] = [];
    result.data.forEach((fields, index) => {
      const end = fields.length - 1;
      if (end >= 0 && fields[end]!.endsWith('\r')) fields[end] = fields[end]!.slice(0, -1);
      const start = line;
      line += 1 + countNewlines(fields);
      if (fields.length === 1 && fields[0]!.trim() === '') return;
      const record: CsvRecord = { line: start, fields };
      if (quoteErrors.has(index)) record.problem = 'a quoted field is not closed';
      records.push(record);
    });
    partial = last ? '' : input.substring(result.meta.cursor);
    return records;
  };
  for await (const chunk of text) {
    // A large chunk is parsed a piece at a time: papaparse hands back every record of its input at once, and a
    // megabyte of them alive together would be promoted to the old generation before it is used.
    for (let at = 0; at < chunk.length; at += PIECE_CHARS) {
      const records = take(partial + (at === 0 && chunk.length <= PIECE_CHARS ? chunk : chunk.slice(at, at + PIECE_CHARS)), false);
      if (records.length) yield records;
    }
  }
  // The end of the text ends the last record, which the chunks so far left open; a text ending in a newline has none.
  if (partial !== '') {
    const records = take(partial, true);
    if (records.length) yield records;
  }
}

/** The records of csvRecordBatches one by one. */
export async function* csvRecords(text: AsyncIterable<string>): AsyncGenerator<CsvRecord> {
  for await (const batch of csvRecordBatches(text)) yield* batch;
}

function countNewlines(fields: string[]): number {
  let n = 0;
  for (const field of fields) {
    for (let i = field.indexOf('\n'); i !== -1; i = field.indexOf('\n', i + 1)) n++;
  }
  return n;
}

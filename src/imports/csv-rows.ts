import { Readable } from 'node:stream';
import Papa from 'papaparse';

export interface CsvRecord {
  /** Line of the file on which the record starts; the header is line 1. */
  line: number;
  fields: string[];
  /** Set when the record is malformed (an unterminated quote). */
  problem?: string;
}

const HIGH_WATER = 2048;

/**
 * Parses CSV text (RFC 4180: comma-separated, quotes around commas and newlines) into records as they arrive,
 * with the line each starts on. Blank lines are skipped but counted, so line numbers match the file.
 * papaparse does the parsing: measured fastest of the streaming parsers (bench/csv-parsers.ts).
 */
export async function* csvRecords(text: AsyncIterable<string>): AsyncGenerator<CsvRecord> {
  const queue: CsvRecord[] = [];
  let line = 1;
  let finished = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  let paused = false;

  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const input = Readable.from(text);
  input.on('error', (error) => {
    failure = error;
    finished = true;
    notify();
  });
  Papa.parse<string[]>(input as unknown as NodeJS.ReadableStream, {
    delimiter: ',',
    // Never guessed: papaparse guesses from the first chunk alone, and a chunk that ends before the first line
    // does (or between its \r and \n) makes it split a CRLF file on the wrong character. Splitting on \n and
    // dropping the \r left on the last field reads LF, CRLF and mixed files alike, chunked any way.
    newline: '\n',
    skipEmptyLines: false,
    step(results) {
      const fields = results.data;
      const last = fields.length - 1;
      if (last >= 0 && fields[last]!.endsWith('\r')) fields[last] = fields[last]!.slice(0, -1);
      const start = line;
      line += 1 + countNewlines(fields);
      if (fields.length === 1 && fields[0]!.trim() === '') return;
      const record: CsvRecord = { line: start, fields };
      const quoteError = results.errors.find((e) => e.type === 'Quotes');
      if (quoteError) record.problem = 'a quoted field is not closed';
      queue.push(record);
      // Backpressure on the input itself: papaparse's own pause() stops parsing but keeps buffering the input.
      if (queue.length >= HIGH_WATER && !paused) {
        paused = true;
        input.pause();
      }
      notify();
    },
    complete() {
      finished = true;
      notify();
    },
    error(error) {
      failure = failure ?? error;
      finished = true;
      notify();
    },
  });

  try {
    while (true) {
      if (queue.length > 0) {
        yield* queue.splice(0, queue.length);
        if (paused) {
          paused = false;
          input.resume();
        }
        continue;
      }
      if (failure) throw failure;
      if (finished) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    if (!finished) input.destroy();
  }
}

function countNewlines(fields: string[]): number {
  let n = 0;
  for (const field of fields) {
    for (let i = field.indexOf('\n'); i !== -1; i = field.indexOf('\n', i + 1)) n++;
  }
  return n;
}

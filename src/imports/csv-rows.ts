/** A delimiter the import detects from the header line. */
export type CsvDelimiter = ',' | ';' | '\t' | '|';

const DELIMITERS: CsvDelimiter[] = [',', ';', '\t', '|'];

/** Longest cell kept: four times the longest value a contact holds, room for padding; past it the row fails. */
export const MAX_CELL_CHARS = 1024;

export interface CsvRecord {
  /** Line of the file on which the record starts; the header is line 1. */
  line: number;
  fields: string[];
  /** Set when the record is malformed (an unterminated quote). */
  problem?: string;
  /** Indexes of cells longer than MAX_CELL_CHARS: kept cut at that length, their row fails. */
  overlong?: number[];
}

/**
 * The delimiter of a header line: whichever of `,` `;` tab `|` occurs most often outside quotes (comma on a tie or
 * when none does, a file of one column).
 */
export function detectDelimiter(headerLine: string): CsvDelimiter {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const c of headerLine) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && DELIMITERS.includes(c as CsvDelimiter)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best: CsvDelimiter = ',';
  for (const d of DELIMITERS) if ((counts.get(d) ?? 0) > (counts.get(best) ?? 0)) best = d;
  return best;
}

/** The text of the first line (up to its first CR or LF), once the text holds one; undefined before. */
export function firstLineOf(text: string, final: boolean): string | undefined {
  const end = text.search(/[\r\n]/);
  return end >= 0 ? text.slice(0, end) : final ? text : undefined;
}

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;
const CLOSED = 4;

/**
 * RFC 4180 records as spreadsheets write them, fed text a chunk at a time: quotes around delimiters and line breaks,
 * `""` for a quote, and any mix of CRLF, LF and CR ending records (inside quotes, line breaks are kept as they are).
 * Whitespace after a closing quote is ignored; a blank line is skipped but counted, so line numbers match the file
 * as an editor shows it. State is kept between chunks rather than text: a record split anywhere reads the same, and
 * a cell longer than MAX_CELL_CHARS is cut as it streams by, so a 50 MB line costs no more memory than a short one.
 * `collect: false` only counts records (no cell is built).
 */
export class CsvParser {
  records = 0;
  private state = FIELD_START;
  private line = 1;
  private recordLine = 1;
  private fields: string[] = [];
  private field = '';
  private fieldLength = 0;
  private overlong: number[] | undefined;
  private problem: string | undefined;
  /** A CR ended the last record (or was the last character in quotes): an LF right after it belongs to it. */
  private afterCr = false;
  private quotedCr = false;
  private content = false;
  private out: CsvRecord[] = [];
  // Where the next delimiter, LF and CR are in the text being fed (found with indexOf, looked for again only once
  // passed): papaparse's trick, and what keeps a file without CR from paying for CR.
  private nextDelimiter = -1;
  private nextLf = -1;
  private nextCr = -1;

  constructor(readonly delimiter: CsvDelimiter = ',', public collect = true) {}

  /** The records this chunk completes. */
  feed(text: string): CsvRecord[] {
    const d = this.delimiter;
    let i = 0;
    const n = text.length;
    this.nextDelimiter = this.nextLf = this.nextCr = -1;
    while (i < n) {
      if (this.afterCr) {
        this.afterCr = false;
        if (text.charCodeAt(i) === 10) {
          i++;
          continue;
        }
      }
      const state = this.state;
      if (state === FIELD_START) {
        if (text[i] === '"') {
          this.state = QUOTED;
          this.content = true;
          i++;
        } else {
          this.state = UNQUOTED;
        }
      } else if (state === UNQUOTED) {
        if (this.nextDelimiter < i) this.nextDelimiter = indexOrEnd(text, d, i);
        if (this.nextLf < i) this.nextLf = indexOrEnd(text, '\n', i);
        if (this.nextCr < i) this.nextCr = indexOrEnd(text, '\r', i);
        const j = Math.min(this.nextDelimiter, this.nextLf, this.nextCr);
        if (j > i) this.append(text, i, j);
        if (j >= n) return this.take();
        const c = text[j];
        i = j + 1;
        if (c === d) {
          this.content = true;
          this.endField();
        } else {
          this.endRecord(c === '\r');
        }
      } else if (state === QUOTED) {
        const j = text.indexOf('"', i);
        const end = j < 0 ? n : j;
        if (end > i) {
          this.countQuotedBreaks(text, i, end);
          this.append(text, i, end);
        }
        if (j < 0) return this.take();
        this.state = QUOTE_IN_QUOTED;
        i = j + 1;
      } else {
        // QUOTE_IN_QUOTED: the quote just seen closes the field or, doubled, is one quote; CLOSED: after the close.
        const c = text[i]!;
        if (state === QUOTE_IN_QUOTED && c === '"') {
          this.append('"', 0, 1);
          this.state = QUOTED;
        } else if (c === d) {
          this.content = true;
          this.endField();
        } else if (c === '\r' || c === '\n') {
          this.endRecord(c === '\r');
        } else if (c === ' ' || c === '\t') {
          this.state = CLOSED;
        } else {
          this.problem ??= 'a quote inside a quoted field is not doubled';
          this.append(text, i, i + 1);
          this.state = QUOTED;
        }
        i++;
      }
    }
    return this.take();
  }

  /** The end of the text ends the last record. */
  end(): CsvRecord[] {
    if (this.state === QUOTED) this.problem ??= 'a quoted field is not closed';
    if (this.state !== FIELD_START || this.fields.length > 0) this.endRecord(false);
    return this.take();
  }

  private take(): CsvRecord[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private append(text: string, from: number, to: number): void {
    if (!this.content && this.state === UNQUOTED && /\S/.test(text.slice(from, to))) this.content = true;
    if (!this.collect) return;
    const room = MAX_CELL_CHARS - this.fieldLength;
    if (room <= 0) return;
    const piece = to - from > room ? text.slice(from, from + room + 1) : text.slice(from, to);
    this.fieldLength += piece.length;
    this.field += piece;
  }

  private countQuotedBreaks(text: string, from: number, to: number): void {
    for (let k = from; k < to; k++) {
      const c = text.charCodeAt(k);
      if (c === 10) {
        if (!this.quotedCr) this.line++;
        this.quotedCr = false;
      } else if (c === 13) {
        this.line++;
        this.quotedCr = true;
      } else {
        this.quotedCr = false;
      }
    }
  }

  private endField(): void {
    if (this.collect) {
      let value = this.field;
      if (this.fieldLength > MAX_CELL_CHARS) {
        (this.overlong ??= []).push(this.fields.length);
        value = value.slice(0, MAX_CELL_CHARS);
      }
      this.fields.push(value);
    } else {
      this.fields.length++;
    }
    this.field = '';
    this.fieldLength = 0;
    this.state = FIELD_START;
    this.quotedCr = false;
  }

  private endRecord(cr: boolean): void {
    this.endField();
    const fields = this.fields;
    const blank = !this.content;
    if (!blank) {
      this.records++;
      if (this.collect) {
        const record: CsvRecord = { line: this.recordLine, fields };
        if (this.problem) record.problem = this.problem;
        if (this.overlong) record.overlong = this.overlong;
        this.out.push(record);
      }
    }
    this.fields = [];
    this.problem = undefined;
    this.overlong = undefined;
    this.content = false;
    this.line++;
    this.recordLine = this.line;
    this.afterCr = cr;
  }
}

function indexOrEnd(text: string, c: string, from: number): number {
  const at = text.indexOf(c, from);
  return at < 0 ? text.length : at;
}

/**
 * Parses CSV text into records as the text arrives, a batch per chunk, with the line each record starts on. Blank
 * lines are skipped but counted, so line numbers match the file.
 */
export async function* csvRecordBatches(text: AsyncIterable<string>, delimiter: CsvDelimiter = ','): AsyncGenerator<CsvRecord[]> {
  const parser = new CsvParser(delimiter);
  for await (const chunk of text) {
    const records = parser.feed(chunk);
    if (records.length) yield records;
  }
  const records = parser.end();
  if (records.length) yield records;
}

/** The records of csvRecordBatches one by one. */
export async function* csvRecords(text: AsyncIterable<string>, delimiter: CsvDelimiter = ','): AsyncGenerator<CsvRecord> {
  for await (const batch of csvRecordBatches(text, delimiter)) yield* batch;
}

import { TooLargeError, UnsupportedMediaError } from '../shared/errors.js';
import { decodeWindows1252 } from '../shared/charset.js';

/** The encodings a CSV file is read in. */
export type CsvEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

// Labels a `charset` parameter may carry (WHATWG: iso-8859-1, latin1 and ascii are read as windows-1252).
const LABELS = new Map<string, CsvEncoding>([
  ['utf-8', 'utf-8'], ['utf8', 'utf-8'],
  ['utf-16', 'utf-16le'], ['utf-16le', 'utf-16le'], ['utf-16be', 'utf-16be'],
  ['windows-1252', 'windows-1252'], ['cp1252', 'windows-1252'], ['iso-8859-1', 'windows-1252'], ['iso8859-1', 'windows-1252'],
  ['latin1', 'windows-1252'], ['us-ascii', 'windows-1252'], ['ascii', 'windows-1252'],
]);

/** The encoding a declared charset names; one not known is refused (415). */
export function encodingOfCharset(charset: string): CsvEncoding {
  const encoding = LABELS.get(charset.trim().toLowerCase());
  if (!encoding) {
    throw new UnsupportedMediaError({ msg: `charset ${charset} is not accepted; send UTF-8, UTF-16 or Windows-1252 (ISO-8859-1)`, code: 'UNSUPPORTED_CHARSET' });
  }
  return encoding;
}

// Files that are not text, known by their first bytes, and what the caller may have meant.
const SIGNATURES: [number[], string][] = [
  [[0x1f, 0x8b], 'a gzip file (send it with Content-Encoding: gzip to have it decoded)'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip file (an .xlsx workbook is one: save it as CSV)'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'an Office document (save it as CSV)'],
];

/** A BOM's encoding and length, when the bytes start with one. */
function bomOf(head: Buffer): { encoding: CsvEncoding; length: number } | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

/** Bytes held back at the end of a chunk by a streaming UTF-8 decoder: an incomplete last sequence. */
function incompleteUtf8Tail(chunk: Buffer): Buffer {
  for (let back = 1; back <= Math.min(3, chunk.length); back++) {
    const b = chunk[chunk.length - back]!;
    if (b < 0x80) return Buffer.alloc(0);
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return need > back ? chunk.subarray(chunk.length - back) : Buffer.alloc(0);
    }
  }
  return Buffer.alloc(0);
}

// C0 controls other than tab, LF, FF and CR: in a file that is not UTF-8 they say "binary", not "Windows-1252".
const BINARY_CONTROL = /[\u0000-\u0008\u000b\u000e-\u001a\u001c-\u001f]/;

/**
 * Decodes an upload as it streams, deciding its encoding as a spreadsheet user would expect: a BOM decides UTF-8 /
 * UTF-16LE / UTF-16BE; a declared charset overrides; otherwise UTF-8 while the bytes are valid UTF-8, and Windows-1252
 * (Excel's "CSV" outside UTF-8) from the first byte that is not. The text before that byte is ASCII or valid UTF-8,
 * whose structure (quotes, delimiters, line ends) reads the same either way; `encoding` is the final decision.
 * A NUL, a binary signature, or a byte invalid in a declared or BOM-given encoding is refused as not text (415).
 */
export class SniffingDecoder {
  encoding: CsvEncoding = 'utf-8';
  private decided: 'declared' | 'bom' | 'guess' | undefined;
  private started = false;
  private head: Buffer = Buffer.alloc(0);
  private decoder: InstanceType<typeof TextDecoder> | undefined;
  private previous: Buffer = Buffer.alloc(0);
  private total = 0;

  constructor(private readonly maxBytes: number, declared?: CsvEncoding) {
    if (declared) {
      this.encoding = declared;
      this.decided = 'declared';
    }
  }

  /** Text of the next chunk (empty while the first bytes are too few to know a BOM or a signature). */
  push(chunk: Buffer): string {
    this.total += chunk.length;
    if (this.total > this.maxBytes) throw fileTooLarge(this.maxBytes);
    if (this.started) return this.decode(chunk, false);
    this.head = Buffer.concat([this.head, chunk]);
    return this.head.length < 4 ? '' : this.begin();
  }

  /** The text the decoder still held; the encoding is final after this. */
  end(): string {
    const text = this.started ? '' : this.begin();
    return text + this.decode(Buffer.alloc(0), true);
  }

  private begin(): string {
    const head = this.head;
    this.head = Buffer.alloc(0);
    this.started = true;
    for (const [signature, what] of SIGNATURES) {
      if (head.length >= signature.length && signature.every((b, i) => head[i] === b)) throw notText(`it looks like ${what}`);
    }
    const bom = bomOf(head);
    if (this.decided !== 'declared' && bom) {
      this.encoding = bom.encoding;
      this.decided = 'bom';
    }
    this.decided ??= 'guess';
    // windows-1252 is decoded without TextDecoder (see shared/windows-1252.ts).
    if (this.encoding !== 'windows-1252') this.decoder = new TextDecoder(this.encoding, { fatal: true });
    return this.decode(head, false);
  }

  private decode(chunk: Buffer, last: boolean): string {
    let text: string;
    if (this.encoding === 'windows-1252') {
      text = decodeWindows1252(chunk);
    } else {
      try {
        text = this.decoder!.decode(chunk, { stream: !last });
      } catch {
        if (this.decided !== 'guess' || this.encoding !== 'utf-8') throw notText(`it is not valid ${this.encoding.toUpperCase()}`);
        // Not UTF-8: read as Windows-1252 from here, with the bytes the UTF-8 decoder was holding back.
        this.encoding = 'windows-1252';
        text = decodeWindows1252(Buffer.concat([incompleteUtf8Tail(this.previous), chunk]));
      }
    }
    if (chunk.length) this.previous = chunk;
    if (text.includes('\u0000')) throw notText('it holds a NUL character');
    if (this.encoding === 'windows-1252' && this.decided === 'guess' && BINARY_CONTROL.test(text)) throw notText('it holds control bytes');
    return text;
  }
}

/** The text of a stored upload whose encoding was decided when it was received. */
export async function* decodeText(bytes: AsyncIterable<Buffer>, encoding: CsvEncoding): AsyncGenerator<string> {
  if (encoding === 'utf-8') {
    yield* decodeUtf8Text(bytes, Number.MAX_SAFE_INTEGER);
    return;
  }
  if (encoding === 'windows-1252') {
    for await (const chunk of bytes) yield decodeWindows1252(chunk);
    return;
  }
  const decoder = new TextDecoder(encoding, { fatal: true });
  for await (const chunk of bytes) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const tail = decoder.decode();
  if (tail) yield tail;
}

/**
 * Bytes to text, strictly: UTF-8 with or without a BOM (the BOM is dropped), anything that is not valid UTF-8
 * or holds a NUL byte is refused as "not text", and more than `maxBytes` is refused as too large.
 */
export async function* decodeUtf8Text(bytes: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let total = 0;
  for await (const chunk of bytes) {
    total += chunk.length;
    if (total > maxBytes) throw fileTooLarge(maxBytes);
    if (chunk.includes(0)) throw notText();
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw notText();
    }
    if (text) yield text;
  }
  let tail: string;
  try {
    tail = decoder.decode();
  } catch {
    throw notText();
  }
  if (tail) yield tail;
}

export function fileTooLarge(maxBytes: number): TooLargeError {
  return new TooLargeError({ msg: `The file is larger than ${maxBytes} bytes (IMPORT_MAX_BYTES)`, code: 'FILE_TOO_LARGE' });
}

function notText(why?: string): UnsupportedMediaError {
  return new UnsupportedMediaError({
    msg: why ? `The upload is not a text (CSV) file: ${why}` : 'The upload is not a UTF-8 text (CSV) file',
    code: 'NOT_TEXT',
  });
}

/** A character JSON.stringify would escape (quote, backslash, control) or a UTF-16 surrogate (lone ones are escaped). */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * JSON written straight into a buffer, a piece at a time: for answers made of millions of entries, where a string per
 * entry, then a string of all of them, then their bytes, was most of the garbage a large import made. The first byte
 * is kept free for a separator the owner may put before the entries (`bytes`).
 */
export class JsonBytes {
  private buf: Buffer;
  private end = 1;

  /** A new buffer of about `capacity` bytes, or one to write over (it grows if need be). */
  constructor(capacity: number | Buffer) {
    this.buf = typeof capacity === 'number' ? Buffer.allocUnsafeSlow(Math.max(capacity, 64)) : capacity;
  }

  /** The whole buffer written into, to be written over by a later JsonBytes once its bytes are used. */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.buf.length - this.end >= n) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.end + n));
    this.buf.copy(bigger, 0, 0, this.end);
    this.buf = bigger;
  }

  /** Text that is JSON already (punctuation, keys, a value made JSON elsewhere). */
  raw(text: string): void {
    this.reserve(text.length * 3);
    this.end += this.buf.write(text, this.end, 'utf8');
  }

  /** A string as JSON.stringify writes it. */
  string(value: string): void {
    if (ESCAPED.test(value)) return this.raw(JSON.stringify(value));
    this.reserve(value.length * 3 + 2);
    this.buf[this.end++] = 0x22;
    this.end += this.buf.write(value, this.end, 'utf8');
    this.buf[this.end++] = 0x22;
  }

  /** `${first} ${second}` as a JSON string, without making that string when neither needs escaping. */
  stringOfTwo(first: string, second: string): void {
    if (ESCAPED.test(first) || ESCAPED.test(second)) return this.raw(JSON.stringify(`${first} ${second}`));
    this.reserve((first.length + second.length) * 3 + 3);
    this.buf[this.end++] = 0x22;
    this.end += this.buf.write(first, this.end, 'utf8');
    this.buf[this.end++] = 0x20;
    this.end += this.buf.write(second, this.end, 'utf8');
    this.buf[this.end++] = 0x22;
  }

  get empty(): boolean {
    return this.end === 1;
  }

  /** What was written; with `separator`, that byte before it. */
  bytes(separator?: number): Buffer {
    if (separator === undefined) return this.buf.subarray(1, this.end);
    this.buf[0] = separator;
    return this.buf.subarray(0, this.end);
  }
}

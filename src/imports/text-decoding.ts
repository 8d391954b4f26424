import { TooLargeError, UnsupportedMediaError } from '../shared/errors.js';

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

function notText(): UnsupportedMediaError {
  return new UnsupportedMediaError({ msg: 'The upload is not a UTF-8 text (CSV) file', code: 'NOT_TEXT' });
}

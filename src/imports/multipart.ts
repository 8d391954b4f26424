import StreamSearch from 'streamsearch';

/** A multipart body could not be read as one. */
export class MultipartError extends Error {
  override name = 'MultipartError';
}

const MAX_HEADER_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** `boundary=…` of a Content-Type, whatever its media type. */
export function boundaryOf(contentType: string): string | undefined {
  const match = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  return boundary && boundary.length <= 70 ? boundary : undefined;
}

interface PartHeaders {
  name: string | undefined;
  filename: string | undefined;
  /** The part's Content-Type charset, when it declares one. */
  charset: string | undefined;
}

/**
 * Streams the content of the uploaded file out of a multipart body: the part named `preferredName`, or else the
 * first part that carries a filename. Any Content-Disposition type is accepted, because curl labels parts
 * `attachment` when the caller overrides the request's Content-Type (as the vendor's sample request does);
 * busboy skips such parts, which is why this reader exists.
 */
export async function* multipartFile(
  body: AsyncIterable<Buffer>,
  boundary: string,
  preferredName: string,
  onFileName?: (name: string | undefined, charset?: string) => void,
): AsyncGenerator<Buffer> {
  type State = 'preamble' | 'after-boundary' | 'headers' | 'body' | 'done';
  let state = 'preamble' as State;
  let pending = Buffer.alloc(0); // bytes of a boundary line or of part headers not yet complete
  let selected = false;
  let found = false;
  let out: Buffer[] = [];

  const onData = (data: Buffer) => {
    if (state === 'body') {
      if (selected) out.push(Buffer.from(data)); // streamsearch reuses its buffers
      return;
    }
    if (state === 'preamble' || state === 'done') return;
    pending = pending.length ? Buffer.concat([pending, data]) : Buffer.from(data);
    if (state === 'after-boundary') {
      if (pending.length < 2) return;
      if (pending[0] === 0x2d && pending[1] === 0x2d) {
        state = 'done';
        return;
      }
      const eol = pending.indexOf(CRLF);
      if (eol < 0) {
        if (pending.length > 256) throw new MultipartError('malformed multipart boundary line');
        return;
      }
      pending = pending.subarray(eol + 2);
      state = 'headers';
    }
    // state === 'headers'; a part with no headers starts its body right away
    const end = pending.subarray(0, 2).equals(CRLF) ? -2 : pending.indexOf(HEADER_END);
    if (end === -1) {
      if (pending.length > MAX_HEADER_BYTES) throw new MultipartError('multipart part headers are too large');
      return;
    }
    const headers = parsePartHeaders(end < 0 ? '' : pending.subarray(0, end).toString('latin1'));
    const rest = pending.subarray(end < 0 ? 2 : end + 4);
    pending = Buffer.alloc(0);
    selected = !found && (headers.name === preferredName || headers.filename !== undefined);
    if (selected) {
      found = true;
      onFileName?.(headers.filename, headers.charset);
    }
    state = 'body';
    if (rest.length) onData(rest);
  };

  const search = new StreamSearch(Buffer.from(`\r\n--${boundary}`), (isMatch, data, start, end) => {
    if (data && end > start) onData(data.subarray(start, end));
    if (isMatch) {
      if (state === 'headers') throw new MultipartError('multipart part ended inside its headers');
      if (state !== 'done') state = 'after-boundary';
      selected = false;
      pending = Buffer.alloc(0);
    }
  });

  // The first boundary has no CRLF before it; feeding one lets a single needle find every boundary.
  search.push(CRLF);
  for await (const chunk of body) {
    search.push(chunk);
    if (out.length) {
      const ready = out;
      out = [];
      yield* ready;
    }
  }
  if (state !== 'done') throw new MultipartError('the multipart body ended before its closing boundary');
  if (!found) throw new MultipartError('the multipart body holds no file part');
}

function parsePartHeaders(block: string): PartHeaders {
  const result: PartHeaders = { name: undefined, filename: undefined, charset: undefined };
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'content-type') result.charset = param(line.slice(colon + 1), 'charset');
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    const params = line.slice(colon + 1);
    result.name = param(params, 'name');
    result.filename = param(params, 'filename*') ?? param(params, 'filename');
  }
  return result;
}

function param(header: string, key: string): string | undefined {
  const escaped = key.replace('*', '\\*');
  const match = new RegExp(`(?:^|;)\\s*${escaped}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i').exec(header);
  if (!match) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2];
}

import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UnsupportedMediaError, ValidationError, type ErrorDetail } from '../shared/errors.js';
import { charsetOf, decodeWindows1252 } from '../shared/charset.js';

type Encoding = 'gzip' | 'deflate';

/** `Content-Encoding` of a body: gzip and deflate are decoded, identity is none, anything else is refused. */
export function contentEncodingOf(header: string | string[] | undefined): Encoding | undefined {
  const value = (Array.isArray(header) ? header.join(',') : header ?? '').trim().toLowerCase();
  if (value === '' || value === 'identity') return undefined;
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  if (value === 'deflate') return 'deflate';
  throw new UnsupportedMediaError({
    msg: `Content-Encoding ${value} is not accepted; send the body as is, gzip or deflate`,
    code: 'UNSUPPORTED_CONTENT_ENCODING',
  });
}

interface CountedReadable extends Readable {
  /** Bytes as they came over the wire, before decoding: Fastify checks them against Content-Length. */
  receivedEncodedLength?: number;
}

/**
 * The body as a stream that starts reading only when someone reads it: only then is `100 Continue` sent to a client
 * that waits for it (so a request refused by its token, media type or size never sends its upload), and only then
 * does a gzip or deflate body start to be decoded. Every limit downstream counts the decoded bytes.
 */
function lazyBody(raw: Readable, reply: FastifyReply, expectsContinue: boolean, encoding: Encoding | undefined): CountedReadable {
  let source: Readable | undefined;
  const out: CountedReadable = new Readable({
    read() {
      if (!source) {
        if (expectsContinue && !reply.raw.headersSent) reply.raw.writeContinue();
        out.receivedEncodedLength = 0;
        raw.on('data', (chunk: Buffer) => {
          out.receivedEncodedLength! += chunk.length;
        });
        source = raw;
        if (encoding) {
          const decoder = encoding === 'gzip' ? zlib.createGunzip() : zlib.createInflate();
          raw.on('error', (error) => decoder.destroy(error));
          source = raw.pipe(decoder);
        }
        source.on('data', (chunk: Buffer) => {
          if (!out.push(chunk)) source!.pause();
        });
        source.on('end', () => out.push(null));
        source.on('error', (error: Error & { code?: string }) => {
          out.destroy(
            error.code?.startsWith('Z_')
              ? new ValidationError({ msg: `The body is not valid ${encoding} data (${error.message})`, code: 'INVALID_CONTENT_ENCODING' })
              : error,
          );
        });
      }
      source.resume();
    },
    destroy(error, callback) {
      source?.destroy();
      callback(error);
    },
  });
  return out;
}

/** preParsing: a body is decoded by its Content-Encoding, and 100 Continue waits until the body is read. */
export async function bodyStream(request: FastifyRequest, reply: FastifyReply, payload: Readable): Promise<Readable> {
  const encoding = contentEncodingOf(request.headers['content-encoding']);
  const expectsContinue = String(request.headers.expect ?? '').trim().toLowerCase() === '100-continue';
  if (!encoding && !expectsContinue) return payload;
  return lazyBody(payload, reply, expectsContinue, encoding);
}

// Charsets a JSON body may declare (WHATWG labels: iso-8859-1 and latin1 decode as windows-1252, as browsers do).
const CHARSETS = new Map<string, string>([
  ['utf-8', 'utf-8'], ['utf8', 'utf-8'], ['us-ascii', 'utf-8'], ['ascii', 'utf-8'],
  ['utf-16', 'utf-16le'], ['utf-16le', 'utf-16le'], ['utf-16be', 'utf-16be'],
  ['iso-8859-1', 'windows-1252'], ['latin1', 'windows-1252'], ['iso8859-1', 'windows-1252'], ['windows-1252', 'windows-1252'], ['cp1252', 'windows-1252'],
]);

/** Bytes to text in the declared charset (UTF-8 when none); a byte invalid in it is refused, never replaced. */
export function decodeBody(body: Buffer, charset: string | undefined): string {
  let encoding = CHARSETS.get(charset ?? 'utf-8');
  if (!encoding) {
    throw new UnsupportedMediaError({ msg: `charset ${charset} is not accepted; send UTF-8, UTF-16 or ISO-8859-1`, code: 'UNSUPPORTED_CHARSET' });
  }
  // UTF-16 without a byte order: its BOM, when there is one, says which.
  if (charset === 'utf-16' && body[0] === 0xfe && body[1] === 0xff) encoding = 'utf-16be';
  if (encoding === 'windows-1252') return decodeWindows1252(body);
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(body);
  } catch {
    throw new ValidationError({ msg: `The body is not valid ${encoding === 'utf-8' ? 'UTF-8' : encoding} text (declare its charset in Content-Type)`, code: 'INVALID_ENCODING' });
  }
}

// With the u flag a pair is one code point, so only an unpaired half matches.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * The strings (and keys) of a parsed body that cannot be stored as UTF-8 exactly: lone UTF-16 surrogates, which
 * JSON's `\ud800` escapes can carry. Named as validation errors name fields, an index for the top-level array's
 * element; at most `max` of them.
 */
export function illFormedText(value: unknown, max = 100): ErrorDetail[] {
  const found: ErrorDetail[] = [];
  const visit = (node: unknown, path: string[]): void => {
    if (found.length >= max) return;
    if (typeof node === 'string') {
      if (LONE_SURROGATE.test(node)) found.push(detailAt(path));
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, [...path, String(i)]));
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, inner] of Object.entries(node)) {
        if (LONE_SURROGATE.test(key)) found.push(detailAt(path));
        else visit(inner, [...path, key]);
      }
    }
  };
  visit(value, []);
  return found;
}

function detailAt(path: string[]): ErrorDetail {
  const segments = [...path];
  const detail: ErrorDetail = { msg: '', code: 'INVALID_TEXT' };
  if (segments.length > 0 && /^\d+$/.test(segments[0]!)) detail.index = Number(segments.shift());
  const field = segments.join('.');
  if (field) detail.field = field;
  detail.msg = `${field || 'The body'} holds a lone UTF-16 surrogate, which is not text and cannot be stored as sent`;
  return detail;
}

/**
 * JSON bodies decoded by their declared charset, strictly, and refused when a string holds a lone surrogate; with
 * Fastify's own parser (prototype poisoning refused) doing the parsing. Content-Encoding and 100 Continue are
 * handled before, for every route.
 */
export function registerRequestBodies(app: FastifyInstance): void {
  app.addHook('preParsing', bodyStream);
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = decodeBody(body as Buffer, charsetOf(request.headers['content-type']));
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    parseJson(request, text, (error, parsed) => {
      if (error) return done(error, undefined);
      const bad = illFormedText(parsed);
      if (bad.length > 0) return done(new ValidationError(bad), undefined);
      done(null, parsed);
    });
  });
}

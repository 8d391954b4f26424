import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';

interface ParserError extends Error {
  code?: string;
  /** llhttp's own words for what it met ("Invalid header value char"); never the bytes themselves. */
  reason?: string;
  /** The bytes the parser had: looked at, never logged. */
  rawPacket?: Buffer;
}

/** A header line that continues on the next (obsolete folding, RFC 9112 5.2): a line break, then space or tab. */
function folded(packet: Buffer | undefined): boolean {
  if (!packet) return false;
  const head = packet.toString('latin1');
  const end = head.indexOf('\r\n\r\n');
  return /\r?\n[ \t]/.test(end < 0 ? head : head.slice(0, end));
}

interface Refusal {
  status: number;
  code: string;
  msg: string;
}

/** What Node's HTTP parser refused, in the contract's words: a status, a code and what the caller should change. */
export function clientRefusal(error: ParserError): Refusal {
  const reason = error.reason ?? '';
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'REQUEST_TIMEOUT', msg: 'The request was not received in time; send it again' };
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'HEADERS_TOO_LARGE',
        msg: `The request line and headers are larger than the ${http.maxHeaderSize} bytes accepted (too long a URL, too many or too large headers)`,
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, code: 'CHUNK_EXTENSIONS_TOO_LARGE', msg: 'The chunk extensions of the body are too large' };
  }
  if (/whitespace after header value/i.test(reason) || (error.code === 'HPE_INVALID_HEADER_TOKEN' && folded(error.rawPacket))) {
    return { status: 400, code: 'HEADER_FOLDED', msg: 'A header continues on the next line (obsolete line folding); send each header on one line' };
  }
  if (/CRLF|LF after/i.test(reason)) {
    return { status: 400, code: 'MALFORMED_REQUEST', msg: `The request is not valid HTTP: ${reason} (end every line with CR LF)` };
  }
  if (error.code === 'HPE_INVALID_TRANSFER_ENCODING' || error.code === 'HPE_UNEXPECTED_CONTENT_LENGTH') {
    return { status: 400, code: 'AMBIGUOUS_BODY_LENGTH', msg: `The request's body length is ambiguous: ${reason}; send one Content-Length or Transfer-Encoding: chunked` };
  }
  return { status: 400, code: 'MALFORMED_REQUEST', msg: `The request is not valid HTTP: ${reason || 'it could not be parsed'}` };
}

/**
 * Fastify's `clientErrorHandler`: refusals Node's parser makes before any route (431 headers too large, 400 a
 * malformed request line, bare LF, NUL or folding in a header, a smuggling probe, 408 too slow) answered in the
 * contract's error shape and logged as one line that holds no header value.
 */
export function answerClientError(log: FastifyBaseLogger, error: ParserError, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal = clientRefusal(error);
  log.info({ status: refusal.status, code: refusal.code, parserCode: error.code, remoteAddress: socket.remoteAddress }, 'request refused by the HTTP parser');
  if (socket.writable) {
    const body = JSON.stringify({ errors: [{ msg: refusal.msg, code: refusal.code }] });
    socket.write(
      `HTTP/1.1 ${refusal.status} ${http.STATUS_CODES[refusal.status]}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

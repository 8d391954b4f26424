import net from 'node:net';

export interface RawReply {
  /** Every status line the server sent, interim (100 Continue) ones first. */
  statuses: number[];
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses what a server wrote on a connection: interim responses, then one final response. */
export function parseRawReply(data: string): RawReply {
  const statuses: number[] = [];
  let rest = data;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return { statuses, status: statuses.at(-1) ?? 0, headers: {}, body: '' };
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
    statuses.push(status);
    rest = rest.slice(end + 4);
    if (status >= 200 || status === 0) {
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = headers['content-length'];
      if (headers['transfer-encoding'] === 'chunked') return { statuses, status, headers, body: dechunk(rest) };
      return { statuses, status, headers, body: length === undefined ? rest : Buffer.from(rest, 'latin1').subarray(0, Number(length)).toString() };
    }
  }
}

function dechunk(data: string): string {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(data.slice(at, eol), 16);
    if (!size) break;
    parts.push(Buffer.from(data.slice(eol + 2, eol + 2 + size), 'latin1'));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts).toString();
}

/** Writes bytes on a new connection and reads until the server closes it (or `idleMs` passes without data). */
export function rawRequest(port: number, data: string | Buffer, idleMs = 1500): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    let received = '';
    let timer = setTimeout(() => socket.destroy(), idleMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), idleMs);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRawReply(received));
    });
    socket.on('timeout', () => reject(new Error('raw request timed out')));
  });
}

/**
 * Sends headers with `Expect: 100-continue` and sends the body only once `100 Continue` arrives, as curl does;
 * reports whether the body was sent.
 */
export function expectContinue(port: number, head: string, body: Buffer | string): Promise<RawReply & { bodySent: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
    let received = '';
    let bodySent = false;
    let timer = setTimeout(() => socket.destroy(), 3000);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), 1500);
      if (!bodySent && /^HTTP\/1\.1 100 /.test(received) && received.includes('\r\n\r\n')) {
        bodySent = true;
        socket.write(body);
      }
      const reply = parseRawReply(received);
      const done = reply.headers['transfer-encoding'] === 'chunked' ? received.endsWith('0\r\n\r\n') : reply.headers['content-length'] !== undefined;
      if (reply.status >= 200 && done) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ ...parseRawReply(received), bodySent });
    });
  });
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundaryOf, MultipartError, multipartFile } from '../../src/imports/multipart.js';

const BOUNDARY = '------------------------d74496d66958873e';
const CSV = 'firstName,lastName\r\nJohn,"Doe\r\n--not a boundary"\r\n';

interface Part {
  headers: string[];
  content: string | Buffer;
}

function body(parts: Part[], boundary = BOUNDARY, { close = true, preamble = '' } = {}): Buffer {
  const pieces: Buffer[] = [Buffer.from(preamble)];
  for (const part of parts) {
    pieces.push(Buffer.from(`--${boundary}\r\n${part.headers.map((h) => `${h}\r\n`).join('')}\r\n`));
    pieces.push(Buffer.isBuffer(part.content) ? part.content : Buffer.from(part.content));
    pieces.push(Buffer.from('\r\n'));
  }
  if (close) pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

const filePart = (disposition = 'form-data', content: string | Buffer = CSV): Part => ({
  headers: [`Content-Disposition: ${disposition}; name="result_file"; filename="sample.csv"`, 'Content-Type: text/csv'],
  content,
});

async function* pieces(buffer: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buffer.length; i += size) yield buffer.subarray(i, i + size);
}

async function read(buffer: Buffer, { size = buffer.length || 1, boundary = BOUNDARY } = {}): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of multipartFile(pieces(buffer, size), boundary, 'result_file')) out.push(chunk);
  return Buffer.concat(out);
}

describe('multipartFile', () => {
  it('reads the file of a form-data part', async () => {
    assert.equal((await read(body([filePart()]))).toString(), CSV);
  });

  it('reads a part labelled attachment, as curl sends it when the caller overrides Content-Type', async () => {
    assert.equal((await read(body([filePart('attachment')]))).toString(), CSV);
  });

  it('skips a text field that comes before the file', async () => {
    const form = body([{ headers: ['Content-Disposition: form-data; name="note"'], content: 'hello\r\nworld' }, filePart()]);
    assert.equal((await read(form)).toString(), CSV);
  });

  it('takes the first file part when none is named result_file', async () => {
    const form = body([
      { headers: ['Content-Disposition: form-data; name="note"'], content: 'not the file' },
      { headers: ['Content-Disposition: form-data; name="upload"; filename="contacts.csv"'], content: CSV },
      { headers: ['Content-Disposition: form-data; name="other"; filename="second.csv"'], content: 'second' },
    ]);
    assert.equal((await read(form)).toString(), CSV);
  });

  it('ignores a preamble before the first boundary', async () => {
    assert.equal((await read(body([filePart()], BOUNDARY, { preamble: 'This is a multi-part message.\r\n' }))).toString(), CSV);
  });

  it('finds every boundary wherever the chunks split it: fed one byte at a time', async () => {
    const form = body([{ headers: ['Content-Disposition: form-data; name="note"'], content: 'x' }, filePart('attachment')]);
    assert.equal((await read(form, { size: 1 })).toString(), CSV);
  });

  it('finds every boundary at every chunk size up to the length of the boundary line', async () => {
    const form = body([filePart()]);
    for (let size = 2; size <= BOUNDARY.length + 6; size++) {
      assert.equal((await read(form, { size })).toString(), CSV, `chunks of ${size}`);
    }
  });

  it('passes binary content through unchanged, byte for byte', async () => {
    const bytes = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7) % 256));
    assert.deepEqual(await read(body([filePart('form-data', bytes)]), { size: 100 }), bytes);
  });

  it('reads an empty file part as no bytes', async () => {
    assert.equal((await read(body([filePart('form-data', '')]))).length, 0);
  });

  it('refuses a body that ends before its closing boundary', async () => {
    await assert.rejects(read(body([filePart()], BOUNDARY, { close: false })), MultipartError);
    const truncated = body([filePart()]);
    await assert.rejects(read(truncated.subarray(0, truncated.length - 30)), MultipartError);
  });

  it('refuses a body that holds no file part', async () => {
    await assert.rejects(read(body([{ headers: ['Content-Disposition: form-data; name="note"'], content: 'hi' }])), /no file part/);
    await assert.rejects(read(body([])), MultipartError);
  });

  it('refuses a body in which the boundary never appears', async () => {
    await assert.rejects(read(Buffer.from('firstName,lastName\nJohn,Doe\n')), MultipartError);
    await assert.rejects(read(Buffer.alloc(0)), MultipartError);
  });

  it('refuses a part whose headers never end', async () => {
    const form = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="result_file"; filename="a.csv"\r\n--${BOUNDARY}--\r\n`);
    await assert.rejects(read(form), MultipartError);
  });
});

describe('boundaryOf', () => {
  it('reads the boundary of multipart/form-data', () => {
    assert.equal(boundaryOf(`multipart/form-data; boundary=${BOUNDARY}`), BOUNDARY);
  });

  it('reads the boundary whatever media type precedes it, as in the seeds’ request', () => {
    assert.equal(boundaryOf(`application/json;charset=UTF-8; boundary=${BOUNDARY}`), BOUNDARY);
    assert.equal(boundaryOf(`Multipart/Form-Data;BOUNDARY=abc`), 'abc');
  });

  it('reads a quoted boundary, which may hold spaces', () => {
    assert.equal(boundaryOf('multipart/form-data; boundary="simple boundary"'), 'simple boundary');
    assert.equal(boundaryOf('multipart/form-data; boundary="a:b"; charset=utf-8'), 'a:b');
  });

  it('finds no boundary where there is none, or one longer than RFC 2046 allows', () => {
    assert.equal(boundaryOf('application/json'), undefined);
    assert.equal(boundaryOf('application/json;charset=UTF-8'), undefined);
    assert.equal(boundaryOf('multipart/form-data'), undefined);
    assert.equal(boundaryOf(`multipart/form-data; boundary=${'x'.repeat(71)}`), undefined);
  });

  it('is not fooled by a parameter whose name ends in boundary', () => {
    assert.equal(boundaryOf('text/csv; xboundary=abc'), undefined);
  });

  it('reads a file whose boundary was quoted in the header', async () => {
    const boundary = 'simple boundary';
    const type = `multipart/form-data; boundary="${boundary}"`;
    assert.equal((await read(body([filePart()], boundaryOf(type)!), { boundary: boundaryOf(type)! })).toString(), CSV);
  });
});

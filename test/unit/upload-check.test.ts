import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvRecords } from '../../src/imports/csv-rows.js';
import { checkUpload } from '../../src/imports/upload-check.js';

const HEADER = 'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension';

async function* chunked(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function counted(text: string, size: number): Promise<number> {
  const check = checkUpload(chunked(text, size), { maxBytes: 1e9, maxRows: 1e9 });
  for await (const _chunk of check.chunks) {
    // read to the end
  }
  return check.result().rows;
}

async function* texts(text: string): AsyncGenerator<string> {
  yield text;
}

describe('the row count of an upload, known before the import parses it', () => {
  const files: Record<string, string> = {
    'LF and a last line without newline': `${HEADER}\na,b,c,1,+91,x\nd,e,f,2,+91,y`,
    CRLF: `${HEADER}\r\na,b,c,1,+91,x\r\nd,e,f,2,+91,y\r\n`,
    'blank and white-space lines': `${HEADER}\n\na,b,c,1,+91,x\n   \n\r\nd,e,f,2,+91,y\n\n`,
    'quoted commas, quotes and newlines': `${HEADER}\n"a, the ""first""",b,c,1,+91,x\n"multi\nline\r\nname",e,f,2,+91,y\n`,
    'a quote inside an unquoted cell': `${HEADER}\nO"Brien,b,c,1,+91,x\nd,e,f,2,+91,y\n`,
    'a quoted cell with text after its closing quote': `${HEADER}\n"ab"c,d,e,1,+91,x\nf,g,h,2,+91,y\n`,
    'an unterminated quote swallowing the rest': `${HEADER}\na,b,c,1,+91,x\n"open,b,c,2,+91,y\nd,e,f,3,+91,z\n`,
    'a line of commas only': `${HEADER}\n,,,,,\na,b,c,1,+91,x\n`,
  };
  for (const [name, text] of Object.entries(files)) {
    it(`counts what the parser finds: ${name}`, async () => {
      let expected = 0;
      for await (const _record of csvRecords(texts(text))) expected++;
      for (const size of [1, 3, 64, 1 << 20]) {
        assert.equal(await counted(text, size), expected - 1, `chunks of ${size} bytes`);
      }
    });
  }
});

async function checked(bytes: Buffer, size: number, charset?: string) {
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const check = checkUpload(chunks(), { maxBytes: 1e9, maxRows: 1e9 }, () => charset);
  for await (const _chunk of check.chunks) {
    // read to the end
  }
  return check.result();
}

describe('how an upload is read, decided as it streams', () => {
  it('reads valid UTF-8 as UTF-8, and switches to Windows-1252 at the first byte that is not, wherever it falls', async () => {
    const ascii = `${HEADER}\n${'a,b,c,1,+91,x\n'.repeat(5000)}`;
    const utf8 = Buffer.from(`${ascii}Jos\u00e9,b,c,2,+91,y\n`);
    const latin = Buffer.concat([Buffer.from(ascii), Buffer.from('Jos\xe9,b,c,2,+91,y\n', 'latin1')]);
    for (const size of [1, 7, 4096, 1 << 20]) {
      assert.deepEqual((await checked(utf8, size)).format, { encoding: 'utf-8', delimiter: ',' }, `utf-8 in chunks of ${size}`);
      const result = await checked(latin, size);
      assert.deepEqual(result.format, { encoding: 'windows-1252', delimiter: ',' }, `windows-1252 in chunks of ${size}`);
      assert.equal(result.rows, 5001);
    }
  });

  it('takes UTF-16 from its BOM and the delimiter from the header line', async () => {
    const text = `${HEADER.replaceAll(',', '\t')}\r\nZoë\tb\tc\t1\t+91\tx\r\n`;
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
    for (const size of [1, 3, 64]) {
      assert.deepEqual((await checked(le, size)).format, { encoding: 'utf-16le', delimiter: '\t' });
      assert.deepEqual((await checked(be, size)).format, { encoding: 'utf-16be', delimiter: '\t' });
    }
    for (const d of [';', '|'] as const) {
      assert.equal((await checked(Buffer.from(`${HEADER.replaceAll(',', d)}\n"a${d}b"${d}x${d}y${d}1${d}2${d}3\n`), 5)).format.delimiter, d);
    }
  });

  it('counts rows ended by CR alone as rows', async () => {
    const text = `${HEADER}\r\na,b,c,1,+91,x\rd,e,f,2,+91,y\r\ng,h,i,3,+91,z\n"j\rk",l,m,4,+91,w\r`;
    for (const size of [1, 2, 5, 1 << 20]) assert.equal((await checked(Buffer.from(text), size)).rows, 4, `chunks of ${size}`);
  });

  it('lets a declared charset decide, and holds the bytes to it', async () => {
    const bytes = Buffer.from(`${HEADER}\nJos\u00e9,b,c,1,+91,x\n`);
    assert.equal((await checked(bytes, 16, 'windows-1252')).format.encoding, 'windows-1252');
    await assert.rejects(checked(Buffer.from(`${HEADER}\nJos\xe9,b,c,1,+91,x\n`, 'latin1'), 16, 'utf-8'), /not a text \(CSV\) file: it is not valid UTF-8/);
    await assert.rejects(checked(bytes, 16, 'ebcdic'), /charset ebcdic is not accepted/);
  });
});

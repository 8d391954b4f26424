import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CSV_COLUMNS, mapHeader } from '../../src/contacts/contact-csv.js';
import { csvRecords, type CsvRecord } from '../../src/imports/csv-rows.js';
import { decodeUtf8Text } from '../../src/imports/text-decoding.js';
import { TooLargeError, UnsupportedMediaError, ValidationError } from '../../src/shared/errors.js';

const HEADER = CSV_COLUMNS.join(',');

async function* chunks<T>(parts: T[]): AsyncGenerator<T> {
  for (const part of parts) yield part;
}

/** Cuts a text into pieces of `size` characters, as a network might deliver it. */
function cut(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

async function records(parts: string[]): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const record of csvRecords(chunks(parts))) out.push(record);
  return out;
}

async function decode(parts: Buffer[], maxBytes = 1024 * 1024): Promise<string> {
  let text = '';
  for await (const piece of decodeUtf8Text(chunks(parts), maxBytes)) text += piece;
  return text;
}

const details = (error: unknown) => (error as ValidationError).details;

describe('mapHeader', () => {
  it('finds each column wherever it sits', () => {
    const header = [...CSV_COLUMNS].reverse();
    const map = mapHeader(header);
    for (const column of CSV_COLUMNS) assert.equal(header[map[column]], column);
  });

  it('ignores letter case and surrounding spaces', () => {
    const map = mapHeader([' FIRSTNAME', 'lastname ', ' Salutation ', 'CellPhoneNumber', 'cellphonecountrycode', '\tCELLPHONEEXTENSION']);
    assert.deepEqual(map, { firstName: 0, lastName: 1, salutation: 2, cellPhoneNumber: 3, cellPhoneCountryCode: 4, cellPhoneExtension: 5 });
  });

  it('ignores a byte order mark on the first header', () => {
    const map = mapHeader([`\uFEFFfirstName`, ...CSV_COLUMNS.slice(1)]);
    assert.equal(map.firstName, 0);
  });

  it('ignores extra columns', () => {
    const map = mapHeader(['notes', ...CSV_COLUMNS, 'email']);
    assert.equal(map.firstName, 1);
    assert.equal(map.cellPhoneExtension, 6);
  });

  it('refuses a header without a required column, naming it', () => {
    assert.throws(
      () => mapHeader(CSV_COLUMNS.filter((c) => c !== 'cellPhoneCountryCode')),
      (error) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(details(error).map((d) => [d.code, d.field]), [['MISSING_COLUMN', 'cellPhoneCountryCode']]);
        assert.match(details(error)[0]!.msg, /cellPhoneCountryCode/);
        return true;
      },
    );
  });

  it('names every missing column at once', () => {
    assert.throws(
      () => mapHeader(['firstName', 'lastName']),
      (error) => {
        assert.deepEqual(details(error).map((d) => d.field).sort(), ['cellPhoneCountryCode', 'cellPhoneExtension', 'cellPhoneNumber', 'salutation']);
        return true;
      },
    );
  });

  it('refuses a column that appears twice, rather than keeping one silently', () => {
    assert.throws(
      () => mapHeader([...CSV_COLUMNS, 'FirstName ']),
      (error) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(details(error).map((d) => [d.code, d.field]), [['DUPLICATE_COLUMN', 'firstName']]);
        return true;
      },
    );
  });
});

describe('csvRecords', () => {
  it('reads LF and CRLF files alike, numbering lines from the header', async () => {
    for (const eol of ['\n', '\r\n']) {
      const got = await records([`${HEADER}${eol}a,b,Mr,1,+91,+${eol}c,d,Mrs,2,+91,91${eol}`]);
      assert.deepEqual(got, [
        { line: 1, fields: [...CSV_COLUMNS] },
        { line: 2, fields: ['a', 'b', 'Mr', '1', '+91', '+'] },
        { line: 3, fields: ['c', 'd', 'Mrs', '2', '+91', '91'] },
      ], JSON.stringify(eol));
    }
  });

  it('reads a last line with no newline after it', async () => {
    const got = await records(['h1,h2\nx,y']);
    assert.deepEqual(got.map((r) => r.fields), [['h1', 'h2'], ['x', 'y']]);
  });

  it('keeps commas and newlines inside quotes, and counts the newlines in later line numbers', async () => {
    const got = await records(['h1,h2\r\n"Doe, John","two\r\nlines"\r\nnext,row\r\n"three\nmore\nlines",x\nlast,row\n']);
    assert.deepEqual(got, [
      { line: 1, fields: ['h1', 'h2'] },
      { line: 2, fields: ['Doe, John', 'two\r\nlines'] },
      { line: 4, fields: ['next', 'row'] },
      { line: 5, fields: ['three\nmore\nlines', 'x'] },
      { line: 8, fields: ['last', 'row'] },
    ]);
  });

  it('reads a doubled quote inside quotes as one quote', async () => {
    const got = await records(['h\n"say ""hi"""\n']);
    assert.deepEqual(got[1]!.fields, ['say "hi"']);
  });

  it('skips blank lines but counts them, so line numbers match the file', async () => {
    const got = await records(['\nh1,h2\n\na,b\r\n\r\n   \nc,d\n\n']);
    assert.deepEqual(got.map((r) => [r.line, r.fields]), [[2, ['h1', 'h2']], [4, ['a', 'b']], [7, ['c', 'd']]]);
  });

  it('flags a quote that is never closed, instead of swallowing the rest silently', async () => {
    const got = await records(['h1,h2\na,b\n"unclosed,x\nc,d\n']);
    assert.deepEqual(got[1], { line: 2, fields: ['a', 'b'] });
    assert.equal(got.length, 3);
    assert.equal(got[2]!.line, 3);
    assert.ok(got[2]!.problem, 'the malformed record names its problem');
  });

  it('reads records split across chunk boundaries, whatever the chunk size', async () => {
    const text = `${HEADER}\r\n"Doe, John",doe,Mr,9876543210,+91,+\r\n\r\n"multi\r\nline",x,Mrs,"98765 43211",+91,"a ""q"""\r\nlast,one,Dr,9876543212,91,91\r\n`;
    const whole = await records([text]);
    assert.deepEqual(whole.map((r) => r.line), [1, 2, 4, 6]);
    assert.deepEqual(whole[2]!.fields, ['multi\r\nline', 'x', 'Mrs', '98765 43211', '+91', 'a "q"']);
    for (const size of [1, 2, 3, 5, 7, 13, 64]) {
      assert.deepEqual(await records(cut(text, size)), whole, `chunks of ${size}`);
    }
  });

  it('reads an LF file delivered one character at a time', async () => {
    const text = 'h1,h2\na,"b\nc"\nd,e\n';
    assert.deepEqual(await records(cut(text, 1)), [
      { line: 1, fields: ['h1', 'h2'] },
      { line: 2, fields: ['a', 'b\nc'] },
      { line: 4, fields: ['d', 'e'] },
    ]);
  });

  it('delivers every one of many records, in order, with its own line', async () => {
    const n = 7000;
    let text = 'h1,h2\n';
    for (let i = 0; i < n; i++) text += i % 1000 === 0 ? `"q${i}\nx",${i}\n` : `r${i},${i}\n`;
    const got = await records(cut(text, 4096));
    assert.equal(got.length, n + 1);
    let line = 2;
    for (let i = 0; i < n; i++) {
      const record = got[i + 1]!;
      assert.equal(record.line, line, `record ${i}`);
      assert.equal(record.fields[1], String(i));
      line += i % 1000 === 0 ? 2 : 1;
    }
  });

  it('yields nothing for an empty text', async () => {
    assert.deepEqual(await records([]), []);
    assert.deepEqual(await records(['']), []);
    assert.deepEqual(await records(['\n\r\n']), []);
  });
});

describe('decodeUtf8Text', () => {
  it('decodes UTF-8 and drops a byte order mark', async () => {
    assert.equal(await decode([Buffer.from('\uFEFFJosé,Müller\n')]), 'José,Müller\n');
    assert.equal(await decode([Buffer.from([0xef]), Buffer.from([0xbb, 0xbf]), Buffer.from('a')]), 'a');
  });

  it('keeps a BOM-less file as it is', async () => {
    assert.equal(await decode([Buffer.from('a,b\n')]), 'a,b\n');
  });

  it('decodes a multibyte character split across chunks', async () => {
    const bytes = Buffer.from('日本語,😀\n');
    for (let at = 1; at < bytes.length; at++) {
      assert.equal(await decode([bytes.subarray(0, at), bytes.subarray(at)]), '日本語,😀\n', `split at ${at}`);
    }
    assert.equal(await decode([...bytes].map((b) => Buffer.from([b]))), '日本語,😀\n');
  });

  it('refuses bytes that are not UTF-8 as an unsupported media type (415)', async () => {
    for (const bad of [Buffer.from([0x61, 0xff, 0x62]), Buffer.from('caf\xe9', 'latin1'), Buffer.from([0xc3])]) {
      await assert.rejects(decode([bad]), (error) => {
        assert.ok(error instanceof UnsupportedMediaError);
        assert.equal(error.details[0]!.code, 'NOT_TEXT');
        return true;
      });
    }
  });

  it('refuses a NUL byte: a file holding one is not text (415)', async () => {
    await assert.rejects(decode([Buffer.from('a,b\n'), Buffer.from([0x63, 0x00, 0x64])]), UnsupportedMediaError);
  });

  it('refuses PNG bytes (415)', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
    await assert.rejects(decode([png]), UnsupportedMediaError);
  });

  it('refuses more than the byte limit (413), naming the limit', async () => {
    await assert.rejects(decode([Buffer.alloc(600, 0x61), Buffer.alloc(600, 0x61)], 1024), (error) => {
      assert.ok(error instanceof TooLargeError);
      assert.match(error.details[0]!.msg, /IMPORT_MAX_BYTES/);
      return true;
    });
  });

  it('accepts exactly the byte limit', async () => {
    assert.equal((await decode([Buffer.alloc(512, 0x61), Buffer.alloc(512, 0x62)], 1024)).length, 1024);
  });
});

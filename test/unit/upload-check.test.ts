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

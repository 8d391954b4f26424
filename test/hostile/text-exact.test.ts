import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contactInput, useApiFixture } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

interface Created {
  id: string;
  firstName: string;
  lastName: string;
  salutation: string;
  cellPhone: { extension: string };
}

for (const dialect of DIALECTS) {
  describe(`text kept exactly or refused by name on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const f = useApiFixture(dialect);
    const post = (payload: string | Buffer, contentType = 'application/json') =>
      f.api.app.inject({ method: 'POST', url: `${f.tenant.base}/contacts`, headers: { ...f.tenant.headers, 'content-type': contentType }, payload });

    it('refuses a lone surrogate in any text field with 400 naming the field', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ firstName: 'Ann\ud800a' }, 'firstName'],
        [{ lastName: '\udc00Bob' }, 'lastName'],
        [{ salutation: 'x\udbff' }, 'salutation'],
      ];
      for (const [override, field] of cases) {
        const res = await post(JSON.stringify([contactInput(), contactInput(override)]));
        assert.equal(res.statusCode, 400, res.body);
        const [error] = res.json().errors;
        assert.deepEqual({ code: error.code, field: error.field, index: error.index }, { code: 'INVALID_TEXT', field, index: 1 });
      }
      const ext = contactInput();
      (ext.cellPhone as Record<string, string>).extension = '\ud83d';
      const res = await post(JSON.stringify(ext));
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().errors[0].field, 'cellPhone.extension');
    });

    it('keeps a surrogate pair (an emoji, a plane-2 ideograph) exactly', async () => {
      const res = await post(JSON.stringify(contactInput({ firstName: 'Ann 😀', lastName: '\u{20000}\u{10FFFF}x' })));
      assert.equal(res.statusCode, 200, res.body);
      const [created] = res.json() as Created[];
      const read = await f.api.app.inject({ url: `${f.tenant.base}/contacts/${created!.id}`, headers: f.tenant.headers });
      assert.equal(read.json().firstName, 'Ann 😀');
      assert.equal(read.json().lastName, '\u{20000}\u{10FFFF}x');
    });

    it('refuses bytes that are not UTF-8 with 400, never storing replacement characters', async () => {
      const body = Buffer.concat([Buffer.from(JSON.stringify(contactInput({ firstName: 'Jos@' })).replace('Jos@', 'Jos')), Buffer.alloc(0)]);
      const bad = Buffer.from(body.toString().replace('"Jos"', '"Jos\u0001"'), 'latin1');
      bad[bad.indexOf(0x01)] = 0xe9;
      for (const type of ['application/json', 'application/json; charset=utf-8']) {
        const res = await post(bad, type);
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json().errors[0].code, 'INVALID_ENCODING');
      }
    });

    it('reads a body by its declared charset: ISO-8859-1, Windows-1252, UTF-16LE and UTF-16BE', async () => {
      const cases: [string, (text: string) => Buffer, string][] = [
        ['iso-8859-1', (t) => Buffer.from(t, 'latin1'), 'José'],
        ['windows-1252', (t) => Buffer.from(t.replace('\u20ac', '\u0080'), 'latin1'), 'Jos€'],
        ['utf-16le', (t) => Buffer.from(t, 'utf16le'), 'Jōsé 😀'],
        ['utf-16be', (t) => Buffer.from(t, 'utf16le').swap16(), 'Jōsé 😀'],
      ];
      for (const [charset, encode, name] of cases) {
        const res = await post(encode(JSON.stringify(contactInput({ firstName: name }))), `application/json; charset=${charset}`);
        assert.equal(res.statusCode, 200, `${charset}: ${res.body}`);
        assert.equal((res.json() as Created[])[0]!.firstName, name, charset);
      }
    });

    it('refuses a charset it does not know with 415', async () => {
      const res = await post(JSON.stringify(contactInput()), 'application/json; charset=ebcdic');
      assert.equal(res.statusCode, 415);
      assert.equal(res.json().errors[0].code, 'UNSUPPORTED_CHARSET');
    });

    it('refuses a lone surrogate on update too', async () => {
      const [created] = (await post(JSON.stringify(contactInput()))).json() as Created[];
      const res = await f.api.app.inject({
        method: 'PUT', url: `${f.tenant.base}/contacts/${created!.id}`, headers: { ...f.tenant.headers, 'content-type': 'application/json' },
        payload: '{"firstName":"\\ud800"}',
      });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().errors[0].field, 'firstName');
    });
  });
}

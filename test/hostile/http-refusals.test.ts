import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { contactInput, createTenant, type Tenant } from '../helpers/app.js';
import { listenLogged, type LoggedApp } from '../helpers/logged-app.js';
import { expectContinue, rawRequest, type RawReply } from '../helpers/raw-http.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import { HEADER, row } from '../helpers/imports.js';

/** The contract's error body, with the code asked for. */
function assertRefused(reply: RawReply, status: number, code: string): string {
  assert.equal(reply.status, status, JSON.stringify(reply));
  assert.match(reply.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(reply.body) as { errors: { msg: string; code: string }[] };
  assert.deepEqual(Object.keys(body), ['errors']);
  assert.equal(body.errors[0]!.code, code, reply.body);
  assert.ok(body.errors[0]!.msg.length > 10);
  return body.errors[0]!.msg;
}

const SECRET = 'sEcReTvAlUe123';

for (const dialect of DIALECTS) {
  describe(`HTTP refusals on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let server: LoggedApp;
    let tenant: Tenant;

    before(async () => {
      store = await createTestStore(dialect);
      server = await listenLogged(store.store, { BODY_LIMIT_BYTES: '4096', IMPORT_MAX_BYTES: '65536' });
      tenant = await createTenant(store.store);
    });
    after(async () => {
      await server?.close();
      await store?.destroy();
    });

    const parserCases: [string, string, number, string][] = [
      ['a 100 KB header', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${SECRET}${'a'.repeat(100_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['3,000 headers', `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: ${SECRET}\r\n`).join('')}\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['a 64 KB URL', `GET /${'a'.repeat(65_536)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['a malformed request line', 'GARBAGE\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['an unknown HTTP version', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['bare LF line ends', 'GET /healthz HTTP/1.1\nHost: x\n\n', 400, 'MALFORMED_REQUEST'],
      ['a NUL in a header', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Secret: ${SECRET}\0b\r\n\r\n`, 400, 'MALFORMED_REQUEST'],
      ['a folded header', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Secret: ${SECRET}\r\n continued\r\n\r\n`, 400, 'HEADER_FOLDED'],
      ['Content-Length with Transfer-Encoding', 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'AMBIGUOUS_BODY_LENGTH'],
      ['two Content-Lengths', 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd', 400, 'AMBIGUOUS_BODY_LENGTH'],
      ['a Transfer-Encoding not ending in chunked', 'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n', 400, 'AMBIGUOUS_BODY_LENGTH'],
      ['a space in a header name', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX Y: a\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['a bad chunk size', 'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'MALFORMED_REQUEST'],
    ];
    for (const [what, request, status, code] of parserCases) {
      it(`answers ${what} with ${status} ${code} in the error shape, logged without header values`, async () => {
        const before = server.lines.length;
        assertRefused(await rawRequest(server.port, request), status, code);
        const logged = server.lines.slice(before).filter((l) => l.includes('refused by the HTTP parser'));
        assert.equal(logged.length, 1, server.lines.slice(before).join('\n'));
        assert.ok(!logged[0]!.includes(SECRET), logged[0]);
        assert.ok(logged[0]!.includes(code));
      });
    }

    it('tells the caller to put each header on one line when the seeds\' sample is pasted with wrapped headers', async () => {
      const request =
        `POST ${tenant.base}/contacts/import-contacts HTTP/1.1\r\nHost: x\r\nauth: ${tenant.token}\r\n` +
        `accountId:\r\n ${tenant.accountId}\r\nContent-Type: text/csv\r\nContent-Length: 5\r\n\r\nabcde`;
      const msg = assertRefused(await rawRequest(server.port, request), 400, 'HEADER_FOLDED');
      assert.match(msg, /each header on one line/);
    });

    it('answers Expect other than 100-continue with 417 in the error shape', async () => {
      assertRefused(await rawRequest(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n'), 417, 'EXPECTATION_FAILED');
    });

    const csv = `${HEADER}\n${row('9876543210')}\n`;
    const uploadHead = (headers: Record<string, string>, length: number) =>
      `POST ${tenant.base}/contacts/import-contacts HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n` +
      Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';

    it('refuses a bad token before asking for the upload: no 100 Continue, 401, the file never sent', async () => {
      const reply = await expectContinue(server.port, uploadHead({ auth: 'not-a-token', accountId: tenant.accountId }, csv.length), csv);
      assert.deepEqual(reply.statuses, [401]);
      assert.equal(reply.bodySent, false);
      assertRefused(reply, 401, 'INVALID_TOKEN');
    });

    it('refuses an upload over the size limit before asking for it', async () => {
      const reply = await expectContinue(server.port, uploadHead(tenant.headers, 10 * 1024 * 1024), 'x');
      assert.deepEqual(reply.statuses, [413]);
      assert.equal(reply.bodySent, false);
    });

    it('refuses an unreadable media type before asking for the upload', async () => {
      const head = uploadHead(tenant.headers, csv.length).replace('Content-Type: text/csv', 'Content-Type: image/png');
      const reply = await expectContinue(server.port, head, csv);
      assert.deepEqual(reply.statuses, [415]);
      assert.equal(reply.bodySent, false);
    });

    it('asks for the upload with 100 Continue once the checks pass, and imports it', async () => {
      const reply = await expectContinue(server.port, uploadHead(tenant.headers, csv.length), csv);
      assert.deepEqual(reply.statuses, [100, 200], reply.body);
      assert.equal(reply.bodySent, true);
      assert.equal((JSON.parse(reply.body) as unknown[]).length, 1);
    });

    it('never writes a token sent in the query string to the log', async () => {
      const before = server.lines.length;
      for (const name of ['auth', 'token', 'access_token', 'jwt', 'client_secret', 'AUTH']) {
        await fetch(`http://127.0.0.1:${server.port}${tenant.base}/contacts?${name}=${SECRET}&limit=1`, { headers: tenant.headers });
      }
      const logged = server.lines.slice(before);
      assert.ok(logged.some((l) => l.includes('[Redacted]')), logged.join('\n'));
      assert.ok(!logged.some((l) => l.includes(SECRET)), logged.join('\n'));
      assert.ok(logged.some((l) => l.includes('limit=1')));
    });

    const post = (body: Buffer, headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${server.port}${tenant.base}/contacts`, { method: 'POST', headers: { ...tenant.headers, ...headers }, body });

    it('decodes gzip and deflate JSON bodies', async () => {
      for (const [encoding, pack] of [['gzip', zlib.gzipSync], ['deflate', zlib.deflateSync]] as const) {
        const input = contactInput({ firstName: `Zip ${encoding}` });
        const res = await post(pack(Buffer.from(JSON.stringify(input))), { 'content-type': 'application/json', 'content-encoding': encoding });
        assert.equal(res.status, 200, await res.clone().text());
        const [created] = (await res.json()) as { firstName: string }[];
        assert.equal(created!.firstName, `Zip ${encoding}`);
      }
    });

    it('counts the body limit on decoded bytes: a decompression bomb is a 413', async () => {
      const bomb = zlib.gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20));
      assert.ok(bomb.length < 4096);
      const res = await post(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code, 'BODY_TOO_LARGE');
    });

    it('refuses a body that is not the gzip it says (400) and an encoding it does not know (415)', async () => {
      let res = await post(Buffer.from('not gzip at all'), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code, 'INVALID_CONTENT_ENCODING');
      res = await post(Buffer.from('{}'), { 'content-type': 'application/json', 'content-encoding': 'br' });
      assert.equal(res.status, 415);
      assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code, 'UNSUPPORTED_CONTENT_ENCODING');
    });

    it('decodes a gzip CSV upload, and refuses one that decodes past IMPORT_MAX_BYTES with 413', async () => {
      const url = `http://127.0.0.1:${server.port}${tenant.base}/contacts/import-contacts`;
      let res = await fetch(url, { method: 'POST', headers: { ...tenant.headers, 'content-type': 'text/csv', 'content-encoding': 'gzip' }, body: zlib.gzipSync(`${HEADER}\n${row('9876543211')}\n`) });
      assert.equal(res.status, 200, await res.clone().text());
      const bomb = zlib.gzipSync(Buffer.from(`${HEADER}\n${'x'.repeat(10 * 1024 * 1024)}\n`));
      res = await fetch(url, { method: 'POST', headers: { ...tenant.headers, 'content-type': 'text/csv', 'content-encoding': 'gzip' }, body: bomb });
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code, 'FILE_TOO_LARGE');
    });
  });
}

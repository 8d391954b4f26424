import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { buildTestApp, contactInput, uniquePhone, useApiFixture, type TestApp } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

const HEADER = 'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension';
const csvOf = (phones: string[]) => [HEADER, ...phones.map((p) => `john,doe,Mr,${p},+91,+`)].join('\n') + '\n';

/** The body curl makes of `--form result_file=@sample.csv`; curl picks a new random boundary for every request. */
function multipart(file: string, boundary: string) {
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    payload: Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="result_file"; filename="sample.csv"\r\nContent-Type: text/csv\r\n\r\n`),
      Buffer.from(file),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
  };
}

let boundaries = 0;
const newBoundary = () => `------------------------${(++boundaries).toString(16).padStart(16, '0')}`;
const codes = (res: LightMyRequestResponse) => (res.json() as { errors: { code: string }[] }).errors.map((e) => e.code);

for (const dialect of DIALECTS) {
  describe(`Idempotency-Key on the CSV import on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = useApiFixture(dialect);
    let serial = 0;
    const newKey = () => `import-${dialect}-${process.pid}-${++serial}`;

    const importUrl = (query = '') => `${fx.tenant.base}/contacts/import-contacts${query ? `?${query}` : ''}`;
    function upload(file: string, key: string | undefined, options: { query?: string; raw?: boolean; app?: TestApp } = {}) {
      const body = options.raw ? { contentType: 'text/csv', payload: Buffer.from(file) } : multipart(file, newBoundary());
      return (options.app ?? fx.api).app.inject({
        method: 'POST',
        url: importUrl(options.query),
        headers: { ...fx.tenant.headers, 'content-type': body.contentType, ...(key === undefined ? {} : { 'idempotency-key': key }) },
        payload: body.payload,
      });
    }
    const contactCount = async (phones: string[]) =>
      (await fx.store.store.db.selectFrom('contacts').select('id').where('stream_id', '=', fx.tenant.streamId)
        .where('phone_number', 'in', phones.map((p) => `+91${p}`)).execute()).length;
    // Each run of the synchronous import leaves its record (kind 'sync') until the retention period ends.
    const importCount = async () =>
      Number((await fx.store.store.db.selectFrom('import_jobs').select((eb) => eb.fn.countAll().as('n')).where('kind', '=', 'sync').executeTakeFirstOrThrow()).n);

    it('replays a retry of the same file sent with a new multipart boundary, without importing again', async () => {
      const key = newKey();
      const phones = [uniquePhone(), uniquePhone()];
      const first = await upload(csvOf(phones), key);
      assert.equal(first.statusCode, 200);
      const imports = await importCount();
      const retry = await upload(csvOf(phones), key);
      assert.equal(retry.statusCode, 200);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.equal(first.headers['idempotent-replayed'], undefined);
      assert.ok(retry.rawPayload.equals(first.rawPayload));
      assert.equal(retry.json().length, 2);
      assert.equal(await importCount(), imports);
      assert.equal(await contactCount(phones), 2);
    });

    it('takes the same file as a raw text/csv body as the same request', async () => {
      const key = newKey();
      const file = csvOf([uniquePhone()]);
      const first = await upload(file, key);
      const retry = await upload(file, key, { raw: true });
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.ok(retry.rawPayload.equals(first.rawPayload));
    });

    it('refuses another file under the same key with 422, importing none of it', async () => {
      const key = newKey();
      await upload(csvOf([uniquePhone()]), key);
      const other = [uniquePhone()];
      const res = await upload(csvOf(other), key);
      assert.equal(res.statusCode, 422);
      assert.deepEqual(codes(res), ['IDEMPOTENCY_KEY_REUSED']);
      assert.equal(await contactCount(other), 0);
    });

    it('refuses the same file with other options under the same key with 422', async () => {
      const key = newKey();
      const file = csvOf([uniquePhone()]);
      await upload(file, key);
      const res = await upload(file, key, { query: 'atomic=true' });
      assert.equal(res.statusCode, 422);
      assert.deepEqual(codes(res), ['IDEMPOTENCY_KEY_REUSED']);
    });

    it('refuses the key of a JSON create on an import with 422', async () => {
      const key = newKey();
      const created = await fx.api.app.inject({
        method: 'POST', url: `${fx.tenant.base}/contacts`, headers: { ...fx.tenant.headers, 'idempotency-key': key }, payload: [contactInput()],
      });
      assert.equal(created.statusCode, 200);
      const phones = [uniquePhone()];
      const res = await upload(csvOf(phones), key);
      assert.equal(res.statusCode, 422);
      assert.equal(await contactCount(phones), 0);
    });

    it('replays a 207 report: rows that failed the first time are not tried again', async () => {
      const key = newKey();
      const taken = uniquePhone();
      assert.equal((await upload(csvOf([taken]), undefined)).statusCode, 200);
      const fresh = uniquePhone();
      const file = csvOf([fresh, taken]);
      const first = await upload(file, key);
      assert.equal(first.statusCode, 207);
      const retry = await upload(file, key);
      assert.equal(retry.statusCode, 207);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.ok(retry.rawPayload.equals(first.rawPayload));
    });

    it('stores a 400 report (every row invalid) and replays it', async () => {
      const key = newKey();
      const file = csvOf(['12ab']);
      const first = await upload(file, key);
      assert.equal(first.statusCode, 400);
      assert.equal(first.json().failed, 1);
      const retry = await upload(file, key);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.ok(retry.rawPayload.equals(first.rawPayload));
    });

    it('frees the key of a file refused as a whole (no data rows): a corrected file may use it', async () => {
      const key = newKey();
      const refused = await upload(`${HEADER}\n`, key);
      assert.equal(refused.statusCode, 400);
      assert.deepEqual(codes(refused), ['NO_DATA_ROWS']);
      const again = await upload(`${HEADER}\n`, key);
      assert.equal(again.statusCode, 400);
      assert.equal(again.headers['idempotent-replayed'], undefined);
      const fixed = [uniquePhone()];
      assert.equal((await upload(csvOf(fixed), key)).statusCode, 200);
      assert.equal(await contactCount(fixed), 1);
    });

    it('frees the key of an upload refused for too many rows: it wrote nothing, so a retry runs', async () => {
      const small = await buildTestApp(fx.store.store, { IMPORT_MAX_ROWS: '2' });
      try {
        const key = newKey();
        const tooMany = [uniquePhone(), uniquePhone(), uniquePhone()];
        const refused = await upload(csvOf(tooMany), key, { app: small });
        assert.equal(refused.statusCode, 413);
        const again = await upload(csvOf(tooMany), key, { app: small });
        assert.equal(again.statusCode, 413);
        assert.equal(again.headers['idempotent-replayed'], undefined);
        // The key is free: the caller may fix the file and send it under the same key.
        const fixed = [uniquePhone()];
        const res = await upload(csvOf(fixed), key, { app: small });
        assert.equal(res.statusCode, 200);
        assert.equal(await contactCount(fixed), 1);
      } finally {
        await small.close();
      }
    });

    it('stores an answer larger than a megabyte in pieces and replays it byte for byte', async () => {
      const key = newKey();
      const phones = Array.from({ length: 3000 }, () => uniquePhone());
      const first = await upload(csvOf(phones), key);
      assert.equal(first.statusCode, 200);
      assert.ok(first.rawPayload.length > 1024 * 1024, `${first.rawPayload.length} bytes`);
      const chunks = await fx.store.store.db.selectFrom('idempotency_chunks').select('seq').where('idempotency_key', '=', key).execute();
      assert.ok(chunks.length > 4, `${chunks.length} chunks`);
      const retry = await upload(csvOf(phones), key);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.ok(retry.rawPayload.equals(first.rawPayload));
      assert.equal(retry.json().length, 3000);
    });

    it('answers 409 to a request with the key of an import still reading its upload', async () => {
      const key = newKey();
      const body = new PassThrough();
      const boundary = newBoundary();
      const phones = [uniquePhone(), uniquePhone()];
      const parts = multipart(csvOf(phones), boundary).payload;
      const running = fx.api.app.inject({
        method: 'POST',
        url: importUrl(),
        headers: { ...fx.tenant.headers, 'content-type': `multipart/form-data; boundary=${boundary}`, 'idempotency-key': key },
        payload: body,
      });
      body.write(parts.subarray(0, 40));
      // Wait until the import holds the key: it claims it before reading the upload.
      while (!(await fx.store.store.db.selectFrom('idempotency_keys').select('status').where('idempotency_key', '=', key).executeTakeFirst())) await tick();
      const during = await upload(csvOf(phones), key);
      assert.equal(during.statusCode, 409);
      assert.deepEqual(codes(during), ['IDEMPOTENCY_KEY_IN_USE']);
      body.end(parts.subarray(40));
      const done = await running;
      assert.equal(done.statusCode, 200);
      assert.equal(await contactCount(phones), 2);
      const retry = await upload(csvOf(phones), key);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
    });

    it('imports once from 8 concurrent retries with one key; the rest wait (409) or get the replay', async () => {
      const key = newKey();
      const phones = Array.from({ length: 50 }, () => uniquePhone());
      const imports = await importCount();
      const responses = await Promise.all(Array.from({ length: 8 }, () => upload(csvOf(phones), key)));
      const statuses = responses.map((r) => `${r.statusCode}${r.headers['idempotent-replayed'] ? 'r' : ''}`);
      const fresh = responses.filter((r) => r.statusCode === 200 && !r.headers['idempotent-replayed']);
      assert.equal(fresh.length, 1, statuses.join(','));
      for (const res of responses) {
        if (res.statusCode === 409) assert.deepEqual(codes(res), ['IDEMPOTENCY_KEY_IN_USE']);
        else assert.ok(res.rawPayload.equals(fresh[0]!.rawPayload), statuses.join(','));
      }
      assert.equal(await importCount(), imports + 1);
      assert.equal(await contactCount(phones), 50);
    });
  });
}

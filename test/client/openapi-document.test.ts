import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { useApiFixture } from '../helpers/app.js';

const DOCUMENT = new URL('../../docs/openapi.json', import.meta.url);
const SCHEMA_TYPES = new URL('../../clients/typescript/src/schema.d.ts', import.meta.url);

describe('the committed OpenAPI document', () => {
  const f = useApiFixture('sqlite', { WEBHOOK_WORKERS: '0' });
  let served: unknown;
  before(async () => {
    served = (await f.api.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  });
  after(() => {});

  test('is what the service serves (run `npm run build && npm run openapi` after changing a route)', () => {
    const committed = JSON.parse(fs.readFileSync(DOCUMENT, 'utf8'));
    assert.deepEqual(committed, served);
  });

  test("is the one the typed client's types were generated from", () => {
    const hash = createHash('sha256').update(fs.readFileSync(DOCUMENT)).digest('hex');
    const stamp = /^\/\/ openapi\.json sha256: ([0-9a-f]{64})$/m.exec(fs.readFileSync(SCHEMA_TYPES, 'utf8'))?.[1];
    assert.equal(stamp, hash, 'clients/typescript/src/schema.d.ts is stale: run `npm run openapi`');
  });
});

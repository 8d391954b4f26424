import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, type TestStore } from '../helpers/stores.js';
import { cliJson } from './run-cli.js';

describe('dialbook webhooks', () => {
  let store: TestStore;
  let url: string;
  let streamId: string;
  before(async () => {
    store = await createTestStore('sqlite');
    url = `sqlite:${(store.url as { file: string }).file}`;
    streamId = (await cliJson<{ streamId: string }>(['setup', '--json'], url)).streamId;
  });
  after(async () => store.destroy());

  test('creates an endpoint for every event, or the ones named, lists, rotates and deletes it', async () => {
    const all = await cliJson<{ id: string; secret: string; events: string[] }>(['webhooks', 'create', '--stream', streamId, '--url', 'https://93.184.215.14/hook', '--json'], url);
    assert.match(all.secret, /^whsec_/);
    assert.equal(all.events.length, 6);
    const some = await cliJson<{ id: string; events: string[] }>(
      ['webhooks', 'create', '--stream', streamId, '--url', 'https://93.184.215.14/crm', '--event', 'contact.created', '--event', 'import.completed', '--description', 'crm', '--json'],
      url,
    );
    assert.deepEqual(some.events, ['contact.created', 'import.completed']);
    const listed = await cliJson<{ results: { id: string; secret?: string }[] }>(['webhooks', 'list', '--stream', streamId, '--json'], url);
    assert.deepEqual(listed.results.map((e) => e.id), [all.id, some.id]);
    assert.ok(listed.results.every((e) => e.secret === undefined));
    const rotated = await cliJson<{ secret: string }>(['webhooks', 'rotate-secret', '--stream', streamId, all.id, '--json'], url);
    assert.notEqual(rotated.secret, all.secret);
    await cliJson(['webhooks', 'delete', '--stream', streamId, some.id, '--json'], url);
    assert.equal((await cliJson<{ results: unknown[] }>(['webhooks', 'list', '--stream', streamId, '--json'], url)).results.length, 1);
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SqliteStore } from '../../src/db/database.js';
import { openWritableStore, StoreStartError } from '../../src/db/store-errors.js';
import { buildTestApp, contactInput, createTenant, type Tenant, type TestApp } from '../helpers/app.js';

/** A small tmpfs of our own (root only); undefined where mounting is not allowed. */
function mountTmpfs(sizeKb: number): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    fs.rmdirSync(dir);
    return undefined;
  }
}
const probe = mountTmpfs(64);
if (probe) {
  execFileSync('umount', [probe]);
  fs.rmdirSync(probe);
}
const noMount = probe ? false : 'mounting a tmpfs needs root (CAP_SYS_ADMIN)';

interface Harness {
  store: SqliteStore;
  api: TestApp;
  tenant: Tenant;
}

async function harness(file: string): Promise<Harness> {
  const store = (await openWritableStore({ database: { kind: 'sqlite', file } })) as SqliteStore;
  const api = await buildTestApp(store);
  return { store, api, tenant: await createTenant(store) };
}

const create = (h: Harness, input = contactInput()) =>
  h.api.app.inject({ method: 'POST', url: `${h.tenant.base}/contacts`, headers: h.tenant.headers, payload: input });
const ready = async (h: Harness) => (await h.api.app.inject({ url: '/readyz' })).statusCode;

/** Every contact answered 2xx is still there, once each. */
async function assertKept(h: Harness, ids: string[]): Promise<void> {
  for (const id of ids) {
    const res = await h.api.app.inject({ url: `${h.tenant.base}/contacts/${id}`, headers: h.tenant.headers });
    assert.equal(res.statusCode, 200, `acknowledged contact ${id} lost`);
  }
}

describe('a SQLite store that cannot be written', () => {
  it('answers 503 STORE_UNAVAILABLE when the file is full (max_page_count), is not ready meanwhile, and recovers', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-full-'));
    const h = await harness(path.join(dir, 'full.db'));
    try {
      const kept: string[] = [];
      const first = await create(h);
      assert.equal(first.statusCode, 200);
      kept.push(first.json()[0].id);
      const pages = h.store.sqlite.pragma('page_count', { simple: true }) as number;
      h.store.sqlite.pragma(`max_page_count = ${pages}`);
      let refused = 0;
      for (let i = 0; i < 50; i++) {
        const res = await create(h, contactInput({ firstName: 'x'.repeat(200), lastName: 'y'.repeat(200) }));
        if (res.statusCode === 200) kept.push(res.json()[0].id);
        else {
          assert.equal(res.statusCode, 503, res.body);
          assert.equal(res.json().errors[0].code, 'STORE_UNAVAILABLE');
          assert.ok(res.headers['retry-after']);
          refused++;
        }
      }
      assert.ok(refused > 0, 'the full file refused writes');
      assert.equal(await ready(h), 503);
      h.store.sqlite.pragma('max_page_count = 1073741823');
      assert.equal(await ready(h), 200);
      const after = await create(h);
      assert.equal(after.statusCode, 200);
      kept.push(after.json()[0].id);
      await assertKept(h, kept);
      assert.equal(h.store.sqlite.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      await h.api.close();
      await h.store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('on a small tmpfs', { skip: noMount }, () => {
    let mount: string;
    let h: Harness;
    before(async () => {
      mount = mountTmpfs(2048)!;
      h = await harness(path.join(mount, 'data', 'dialbook.db'));
    });
    after(async () => {
      await h?.api.close();
      await h?.store.close();
      if (mount) {
        execFileSync('umount', [mount]);
        fs.rmdirSync(mount);
      }
    });

    it('answers 503 when the disk is full, keeps every acknowledged write, and is ready again once space is freed', async () => {
      const kept: string[] = [];
      const filler = path.join(mount, 'filler');
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k', 'count=4096'], { stdio: 'ignore' });
      } catch {
        // dd stops at "No space left on device": the disk is full, as wanted.
      }
      let refused = 0;
      for (let i = 0; i < 100 && refused === 0; i++) {
        const res = await create(h, contactInput({ firstName: 'f'.repeat(250), lastName: 'l'.repeat(250), salutation: 's'.repeat(250) }));
        if (res.statusCode === 200) kept.push(res.json()[0].id);
        else {
          assert.equal(res.statusCode, 503, res.body);
          assert.equal(res.json().errors[0].code, 'STORE_UNAVAILABLE');
          refused++;
        }
      }
      assert.ok(refused > 0, 'a full disk refused a write');
      assert.equal(await ready(h), 503);
      fs.rmSync(filler);
      assert.equal(await ready(h), 200);
      const res = await create(h);
      assert.equal(res.statusCode, 200, res.body);
      kept.push(res.json()[0].id);
      await assertKept(h, kept);
      assert.equal(h.store.sqlite.pragma('integrity_check', { simple: true }), 'ok');
    });

    it('refuses to start on a read-only store, naming the path', async () => {
      // A folder of its own on another tmpfs (room for the migrated schema): a mount with files open for writing cannot be made read-only.
      const other = mountTmpfs(8192)!;
      const file = path.join(other, 'dialbook.db');
      await (await openWritableStore({ database: { kind: 'sqlite', file } })).close();
      execFileSync('mount', ['-o', 'remount,ro', other]);
      try {
        await assert.rejects(openWritableStore({ database: { kind: 'sqlite', file } }), (error) => {
          assert.ok(error instanceof StoreStartError);
          assert.ok(error.message.includes(file), error.message);
          assert.match(error.message, /^DATABASE_URL=sqlite:.*cannot be written/);
          return true;
        });
      } finally {
        execFileSync('umount', ['-l', other]); // lazily: the refused open's handle may not be gone yet
        fs.rmdirSync(other);
      }
    });
  });
});

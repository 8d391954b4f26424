import assert from 'node:assert/strict';
import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { CONSOLE_DIST } from '../../src/console/console-static.routes.js';
import { useApiFixture } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

for (const dialect of DIALECTS) {
  describe(`the console's page and assets on ${dialect}`, { skip: (await skipReason(dialect)) || (fs.existsSync(`${CONSOLE_DIST}index.html`) ? false : 'the console is not built (npm run build)') }, () => {
    const f = useApiFixture(dialect);

    it('links the console from /', async () => {
      const res = await f.api.app.inject({ method: 'GET', url: '/' });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /<a href="\/console">/);
    });

    it('serves the page at /console and any path under it (a typed URL), never cached stale', async () => {
      for (const url of ['/console', '/console/streams/st-00000000-0000-0000-0000-000000000000/contacts', '/console/sign-in']) {
        const res = await f.api.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 200, url);
        assert.match(String(res.headers['content-type']), /^text\/html/);
        assert.equal(res.headers['cache-control'], 'no-cache');
        assert.match(String(res.headers['content-security-policy']), /script-src 'self'/);
        assert.match(res.body, /src="\/console\/assets\/app-[0-9a-f]{12}\.js"/);
      }
    });

    it('serves the fingerprinted assets with a year-long immutable cache, and 404 in the error shape for others', async () => {
      const page = (await f.api.app.inject({ method: 'GET', url: '/console' })).body;
      const assets = [...page.matchAll(/"(\/console\/assets\/app-[0-9a-f]{12}\.(?:js|css))"/g)].map((m) => m[1]!);
      assert.equal(assets.length, 2);
      for (const url of assets) {
        const res = await f.api.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 200, url);
        assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
      }
      const missing = await f.api.app.inject({ method: 'GET', url: '/console/assets/app-000000000000.js' });
      assert.equal(missing.statusCode, 404);
      assert.ok(Array.isArray(missing.json().errors));
    });

    it('keeps the console\'s JavaScript under 60 KB gzipped', async () => {
      const js = fs.readdirSync(`${CONSOLE_DIST}assets`).filter((n) => n.endsWith('.js'));
      const total = js.reduce((sum, n) => sum + gzipSync(fs.readFileSync(`${CONSOLE_DIST}assets/${n}`), { level: 9 }).length, 0);
      assert.ok(total <= 60 * 1024, `${total} bytes gzipped`);
    });
  });
}

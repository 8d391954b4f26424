// `npm run openapi`: writes the OpenAPI document the service serves to docs/openapi.json (from the build: run
// `npm run build` first), then the typed client's types from it (clients/typescript, which has its own
// openapi-typescript: it needs TypeScript 5). test/client/openapi-document.test.ts fails while either is stale.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { buildApp } from '../dist/app.js';
import { loadConfig } from '../dist/config/config.js';
import { openStore } from '../dist/db/database.js';
import { createMemoryReplayCache } from '../dist/auth/replay-cache.js';

const replayCache = createMemoryReplayCache();
const store = openStore({ kind: 'sqlite', file: ':memory:' });
const app = await buildApp({ config: loadConfig({ RATE_LIMIT_PER_MINUTE: '0', WEBHOOK_WORKERS: '0', IMPORT_WORKERS: '0' }), store, shared: { rateLimiter: undefined, replayCache } });
await app.ready();
const document = app.swagger();
fs.writeFileSync('docs/openapi.json', JSON.stringify(document, null, 2) + '\n');
await app.close();
await store.close();
await replayCache.close();
console.log('wrote docs/openapi.json');
if (!process.argv.includes('--document-only')) {
  const r = spawnSync('npm', ['run', 'generate'], { cwd: 'clients/typescript', stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

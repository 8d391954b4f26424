import fs from 'node:fs';
import { loadConfig } from '../src/config/config.js';
import { createImports } from '../src/imports/imports.js';
import { createTestStore } from '../test/helpers/stores.js';
import { createTenant } from '../test/helpers/app.js';
const [dialect, file, mode] = process.argv.slice(2) as ['sqlite' | 'postgres', string, string];
const ts = await createTestStore(dialect);
const tenant = await createTenant(ts.store);
const config = loadConfig({ IMPORT_WORKERS: '0', IMPORT_MAX_ROWS: '10000000', IMPORT_MAX_BYTES: String(2 ** 33) });
const log = { warn: console.warn, info: () => {} };
const imports = createImports({ store: ts.store, config, log });
const ctx = { ...tenant };
let peak = 0;
const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const t0 = performance.now();
if (mode === 'sync') {
  const out = await imports.importCsv(ctx as never, fs.createReadStream(file), { onDuplicate: 'reject', atomic: false, dryRun: false });
  const t1 = performance.now();
  let bytes = 0;
  for await (const s of out.contactsJson()) bytes += s.length;
  await out.dispose();
  console.log(JSON.stringify({ mode, counts: out.counts, engineS: (t1 - t0) / 1000, totalS: (performance.now() - t0) / 1000, bytes }));
} else {
  const job = await imports.jobs.submit(ctx as never, fs.createReadStream(file), { onDuplicate: 'reject', atomic: mode === 'atomic', dryRun: false }, 'x.csv');
  const t1 = performance.now();
  const r = await imports.runJob(job.id);
  console.log(JSON.stringify({ mode, r, submitS: (t1 - t0) / 1000, totalS: (performance.now() - t0) / 1000 }));
}
clearInterval(t);
console.log('cpu', JSON.stringify(process.cpuUsage()));
console.log('ins', (globalThis as any).ins/1000, 'work', (globalThis as any).work/1000, 'commit', (globalThis as any).commit/1000);
console.log('peak rss MB', (peak / 2 ** 20).toFixed(0), 'maxrss', (process.resourceUsage().maxRSS / 1024).toFixed(0));
if (dialect === 'sqlite') console.log('db size MB', (fs.statSync(ts.url.kind === 'sqlite' ? ts.url.file : '').size / 2 ** 20).toFixed(0));
await ts.destroy();

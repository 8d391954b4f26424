// Does one hostile upload stall the others? /healthz p99, idle and while a 50 MB single-line CSV and a
// 100,000-column header are uploaded, on one server process (dist/server.js, `npm run build` first), with the time
// each upload takes to be answered. Run:
//   BENCH_STORE=postgres npx tsx bench/long-lines.ts   (a new database on TEST_DATABASE_URL's server, dropped after;
//   default: a temp SQLite file)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseDatabaseUrl } from '../src/config/config.js';
import { openStore } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createTenant } from '../test/helpers/app.js';
import { HEADER } from '../test/helpers/imports.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { createEmptyStoreUrl } from '../test/helpers/stores.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-longlines-'));
// Never a database someone else uses: its own, made here and dropped at the end.
const place = process.env.BENCH_STORE === 'postgres' ? await createEmptyStoreUrl('postgres') : undefined;
const databaseUrl = place?.url.kind === 'postgres' ? place.url.url : `sqlite:${path.join(dir, 'bench.db')}`;
const store = openStore(parseDatabaseUrl(databaseUrl));
await migrateToLatest(store.db);
const tenant = await createTenant(store);
const server = await startServerProcess({ DATABASE_URL: databaseUrl, RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'warn' });

let failures = 0;

/** /healthz answered one after another for `ms`, every 10 ms: the latencies. */
async function pollHealth(ms: number): Promise<number[]> {
  const times: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    try {
      const res = await fetch(`${server.url}/healthz`);
      await res.arrayBuffer();
      times.push(performance.now() - t);
    } catch {
      failures++;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return times;
}
const p = (times: number[], q: number) => [...times].sort((a, b) => a - b)[Math.min(times.length - 1, Math.floor(q * times.length))]!;

async function upload(name: string, body: Buffer): Promise<string> {
  const t = performance.now();
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${server.url}${tenant.base}/contacts/import-contacts`, { method: 'POST', headers: { ...tenant.headers, 'content-type': 'text/csv' }, body });
    text = await res.text();
  } catch (error) {
    // The server answered and closed while the rest of the body was still being sent (fetch cannot read that answer).
    const code = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
    return `${name}: connection closed by the server (${code}) after ${((performance.now() - t) / 1000).toFixed(2)} s (${(body.length / 2 ** 20).toFixed(1)} MB)`;
  }
  const code = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? '';
  return `${name}: ${res.status} ${code} in ${((performance.now() - t) / 1000).toFixed(2)} s (${(body.length / 2 ** 20).toFixed(1)} MB)`;
}

const longLine = Buffer.from(`${HEADER}\nAnn,${'L'.repeat(50 * 1024 * 1024)},Ms,9876543210,91,1\n`);
const wideHeader = Buffer.from(`${HEADER},${Array.from({ length: 100_000 }, (_, i) => `column${i}`).join(',')}\nAnn,Lee,Ms,9876543211,91,1\n`);
const longHeaderLine = Buffer.from(`${'h'.repeat(50 * 1024 * 1024)}\n`);

try {
  await pollHealth(2000); // warm-up
  const idle = await pollHealth(10_000);
  console.log(`store: ${databaseUrl.replace(/:[^:@/]*@/, ':***@')}; load before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`/healthz idle: ${idle.length} requests, p50 ${p(idle, 0.5).toFixed(1)} ms, p99 ${p(idle, 0.99).toFixed(1)} ms, max ${Math.max(...idle).toFixed(1)} ms`);
  // One attack at a time, /healthz polled while it runs.
  for (const [name, body] of [['50 MB data line', longLine], ['100,000-column header', wideHeader], ['50 MB header line', longHeaderLine]] as const) {
    let done = false;
    const attack = upload(name, body).finally(() => (done = true));
    const during: number[] = [];
    while (!done) during.push(...(await pollHealth(200)));
    console.log(await attack);
    console.log(`  /healthz meanwhile: ${during.length} requests, p50 ${p(during, 0.5).toFixed(1)} ms, p99 ${p(during, 0.99).toFixed(1)} ms, max ${Math.max(...during).toFixed(1)} ms; load ${os.loadavg()[0]!.toFixed(2)}`);
  }
  console.log(`/healthz requests that failed: ${failures}`);
} finally {
  await server.stop();
  await store.close();
  await place?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
}

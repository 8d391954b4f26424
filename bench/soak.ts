// A mixed soak: creates, updates, lookups, lists and imports, with hostile requests mixed in, against one server
// process (dist/server.js: `npm run build` first) for BENCH_SECONDS (default 600). Reports unexpected answers (any 5xx,
// any status a request of its kind should not get), the server's RSS at start and end, and p50/p99 per kind.
// Not in CI. Run:  npx tsx bench/soak.ts   (BENCH_STORE=postgres for a database of its own; BENCH_WORKERS=8)
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { parseDatabaseUrl } from '../src/config/config.js';
import { openStore } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { contactInput, createTenant } from '../test/helpers/app.js';
import { HEADER, phoneBlock, row } from '../test/helpers/imports.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { createEmptyStoreUrl } from '../test/helpers/stores.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 600);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 8);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-soak-'));
const place = process.env.BENCH_STORE === 'postgres' ? await createEmptyStoreUrl('postgres') : undefined;
const databaseUrl = place?.url.kind === 'postgres' ? place.url.url : `sqlite:${path.join(dir, 'soak.db')}`;
const store = openStore(parseDatabaseUrl(databaseUrl));
await migrateToLatest(store.db);
const tenant = await createTenant(store);
const server = await startServerProcess({ DATABASE_URL: databaseUrl, RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'warn', BODY_LIMIT_BYTES: '1048576' });
const port = Number(new URL(server.url).port);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const times = new Map<string, number[]>();
const unexpected = new Map<string, number>();
let requests = 0;
const ids: string[] = [];

async function timed(kind: string, expected: number[], run: () => Promise<number>): Promise<void> {
  const t = performance.now();
  let status: number;
  try {
    status = await run();
  } catch (error) {
    status = -1;
    if (process.env.BENCH_VERBOSE) console.error(kind, error);
  }
  requests++;
  (times.get(kind) ?? times.set(kind, []).get(kind)!).push(performance.now() - t);
  if (!expected.includes(status)) unexpected.set(`${kind} → ${status}`, (unexpected.get(`${kind} → ${status}`) ?? 0) + 1);
}

const api = (p: string, init: RequestInit = {}) => fetch(`${server.url}${tenant.base}${p}`, { ...init, headers: { ...tenant.headers, ...(init.headers as Record<string, string>) } });
const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
async function status(res: Promise<Response>): Promise<number> {
  const r = await res;
  await r.arrayBuffer();
  return r.status;
}
function raw(data: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (got += c));
    socket.on('error', () => {});
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? -1)));
    setTimeout(() => socket.destroy(), 3000);
  });
}

const bomb = zlib.gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
const actions: [number, () => Promise<void>][] = [
  [30, () => timed('create', [200], async () => {
    const res = await api('/contacts', json([contactInput(), contactInput()]));
    if (res.status === 200) ids.push(...((await res.json()) as { id: string }[]).map((c) => c.id));
    else await res.arrayBuffer();
    return res.status;
  })],
  [20, () => timed('update', [200], () => status(api(`/contacts/${ids[Math.floor(Math.random() * ids.length)] ?? 'x'}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ firstName: `Soak ${Math.random()}` }) })))],
  [30, () => timed('lookup', [200], () => status(api(`/contacts/${ids[Math.floor(Math.random() * ids.length)] ?? 'x'}`)))],
  [10, () => timed('list', [200], () => status(api(`/contacts?skip=${Math.floor(Math.random() * 50)}&limit=20`)))],
  [3, () => timed('import', [200, 207], () => status(api('/contacts/import-contacts', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: `${HEADER}\n${phoneBlock(50).map((n) => row(n)).join('\n')}\n` })))],
  [2, () => timed('hostile: folded header', [400], () => raw(`GET ${tenant.base}/contacts HTTP/1.1\r\nHost: x\r\nauth: ${tenant.token}\r\naccountId:\r\n ${tenant.accountId}\r\n\r\n`))],
  [2, () => timed('hostile: 100 KB header', [431], () => raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(100_000)}\r\n\r\n`))],
  [2, () => timed('hostile: lone surrogate', [400], () => status(api('/contacts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"firstName":"\\ud800","lastName":"x","salutation":"x","cellPhone":{"phoneNumber":"9876543210","countryCode":"91","extension":"1"}}' })))],
  [2, () => timed('hostile: bad token', [401], () => status(fetch(`${server.url}${tenant.base}/contacts`, { headers: { auth: 'eyJhbGciOiJub25lIn0.eyJhcHBJZCI6ImNzLXgifQ.', accountId: tenant.accountId } })))],
  [1, () => timed('hostile: gzip bomb', [413], () => status(api('/contacts', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb })))],
  [1, () => timed('hostile: binary upload', [415], () => status(api('/contacts/import-contacts', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: Buffer.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]) })))],
  [2, () => timed('hostile: smuggling probe', [400], () => raw('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'))],
];
const weights = actions.reduce((a, [w]) => a + w, 0);
const pick = () => {
  // Updates and lookups need a contact to exist: until one does, everyone creates.
  if (ids.length === 0) return actions[0]![1];
  let r = Math.random() * weights;
  for (const [w, action] of actions) if ((r -= w) < 0) return action;
  return actions[0]![1];
};

const rssStart = rss();
const loadStart = os.loadavg()[0]!;
const end = Date.now() + SECONDS * 1000;
await Promise.all(Array.from({ length: WORKERS }, async () => {
  while (Date.now() < end) await pick()();
}));
const rssEnd = rss();
const q = (list: number[], f: number) => [...list].sort((a, b) => a - b)[Math.min(list.length - 1, Math.floor(f * list.length))]!;
console.log(`soak: ${SECONDS} s, ${WORKERS} workers, store ${databaseUrl.replace(/:[^:@/]*@/, ':***@')}, load ${loadStart.toFixed(2)} → ${os.loadavg()[0]!.toFixed(2)}`);
console.log(`requests: ${requests}; unexpected answers: ${[...unexpected.values()].reduce((a, b) => a + b, 0)} ${JSON.stringify(Object.fromEntries(unexpected))}`);
console.log(`server RSS: ${rssStart.toFixed(0)} MB at start, ${rssEnd.toFixed(0)} MB at end; alive: ${server.alive()}`);
for (const [kind, list] of times) console.log(`  ${kind.padEnd(26)} ${String(list.length).padStart(6)}  p50 ${q(list, 0.5).toFixed(1).padStart(7)} ms  p99 ${q(list, 0.99).toFixed(1).padStart(7)} ms`);
await server.stop();
await store.close();
await place?.drop();
fs.rmSync(dir, { recursive: true, force: true });

// What history and the webhook outbox cost the writes they ride on, against a baseline build without them, in the
// same run, rounds alternating:
//   - `dialbook import` of a fresh BENCH_ROWS-row file (default 100,000) into a fresh store: rows/s;
//   - POST /contacts of one contact, BENCH_POSTS requests (default 2,000) over 8 connections: requests/s.
// The baseline is another checkout's build: BENCH_BASELINE=/path/to/checkout (with dist/ built). Cases that need an
// endpoint (`+endpoint`) add one webhook endpoint to the stream with WEBHOOK_WORKERS=0, so the outbox writes its
// event and delivery rows and nothing is sent. Stores: BENCH_STORES=sqlite,postgres; BENCH_KINDS=import,post. Usage:
//   npm run build && BENCH_BASELINE=/tmp/dialbook-base npx tsx bench/integrations-cost.ts
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { RowSource, writeRawCsv } from './import-scale-data.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const POSTS = Number(process.env.BENCH_POSTS ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const STORES = (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',');
const KINDS = (process.env.BENCH_KINDS ?? 'import,post').split(',');
const PG_ADMIN = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BASELINE = process.env.BENCH_BASELINE;
if (!BASELINE || !fs.existsSync(path.join(BASELINE, 'dist/cli/main.js'))) throw new Error('BENCH_BASELINE must name a checkout with dist/ built');
const BRANCH = path.resolve(new URL('..', import.meta.url).pathname);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-integrations-'));
const csv = path.join(work, 'rows.csv');
writeRawCsv(csv, ROWS, new RowSource(7));

async function freshStore(kind: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(work, 'db-'));
    return { url: `sqlite:${dir}/bench.db`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `dialbook_bench_${process.pid}_${Math.random().toString(16).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

const cli = (root: string, args: string[], env: Record<string, string>) =>
  execFileSync(process.execPath, [path.join(root, 'dist/cli/main.js'), ...args], { env: { PATH: process.env.PATH!, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

async function addEndpoint(serverUrl: string, ids: { streamId: string; token: string; accountId: string }) {
  const r = await fetch(`${serverUrl}/agentassist/api/v1/public/${ids.streamId}/webhooks`, {
    method: 'POST',
    headers: { auth: ids.token, accountId: ids.accountId, 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }),
  });
  if (r.status !== 201) throw new Error(`endpoint: ${r.status} ${await r.text()}`);
}

async function startServer(root: string, env: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, [path.join(root, 'dist/server.js')], {
    env: { PATH: process.env.PATH!, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch {
      // starting
    }
    if (i > 300) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** One import: rows/s over the command's wall time. */
async function importCase(root: string, kind: string, withEndpoint: boolean): Promise<number> {
  const store = await freshStore(kind);
  try {
    const env = { DATABASE_URL: store.url, WEBHOOK_WORKERS: '0' };
    const ids = JSON.parse(cli(root, ['setup', '--json'], env)) as { streamId: string; token: string; accountId: string };
    if (withEndpoint) {
      const server = await startServer(root, { ...env, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', IMPORT_WORKERS: '0' });
      await addEndpoint(server.url, ids);
      await server.stop();
    }
    const started = process.hrtime.bigint();
    const out = JSON.parse(cli(root, ['import', csv, '--stream', ids.streamId, '--json'], env)) as { job?: { created: number }; created?: number };
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const created = out.job?.created ?? out.created;
    if (created !== ROWS) throw new Error(`imported ${created} of ${ROWS}`);
    return ROWS / seconds;
  } finally {
    await store.drop();
  }
}

/** POST /contacts of one contact each, 8 at a time: requests/s. */
async function postCase(root: string, kind: string, withEndpoint: boolean): Promise<number> {
  const store = await freshStore(kind);
  const env = { DATABASE_URL: store.url, WEBHOOK_WORKERS: '0', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' };
  const ids = JSON.parse(cli(root, ['setup', '--json'], env)) as { streamId: string; token: string; accountId: string };
  const server = await startServer(root, env);
  try {
    if (withEndpoint) await addEndpoint(server.url, ids);
    const url = `${server.url}/agentassist/api/v1/public/${ids.streamId}/contacts`;
    const headers = { auth: ids.token, accountId: ids.accountId, 'content-type': 'application/json' };
    let next = 0;
    const post = async () => {
      for (;;) {
        const i = next++;
        if (i >= POSTS) return;
        const body = JSON.stringify({ firstName: 'Bench', lastName: `L${i}`, salutation: 'Mr', cellPhone: { phoneNumber: String(9_000_000_000 + i), countryCode: '+91', extension: '+' } });
        const r = await fetch(url, { method: 'POST', headers, body });
        if (r.status !== 200) throw new Error(`POST: ${r.status} ${await r.text()}`);
        await r.arrayBuffer();
      }
    };
    const started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: 8 }, post));
    return POSTS / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    await server.stop();
    await store.drop();
  }
}

const cases: { name: string; run: () => Promise<number> }[] = [];
for (const kind of STORES) {
  if (KINDS.includes('import')) {
    cases.push({ name: `${kind} import, baseline`, run: () => importCase(BASELINE, kind, false) });
    cases.push({ name: `${kind} import, history`, run: () => importCase(BRANCH, kind, false) });
    cases.push({ name: `${kind} import, history + endpoint`, run: () => importCase(BRANCH, kind, true) });
  }
  if (KINDS.includes('post')) {
    cases.push({ name: `${kind} POST, baseline`, run: () => postCase(BASELINE, kind, false) });
    cases.push({ name: `${kind} POST, history`, run: () => postCase(BRANCH, kind, false) });
    cases.push({ name: `${kind} POST, history + endpoint`, run: () => postCase(BRANCH, kind, true) });
  }
}
const results = new Map<string, number[]>();
console.log(`rows ${ROWS}, posts ${POSTS}, rounds ${ROUNDS}; load at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (let round = 1; round <= ROUNDS; round++) {
  for (const c of cases) {
    const value = await c.run();
    results.set(c.name, [...(results.get(c.name) ?? []), value]);
    console.log(`round ${round} ${c.name}: ${value.toFixed(0)}/s (load ${os.loadavg()[0]!.toFixed(2)})`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log('\n| case | per second (median) | runs | vs baseline |\n|---|---|---|---|');
for (const c of cases) {
  const xs = results.get(c.name)!;
  const baseline = median(results.get(c.name.replace(/, .*$/, ', baseline'))!);
  console.log(`| ${c.name} | ${median(xs).toFixed(0)} | ${xs.map((x) => x.toFixed(0)).join(', ')} | ${(median(xs) / baseline).toFixed(2)}x |`);
}
console.log(`load at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
fs.rmSync(work, { recursive: true, force: true });

// Reads and writes at a million contacts, through the built server under load (wrk), in alternating rounds of one
// run: the first page, a name search and a phone lookup at 1,000 against 1,000,000 contacts; each against a bare
// node:http server answering the very same bytes; POST, PUT and DELETE of one contact against GET by id on the same
// server and against a bare better-sqlite3 loop of single-row transactions at the same durability; the export of
// the million contacts against `sqlite3 -csv` of the same rows in the same order, with the server's RSS.
//
// `npm run bench -- reads-writes`; options by environment: BENCH_ROWS (1,000,000), BENCH_SMALL_ROWS (1,000),
// BENCH_ROUNDS (3), BENCH_SECONDS (5, per wrk run), BENCH_CONNECTIONS (10), BENCH_STORES (sqlite,postgres),
// BENCH_WRK (/usr/bin/wrk: `apt-get install -y wrk`), BENCH_CASES (requests,export: the wrk cases, the export or both).
// Run directly: npx tsx bench/reads-writes.ts
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { SERVER_NODE_OPTIONS, startServerProcess, type ServerProcess } from '../test/helpers/server-process.js';
import { RowSource, writeRawCsv } from './import-scale-data.js';
import {
  createDatabase, pgQuery, postCsvFile, runCommand, sampleProcessRss, setupStore, SQLITE3, type Credentials,
} from './import-scale-tools.js';
import { childArgument, formatReport, isMain, mb, perSecond, ratio, reply, runChild, secondsSince, type BenchReport } from './support.js';

type Dialect = 'sqlite' | 'postgres';

interface Options {
  rows: number;
  smallRows: number;
  rounds: number;
  seconds: number;
  connections: number;
  stores: Dialect[];
  wrk: string;
  cases: Case[];
}

const CASES = ['requests', 'export'] as const;
type Case = (typeof CASES)[number];

interface Load {
  rps: number;
  p99Ms: number;
  non2xx: number;
}

interface Served {
  dialect: Dialect;
  rows: number;
  server: ServerProcess;
  creds: Credentials;
  file?: string;
  url: string;
  drop(): Promise<void>;
  /** A contact's id and national number, for GET by id, PUT and the phone lookup. */
  sampleId: string;
  samplePhone: string;
  /** ACTIVE contacts for DELETE to work through. */
  deletable: string[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The store, set up, filled through the import (POST /contacts/import-contacts of a generated CSV), served. */
async function serve(dialect: Dialect, rows: number, csv: string, deletable: number): Promise<Served> {
  let url: string;
  let file: string | undefined;
  let drop: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-rw-'));
    file = path.join(dir, 'bench.db');
    url = `sqlite:${file}`;
    drop = async () => fs.rmSync(dir, { recursive: true, force: true });
  } else {
    const db = await createDatabase('dialbook_rw');
    url = db.url;
    drop = db.drop;
  }
  const creds = await setupStore(url);
  const server = await startServerProcess({
    DATABASE_URL: url, RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'warn', REQUEST_TIMEOUT_MS: '3600000',
    IMPORT_MAX_ROWS: String(Math.max(rows, 1_000_000)), IMPORT_MAX_BYTES: String(1024 ** 3), MAX_CONTACTS_PER_REQUEST: '1000',
  });
  const headers = { auth: creds.token, accountId: creds.accountId };
  const base = `${server.url}/agentassist/api/v1/public/${creds.streamId}`;
  const start = process.hrtime.bigint();
  const answer = await postCsvFile(`${base}/contacts/import-contacts?report=true`, headers, csv, 400);
  if (answer.status !== 200) throw new Error(`import of ${rows} rows answered ${answer.status}: ${answer.head}`);
  console.error(`  ${dialect}: ${rows} contacts imported in ${secondsSince(start).toFixed(1)} s`);
  const ids: { id: string; phone_number: string }[] = dialect === 'sqlite'
    ? readSqlite<{ id: string; phone_number: string }>(file!, `select id, phone_number from contacts where status = 'ACTIVE' order by id desc limit ${deletable + 1}`)
    : await pgQuery<{ id: string; phone_number: string }>(url, `select id, phone_number from contacts where status = 'ACTIVE' order by id desc limit ${deletable + 1}`);
  const [sample, ...rest] = ids;
  return {
    dialect, rows, server, creds, file, url, drop, sampleId: sample!.id, samplePhone: sample!.phone_number.slice(3), deletable: rest.map((r) => r.id),
  };
}

/** Rows read straight from a SQLite file (read-only), for more rows than the sqlite3 shell's output is kept for. */
function readSqlite<T>(file: string, query: string): T[] {
  const db = new SQLite(file, { readonly: true });
  try {
    return db.prepare(query).all() as T[];
  } finally {
    db.close();
  }
}

const basePath = (s: Served) => `/agentassist/api/v1/public/${s.creds.streamId}`;

/** wrk for `seconds` with a Lua script; req/s, p99 and the answers that were not 2xx. */
async function wrk(o: Options, url: string, script: string): Promise<Load> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-wrk-'));
  const scriptFile = path.join(dir, 'script.lua');
  fs.writeFileSync(scriptFile, script);
  try {
    const { stdout } = await runCommand(o.wrk, ['-t2', `-c${o.connections}`, `-d${o.seconds}s`, '--latency', '-s', scriptFile, url]);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
    const p99 = /\s99%\s+([\d.]+)(us|ms|s)\b/.exec(stdout);
    const p99Ms = p99 ? Number(p99[1]) * (p99[2] === 'us' ? 0.001 : p99[2] === 's' ? 1000 : 1) : NaN;
    const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
    const errors = /Socket errors:.*/.exec(stdout)?.[0];
    if (errors) console.error(`  wrk ${url}: ${errors}`);
    return { rps, p99Ms, non2xx };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const luaString = (s: string) => JSON.stringify(s);
const luaHeaders = (s: Served, extra: Record<string, string> = {}) =>
  Object.entries({ auth: s.creds.token, accountId: s.creds.accountId, ...extra }).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`).join('\n');

/** GET of one path, the same request every time. */
const getScript = (s: Served | undefined, pathAndQuery: string) =>
  `${s ? luaHeaders(s) : ''}\nrequest = function() return wrk.format("GET", ${luaString(pathAndQuery)}) end\n`;

/** POST of one new contact per request; numbers unique per run and thread (7 + run + thread + counter). */
const postScript = (s: Served, run: number) => `${luaHeaders(s, { 'content-type': 'application/json' })}
local n = 0
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
request = function()
  n = n + 1
  local phone = string.format("7%03d%d%05d", ${run} % 1000, tid, n % 100000)
  local body = '[{"firstName":"Bench","lastName":"Post","salutation":"Mx","cellPhone":{"phoneNumber":"' .. phone .. '","countryCode":"+91","extension":"+"}}]'
  return wrk.format("POST", ${luaString(`${basePath(s)}/contacts`)}, nil, body)
end
`;

const putScript = (s: Served) => `${luaHeaders(s, { 'content-type': 'application/json' })}
local n = 0
request = function()
  n = n + 1
  return wrk.format("PUT", ${luaString(`${basePath(s)}/contacts/${s.sampleId}`)}, nil, '{"firstName":"Bench' .. n .. '"}')
end
`;

/** DELETE of a different ACTIVE contact each request (threads take alternate ids). */
const deleteScript = (s: Served, ids: string[]) => `${luaHeaders(s)}
local ids = {${ids.map(luaString).join(',')}}
local n = 0
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
request = function()
  n = n + 1
  local id = ids[((n * 2 + tid) % #ids) + 1]
  return wrk.format("DELETE", ${luaString(`${basePath(s)}/contacts/`)} .. id)
end
`;

/** A bare node:http server in its own process, answering each known path with the bytes captured for it. */
async function bareServer(answers: Map<string, { type: string; body: Buffer }>): Promise<{ url: string; stop(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-bare-'));
  const table: Record<string, { type: string; file: string }> = {};
  let i = 0;
  for (const [key, a] of answers) {
    const file = path.join(dir, `${i++}.bin`);
    fs.writeFileSync(file, a.body);
    table[key] = { type: a.type, file };
  }
  const code = `
    const http = require('node:http'); const fs = require('node:fs');
    const table = ${JSON.stringify(table)};
    const bodies = {}; for (const [k, v] of Object.entries(table)) bodies[k] = { type: v.type, body: fs.readFileSync(v.file) };
    const server = http.createServer((req, res) => {
      const a = bodies[req.url];
      if (!a) { res.writeHead(404); return res.end(); }
      res.writeHead(200, { 'content-type': a.type, 'content-length': a.body.length });
      res.end(a.body);
    });
    server.keepAliveTimeout = 5000;
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('error', reject);
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => { child.kill('SIGKILL'); fs.rmSync(dir, { recursive: true, force: true }); } };
}

/** The answer the server gives to a GET, as bytes with its content type. */
function capture(url: string, s: Served): Promise<{ type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { auth: s.creds.token, accountId: s.creds.accountId } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve({ type: String(res.headers['content-type']), body: Buffer.concat(chunks) }) : reject(new Error(`${url}: ${res.statusCode} ${Buffer.concat(chunks)}`))));
    }).on('error', reject);
  });
}

interface LoopResult {
  txPerSecond: number;
  p99Ms: number;
}

/**
 * The baseline of a write: a bare better-sqlite3 loop of single-row transactions (BEGIN, INSERT, COMMIT) into a table
 * with a unique index, WAL and synchronous=FULL, in a file beside the benchmark's database (same disk), for `seconds`.
 */
function sqliteLoop(input: { dir: string; seconds: number }): LoopResult {
  const file = path.join(input.dir, `loop-${process.pid}.db`);
  const db = new SQLite(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('create table t (id integer primary key, phone text not null, name text not null); create unique index t_phone on t (phone)');
    const insert = db.prepare('insert into t (phone, name) values (?, ?)');
    const one = db.transaction((phone: string) => insert.run(phone, 'Bench Loop'));
    const latencies: number[] = [];
    const end = Date.now() + input.seconds * 1000;
    let n = 0;
    while (Date.now() < end) {
      const t = process.hrtime.bigint();
      one(`+917${String(n++).padStart(9, '0')}`);
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    latencies.sort((a, b) => a - b);
    return { txPerSecond: n / input.seconds, p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? NaN };
  } finally {
    db.close();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  }
}

/** GET /contacts/export of every ACTIVE contact, read to its end; rows a second and the server's peak RSS. */
async function exportRun(s: Served): Promise<{ rowsPerSecond: number; rows: number; peakRss: number; startRss: number }> {
  const rss = sampleProcessRss(s.server.pid, 20);
  const start = process.hrtime.bigint();
  const lines = await new Promise<number>((resolve, reject) => {
    http.get(`${s.server.url}${basePath(s)}/contacts/export`, { headers: { auth: s.creds.token, accountId: s.creds.accountId } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`export answered ${res.statusCode}`));
      let n = 0;
      res.on('data', (c: Buffer) => {
        for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) n++;
      });
      res.on('end', () => resolve(n));
    }).on('error', reject);
  });
  const seconds = secondsSince(start);
  const memory = rss.stop();
  return { rowsPerSecond: (lines - 1) / seconds, rows: lines - 1, peakRss: memory.peakRss, startRss: memory.startRss };
}

/** The same rows in the same order through the sqlite3 shell, to /dev/null. */
async function sqliteCsv(s: Served): Promise<{ rowsPerSecond: number }> {
  const query = `select first_name, last_name, salutation, phone_number, country_code, extension, id, status, created_at, updated_at
    from contacts where stream_id = '${s.creds.streamId}' and account_id = '${s.creds.accountId}' and status = 'ACTIVE' order by created_at, id`;
  const start = process.hrtime.bigint();
  await runCommand('/bin/sh', ['-c', `${SQLITE3} -csv -header ${s.file} "${query.replace(/\s+/g, ' ')}" > /dev/null`]);
  const seconds = secondsSince(start);
  const rows = readSqlite<{ n: number }>(s.file!, `select count(*) as n from contacts where status = 'ACTIVE'`)[0]!.n;
  return { rowsPerSecond: rows / seconds };
}

/** The same rows in the same order through psql's COPY to stdout as CSV, to /dev/null. */
async function psqlCopy(s: Served): Promise<{ rowsPerSecond: number }> {
  const query = `select first_name, last_name, salutation, phone_number, country_code, extension, id, status, created_at, updated_at
    from contacts where stream_id = '${s.creds.streamId}' and account_id = '${s.creds.accountId}' and status = 'ACTIVE' order by created_at, id`;
  const start = process.hrtime.bigint();
  await runCommand('/bin/sh', ['-c', `psql -X -q "${s.url}" -c "copy (${query.replace(/\s+/g, ' ')}) to stdout with (format csv, header)" > /dev/null`]);
  const seconds = secondsSince(start);
  const [{ n }] = await pgQuery<{ n: string }>(s.url, `select count(*) as n from contacts where status = 'ACTIVE'`) as [{ n: string }];
  return { rowsPerSecond: Number(n) / seconds };
}

export async function readsWritesBench(o: Options = optionsFrom(process.env)): Promise<BenchReport> {
  const wants = (c: Case) => o.cases.includes(c);
  if (wants('requests') && !fs.existsSync(o.wrk)) throw new Error(`${o.wrk} is missing: apt-get install -y wrk (or set BENCH_WRK)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-rw-csv-'));
  const source = new RowSource(7);
  const bigCsv = path.join(dir, 'big.csv');
  const smallCsv = path.join(dir, 'small.csv');
  writeRawCsv(bigCsv, o.rows, source);
  writeRawCsv(smallCsv, o.smallRows, source);
  const notes: string[] = [];
  const rows: string[][] = [];
  const served: Served[] = [];
  const loadAtStart = os.loadavg();
  try {
    for (const dialect of o.stores) {
      const small = await serve(dialect, o.smallRows, smallCsv, 10);
      served.push(small);
      // DELETE works through distinct contacts: enough for every round.
      const big = await serve(dialect, o.rows, bigCsv, 60_000);
      served.push(big);

      if (wants('requests')) {
        // The three reads: the same request (same path and query) on both stores; the bare server answers the big
        // store's bytes. The phone lookup asks for a number both stores hold (the small CSV's rows are the big one's first).
        const phone = new RowSource(7).number(3);
        const reads = {
          'first page': `/contacts`,
          'name search (q=nguyen)': `/contacts?q=nguyen`,
          'phone lookup': `/contacts?phoneNumber=%2B91${phone}`,
          'GET by id': `/contacts/${big.sampleId}`,
        } as const;
        const answers = new Map<string, { type: string; body: Buffer }>();
        for (const [, q] of Object.entries(reads)) answers.set(`${basePath(big)}${q}`, await capture(`${big.server.url}${basePath(big)}${q}`, big));
        const bare = await bareServer(answers);
        const results: Record<string, Load[]> = {};
        const push = (key: string, l: Load) => (results[key] ??= []).push(l);
        try {
          for (let round = 1; round <= o.rounds; round++) {
            const cases: [string, () => Promise<Load>][] = [];
            for (const [name, q] of Object.entries(reads)) {
              if (name !== 'GET by id') cases.push([`${name} @${o.smallRows}`, () => wrk(o, small.server.url, getScript(small, `${basePath(small)}${q}`))]);
              cases.push([`${name} @${o.rows}`, () => wrk(o, big.server.url, getScript(big, `${basePath(big)}${q}`))]);
              cases.push([`${name} bare`, () => wrk(o, bare.url, getScript(undefined, `${basePath(big)}${q}`))]);
            }
            cases.push(['POST', () => wrk(o, big.server.url, postScript(big, round))]);
            cases.push(['PUT', () => wrk(o, big.server.url, putScript(big))]);
            const share = Math.floor(big.deletable.length / o.rounds);
            cases.push(['DELETE', () => wrk(o, big.server.url, deleteScript(big, big.deletable.slice((round - 1) * share, round * share)))]);
            if (dialect === 'sqlite') {
              cases.push(['bare loop', async () => {
                const r = await runChild<LoopResult>(import.meta.url, { dir: path.dirname(big.file!), seconds: o.seconds });
                return { rps: r.txPerSecond, p99Ms: r.p99Ms, non2xx: 0 };
              }]);
            }
            // Alternate the order between rounds, so that no case always runs on a cooler (or hotter) machine.
            const ordered = round % 2 === 1 ? cases : [...cases].reverse();
            for (const [key, run] of ordered) push(key, await run());
            console.error(`  ${dialect} round ${round}/${o.rounds} done, load ${os.loadavg()[0]!.toFixed(2)}`);
          }
        } finally {
          bare.stop();
        }
        const m = (key: string) => ({
          rps: median(results[key]!.map((l) => l.rps)),
          p99: median(results[key]!.map((l) => l.p99Ms)),
          non2xx: results[key]!.reduce((a, l) => a + l.non2xx, 0),
          spread: results[key]!.map((l) => l.rps.toFixed(0)).join('–'),
        });
        for (const name of Object.keys(reads)) {
          const atBig = m(`${name} @${o.rows}`);
          const bareM = m(`${name} bare`);
          const atSmall = name === 'GET by id' ? undefined : m(`${name} @${o.smallRows}`);
          rows.push([
            dialect, name,
            atSmall ? `${atSmall.rps.toFixed(0)} (${atSmall.spread}), p99 ${atSmall.p99.toFixed(2)} ms` : '',
            `${atBig.rps.toFixed(0)} (${atBig.spread}), p99 ${atBig.p99.toFixed(2)} ms${atBig.non2xx ? `, ${atBig.non2xx} non-2xx` : ''}`,
            atSmall ? ratio(atSmall.rps / atBig.rps) : '',
            `${bareM.rps.toFixed(0)}, p99 ${bareM.p99.toFixed(2)} ms`,
            ratio(atBig.rps / bareM.rps),
            ratio(atBig.p99 / bareM.p99),
          ]);
        }
        const get = m(`GET by id @${o.rows}`);
        const loop = dialect === 'sqlite' ? m('bare loop') : undefined;
        for (const w of ['POST', 'PUT', 'DELETE']) {
          const r = m(w);
          rows.push([
            dialect, `${w} one contact`, '',
            `${r.rps.toFixed(0)} (${r.spread}), p99 ${r.p99.toFixed(2)} ms${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}`,
            '',
            `GET by id ${get.rps.toFixed(0)}${loop ? `; bare loop ${loop.rps.toFixed(0)} tx/s, p99 ${loop.p99.toFixed(2)} ms` : ''}`,
            `${ratio(r.rps / get.rps)} of GET${loop ? `, ${ratio(r.rps / loop.rps)} of loop` : ''}`,
            `${ratio(r.p99 / get.p99)} of GET`,
          ]);
        }
      }
      if (wants('export')) {
        const exports: Awaited<ReturnType<typeof exportRun>>[] = [];
        const shells: number[] = [];
        const shell = dialect === 'sqlite' ? sqliteCsv : psqlCopy;
        const smallExport = await exportRun(small);
        for (let round = 1; round <= o.rounds; round++) {
          if (round % 2) {
            exports.push(await exportRun(big));
            shells.push((await shell(big)).rowsPerSecond);
          } else {
            shells.push((await shell(big)).rowsPerSecond);
            exports.push(await exportRun(big));
          }
          console.error(`  ${dialect} export round ${round}/${o.rounds}: ${perSecond(exports.at(-1)!.rowsPerSecond)} rows against ${perSecond(shells.at(-1)!)}, load ${os.loadavg()[0]!.toFixed(2)}`);
        }
        const e = median(exports.map((x) => x.rowsPerSecond));
        const sh = median(shells);
        rows.push([
          dialect, 'export (ACTIVE, createdAt order)', `RSS ${mb(smallExport.startRss)} → peak ${mb(smallExport.peakRss)} at ${smallExport.rows} rows`,
          `${perSecond(e)} rows (${exports.map((x) => perSecond(x.rowsPerSecond)).join(', ')}), ${exports[0]!.rows} rows, RSS ${mb(Math.min(...exports.map((x) => x.startRss)))} → peak ${mb(Math.max(...exports.map((x) => x.peakRss)))}`,
          '', `${dialect === 'sqlite' ? 'sqlite3 -csv' : 'psql COPY … TO STDOUT (csv)'} ${perSecond(sh)} rows (${shells.map(perSecond).join(', ')})`, ratio(e / sh), '',
        ]);
      }
    }
  } finally {
    for (const s of served) {
      await s.server.stop().catch(() => undefined);
      await s.drop().catch(() => undefined);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  notes.push(
    `Each cell: median req/s of ${o.rounds} alternating rounds (the rounds' own figures in brackets) and the median p99; wrk -t2 -c${o.connections} -d${o.seconds}s --latency on the same machine as the servers.`,
    `Stores filled through POST /contacts/import-contacts (report=true) of a generated CSV (bench/import-scale-data.ts, seed 7): ${o.smallRows} and ${o.rows} contacts in one stream each; the small CSV is the big one's first rows. Servers: node ${SERVER_NODE_OPTIONS.join(' ')} dist/server.js (as npm start runs it), RATE_LIMIT_PER_MINUTE=0, LOG_LEVEL=warn.`,
    '"1k→1M cost": req/s at the small store ÷ req/s at the big one (≤ 1.5× is the target). "vs bare": the big store\'s req/s ÷ a bare node:http server (own process) answering the same path with the captured bytes and content type (≥ 0.25×), and p99 ÷ its p99 (≤ 5×).',
    'POST: one new contact per request (numbers unique per run; a number that the import already holds answers 409, counted as non-2xx). PUT: firstName of one contact. DELETE: a different ACTIVE contact each request. Bare loop: better-sqlite3 BEGIN/INSERT/COMMIT of one row into a table with a unique index, WAL, synchronous=FULL, file beside the database, one process, back to back.',
    `Load average (1/5/15 min) at the start: ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')}; at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}. The machine is shared; see the load before reading a ratio.`,
  );
  return {
    title: `Reads and writes at ${o.rows.toLocaleString('en')} contacts (req/s)`,
    columns: ['store', 'request', `at ${o.smallRows}`, `at ${o.rows}`, '1k→1M cost', 'baseline', 'vs baseline', 'p99 vs baseline'],
    rows,
    notes,
  };
}

function optionsFrom(env: NodeJS.ProcessEnv): Options {
  const int = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
  return {
    rows: int('BENCH_ROWS', 1_000_000),
    smallRows: int('BENCH_SMALL_ROWS', 1000),
    rounds: int('BENCH_ROUNDS', 3),
    seconds: int('BENCH_SECONDS', 5),
    connections: int('BENCH_CONNECTIONS', 10),
    stores: (env.BENCH_STORES ?? 'sqlite,postgres').split(',').map((s) => s.trim()).filter(Boolean) as Dialect[],
    wrk: env.BENCH_WRK ?? '/usr/bin/wrk',
    cases: (env.BENCH_CASES ?? CASES.join(',')).split(',').map((c) => c.trim()).filter((c): c is Case => {
      if (!(CASES as readonly string[]).includes(c)) throw new Error(`BENCH_CASES: unknown case "${c}" (${CASES.join(', ')})`);
      return true;
    }),
  };
}

const child = childArgument<{ dir: string; seconds: number }>();
if (child) reply(sqliteLoop(child));
else if (isMain(import.meta.url)) console.log(formatReport(await readsWritesBench()));

// A large CSV import through the built server — as a job (POST /contacts/imports, then polling) and synchronously
// (POST /contacts/import-contacts) — on SQLite and PostgreSQL, against the stores' own bulk loaders (sqlite3 .import,
// psql \copy) of the same rows, in alternating rounds; the server's peak RSS at 1M rows and at 5M, and the SQLite
// file's size after the import against the size .import gives.
//
// `npm run bench -- import-scale`; options by environment: BENCH_ROWS (1,000,000), BENCH_ROUNDS (3), BENCH_BIG_ROWS
// (5 × rows; 0 or BENCH_SKIP_5M=1 skips it), BENCH_SEED, BENCH_CASES (comma list of case keys), BENCH_SERVER_ENV
// ("NAME=value NAME=value", more server environment). Run directly: npx tsx bench/import-scale.ts --rows 20000
// --rounds 1 --skip-5m [--cases sqlite-sync,sqlite-import-formed].
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_OPTIONS, startServerProcess, type ServerProcess } from '../test/helpers/server-process.js';
import { RowSource, writeFormedCsv, writeRawCsv, type TableColumn, type Tenant } from './import-scale-data.js';
import {
  bytesBeside, createDatabase, dialbookCli, getJson, pgQuery, pgScalar, PG_ADMIN_URL, postCsvFile, postgresAnswers, psql,
  sampleProcessRss, SERVER_BUILD, setupStore, sleep, sqlite3, sqliteBytes, sqliteCount, sqliteJson, type ServerMemory,
} from './import-scale-tools.js';
import { formatReport, isMain, mb, perSecond, ratio, secondsSince, type BenchReport } from './support.js';

export interface ImportScaleOptions {
  rows: number;
  rounds: number;
  /** Rows of the one large job import on SQLite (memory at scale); 0 skips it. */
  bigRows: number;
  seed: number;
  /** Case keys to run (all when absent). */
  cases?: string[];
  /** More environment for the server, e.g. PG_STATEMENT_TIMEOUT_MS. */
  serverEnv: Record<string, string>;
  pollMs: number;
  /** Longest a single case may take. */
  caseTimeoutSeconds: number;
}

type Dialect = 'sqlite' | 'postgres';
type Mode = 'job' | 'sync';

interface Outcome {
  seconds: number;
  /** Contacts (rows) in the table afterwards, counted with the store's own CLI. */
  written: number;
  memory?: ServerMemory;
  /** SQLite: the database file after a TRUNCATE checkpoint; PostgreSQL: pg_database_size. */
  dbBytes?: number;
  /** SQLite: other files in the database's folder (an upload kept beside it, …). */
  besideBytes?: number;
  detail?: string;
}

interface Prepared {
  dir: string;
  rows: number;
  rawFile: string;
  rawBytes: number;
  formedFile?: string;
  formedBytes?: number;
  formedColumns?: string[];
  sqliteTemplate?: string;
  pgTemplate?: { name: string; drop(): Promise<void> };
  problems: Record<string, string>;
}

interface CaseDef {
  key: string;
  label: string;
  dialect: Dialect;
  /** The preparation it needs; a case whose preparation failed reports that error. */
  needs?: 'formed-sqlite' | 'formed-pg';
  run(p: Prepared, o: ImportScaleOptions): Promise<Outcome>;
}

const API = '/agentassist/api/v1/public';
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

const CASES: CaseDef[] = [
  { key: 'sqlite-job', label: 'Dialbook import job (POST /contacts/imports), SQLite', dialect: 'sqlite', run: (p, o) => dialbookImport('sqlite', 'job', p.rawFile, p.rows, p, o) },
  { key: 'sqlite-import-formed', label: 'baseline (a): sqlite3 .import, formed rows → migrated contacts table', dialect: 'sqlite', needs: 'formed-sqlite', run: (p) => sqliteImportFormed(p) },
  { key: 'sqlite-sync', label: 'Dialbook synchronous import-contacts, SQLite', dialect: 'sqlite', run: (p, o) => dialbookImport('sqlite', 'sync', p.rawFile, p.rows, p, o) },
  { key: 'sqlite-import-raw', label: 'baseline (b): sqlite3 .import, raw CSV → bare 6-column table + unique phone index', dialect: 'sqlite', run: (p) => sqliteImportRaw(p) },
  { key: 'pg-job', label: 'Dialbook import job (POST /contacts/imports), PostgreSQL', dialect: 'postgres', run: (p, o) => dialbookImport('postgres', 'job', p.rawFile, p.rows, p, o) },
  { key: 'psql-copy-formed', label: 'baseline (c): psql \\copy, formed rows → migrated contacts table', dialect: 'postgres', needs: 'formed-pg', run: (p) => psqlCopyFormed(p) },
  { key: 'pg-sync', label: 'Dialbook synchronous import-contacts, PostgreSQL', dialect: 'postgres', run: (p, o) => dialbookImport('postgres', 'sync', p.rawFile, p.rows, p, o) },
];
const BIG_KEY = 'sqlite-job-big';
export const CASE_KEYS = [...CASES.map((c) => c.key), BIG_KEY];

// ---- Dialbook through the built server ----

async function dialbookImport(dialect: Dialect, mode: Mode, file: string, rows: number, p: Prepared, o: ImportScaleOptions): Promise<Outcome> {
  if (!fs.existsSync(SERVER_BUILD)) throw new Error(`${SERVER_BUILD} is missing: run \`npm run build\``);
  const bytes = fs.statSync(file).size;
  let dir: string | undefined;
  let dbFile = '';
  let pgDb: Awaited<ReturnType<typeof createDatabase>> | undefined;
  let server: ServerProcess | undefined;
  try {
    let url: string;
    if (dialect === 'sqlite') {
      dir = fs.mkdtempSync(path.join(p.dir, `${mode}-`));
      dbFile = path.join(dir, 'dialbook.db');
      url = `sqlite:${dbFile}`;
    } else {
      pgDb = await createDatabase('dialbook_scale');
      url = pgDb.url;
    }
    const creds = await setupStore(url);
    server = await startServerProcess({
      DATABASE_URL: url,
      RATE_LIMIT_PER_MINUTE: '0',
      IMPORT_MAX_ROWS: String(Math.max(rows, 1_000_000)),
      IMPORT_MAX_BYTES: String(Math.max(bytes + 2 ** 20, 100 * 2 ** 20)),
      LOG_LEVEL: 'warn',
      REQUEST_TIMEOUT_MS: '3600000',
      ...o.serverEnv,
    });
    const running = server;
    const base = `${server.url}${API}/${creds.streamId}/contacts`;
    const headers = { auth: creds.token, accountId: creds.accountId };
    const died = (error: unknown) =>
      running.alive() ? error : new Error(`the server exited during the import (${(error as Error).message}):\n${running.output().slice(-3000)}`);

    const memory = sampleProcessRss(server.pid);
    const start = process.hrtime.bigint();
    let detail: string;
    try {
      if (mode === 'sync') {
        const answer = await postCsvFile(`${base}/import-contacts`, headers, file);
        if (answer.status !== 200) throw new Error(`import-contacts answered ${answer.status}: ${answer.head.slice(0, 1500)}`);
        if (!answer.head.startsWith('[') || !answer.tail.endsWith(']')) throw new Error(`import-contacts answered 200 but not an array: ${answer.head.slice(0, 300)} … ${answer.tail}`);
        detail = `answer ${mb(answer.bytes)} streamed`;
      } else {
        const answer = await postCsvFile(`${base}/imports`, headers, file);
        const accepted = secondsSince(start);
        if (answer.status !== 202) throw new Error(`POST /contacts/imports answered ${answer.status}: ${answer.head.slice(0, 1500)}`);
        let job = JSON.parse(answer.head) as Record<string, unknown>;
        if (typeof job.id !== 'string') throw new Error(`the 202 carries no job id: ${answer.head.slice(0, 500)}`);
        const deadline = Date.now() + o.caseTimeoutSeconds * 1000;
        while (!TERMINAL.has(String(job.state))) {
          if (!running.alive()) throw new Error('gone');
          if (Date.now() > deadline) throw new Error(`the job is still ${String(job.state)} after ${o.caseTimeoutSeconds} s: ${JSON.stringify(job)}`);
          await sleep(o.pollMs);
          const polled = await getJson(`${base}/imports/${job.id}`, headers);
          if (polled.status !== 200) throw new Error(`GET /contacts/imports/${job.id} answered ${polled.status}: ${polled.text.slice(0, 500)}`);
          job = polled.body as Record<string, unknown>;
        }
        if (job.state !== 'completed' || job.created !== rows || job.failed !== 0) throw new Error(`the job ended ${JSON.stringify(job).slice(0, 1500)}`);
        const serverSide = Date.parse(String(job.finishedAt)) - Date.parse(String(job.createdAt));
        detail = `202 after ${accepted.toFixed(2)} s${Number.isFinite(serverSide) ? `, job createdAt→finishedAt ${(serverSide / 1000).toFixed(2)} s` : ''}`;
      }
    } catch (error) {
      memory.stop();
      throw died(error);
    }
    const seconds = secondsSince(start);
    const mem = memory.stop();
    const code = await server.stop(60_000);
    if (code !== 0) detail += `; server exited ${code}`;
    if (dialect === 'sqlite') {
      return {
        seconds, memory: mem, detail,
        written: await sqliteCount(dbFile, "contacts where status = 'ACTIVE'"),
        dbBytes: await sqliteBytes(dbFile),
        besideBytes: bytesBeside(dir!, dbFile),
      };
    }
    return {
      seconds, memory: mem, detail,
      written: Number(await pgScalar(url, "select count(*) from contacts where status = 'ACTIVE'")),
      dbBytes: Number(await pgScalar(url, 'select pg_database_size(current_database())')),
    };
  } finally {
    if (server?.alive()) await server.stop(10_000).catch(() => {});
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (pgDb) await pgDb.drop().catch(() => {});
  }
}

// ---- Baselines, with the real sqlite3 and psql ----

// The pragmas the service sets on its connection (src/db/database.ts).
// BENCH_BASELINE_PRAGMAS adds more ("cache_size=-262144 temp_store=memory"), should the service come to set them.
const EXTRA_PRAGMAS = (process.env.BENCH_BASELINE_PRAGMAS ?? '').split(/[\s,;]+/).filter(Boolean);
const BASELINE_PRAGMAS = ['journal_mode=WAL', 'synchronous=FULL', 'foreign_keys=ON', ...EXTRA_PRAGMAS];
const SERVICE_PRAGMAS = BASELINE_PRAGMAS.map((p) => `PRAGMA ${p};\n`).join('');
const shellPath = (file: string) => `"${file.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** (a) sqlite3 .import of the formed rows into a copy of the migrated, set-up template (every index in place). */
async function sqliteImportFormed(p: Prepared): Promise<Outcome> {
  const dir = fs.mkdtempSync(path.join(p.dir, 'formed-'));
  try {
    const dbFile = path.join(dir, 'formed.db');
    fs.copyFileSync(p.sqliteTemplate!, dbFile);
    const { seconds } = await sqlite3(dbFile, `${SERVICE_PRAGMAS}.import --csv ${shellPath(p.formedFile!)} contacts\n`);
    return { seconds, written: await sqliteCount(dbFile, "contacts where status = 'ACTIVE'"), dbBytes: await sqliteBytes(dbFile) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** (b) sqlite3 .import of the upload as it is into a bare table of its 6 columns, unique on the number. */
async function sqliteImportRaw(p: Prepared): Promise<Outcome> {
  const dir = fs.mkdtempSync(path.join(p.dir, 'raw-'));
  try {
    const dbFile = path.join(dir, 'raw.db');
    await sqlite3(
      dbFile,
      'PRAGMA journal_mode=WAL;\n' +
        'CREATE TABLE raw_contacts (firstName TEXT, lastName TEXT, salutation TEXT, cellPhoneNumber TEXT, cellPhoneCountryCode TEXT, cellPhoneExtension TEXT);\n' +
        'CREATE UNIQUE INDEX raw_contacts_phone_uq ON raw_contacts (cellPhoneNumber);\n',
    );
    const { seconds } = await sqlite3(dbFile, `${SERVICE_PRAGMAS}.import --csv --skip 1 ${shellPath(p.rawFile)} raw_contacts\n`);
    return { seconds, written: await sqliteCount(dbFile, 'raw_contacts'), dbBytes: await sqliteBytes(dbFile) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** (c) psql \copy of the formed rows into a copy of the migrated template database. */
async function psqlCopyFormed(p: Prepared): Promise<Outcome> {
  const db = await createDatabase('dialbook_scale_copy', p.pgTemplate!.name);
  try {
    const file = p.formedFile!.replace(/'/g, "''");
    const { seconds } = await psql(db.url, `\\copy contacts (${p.formedColumns!.join(', ')}) from '${file}' with (format csv)`);
    return {
      seconds,
      written: Number(await pgScalar(db.url, "select count(*) from contacts where status = 'ACTIVE'")),
      dbBytes: Number(await pgScalar(db.url, 'select pg_database_size(current_database())')),
    };
  } finally {
    await db.drop().catch(() => {});
  }
}

// ---- Preparation (untimed) ----

async function prepare(o: ImportScaleOptions, keys: Set<string>, pgProblem: string | undefined): Promise<Prepared> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-import-scale-'));
  const source = new RowSource(o.seed);
  const rawFile = path.join(dir, 'contacts.csv');
  const rawBytes = writeRawCsv(rawFile, o.rows, source);
  const p: Prepared = { dir, rows: o.rows, rawFile, rawBytes, problems: {} };
  if (!keys.has('sqlite-import-formed') && !keys.has('psql-copy-formed')) return p;

  // The template: migrated by the real CLI, with setup's tenant so that the contacts' foreign key holds.
  let tenant: Tenant & { columns: TableColumn[] };
  try {
    const template = path.join(dir, 'template.db');
    await dialbookCli(`sqlite:${template}`, 'migrate');
    const creds = await setupStore(`sqlite:${template}`);
    await sqliteBytes(template); // checkpointed: the .db file alone is the whole database, ready to copy
    const columns = await sqliteJson<TableColumn>(template, 'pragma table_info(contacts)');
    if (!columns.length) throw new Error('the migrated template has no contacts table');
    tenant = { ...creds, columns };
    p.sqliteTemplate = template;
    p.formedColumns = columns.map((c) => c.name);
    p.formedFile = path.join(dir, 'formed.csv');
    p.formedBytes = writeFormedCsv(p.formedFile, o.rows, source, creds, columns);
  } catch (error) {
    p.problems['formed-sqlite'] = p.problems['formed-pg'] = `preparing the migrated SQLite template and the formed rows failed: ${(error as Error).message}`;
    return p;
  }

  if (keys.has('psql-copy-formed') && !pgProblem) {
    try {
      // Migrated by the real CLI; the tenant's rows copied from the SQLite template, so the formed rows fit both.
      const db = await createDatabase('dialbook_scale_tmpl');
      p.pgTemplate = db;
      await dialbookCli(db.url, 'migrate');
      for (const table of ['organisations', 'accounts', 'streams']) {
        for (const row of await sqliteJson<Record<string, unknown>>(p.sqliteTemplate, `select * from ${table}`)) {
          const names = Object.keys(row);
          await pgQuery(db.url, `insert into ${table} (${names.join(', ')}) values (${names.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
        }
      }
      const streams = await pgQuery<{ id: string }>(db.url, 'select id from streams');
      if (streams[0]?.id !== tenant.streamId) throw new Error(`the PostgreSQL template's stream is ${JSON.stringify(streams)}, not ${tenant.streamId}`);
    } catch (error) {
      p.problems['formed-pg'] = `preparing the migrated PostgreSQL template failed: ${(error as Error).message}`;
    }
  }
  return p;
}

async function cleanUp(p: Prepared | undefined): Promise<void> {
  if (!p) return;
  await p.pgTemplate?.drop().catch(() => {});
  fs.rmSync(p.dir, { recursive: true, force: true });
}

// ---- Rounds and the report ----

interface Run {
  round: number;
  outcome?: Outcome;
  error?: string;
  load: [number, number];
}

const median = (values: number[]): number | undefined => {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const load1 = () => os.loadavg()[0]!;
const count = (n: number) => n.toLocaleString('en');

async function runCase(c: CaseDef, p: Prepared, o: ImportScaleOptions, round: number, expected: number): Promise<Run> {
  const before = load1();
  try {
    const problem = c.needs && p.problems[c.needs];
    if (problem) throw new Error(problem);
    const outcome = await c.run(p, o);
    if (outcome.written !== expected) throw new Error(`${count(outcome.written)} rows in the table afterwards, expected ${count(expected)}`);
    return { round, outcome, load: [before, load1()] };
  } catch (error) {
    return { round, error: (error as Error).message.replace(/\s+/g, ' ').slice(0, 2500), load: [before, load1()] };
  }
}

function distReport(): string {
  if (!fs.existsSync(SERVER_BUILD)) return 'dist/server.js is missing: run `npm run build` first.';
  const built = fs.statSync(SERVER_BUILD).mtimeMs;
  const src = fileURLToPath(new URL('../src/', import.meta.url));
  const newer = fs.readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && fs.statSync(path.join(src, f)).mtimeMs > built);
  return `Server: node ${SERVER_NODE_OPTIONS.join(' ')} dist/server.js (as npm start runs it) built ${new Date(built).toISOString()}` +
    (newer.length ? `; WARNING: ${newer.length} file(s) of src/ are newer than the build (${newer.slice(0, 5).join(', ')}${newer.length > 5 ? ', …' : ''}): run \`npm run build\`.` : '.');
}

export async function importScaleBench(options: Partial<ImportScaleOptions> = {}): Promise<BenchReport> {
  const o: ImportScaleOptions = { ...optionsFromEnv([]), ...options };
  const pgProblem = await postgresAnswers();
  const wanted = new Set(o.cases ?? CASE_KEYS);
  const notes: string[] = [];
  const selected = CASES.filter((c) => wanted.has(c.key) && !(c.dialect === 'postgres' && pgProblem));
  if (pgProblem && CASES.some((c) => c.dialect === 'postgres' && wanted.has(c.key))) {
    notes.push(`PostgreSQL cases skipped: nothing answers at ${PG_ADMIN_URL} (${pgProblem}).`);
  }
  const runs = new Map<string, Run[]>(CASES.map((c) => [c.key, []]));
  let big: Run | undefined;
  let p: Prepared | undefined;
  const removeOnExit = () => p && fs.rmSync(p.dir, { recursive: true, force: true });
  const interrupted = () => process.exit(130);
  process.once('exit', removeOnExit);
  process.once('SIGINT', interrupted);
  const started = process.hrtime.bigint();
  try {
    p = await prepare(o, new Set(selected.map((c) => c.key)), pgProblem);
    notes.push(
      `${count(o.rows)} rows, ${o.rounds} round(s), seed ${o.seed}: upload ${mb(p.rawBytes)} (raw CSV, header + rows, unsorted unique +91 mobiles, some quoted names)` +
        (p.formedBytes ? `; formed rows ${mb(p.formedBytes)} (${p.formedColumns!.length} columns of contacts, generated once, untimed)` : '') + '.',
    );
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? selected : [...selected].reverse();
      const loads: string[] = [];
      for (const c of order) {
        const run = await runCase(c, p, o, round + 1, o.rows);
        runs.get(c.key)!.push(run);
        loads.push(`${c.key} ${run.load[0].toFixed(2)}→${run.load[1].toFixed(2)}${run.error ? ' (failed)' : ''}`);
      }
      notes.push(`Round ${round + 1}, in this order, load average (1 min) before→after each case: ${loads.join(', ')}.`);
    }
    if (o.bigRows > 0 && wanted.has(BIG_KEY)) {
      const bigFile = path.join(p.dir, 'contacts-big.csv');
      const prepared = p;
      const bigCase: CaseDef = { key: BIG_KEY, label: '', dialect: 'sqlite', run: (_p, opts) => dialbookImport('sqlite', 'job', bigFile, o.bigRows, prepared, opts) };
      try {
        const bigBytes = writeRawCsv(bigFile, o.bigRows, new RowSource(o.seed));
        big = await runCase(bigCase, p, o, 1, o.bigRows);
        notes.push(`Large job (${count(o.bigRows)} rows, ${mb(bigBytes)}), once after the rounds: load ${big.load[0].toFixed(2)}→${big.load[1].toFixed(2)}.`);
      } finally {
        fs.rmSync(bigFile, { force: true });
      }
    }
  } catch (error) {
    notes.push(`The bench stopped early: ${(error as Error).message}`);
  } finally {
    await cleanUp(p);
    process.removeListener('exit', removeOnExit);
    process.removeListener('SIGINT', interrupted);
  }
  return report(o, selected, runs, big, notes, secondsSince(started));
}

function report(o: ImportScaleOptions, selected: CaseDef[], runs: Map<string, Run[]>, big: Run | undefined, notes: string[], seconds: number): BenchReport {
  const ok = (key: string) => (runs.get(key) ?? []).flatMap((r) => (r.outcome ? [r.outcome] : []));
  const med = (key: string, pick: (x: Outcome) => number | undefined) =>
    median(ok(key).flatMap((x) => { const v = pick(x); return v === undefined ? [] : [v]; }));
  const table: string[][] = [];
  const memCell = (m: (ServerMemory | undefined)[]) => {
    const ms = m.filter((x): x is ServerMemory => !!x);
    if (!ms.length) return '';
    return `${mb(median(ms.map((x) => x.startRss))!)} → ${mb(median(ms.map((x) => x.peakRss))!)} / ${mb(median(ms.map((x) => x.hwm))!)}`;
  };
  const sizeCell = (xs: Outcome[]) => {
    const db = median(xs.flatMap((x) => (x.dbBytes === undefined ? [] : [x.dbBytes])));
    const beside = median(xs.flatMap((x) => (x.besideBytes === undefined ? [] : [x.besideBytes])));
    return db === undefined ? '' : `${mb(db)}${beside ? ` (+${mb(beside)} beside)` : ''}`;
  };
  const caseRow = (label: string, n: number, rs: Run[]) => {
    const xs = rs.flatMap((r) => (r.outcome ? [r.outcome] : []));
    const secs = xs.map((x) => x.seconds);
    const m = median(secs);
    return [
      label, count(n), rs.map((r) => (r.outcome ? r.outcome.seconds.toFixed(2) : '✗')).join(', '),
      secs.length ? Math.min(...secs).toFixed(2) : '', m === undefined ? '' : m.toFixed(2), m === undefined ? '' : perSecond(n / m),
      memCell(xs.map((x) => x.memory)), sizeCell(xs), '', '', '',
    ];
  };
  for (const c of selected) table.push(caseRow(`${c.label} [${c.key}]`, o.rows, runs.get(c.key)!));
  if (big) table.push(caseRow(`Dialbook import job, SQLite, large file, once [${BIG_KEY}]`, o.bigRows, [big]));

  const check = (what: string, value: number | undefined, target: number | undefined, higherIsBetter: boolean, why?: string) => {
    const met = value === undefined || target === undefined ? '' : (higherIsBetter ? value >= target : value <= target) ? 'yes' : 'NO';
    table.push([what, '', '', '', '', '', '', '', value === undefined ? why ?? 'n/a (a side failed or did not run)' : ratio(value), target === undefined ? '' : `${higherIsBetter ? '≥' : '≤'} ${ratio(target)}`, met]);
  };
  const speed = (dialbook: string, baseline: string) => {
    const d = med(dialbook, (x) => x.seconds);
    const b = med(baseline, (x) => x.seconds);
    return d === undefined || b === undefined ? undefined : b / d;
  };
  const has = (key: string) => selected.some((c) => c.key === key);
  const speedChecks: [string, string, string, number | undefined][] = [
    ['SQLite job vs (a) .import into the migrated table', 'sqlite-job', 'sqlite-import-formed', 0.6],
    ['SQLite sync vs (a) .import into the migrated table', 'sqlite-sync', 'sqlite-import-formed', 0.6],
    ['SQLite job vs (b) .import of the raw CSV into a bare table', 'sqlite-job', 'sqlite-import-raw', undefined],
    ['SQLite sync vs (b) .import of the raw CSV into a bare table', 'sqlite-sync', 'sqlite-import-raw', undefined],
    ['PostgreSQL job vs (c) psql \\copy into the migrated table', 'pg-job', 'psql-copy-formed', 0.7],
    ['PostgreSQL sync vs (c) psql \\copy into the migrated table', 'pg-sync', 'psql-copy-formed', 0.7],
  ];
  for (const [what, d, b, target] of speedChecks) {
    if (has(d) && has(b)) check(`speed: ${what} (baseline s ÷ Dialbook s, medians)`, speed(d, b), target, true);
  }
  if (has('sqlite-job') && o.bigRows > 0 && (o.cases ?? CASE_KEYS).includes(BIG_KEY)) {
    const small = med('sqlite-job', (x) => x.memory?.hwm);
    const large = big?.outcome?.memory?.hwm;
    check(
      `memory: SQLite job server VmHWM at ${count(o.bigRows)} rows ÷ at ${count(o.rows)} (${large ? mb(large) : '?'} ÷ ${small ? mb(small) : '?'})`,
      small && large ? large / small : undefined, 1.1, false, big?.error ? 'n/a (the large job failed)' : undefined,
    );
  }
  if (has('sqlite-job') && has('sqlite-import-formed')) {
    const job = med('sqlite-job', (x) => x.dbBytes);
    const base = med('sqlite-import-formed', (x) => x.dbBytes);
    check(`size: SQLite file after the job ÷ after (a) (${job ? mb(job) : '?'} ÷ ${base ? mb(base) : '?'}; checkpointed)`, job && base ? job / base : undefined, 1.2, false);
  }
  if (has('sqlite-sync') && has('sqlite-import-formed')) {
    const sync = med('sqlite-sync', (x) => x.dbBytes);
    const base = med('sqlite-import-formed', (x) => x.dbBytes);
    check(`size: SQLite file after the sync import ÷ after (a) (checkpointed)`, sync && base ? sync / base : undefined, undefined, false);
  }

  const failures = [...runs.entries()].flatMap(([key, rs]) => rs.flatMap((r) => (r.error ? [`FAILED ${key}, round ${r.round}: ${r.error}`] : [])));
  if (big?.error) failures.push(`FAILED ${BIG_KEY}: ${big.error}`);
  const details = [...runs.entries(), ...(big ? [[BIG_KEY, [big]] as [string, Run[]]] : [])].flatMap(([key, rs]) => {
    const ds = rs.flatMap((r) => (r.outcome?.detail ? [`r${r.round}: ${r.outcome.detail}`] : []));
    return ds.length ? [`${key}: ${ds.join('; ')}.`] : [];
  });
  return {
    title: `Large CSV import: Dialbook (job and synchronous, built server) against sqlite3 .import and psql \\copy, ${count(o.rows)} rows × ${o.rounds} round(s)`,
    columns: ['case', 'rows', 'seconds, each round', 'min s', 'median s', 'rows/s (median)', 'server RSS start → peak / VmHWM', 'db size', 'measure', 'target', 'met'],
    rows: table,
    notes: [
      ...notes,
      `Cases alternate their order between rounds (odd rounds as listed, even rounds reversed). Each Dialbook case starts a fresh \`node ${SERVER_NODE_OPTIONS.join(' ')} dist/server.js\`, as \`npm start\` runs it (DATABASE_URL a new SQLite file or a new PostgreSQL database, RATE_LIMIT_PER_MINUTE=0, IMPORT_MAX_ROWS / IMPORT_MAX_BYTES raised to fit, REQUEST_TIMEOUT_MS=3600000, LOG_LEVEL=warn${Object.keys(o.serverEnv).length ? `, ${Object.entries(o.serverEnv).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}) on a store set up by \`node dist/cli/main.js setup --json\`.`,
      `Job: the CSV streamed from disk as a raw text/csv body to POST …/contacts/imports (202 and the job), then GET …/contacts/imports/{id} every ${o.pollMs} ms until completed/failed/cancelled; timed from the request's first byte to the poll that saw it finish (so up to ${o.pollMs} ms late). Sync: the same body to POST …/contacts/import-contacts, the whole answer read (bytes counted, not kept), timed to its last byte.`,
      'Every case checks its result: the job completed with created = rows and failed = 0, the sync import answered 200 and an array, and afterwards the table holds exactly the rows (counted with sqlite3 / psql).',
      'Server RSS: VmRSS of the server process sampled every 50 ms from /proc during the import (start → peak), and its VmHWM (kernel high-water mark for the process\'s whole life) at the end; medians over rounds.',
      'Baselines: (a) `sqlite3 .import --csv` of the formed rows (ids, tenant, ACTIVE, E.164 number, name keys, timestamps; empty cells for the nullable columns an import leaves NULL) into a copy of a database migrated by `dialbook migrate` + `setup` (all indexes, the stream row for the foreign key), with the service\'s pragmas (' + BASELINE_PRAGMAS.join(', ') + '; the rest at sqlite3\'s defaults), one transaction; (b) `sqlite3 .import` of the upload itself into a bare table of its 6 columns with a unique index on the number; (c) `psql \\copy … with (format csv)` of the formed rows into a copy (CREATE DATABASE … TEMPLATE) of a database migrated the same way. Baselines are timed from spawning sqlite3 / psql to its exit.',
      'db size: SQLite, the database file after `PRAGMA wal_checkpoint(TRUNCATE)` (plus any -wal left), "beside" = other files in its folder; PostgreSQL, pg_database_size of the fresh database.',
      distReport(),
      ...details,
      ...failures,
      `(whole bench ${seconds.toFixed(0)} s)`,
    ],
  };
}

// ---- Options ----

function parseServerEnv(text: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (text ?? '').split(/[\s,]+/).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

/** Options from BENCH_* environment variables, overridden by --rows N, --rounds N, --big-rows N, --skip-5m, --seed N, --cases a,b. */
export function optionsFromEnv(argv: string[], env: NodeJS.ProcessEnv = process.env): ImportScaleOptions {
  const arg = (name: string) => {
    const at = argv.indexOf(`--${name}`);
    return at === -1 ? undefined : argv[at + 1];
  };
  const num = (value: string | undefined, fallback: number) => {
    if (value === undefined || value.trim() === '') return fallback;
    const n = Number(value.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 0) throw new Error(`expected a whole number, got "${value}"`);
    return n;
  };
  const rows = num(arg('rows') ?? env.BENCH_ROWS, 1_000_000);
  const skipBig = argv.includes('--skip-5m') || /^(1|true|yes)$/i.test(env.BENCH_SKIP_5M ?? '');
  const cases = (arg('cases') ?? env.BENCH_CASES)?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = cases?.filter((c) => !CASE_KEYS.includes(c)) ?? [];
  if (unknown.length) throw new Error(`unknown case ${unknown.join(', ')}; choose from ${CASE_KEYS.join(', ')}`);
  if (rows < 1) throw new Error('rows must be at least 1');
  return {
    rows,
    rounds: Math.max(1, num(arg('rounds') ?? env.BENCH_ROUNDS, 3)),
    bigRows: skipBig ? 0 : num(arg('big-rows') ?? env.BENCH_BIG_ROWS, rows * 5),
    seed: num(arg('seed') ?? env.BENCH_SEED, 20_261_201),
    cases,
    serverEnv: parseServerEnv(env.BENCH_SERVER_ENV),
    pollMs: num(env.BENCH_POLL_MS, 200),
    caseTimeoutSeconds: num(env.BENCH_CASE_TIMEOUT_S, 7200),
  };
}

if (isMain(import.meta.url)) {
  console.log(formatReport(await importScaleBench(optionsFromEnv(process.argv.slice(2)))));
}

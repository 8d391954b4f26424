// Processes and requests for bench/import-scale.ts: the real CLIs (dialbook, sqlite3, psql), a PostgreSQL admin
// connection, a server's RSS read from /proc, and uploads streamed from a file.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { secondsSince } from './support.js';
import type { SetupIdentities } from '../src/tenancy/tenancy.service.js';

export const CLI_ENTRY = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
export const SERVER_BUILD = fileURLToPath(new URL('../dist/server.js', import.meta.url));
export const SQLITE3 = process.env.BENCH_SQLITE3 ?? '/usr/bin/sqlite3';
export const PSQL = process.env.BENCH_PSQL ?? '/usr/bin/psql';
/** As the tests use it: TEST_DATABASE_URL, else the local server. */
export const PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** From spawn to exit. */
  seconds: number;
}

/** Runs a program to its end; rejects (with its stderr) when it exits non-zero or writes to stderr with `strict`. */
export function runCommand(
  file: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string; strictStderr?: boolean } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(file, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout = (stdout + c).slice(-1_000_000)));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-20_000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = secondsSince(start);
      const what = `${file} ${args.join(' ').slice(0, 300)}`;
      if (code !== 0) return reject(new Error(`${what} exited with ${code ?? signal}: ${stderr.trim() || stdout.trim().slice(-2000)}`));
      if (options.strictStderr && stderr.trim()) return reject(new Error(`${what} reported: ${stderr.trim().slice(0, 2000)}`));
      resolve({ stdout, stderr, seconds });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** What `dialbook setup --json` prints. */
export type Credentials = SetupIdentities & { token: string };

export async function dialbookCli(databaseUrl: string, ...args: string[]): Promise<CommandResult> {
  if (!fs.existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} is missing: run \`npm run build\``);
  return runCommand(process.execPath, [CLI_ENTRY, ...args], { env: { DATABASE_URL: databaseUrl } });
}

/** Migrates the store and creates (once) its tenant; the identities and a token. */
export async function setupStore(databaseUrl: string): Promise<Credentials> {
  const { stdout } = await dialbookCli(databaseUrl, 'setup', '--json');
  return JSON.parse(stdout.trim().split('\n').pop()!) as Credentials;
}

// ---- SQLite through the real sqlite3 shell ----

/** Runs a sqlite3 script on a database file; -bail stops at the first error, and any error fails the run. */
export function sqlite3(file: string, script: string): Promise<CommandResult> {
  return runCommand(SQLITE3, ['-bail', '-batch', file], { input: script, strictStderr: true });
}

export async function sqliteJson<T>(file: string, query: string): Promise<T[]> {
  const { stdout } = await runCommand(SQLITE3, ['-json', '-readonly', file, query]);
  return stdout.trim() ? (JSON.parse(stdout) as T[]) : [];
}

export async function sqliteCount(file: string, table: string): Promise<number> {
  const { stdout } = await runCommand(SQLITE3, [file, `select count(*) from ${table}`]);
  return Number(stdout.trim());
}

/** Bytes of a SQLite database once its WAL is checkpointed into it (the -wal file, if any, counted too). */
export async function sqliteBytes(file: string): Promise<number> {
  await runCommand(SQLITE3, [file, 'pragma wal_checkpoint(TRUNCATE);']);
  const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  return size(file) + size(`${file}-wal`);
}

/** Bytes of every file in `dir` (recursively) that is not the database or its -wal / -shm. */
export function bytesBeside(dir: string, dbFile: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const full = `${entry.parentPath}/${entry.name}`;
    if (!entry.isFile() || full === dbFile || full === `${dbFile}-wal` || full === `${dbFile}-shm`) continue;
    total += fs.statSync(full).size;
  }
  return total;
}

// ---- PostgreSQL ----

export async function pgAdmin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function postgresAnswers(): Promise<string | undefined> {
  try {
    await pgAdmin('select 1');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** A new database (empty, or a copy of `template`), its URL, and how to drop it. */
export async function createDatabase(prefix: string, template?: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await pgAdmin(`create database ${name}${template ? ` template ${template}` : ''}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => pgAdmin(`drop database if exists ${name} with (force)`) };
}

export function psql(url: string, command: string): Promise<CommandResult> {
  return runCommand(PSQL, ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', command]);
}

export async function pgScalar(url: string, query: string): Promise<string> {
  return (await psql(url, query)).stdout.trim();
}

export async function pgQuery<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

// ---- A server's memory ----

export interface ServerMemory {
  /** VmRSS when sampling started, bytes. */
  startRss: number;
  /** Highest VmRSS seen by sampling. */
  peakRss: number;
  /** The kernel's high-water mark of the process (VmHWM) when sampling stopped: catches peaks between samples. */
  hwm: number;
}

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples another process's VmRSS from /proc every `everyMs`. */
export function sampleProcessRss(pid: number, everyMs = 50): { stop(): ServerMemory } {
  const startRss = procStatus(pid, 'VmRSS') ?? 0;
  let peakRss = startRss;
  const tick = () => {
    peakRss = Math.max(peakRss, procStatus(pid, 'VmRSS') ?? 0);
  };
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      tick();
      clearInterval(timer);
      return { startRss, peakRss, hwm: procStatus(pid, 'VmHWM') ?? 0 };
    },
  };
}

// ---- Requests ----

export interface Answer {
  status: number;
  /** Bytes of the answer's body. */
  bytes: number;
  /** The body's first `keep` bytes. */
  head: string;
  /** The body's last bytes (up to 200). */
  tail: string;
}

/**
 * POSTs `file` as a raw `text/csv` body streamed from disk (with its content-length), and reads the whole answer,
 * counting its bytes and keeping only its first `keep` bytes. Resolves once the answer's last byte has arrived.
 */
export function postCsvFile(url: string, headers: Record<string, string>, file: string, keep = 4096): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const size = fs.statSync(file).size;
    const request = http.request(url, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'content-type': 'text/csv', 'content-length': String(size) },
    });
    let answered = false;
    request.once('error', (error) => {
      if (!answered) reject(error);
    });
    request.once('response', (response) => {
      answered = true;
      let bytes = 0;
      const head: Buffer[] = [];
      let headBytes = 0;
      let tail = Buffer.alloc(0);
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (headBytes < keep) {
          head.push(chunk.subarray(0, keep - headBytes));
          headBytes += Math.min(chunk.length, keep - headBytes);
        }
        tail = Buffer.concat([tail, chunk.subarray(-200)]).subarray(-200);
      });
      response.once('error', reject);
      response.once('end', () =>
        resolve({ status: response.statusCode ?? 0, bytes, head: Buffer.concat(head).toString('utf8'), tail: tail.toString('utf8') }),
      );
    });
    // A server that answers early (an error) may stop reading: the answer decides, not the broken upload.
    pipeline(fs.createReadStream(file, { highWaterMark: 1024 * 1024 }), request).catch((error: unknown) => {
      if (!answered) setTimeout(() => { if (!answered) reject(error as Error); }, 1000);
    });
  });
}

export async function getJson(url: string, headers: Record<string, string>): Promise<{ status: number; body: unknown; text: string }> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

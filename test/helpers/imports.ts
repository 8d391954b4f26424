import type { FastifyInstance } from 'fastify';
import type { Store } from '../../src/db/database.js';
import type { ImportJob } from '../../src/imports/import-job.mapper.js';

/** The import's columns, as the seeds' sample CSV names them. */
export const HEADER = 'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension';
// curl's boundary form: dashes, then hex.
export const BOUNDARY = '------------------------a1b2c3d4e5f60718';

export type Cell = 'first' | 'last' | 'salutation' | 'code' | 'ext';

/** A data row as the seeds' sample CSV holds it. */
export const row = (phone: string, overrides: Partial<Record<Cell, string>> = {}) =>
  [overrides.first ?? 'john', overrides.last ?? 'doe', overrides.salutation ?? 'Mr', phone, overrides.code ?? '+91', overrides.ext ?? '+'].join(',');

export const csvOf = (rows: string[], eol = '\n', header = HEADER) => [header, ...rows].join(eol) + eol;

let used = 0;

/**
 * `count` valid Indian mobile numbers (10 digits, national form), different from those of every other call in
 * this process and, through the pid, very likely from those of another test process on the same store.
 */
export function phoneBlock(count: number): string[] {
  const start = (process.pid % 90) * 10_000_000 + used;
  used += count;
  if (used > 10_000_000) throw new Error('phoneBlock: at most ten million numbers a process');
  return Array.from({ length: count }, (_, i) => `6${String(start + i).padStart(9, '0')}`);
}

/** The multipart body curl makes of `--form 'result_file=@"sample.csv"'`. */
export function multipart(file: string | Buffer, options: { fileName?: string; disposition?: 'form-data' | 'attachment' } = {}): Buffer {
  const { fileName = 'sample.csv', disposition = 'form-data' } = options;
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}; name="result_file"; filename="${fileName}"\r\nContent-Type: text/csv\r\n\r\n`),
    Buffer.isBuffer(file) ? file : Buffer.from(file),
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/** One RFC 4180 record, quoting the cells that need it. */
export const csvRecord = (cells: string[]) => cells.map((c) => (/[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',');

/** A job as the API answers it. */
export type JobJson = ImportJob;

export interface FailureJson {
  row: number;
  errors: { msg: string; code: string; field?: string; row?: number; id?: string }[];
  values: Record<string, string>;
}

export interface PageJson<T> {
  results: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

export const FINISHED_STATES = ['completed', 'failed', 'cancelled'];

export interface Reply {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
  json<T = any>(): T;
}

/** A way to send requests: app.inject in process, or fetch to a server process. */
export type Send = (method: string, url: string, options?: { headers?: Record<string, string>; body?: string | Buffer; signal?: AbortSignal }) => Promise<Reply>;

export function injectSender(app: FastifyInstance): Send {
  return async (method, url, options = {}) => {
    const res = await app.inject({ method: method as 'GET', url, headers: options.headers, payload: options.body });
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(res.headers)) headers[k] = v === undefined ? undefined : String(v);
    return { status: res.statusCode, headers, body: res.body, json: () => JSON.parse(res.body) };
  };
}

export function fetchSender(baseUrl: string): Send {
  return async (method, url, options = {}) => {
    const res = await fetch(`${baseUrl}${url}`, { method, headers: options.headers, body: options.body, signal: options.signal });
    const body = await res.text();
    const headers: Record<string, string | undefined> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    return { status: res.status, headers, body, json: () => JSON.parse(body) };
  };
}

export type UploadForm = 'raw' | 'multipart' | 'seeds';

export interface TenantLike {
  headers: Record<string, string>;
  base: string;
}

export interface UploadOptions {
  /** Under the stream's base; `/contacts/imports` unless told. */
  path?: string;
  query?: string;
  form?: UploadForm;
  fileName?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Called with every state of the job seen while waiting. */
  each?: (job: JobJson) => void;
}

/** The import-jobs API of one tenant, over one way of sending. */
export function importsApi(send: Send, tenant: TenantLike) {
  const h = (extra: Record<string, string> = {}) => ({ ...tenant.headers, ...extra });
  const q = (query: string) => (query ? `?${query}` : '');

  function upload(csv: string | Buffer, options: UploadOptions = {}): Promise<Reply> {
    const { path = '/contacts/imports', query = '', form = 'raw' } = options;
    const body = form === 'raw' ? csv : multipart(csv, { fileName: options.fileName, disposition: form === 'seeds' ? 'attachment' : 'form-data' });
    const contentType =
      form === 'raw' ? 'text/csv' : form === 'seeds' ? `application/json;charset=UTF-8; boundary=${BOUNDARY}` : `multipart/form-data; boundary=${BOUNDARY}`;
    return send('POST', `${tenant.base}${path}${q(query)}`, { headers: h({ 'content-type': contentType, ...options.headers }), body, signal: options.signal });
  }

  /** Submits a job and returns it, failing unless the answer is 202. */
  async function submit(csv: string | Buffer, options: UploadOptions = {}): Promise<JobJson> {
    const res = await upload(csv, options);
    if (res.status !== 202) throw new Error(`expected 202, got ${res.status}: ${res.body}`);
    return res.json<JobJson>();
  }

  const get = (id: string) => send('GET', `${tenant.base}/contacts/imports/${id}`, { headers: h() });
  const failures = (id: string, query = '') => send('GET', `${tenant.base}/contacts/imports/${id}/failures${q(query)}`, { headers: h() });

  async function job(id: string): Promise<JobJson> {
    const res = await get(id);
    if (res.status !== 200) throw new Error(`GET import ${id}: ${res.status} ${res.body}`);
    return res.json<JobJson>();
  }

  /** Polls the job until `done` holds; fails after `timeoutMs`. */
  async function waitFor(id: string, done: (job: JobJson) => boolean, options: WaitOptions = {}): Promise<JobJson> {
    const { timeoutMs = 30_000, intervalMs = 20 } = options;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = await job(id);
      options.each?.(last);
      if (done(last)) return last;
      if (Date.now() > deadline) throw new Error(`import ${id} did not get there in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
      await sleep(intervalMs);
    }
  }

  /** Every failure of the job, following its cursor with pages of `limit`. */
  async function allFailures(id: string, limit = 100): Promise<FailureJson[]> {
    const all: FailureJson[] = [];
    for (let cursor: string | null = null; ; ) {
      const res: Reply = await failures(id, `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      if (res.status !== 200) throw new Error(`failures of ${id}: ${res.status} ${res.body}`);
      const page = res.json<PageJson<FailureJson>>();
      all.push(...page.results);
      if (!page.hasMore) return all;
      cursor = page.nextCursor;
    }
  }

  /** ACTIVE contacts of the tenant's stream, as GET /contacts counts them. */
  async function contactCount(): Promise<number> {
    const res = await send('GET', `${tenant.base}/contacts?limit=1`, { headers: h() });
    if (res.status !== 200) throw new Error(`GET /contacts: ${res.status} ${res.body}`);
    return res.json<{ totalResults: number }>().totalResults;
  }

  return {
    send,
    upload,
    submit,
    get,
    list: (query = '') => send('GET', `${tenant.base}/contacts/imports${q(query)}`, { headers: h() }),
    failures,
    failuresCsv: (id: string) => send('GET', `${tenant.base}/contacts/imports/${id}/failures.csv`, { headers: h() }),
    cancel: (id: string) => send('POST', `${tenant.base}/contacts/imports/${id}/cancel`, { headers: h() }),
    job,
    waitFor,
    finished: (id: string, options: WaitOptions = {}) => waitFor(id, (j) => FINISHED_STATES.includes(j.state), options),
    allFailures,
    contactCount,
  };
}

export type ImportsApi = ReturnType<typeof importsApi>;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something truthy; fails after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** What the store holds of a stream's ACTIVE contacts: how many, how many distinct numbers, and each number's count. */
export async function activeNumbers(store: Store, streamId: string): Promise<{ rows: number; distinct: number; byNumber: Map<string, number> }> {
  const rows = await store.db
    .selectFrom('contacts')
    .select(['phone_number', (eb) => eb.fn.countAll<number>().as('n')])
    .where('stream_id', '=', streamId)
    .where('status', '=', 'ACTIVE')
    .groupBy('phone_number')
    .execute();
  const byNumber = new Map(rows.map((r) => [r.phone_number, Number(r.n)]));
  return { rows: [...byNumber.values()].reduce((a, b) => a + b, 0), distinct: byNumber.size, byNumber };
}

/** Contacts a job created, as the store marks them. */
export async function contactsOfImport(store: Store, importId: string): Promise<number> {
  const row = await store.db.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('n')).where('import_id', '=', importId).executeTakeFirstOrThrow();
  return Number(row.n);
}

// The cases bench/import.ts runs, each in a fresh process with a fresh store: the service's import, and the
// plain bulk write each store offers for the same rows (the baseline).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import SQLite from 'better-sqlite3';
import { from as copyFrom } from 'pg-copy-streams';
import type { RequestContext } from '../src/auth/authenticator.js';
import { checkNewContact } from '../src/contacts/contact-input.js';
import { nameKeys } from '../src/contacts/name-key.js';
import { normalisePhone } from '../src/contacts/phone.js';
import type { Dialect } from '../src/db/database.js';
import { mapHeader, rowToInput } from '../src/imports/csv-header.js';
import { csvRecords } from '../src/imports/csv-rows.js';
import { createImportService } from '../src/imports/import.service.js';
import { decodeUtf8Text } from '../src/imports/text-decoding.js';
import { newObjectId } from '../src/shared/ids.js';
import { createTenancyService } from '../src/tenancy/tenancy.service.js';
import { createTestStore, type TestStore } from '../test/helpers/stores.js';
import { contactFields, csvUpload } from './contact-csv.js';
import { sampleRss, secondsSince, type Memory } from './support.js';

export type CaseKind = 'import' | 'baseline' | 'parse-check' | 'idle';

export interface ImportCase {
  kind: CaseKind;
  dialect: Dialect;
  rows: number;
}

export interface ImportCaseResult {
  seconds: number;
  /** Import only: when the last byte of the upload had been read (parsing, checking and staging run alongside). */
  uploadReadSeconds?: number;
  memory: Memory;
  /** Contacts in the store afterwards (rows checked, for parse-check). */
  written: number;
}

const CONTACT_COLUMNS = [
  'id', 'stream_id', 'account_id', 'org_id', 'status', 'first_name', 'last_name', 'salutation', 'phone_number',
  'country_code', 'extension', 'created_by', 'created_by_aid', 'created_at', 'updated_at', 'last_name_key', 'full_name_key',
] as const;

async function newTenant(store: TestStore): Promise<RequestContext> {
  const tenancy = createTenancyService({ db: store.store.db });
  const { orgId, accountId } = await tenancy.createAccount('Bench account');
  const { streamId } = await tenancy.createStream(accountId, 'Bench stream');
  const app = await tenancy.createApp({ accountId, streamIds: [streamId], name: 'Bench app' });
  return { orgId, accountId, streamId, userId: app.userId, appId: app.appId };
}

async function countContacts(store: TestStore, ctx: RequestContext): Promise<number> {
  const row = await store.store.db
    .selectFrom('contacts')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('stream_id', '=', ctx.streamId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The rows as the import stores them (name keys included), parsed and checked before the clock starts. */
function parsedRows(ctx: RequestContext, rows: number): (string | number)[][] {
  const now = Date.now();
  return Array.from({ length: rows }, (_, i) => {
    const [first, last, salutation, number, cc, extension] = contactFields(i) as [string, string, string, string, string, string];
    const phone = normalisePhone(number, cc);
    if (!phone.ok) throw new Error(`bench data row ${i} is not a valid number: ${phone.msg}`);
    const keys = nameKeys(first, last);
    return [
      newObjectId(), ctx.streamId, ctx.accountId, ctx.orgId, 'ACTIVE', first, last, salutation, phone.value.phoneNumber,
      phone.value.countryCode, extension, ctx.userId, ctx.appId, now, now, keys.last_name_key, keys.full_name_key,
    ];
  });
}

/** The service's import of a generated CSV stream, from the first byte to the outcome. */
async function importThroughService(store: TestStore, ctx: RequestContext, rows: number): Promise<ImportCaseResult> {
  const service = createImportService({ store: store.store, limits: { maxBytes: Number.MAX_SAFE_INTEGER, maxRows: rows } });
  let uploadReadSeconds = 0;
  async function* upload() {
    yield* csvUpload(rows);
    uploadReadSeconds = secondsSince(start);
  }
  const rss = sampleRss();
  const start = process.hrtime.bigint();
  const outcome = await service.importCsv(ctx, upload(), { onDuplicate: 'reject', atomic: false, dryRun: false });
  const seconds = secondsSince(start);
  const memory = rss.stop();
  if (outcome.counts.created !== rows) throw new Error(`import created ${outcome.counts.created} of ${rows}: ${JSON.stringify(outcome.counts)}`);
  await outcome.dispose();
  return { seconds, uploadReadSeconds, memory, written: await countContacts(store, ctx) };
}

/** SQLite baseline: one prepared INSERT per row, all in ONE transaction, WAL + synchronous=FULL like the store. */
async function sqliteBaseline(store: TestStore, ctx: RequestContext, rows: number): Promise<ImportCaseResult> {
  if (store.url.kind !== 'sqlite') throw new Error('not a SQLite store');
  const data = parsedRows(ctx, rows);
  const handle = new SQLite(store.url.file);
  try {
    handle.pragma('journal_mode = WAL');
    handle.pragma('synchronous = FULL');
    handle.pragma('foreign_keys = ON');
    const insert = handle.prepare(`insert into contacts (${CONTACT_COLUMNS.join(', ')}) values (${CONTACT_COLUMNS.map(() => '?').join(', ')})`);
    const rss = sampleRss();
    const start = process.hrtime.bigint();
    handle.transaction(() => {
      for (const row of data) insert.run(row);
    })();
    const seconds = secondsSince(start);
    return { seconds, memory: rss.stop(), written: await countContacts(store, ctx) };
  } finally {
    handle.close();
  }
}

// COPY's text format: backslash, tab, newline and carriage return must be escaped.
const copyText = (value: string | number) => String(value).replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);

/** PostgreSQL baseline: COPY … FROM STDIN of the same rows through pg-copy-streams. */
async function postgresBaseline(store: TestStore, ctx: RequestContext, rows: number): Promise<ImportCaseResult> {
  const data = parsedRows(ctx, rows);
  const client = await store.store.pool!.connect();
  try {
    function* lines() {
      for (let i = 0; i < data.length; i += 1000) {
        yield data.slice(i, i + 1000).map((row) => `${row.map(copyText).join('\t')}\n`).join('');
      }
    }
    const rss = sampleRss();
    const start = process.hrtime.bigint();
    await pipeline(Readable.from(lines()), client.query(copyFrom(`copy contacts (${CONTACT_COLUMNS.join(', ')}) from stdin`)));
    const seconds = secondsSince(start);
    return { seconds, memory: rss.stop(), written: await countContacts(store, ctx) };
  } finally {
    client.release();
  }
}

/** The import's work before the store: decode, parse, map the header, check every row. No writes. */
async function parseAndCheck(rows: number): Promise<ImportCaseResult> {
  const rss = sampleRss();
  const start = process.hrtime.bigint();
  let checked = 0;
  let columns;
  for await (const record of csvRecords(decodeUtf8Text(csvUpload(rows), Number.MAX_SAFE_INTEGER))) {
    if (!columns) columns = mapHeader(record.fields);
    else if (checkNewContact(rowToInput(record.fields, columns)).ok) checked++;
  }
  return { seconds: secondsSince(start), memory: rss.stop(), written: checked };
}

export async function runImportCase(c: ImportCase): Promise<ImportCaseResult> {
  if (c.kind === 'parse-check') return parseAndCheck(c.rows);
  const store = await createTestStore(c.dialect);
  try {
    const ctx = await newTenant(store);
    if (c.kind === 'idle') {
      const rss = sampleRss();
      return { seconds: 0, memory: rss.stop(), written: 0 };
    }
    if (c.kind === 'import') return await importThroughService(store, ctx, c.rows);
    return c.dialect === 'sqlite' ? await sqliteBaseline(store, ctx, c.rows) : await postgresBaseline(store, ctx, c.rows);
  } finally {
    await store.destroy();
  }
}

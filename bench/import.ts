// End-to-end CSV import through the service on SQLite and PostgreSQL, against each store's plain bulk write of
// the same rows, and peak RSS at two sizes to show the import streams.
// Run: npx tsx bench/import.ts [sqlite|postgres|all] [rows] [smallRows]
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Dialect } from '../src/db/database.js';
import { PG_ADMIN_URL, postgresReachable } from '../test/helpers/stores.js';
import { runImportCase, type ImportCase, type ImportCaseResult } from './import-cases.js';
import { childArgument, formatReport, isMain, mb, perSecond, ratio, reply, runChild, type BenchReport } from './support.js';

const ROWS = 200_000;
const SMALL_ROWS = 50_000;

const BASELINE: Record<Dialect, string> = {
  sqlite: 'baseline: better-sqlite3 prepared INSERT, one transaction',
  postgres: 'baseline: COPY FROM STDIN (pg-copy-streams)',
};

// The code measured; if these change, the figures are stale.
const MEASURED = [
  'src/imports/import.service.ts', 'src/imports/import.repository.ts', 'src/imports/csv-rows.ts', 'src/db/migrate.ts',
];

export interface ImportBenchOptions {
  dialects?: Dialect[];
  rows?: number;
  smallRows?: number;
  /** Also time decoding, parsing and checking with no store, to show the ceiling the store sits under. */
  withoutStore?: boolean;
}

function fingerprint(): string {
  return MEASURED.map((f) => `${f.split('/').pop()} ${createHash('sha256').update(fs.readFileSync(new URL(`../${f}`, import.meta.url))).digest('hex').slice(0, 10)}`).join(', ');
}

export async function importBench(options: ImportBenchOptions = {}): Promise<BenchReport> {
  const { dialects = ['sqlite', 'postgres'], rows = ROWS, smallRows = SMALL_ROWS, withoutStore = true } = options;
  const table: string[][] = [];
  const notes: string[] = [];
  const code = fingerprint();
  const run = (c: ImportCase) => runChild<ImportCaseResult>(import.meta.url, c);
  const row = (dialect: string, what: string, n: number, r: ImportCaseResult, vs: string) => [
    dialect, what, n.toLocaleString('en'), r.seconds.toFixed(2),
    r.uploadReadSeconds === undefined ? '' : `${r.uploadReadSeconds.toFixed(2)} + ${(r.seconds - r.uploadReadSeconds).toFixed(2)}`,
    perSecond(n / r.seconds), vs,
    mb(r.memory.startRss), mb(r.memory.peakRss), mb(r.memory.maxRss), mb(r.memory.peakRss - r.memory.startRss),
  ];

  if (withoutStore) {
    const check = await run({ kind: 'parse-check', dialect: 'sqlite', rows });
    if (check.written !== rows) throw new Error(`parse-check passed ${check.written} of ${rows} rows`);
    table.push(row('(none)', 'decode + parse + check only, no store', rows, check, ''));
  }

  for (const dialect of dialects) {
    if (dialect === 'postgres' && !(await postgresReachable())) {
      notes.push(`PostgreSQL skipped: it does not answer at ${PG_ADMIN_URL}.`);
      continue;
    }
    const idle = await run({ kind: 'idle', dialect, rows: 0 });
    const baseline = await run({ kind: 'baseline', dialect, rows });
    const small = await run({ kind: 'import', dialect, rows: smallRows });
    const large = await run({ kind: 'import', dialect, rows });
    for (const [r, n] of [[baseline, rows], [small, smallRows], [large, rows]] as const) {
      if (r.written !== n) throw new Error(`${dialect}: ${n} rows gave ${r.written} contacts`);
    }
    const baseRate = rows / baseline.seconds;
    table.push(
      [dialect, 'process with store + tenant, idle', '', '', '', '', '', mb(idle.memory.startRss), '', mb(idle.memory.maxRss), ''],
      row(dialect, BASELINE[dialect], rows, baseline, ratio(1)),
      row(dialect, 'import service (createImportService)', smallRows, small, ratio(smallRows / small.seconds / baseRate)),
      row(dialect, 'import service (createImportService)', rows, large, ratio(rows / large.seconds / baseRate)),
    );
    notes.push(
      `${dialect}: import peak RSS ${mb(small.memory.peakRss)} at ${smallRows.toLocaleString('en')} rows, ` +
        `${mb(large.memory.peakRss)} at ${rows.toLocaleString('en')} (maxrss ${mb(small.memory.maxRss)} → ${mb(large.memory.maxRss)}) ` +
        `for ${rows / smallRows}× the rows; the baseline holds all ${rows.toLocaleString('en')} parsed rows in memory by design ` +
        `(start RSS ${mb(baseline.memory.startRss)} against ${mb(idle.memory.startRss)} idle).`,
    );
  }
  if (fingerprint() !== code) notes.push('WARNING: the import code changed while this ran; run it again.');
  return {
    title: `CSV import end to end, ${rows.toLocaleString('en')} rows (and ${smallRows.toLocaleString('en')}): ${dialects.join(', ')}`,
    columns: ['store', 'case', 'rows', 'seconds', 'read+stage / apply', 'rows/s', 'vs baseline', 'start RSS', 'peak RSS (sampled)', 'maxrss', 'RSS growth'],
    rows: table,
    notes: [
      'Every case runs in a fresh node process on a fresh store (temp SQLite file, or a new PostgreSQL database), migrated, with one tenant.',
      'Import: importCsv() over a generated CSV byte stream (onDuplicate=reject, not atomic), timed from the first byte to the outcome; every row creates a contact (checked). ' +
        '"read+stage / apply": seconds until the upload\'s last byte was read (decode, parse, check and staging run alongside), then the rest (set-based apply, counts).',
      'Baselines write the same rows, already parsed and normalised before the clock starts, into the contacts table of the same schema.',
      '"vs baseline" = rows/s of the case ÷ rows/s of its store\'s baseline. RSS growth = sampled peak − RSS when the clock started.',
      `Code measured (sha256): ${code}.`,
      ...notes,
    ],
  };
}

if (isMain(import.meta.url)) {
  const child = childArgument<ImportCase>();
  if (child) reply(await runImportCase(child));
  else {
    const which = process.argv[2] ?? 'all';
    const dialects: Dialect[] = which === 'all' ? ['sqlite', 'postgres'] : [which as Dialect];
    const rows = Number(process.argv[3] ?? ROWS);
    console.log(formatReport(await importBench({ dialects, rows, smallRows: Number(process.argv[4] ?? SMALL_ROWS) })));
  }
}

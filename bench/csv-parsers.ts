// Streaming CSV parsers on a 1,000,000-row file of the import's columns, each in its own process, plus the
// csv-parse behaviours that ruled it out. Run: npx tsx bench/csv-parsers.ts [rows]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as csvParse } from 'csv-parse';
import { parse as csvParseSync } from 'csv-parse/sync';
import { parse as fastCsvParse } from 'fast-csv';
import Papa from 'papaparse';
import { mapHeader } from '../src/contacts/contact-csv.js';
import { csvRecords } from '../src/imports/csv-rows.js';
import { decodeUtf8Text } from '../src/imports/text-decoding.js';
import { HEADER, writeCsvFile } from './contact-csv.js';
import {
  childArgument, formatReport, isMain, mb, perSecond, ratio, reply, runChild, sampleRss, secondsSince,
  type BenchReport, type Memory,
} from './support.js';

const ROWS = 1_000_000;
const REPEAT = 2;

/** Each parser counts the records of the file (header included), fed the way it is meant to be. */
const PARSERS = {
  // The import's own reader: an async generator over decoded text, with line numbers and back-pressure.
  'csvRecords (papaparse, src/imports/csv-rows.ts)': (file: string) =>
    count(csvRecords(fs.createReadStream(file, { encoding: 'utf8' }))),
  'papaparse, Papa.parse + step': (file: string) =>
    new Promise<number>((resolve, reject) => {
      let n = 0;
      Papa.parse<string[]>(fs.createReadStream(file, { encoding: 'utf8' }) as unknown as NodeJS.ReadableStream, {
        delimiter: ',',
        step: () => void n++,
        complete: () => resolve(n),
        error: reject,
      });
    }),
  'csv-parse (stream)': (file: string) => events(fs.createReadStream(file).pipe(csvParse())),
  'fast-csv (stream)': (file: string) => events(fs.createReadStream(file).pipe(fastCsvParse())),
} satisfies Record<string, (file: string) => Promise<number>>;

type ParserName = keyof typeof PARSERS;

interface Case {
  parser: ParserName;
  file: string;
  repeat: number;
}

interface CaseResult {
  records: number;
  seconds: number[];
  memory: Memory;
}

async function count(records: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of records) n++;
  return n;
}

function events(stream: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    stream.on('data', () => void n++);
    stream.on('end', () => resolve(n));
    stream.on('error', reject);
  });
}

async function runCase(c: Case): Promise<CaseResult> {
  const rss = sampleRss();
  const seconds: number[] = [];
  let records = 0;
  for (let i = 0; i < c.repeat; i++) {
    const start = process.hrtime.bigint();
    records = await PARSERS[c.parser](c.file);
    seconds.push(secondsSince(start));
  }
  return { records, seconds, memory: rss.stop() };
}

/** The csv-parse facts from issue 2, checked again, and what our header mapping does with the same input. */
function headerFacts(): string[] {
  const bomCsv = `\uFEFF${HEADER}\nAda,Lovelace,Ms,9876543210,+91,+\n`;
  const withBom = csvParseSync(bomCsv, { columns: true }) as Record<string, string>[];
  const withBomOption = csvParseSync(bomCsv, { columns: true, bom: true }) as Record<string, string>[];
  const firstHeader = (csvParseSync(bomCsv) as string[][])[0]![0]!;
  const dupCsv = 'firstName,lastName,firstName\nAda,Lovelace,Grace\n';
  const dup = csvParseSync(dupCsv, { columns: true }) as Record<string, string>[];

  const header = HEADER.split(',');
  const ours = mapHeader([`\uFEFF${header[0]}`, ...header.slice(1)]);
  let duplicateRefusal = 'accepted (unexpected)';
  try {
    mapHeader([...header, 'firstName']);
  } catch (error) {
    const details = (error as { details?: { code: string; msg: string }[] }).details ?? [];
    duplicateRefusal = `refused: ${(error as Error).constructor.name} ${details.map((d) => `${d.code} "${d.msg}"`).join('; ')}`;
  }
  return [
    `csv-parse, BOM file, arrays: first header field is ${JSON.stringify(firstHeader)} ` +
      `(${firstHeader.charCodeAt(0) === 0xfeff ? 'BOM kept' : 'BOM dropped'})`,
    `csv-parse, BOM file, columns:true: keys ${JSON.stringify(Object.keys(withBom[0]!))}, record.firstName = ` +
      `${JSON.stringify(withBom[0]!.firstName)} (the column is lost); with bom:true: record.firstName = ${JSON.stringify(withBomOption[0]!.firstName)}`,
    `csv-parse, header "firstName,lastName,firstName", columns:true: ${JSON.stringify(dup[0])} (only the last firstName is kept, silently)`,
    `mapHeader (src/contacts/contact-csv.ts), header with a BOM before firstName: firstName → column ${ours.firstName} (BOM handled)`,
    `mapHeader, header with firstName twice: ${duplicateRefusal}`,
  ];
}

/** The import's path also drops the BOM before parsing: decodeUtf8Text → csvRecords → mapHeader. */
async function importPathBom(): Promise<string> {
  async function* upload() {
    yield Buffer.from(`\uFEFF${HEADER}\nAda,Lovelace,Ms,9876543210,+91,+\n`);
  }
  for await (const record of csvRecords(decodeUtf8Text(upload(), 1024))) {
    return `import path (decodeUtf8Text → csvRecords), BOM file: first header field ${JSON.stringify(record.fields[0])}, mapHeader → firstName column ${mapHeader(record.fields).firstName}`;
  }
  return 'import path: no record';
}

export async function csvParsersBench(rows = ROWS): Promise<BenchReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-bench-csv-'));
  const file = path.join(dir, 'contacts.csv');
  try {
    const bytes = writeCsvFile(file, rows);
    const results: { parser: ParserName; result: CaseResult }[] = [];
    for (const parser of Object.keys(PARSERS) as ParserName[]) {
      results.push({ parser, result: await runChild<CaseResult>(import.meta.url, { parser, file, repeat: REPEAT } satisfies Case) });
    }
    const rate = (r: CaseResult) => rows / Math.min(...r.seconds);
    const fastest = Math.max(...results.map((r) => rate(r.result)));
    const table = results.map(({ parser, result }) => {
      if (result.records !== rows + 1) throw new Error(`${parser} read ${result.records} records, expected ${rows + 1}`);
      return [
        parser,
        perSecond(rate(result)),
        ratio(rate(result) / fastest),
        result.seconds.map((s) => s.toFixed(2)).join(' / '),
        mb(result.memory.peakRss),
        mb(result.memory.maxRss),
      ];
    });
    return {
      title: `CSV parsers, streaming ${rows.toLocaleString('en')} rows × 6 columns (${mb(bytes)} file)`,
      columns: ['parser', 'rows/s (best)', 'vs fastest', `seconds (${REPEAT} runs)`, 'peak RSS (sampled)', 'maxrss'],
      rows: table,
      notes: [
        'Each parser runs in its own node process (so peak RSS is its own), reading the same temp file; every one read all rows + header.',
        'papaparse paths get UTF-8 text (as the import gives csvRecords); csv-parse and fast-csv get bytes and decode themselves.',
        ...headerFacts(),
        await importPathBom(),
      ],
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const child = childArgument<Case>();
  if (child) reply(await runCase(child));
  else console.log(formatReport(await csvParsersBench(Number(process.argv[2] ?? ROWS))));
}

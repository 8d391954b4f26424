// What checking a phone number costs: libphonenumber-js alone (the reference) against normalisePhone with its
// fast path, and a plain regex digit check as the floor, on the same numbers in the same run.
// Run: npx tsx bench/phone.ts [numbers]
import { Metadata } from 'libphonenumber-js';
import examples from 'libphonenumber-js/mobile/examples';
import { normalisePhone, normalisePhoneFast, normalisePhoneReference } from '../src/contacts/phone.js';
import { contactFields } from './contact-csv.js';
import { formatReport, isMain, perSecond, ratio, secondsSince, type BenchReport } from './support.js';

const NUMBERS = 200_000;
const ROUNDS = 5;
const DIGITS = /^\d+$/;

type Row = [rawNumber: string, rawCountryCode: string];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** mulberry32, so every run measures the same numbers. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A world-wide import: every country's example mobile with its tail replaced, written as people do — mostly
 * plain, some with separators, some with a trunk prefix 0, some as `+cc…` — and a few too short or too long.
 */
function mixedRows(count: number): Row[] {
  const random = prng(0x0b0e_5eed);
  const int = (n: number) => Math.floor(random() * n);
  const metadata = new Metadata() as unknown as { selectNumberingPlan(c: string): void; numberingPlan: { callingCode(): string } };
  const countries = Object.entries(examples as Record<string, string>).map(([country, example]) => {
    metadata.selectNumberingPlan(country);
    return { cc: metadata.numberingPlan.callingCode(), example };
  });
  return Array.from({ length: count }, (): Row => {
    const { cc, example } = countries[int(countries.length)]!;
    const keep = Math.min(example.length, 3);
    let national = example.slice(0, keep);
    const length = example.length + (random() < 0.05 ? (random() < 0.5 ? -2 : 2) : 0);
    while (national.length < length) national += String(int(10));
    const roll = random();
    const written =
      roll < 0.6 ? national
      : roll < 0.8 ? `${national.slice(0, 3)} ${national.slice(3, 6)}-${national.slice(6)}`
      : roll < 0.9 ? `0${national}`
      : `+${cc} ${national}`;
    return [written, random() < 0.7 ? `+${cc}` : cc];
  });
}

/** Runs `check` over every row once; returns µs per row and how many passed (so no work is skipped). */
function pass(rows: Row[], check: (n: string, c: string) => boolean): { us: number; ok: number } {
  let ok = 0;
  const start = process.hrtime.bigint();
  for (const [n, c] of rows) if (check(n, c)) ok++;
  return { us: (secondsSince(start) * 1e6) / rows.length, ok };
}

const CHECKS = {
  'reference: libphonenumber-js only': (n: string, c: string) => normalisePhoneReference(n, c).ok,
  'normalisePhone (fast path + fallback)': (n: string, c: string) => normalisePhone(n, c).ok,
  'floor: /^\\d+$/.test(n)': (n: string) => DIGITS.test(n),
};
type CheckName = keyof typeof CHECKS;
const NAMES = Object.keys(CHECKS) as CheckName[];

function measure(set: string, rows: Row[]): { rows: string[][]; note: string } {
  for (const name of NAMES) pass(rows, CHECKS[name]); // warm-up: let the JIT settle before timing
  const timings = new Map(NAMES.map((name) => [name, [] as number[]]));
  const passed = new Map<CheckName, number>();
  // Rounds alternate the checks, so drift on a shared 2-core machine hits every side alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 ? [...NAMES].reverse() : NAMES) {
      const r = pass(rows, CHECKS[name]);
      timings.get(name)!.push(r.us);
      passed.set(name, r.ok);
    }
  }
  if (passed.get(NAMES[0]!) !== passed.get(NAMES[1]!)) throw new Error(`${set}: normalisePhone and the reference disagree`);
  const reference = median(timings.get(NAMES[0]!)!);
  const decided = rows.filter(([n, c]) => normalisePhoneFast(n, c) !== undefined).length;
  return {
    rows: NAMES.map((name) => {
      const us = median(timings.get(name)!);
      return [
        set,
        name,
        us < 0.1 ? us.toFixed(3) : us.toFixed(2),
        perSecond(1e6 / us),
        ratio(reference / us),
        timings.get(name)!.map((t) => t.toFixed(3)).join(' / '),
        passed.get(name)!.toLocaleString('en'),
      ];
    }),
    note: `${set}: the fast path decided ${((decided / rows.length) * 100).toFixed(1)}% of rows; the rest fell back to libphonenumber-js.`,
  };
}

export async function phoneBench(count = NUMBERS): Promise<BenchReport> {
  // The numbers the import benchmarks use: ten-digit Indian mobiles, country code +91.
  const india = Array.from({ length: count }, (_, i): Row => [contactFields(i)[3]!, '+91']);
  const sets = [measure('import (+91 mobiles)', india), measure('mixed, all countries', mixedRows(count))];
  return {
    title: `Phone number check, ${count.toLocaleString('en')} rows per set`,
    columns: ['set', 'check', 'µs / row (median)', 'rows/s', 'speed vs reference', `µs / row, each round (${ROUNDS})`, 'passed'],
    rows: sets.flatMap((s) => s.rows),
    notes: [
      'One warm-up pass each, then rounds alternating the order of the checks; medians of the rounds.',
      '"speed vs reference" is how many times as many rows per second as libphonenumber-js alone.',
      ...sets.map((s) => s.note),
      'The reference and normalisePhone give the same answer for every row (test/unit/phone-differential.test.ts).',
    ],
  };
}

if (isMain(import.meta.url)) console.log(formatReport(await phoneBench(Number(process.argv[2] ?? NUMBERS))));

// What checking a phone number against libphonenumber's metadata costs, against a plain regex digit check of
// the same numbers in the same run. Run: npx tsx bench/phone.ts [numbers]
import { normalisePhone } from '../src/contacts/phone.js';
import { contactFields } from './contact-csv.js';
import { formatReport, isMain, ratio, secondsSince, type BenchReport } from './support.js';

const NUMBERS = 200_000;
const PASSES = 5;
const DIGITS = /^\d+$/;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs `check` over every number once; returns µs per number and how many passed (so no work is skipped). */
function pass(numbers: string[], check: (n: string) => boolean): { us: number; ok: number } {
  let ok = 0;
  const start = process.hrtime.bigint();
  for (const n of numbers) if (check(n)) ok++;
  return { us: (secondsSince(start) * 1e6) / numbers.length, ok };
}

export async function phoneBench(count = NUMBERS): Promise<BenchReport> {
  // The numbers the import benchmarks use: ten-digit Indian mobiles, country code +91.
  const numbers = Array.from({ length: count }, (_, i) => contactFields(i)[3]!);
  const cases = {
    'normalisePhone(n, "+91") (libphonenumber-js)': (n: string) => normalisePhone(n, '+91').ok,
    'baseline: /^\\d+$/.test(n)': (n: string) => DIGITS.test(n),
  };
  const names = Object.keys(cases) as (keyof typeof cases)[];
  for (const name of names) pass(numbers, cases[name]); // warm-up: let the JIT settle before timing
  const timings = new Map(names.map((name) => [name, [] as number[]]));
  const passed = new Map<string, number>();
  // Interleaved passes, so drift on a shared 2-core machine hits both sides alike.
  for (let p = 0; p < PASSES; p++) {
    for (const name of names) {
      const r = pass(numbers, cases[name]);
      timings.get(name)!.push(r.us);
      passed.set(name, r.ok);
    }
  }
  const baseline = median(timings.get(names[1]!)!);
  return {
    title: `Phone number check, ${count.toLocaleString('en')} numbers`,
    columns: ['check', 'µs / number (median)', 'numbers/s', 'vs baseline', `µs / number, each pass (${PASSES})`, 'passed'],
    rows: names.map((name) => {
      const us = median(timings.get(name)!);
      return [
        name,
        us < 0.1 ? us.toFixed(3) : us.toFixed(2),
        `${Math.round(1e6 / us).toLocaleString('en')}`,
        ratio(us / baseline),
        timings.get(name)!.map((t) => t.toFixed(3)).join(' / '),
        `${passed.get(name)!.toLocaleString('en')}`,
      ];
    }),
    notes: [
      'One warm-up pass each, then passes interleaved; "vs baseline" is how many times the regex check\'s time a number takes.',
      'normalisePhone strips separators, checks digits, parses with libphonenumber-js metadata and checks the length (isPossible).',
    ],
  };
}

if (isMain(import.meta.url)) console.log(formatReport(await phoneBench(Number(process.argv[2] ?? NUMBERS))));

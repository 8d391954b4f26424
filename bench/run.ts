// `npm run bench`: every benchmark, one after another, each printed as a table with the machine it ran on.
// `npm run bench -- csv phone` runs only the named ones (csv, phone, import-scale, reads-writes).
import { execSync } from 'node:child_process';
import os from 'node:os';
import { csvParsersBench } from './csv-parsers.js';
import { phoneBench } from './phone.js';
import { formatReport, secondsSince, type BenchReport } from './support.js';

const BENCHMARKS: Record<string, () => Promise<BenchReport>> = {
  csv: () => csvParsersBench(),
  phone: () => phoneBench(),
  // Loaded when asked for; options by environment (BENCH_ROWS, BENCH_ROUNDS, BENCH_SKIP_5M, …: see bench/import-scale.ts).
  'import-scale': async () => (await import('./import-scale.js')).importScaleBench(),
  // Options by environment (BENCH_ROWS, BENCH_ROUNDS, BENCH_SECONDS, BENCH_STORES, …: see bench/reads-writes.ts).
  'reads-writes': async () => (await import('./reads-writes.js')).readsWritesBench(),
};

function machine(): string {
  const free = (() => {
    try {
      return execSync('free -h', { encoding: 'utf8' }).trim();
    } catch {
      return `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total`;
    }
  })();
  return [
    `date: ${new Date().toISOString()}`,
    `node: ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}`,
    `cpu: ${os.availableParallelism()} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    // Other work on the machine skews every figure; the load says how much there was.
    `load average (1/5/15 min): ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`,
    free,
  ].join('\n');
}

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in BENCHMARKS));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
console.log(`# Dialbook benchmarks\n\n\`\`\`\n${machine()}\n\`\`\`\n`);
for (const name of asked.length ? asked : Object.keys(BENCHMARKS)) {
  const start = process.hrtime.bigint();
  const report = await BENCHMARKS[name]!();
  console.log(formatReport(report));
  console.log(`(${name}: ${secondsSince(start).toFixed(0)} s; load average now ${os.loadavg()[0]!.toFixed(2)})\n`);
}

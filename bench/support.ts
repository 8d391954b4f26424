import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** One benchmark's findings: a table, plus facts that are not timings. */
export interface BenchReport {
  title: string;
  columns: string[];
  rows: string[][];
  notes: string[];
}

/** Whether the module with this `import.meta.url` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(entry).href === moduleUrl;
}

/** The JSON argument a benchmark passes to itself when it runs one case in a child process. */
export function childArgument<T>(): T | undefined {
  const at = process.argv.indexOf('--child');
  return at === -1 ? undefined : (JSON.parse(process.argv[at + 1]!) as T);
}

/**
 * Runs one case in a fresh node process, so that its peak RSS is its own and not the high-water mark of the
 * cases before it. The child prints its result as JSON on its last line of output.
 */
export function runChild<T>(moduleUrl: string, input: unknown): Promise<T> {
  const file = fileURLToPath(moduleUrl);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, '--child', JSON.stringify(input)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${file} ${JSON.stringify(input)} exited with ${code}: ${out}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${file} printed no result: ${out}`));
      }
    });
  });
}

/** Prints a child's result where runChild looks for it. */
export function reply(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export interface Memory {
  /** RSS when sampling started, bytes. */
  startRss: number;
  /** Highest RSS seen by sampling every few milliseconds (and at stop), bytes. */
  peakRss: number;
  /** The kernel's high-water mark for the whole process (getrusage maxrss), bytes: catches peaks between samples. */
  maxRss: number;
}

/**
 * Samples process.memoryUsage().rss on a timer. A synchronous driver (better-sqlite3) blocks the timer while
 * a statement runs, so the kernel's maxrss is reported beside the sampled peak.
 */
export function sampleRss(everyMs = 10): { stop(): Memory } {
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      return { startRss, peakRss, maxRss: process.resourceUsage().maxRSS * 1024 };
    },
  };
}

/** Seconds since `start` (a process.hrtime.bigint()). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
export const perSecond = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M/s` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k/s` : `${n.toFixed(0)}/s`;
export const ratio = (r: number): string => (r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`);

/** A report as an aligned plain-text table (also valid Markdown). */
export function formatReport(report: BenchReport): string {
  const widths = report.columns.map((c, i) => Math.max(c.length, ...report.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    `## ${report.title}`,
    '',
    line(report.columns),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...report.rows.map(line),
    '',
    ...report.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

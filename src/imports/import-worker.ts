import { randomBytes } from 'node:crypto';
import type { ImportJobRow } from '../db/schema.js';
import type { ImportJobRepository } from './import-job.repository.js';
import type { ImportRunner, RunOutcome } from './import-runner.js';
import type { ImportStore } from './import-store.js';
import type { UploadStore } from './upload-store.js';

export interface WorkerDeps {
  jobs: ImportJobRepository;
  uploads: UploadStore;
  /** The synchronous endpoint's local copies of uploads, swept of those whose request died. */
  scratch: UploadStore;
  store: ImportStore;
  run: ImportRunner;
  /** Jobs this process runs at once; 0 makes an instance that only takes uploads. */
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  retentionMs: number;
  now: () => number;
  log: { warn(obj: unknown, msg: string): void; info(obj: unknown, msg: string): void };
}

/** Claims of one job before an error that keeps coming back fails it. */
const MAX_ATTEMPTS = 5;
// An upload with no job row is left by a crash between keeping the file and committing the job.
const ORPHAN_AGE_MS = 3600_000;

/**
 * Takes queued jobs (and jobs whose worker died) from the store and runs them, `concurrency` at a time; removes
 * finished jobs after the retention period. Every instance on the same store may run one: the lease decides.
 */
export function createImportWorker(deps: WorkerDeps) {
  let running = false;
  let stopping = false;
  const active = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> = Promise.resolve();

  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** Runs a claimed job to its end; what it returns says how it ended, never throws. */
  async function runClaimed(row: ImportJobRow, token: string): Promise<RunOutcome | undefined> {
    // Claimed more often than allowed without ever ending: each process that ran it died under it (killed, out of
    // memory), so running it again would only end the same way, for ever.
    if (Number(row.attempts) > MAX_ATTEMPTS) {
      deps.log.warn({ importId: row.id, attempt: row.attempts }, 'import job given up: its process ended under it each time');
      const detail = { msg: `The import was started ${MAX_ATTEMPTS} times and each time the process running it ended before it finished; see the service's log`, code: 'IMPORT_INTERRUPTED' };
      if (await deps.jobs.finish(row.id, token, 'failed', deps.now(), detail).catch(() => false)) await deps.uploads.remove(row.id).catch(() => {});
      return undefined;
    }
    try {
      const outcome = await deps.run(row, token, () => deps.uploads.open(row.id));
      if (outcome.state !== 'lost') await deps.uploads.remove(row.id);
      deps.log.info({ importId: row.id, state: outcome.state }, 'import job ended');
      return outcome;
    } catch (error) {
      // A store that failed under the job: the lease runs out and a worker takes the job up again — a few times.
      deps.log.warn({ err: error, importId: row.id, attempt: row.attempts }, 'import job interrupted');
      if (Number(row.attempts) >= MAX_ATTEMPTS) {
        const detail = { msg: `The import stopped on an error ${MAX_ATTEMPTS} times; see the service's log`, code: 'IMPORT_INTERRUPTED' };
        if (await deps.jobs.finish(row.id, token, 'failed', deps.now(), detail).catch(() => false)) await deps.uploads.remove(row.id).catch(() => {});
      }
      return undefined;
    }
  }

  async function runOne(): Promise<boolean> {
    const token = randomBytes(16).toString('hex');
    const row = await deps.jobs.claim(token, deps.now(), deps.leaseMs);
    if (!row) return false;
    const work = runClaimed(row, token).then(() => {});
    active.add(work);
    void work.finally(() => {
      active.delete(work);
      wake?.();
    });
    return true;
  }

  async function poll(): Promise<void> {
    while (running) {
      let claimed = false;
      if (active.size < deps.concurrency) {
        try {
          claimed = await runOne();
        } catch (error) {
          deps.log.warn({ err: error }, 'could not claim an import job');
        }
      }
      if (!claimed && running) await nap(deps.pollMs);
    }
  }

  async function sweep(): Promise<void> {
    try {
      const ids = await deps.jobs.expired(deps.now() - deps.retentionMs, deps.now());
      for (const id of ids) {
        await deps.uploads.remove(id);
        await deps.jobs.remove(id);
      }
      const keep = (candidates: string[]) => deps.jobs.unfinished(candidates);
      await deps.uploads.removeOrphans(deps.now() - ORPHAN_AGE_MS, keep);
      await deps.scratch.removeOrphans(deps.now() - ORPHAN_AGE_MS, keep);
      await deps.store.dropLeftovers(() => deps.jobs.allUnfinished());
      if (ids.length) await deps.jobs.reclaimSpace();
    } catch (error) {
      deps.log.warn({ err: error }, 'import retention sweep failed');
    }
  }

  return {
    /** Starts polling (when concurrency > 0) and the retention sweep, which runs at once and then every two leases (at most hourly). */
    start(): void {
      // Fastify may run onReady again while it closes after a failed listen: a stopped worker stays stopped.
      if (running || stopping) return;
      running = true;
      const sweepNow = () => {
        sweeping = sweeping.then(sweep);
      };
      sweepNow();
      // Often enough that a synchronous run whose process died leaves no record behind for long.
      sweeper = setInterval(sweepNow, Math.min(3600_000, Math.max(10_000, 2 * deps.leaseMs)));
      sweeper.unref();
      if (deps.concurrency > 0) loop = poll();
    },
    /** A job was queued here: look now rather than at the next poll. */
    kick(): void {
      wake?.();
    },
    /** Claims this one job and runs it here and now (the CLI's import); undefined when another worker holds it. */
    async runJob(id: string): Promise<RunOutcome | undefined> {
      const token = randomBytes(16).toString('hex');
      const row = await deps.jobs.claim(token, deps.now(), deps.leaseMs, id);
      return row ? runClaimed(row, token) : undefined;
    },
    /** True once stop() was called: runs stop before their next batch and leave the job to another worker. */
    isStopping: () => stopping,
    /** Stops taking jobs; running ones stop after their current batch and give their lease up. */
    async stop(): Promise<void> {
      running = false;
      stopping = true;
      if (sweeper) clearInterval(sweeper);
      wake?.();
      await loop;
      await Promise.allSettled([...active]);
      // The store closes after this: a sweep under way must not outlive it.
      await sweeping;
    },
  };
}

export type ImportWorker = ReturnType<typeof createImportWorker>;

import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RequestContext } from '../shared/request-context.js';
import type { Config } from '../config/config.js';
import { openStore } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import type { ImportOptions } from '../imports/import-engine.js';
import { finished, type ImportJob } from '../imports/import-job.mapper.js';
import { createImports } from '../imports/imports.js';
import { ConflictError } from '../shared/errors.js';
import { createTenancyService } from '../tenancy/tenancy.service.js';
import { UsageError } from './errors.js';
import { formatCount, ProgressBar } from './progress.js';

/** What contacts made by `dialbook import` record as their creator app (createdByAId). */
export const CLI_APP_ID = 'cli';
/** createdBy when the stream's account has no user yet (no app was ever made for it). */
export const CLI_USER_ID = 'cli';

export interface ImportCommandOptions {
  stream: string;
  onDuplicate: 'reject' | 'update';
  atomic?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** How often the job is read back while it runs. */
const POLL_MS = 200;
/** How often a job this process does not hold is claimed again (its worker may have died, or a run was interrupted). */
const RECLAIM_MS = 1000;

/** Claims of the job that failed in a row before the command gives up with the last error. */
const MAX_CLAIM_ERRORS = 10;

export const EXIT_INTERRUPTED = 130;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function checkFile(file: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(code === 'ENOENT' ? `cannot read ${file}: no such file` : `cannot read ${file}: ${code ?? String(error)}`);
  }
  if (!stat.isFile()) throw new UsageError(`cannot read ${file}: not a file`);
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    throw new UsageError(`cannot read ${file}: permission denied`);
  }
}

/** Wall seconds the job ran (started to finished), else the command's own. */
function secondsOf(job: ImportJob, wallMs: number): number {
  const ms = job.startedAt && job.finishedAt ? Date.parse(job.finishedAt) - Date.parse(job.startedAt) : wallMs;
  return Math.max(0, ms) / 1000;
}

/**
 * `dialbook import FILE --stream ST`: submits FILE as an import job of the stream, runs it in this process (or
 * follows it, when another worker on the same store holds it) and prints how it ended. Resolves with the exit code.
 */
export async function runImportCommand(config: Config, file: string, opts: ImportCommandOptions): Promise<number> {
  checkFile(file);
  const started = Date.now();
  const showBar = Boolean(process.stderr.isTTY) && !opts.json;
  const bar = showBar ? new ProgressBar(process.stderr) : undefined;
  const say = (line: string) => (bar ? bar.note(line) : process.stderr.write(`${line}\n`));

  const store = openStore(config.database, { poolSize: 4 });
  let interrupted = false;
  let jobId: string | undefined;
  let cancel: (() => void) | undefined;
  const onSigint = () => {
    if (interrupted || !jobId) {
      // A second Ctrl-C, or one before the job exists: leave at once (a job asked to cancel stops without us).
      bar?.done();
      process.exit(EXIT_INTERRUPTED);
    }
    interrupted = true;
    cancel?.();
  };
  process.on('SIGINT', onSigint);
  try {
    await migrateToLatest(store.db);
    const tenant = await createTenancyService({ db: store.db }).findStream(opts.stream);
    const ctx: RequestContext = {
      orgId: tenant.orgId,
      accountId: tenant.accountId,
      streamId: tenant.streamId,
      userId: tenant.ownerUserId ?? CLI_USER_ID,
      appId: CLI_APP_ID,
    };
    const imports = createImports({
      store,
      config,
      log: {
        info() {},
        warn(obj, msg) {
          const err = (obj as { err?: unknown }).err;
          say(`dialbook: warning: ${msg}${err instanceof Error ? `: ${err.message}` : ''}`);
        },
      },
    });
    const options: ImportOptions = { onDuplicate: opts.onDuplicate, atomic: Boolean(opts.atomic), dryRun: Boolean(opts.dryRun) };

    // A file refused as a whole throws here, before any job exists.
    let job = await imports.jobs.submit(ctx, fs.createReadStream(file), options, path.basename(file));
    const id = job.id;
    jobId = id;
    cancel = () => {
      say(`dialbook: cancelling import ${id}…`);
      imports.jobs.cancel(ctx, id).catch((error: unknown) => {
        if (!(error instanceof ConflictError)) say(`dialbook: could not cancel import ${id}: ${error instanceof Error ? error.message : String(error)}`);
      });
    };

    // Runs the job here; undefined when another worker holds it (or the run was interrupted): claimed again later.
    // A claim that fails (SQLite busy while a server on the same file writes) is tried again, a few times.
    let running: Promise<void> | undefined;
    let claimErrors = 0;
    let lastClaimError: unknown;
    let lastClaim = 0;
    const claim = () => {
      lastClaim = Date.now();
      running = imports.runJob(id).then(
        () => {
          claimErrors = 0;
          running = undefined;
        },
        (error: unknown) => {
          claimErrors += 1;
          lastClaimError = error;
          running = undefined;
        },
      );
    };
    claim();

    for (;;) {
      job = await imports.jobs.get(ctx, id);
      bar?.update(interrupted && !finished(job.state) ? 'cancelling' : job.state, job.processedRows, job.totalRows);
      if (finished(job.state)) break;
      if (claimErrors >= MAX_CLAIM_ERRORS) throw lastClaimError;
      if (!running && Date.now() - lastClaim >= RECLAIM_MS) claim();
      await Promise.race(running ? [sleep(POLL_MS), running] : [sleep(POLL_MS)]);
    }
    // The run cleans up after itself (the kept upload) once the job's end is committed.
    await running;
    bar?.update(job.state, job.processedRows, job.totalRows, true);
    bar?.done();

    let failuresFile: string | null = null;
    let failuresError: string | undefined;
    if (job.failed > 0) {
      const target = `${file}.failures.csv`;
      try {
        await pipeline(Readable.from(await imports.jobs.failuresCsv(ctx, id)), fs.createWriteStream(target));
        failuresFile = target;
      } catch (error) {
        failuresError = `cannot write ${target}: ${error instanceof Error ? error.message : String(error)}`;
      }
    }

    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ...job, failuresFile })}\n`);
    } else {
      const seconds = secondsOf(job, Date.now() - started);
      const summary: Record<string, string | number> = {
        id: job.id,
        state: job.state,
        totalRows: job.totalRows ?? 0,
        created: job.created,
        updated: job.updated,
        failed: job.failed,
        seconds: seconds.toFixed(2),
        'rows/s': formatCount(seconds > 0 ? job.processedRows / seconds : job.processedRows).replaceAll(',', ''),
      };
      if (failuresFile) summary.failuresFile = failuresFile;
      for (const [key, value] of Object.entries(summary)) process.stdout.write(`${key}: ${value}\n`);
    }

    if (failuresError) {
      process.stderr.write(`dialbook: ${failuresError}\n`);
      return 1;
    }
    if (interrupted) return EXIT_INTERRUPTED;
    if (job.state === 'failed') {
      process.stderr.write(`dialbook: import ${id} failed: ${job.error?.msg ?? 'unknown error'}\n`);
      return 1;
    }
    if (job.state === 'cancelled') {
      process.stderr.write(`dialbook: import ${id} was cancelled\n`);
      return 1;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    bar?.done();
    await store.close();
  }
}

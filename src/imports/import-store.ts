import type { ContactFields } from '../contacts/contact-input.js';
import type { NameKeys } from '../contacts/name-key.js';
import type { ContactRow } from '../db/schema.js';
import type { ErrorDetail } from '../shared/errors.js';
import type { Actor, Tenant } from '../shared/request-context.js';

/** The job an engine run works for: whose rows, and the lease that lets it write them. */
export interface JobRef {
  id: string;
  tenant: Tenant;
  actor: Actor;
  leaseToken: string;
}

export interface Counts {
  processed: number;
  created: number;
  updated: number;
  failed: number;
}

export interface NewFailure {
  line: number;
  cells: string[];
  errors: ErrorDetail[];
}

export type ContactValues = ContactFields & NameKeys;

export interface NewContact {
  id: string;
  line: number;
  values: ContactValues;
}

export interface HolderUpdate {
  holderId: string;
  line: number;
  values: ContactValues;
}

/** The job's row as a batch leaves it. */
export interface Progress {
  /** Added to the job's counters. */
  delta: Counts;
  resumeLine: number;
  leaseExpiresAt: number;
  now: number;
}

/** The lease was taken over (or the job is gone): the batch must not commit. */
export class LeaseLost extends Error {
  constructor() {
    super('the import job is held by another worker');
  }
}

/** The run stopped before a batch because the process is shutting down; the job is left to another worker. */
export class Stopped extends Error {
  constructor() {
    super('the import worker is stopping');
  }
}

/**
 * The store's side of one batch of an import, inside one transaction. Each dialect implements it in its own way
 * (SQLite: prepared statements row by row; PostgreSQL: COPY and set-based statements); the engine decides.
 */
export interface BatchTx {
  /**
   * Checks that the job is still ours and whether it is to stop. `lock` also holds the job's row until commit, so a
   * takeover cannot slip in between this check and the batch's commit.
   */
  checkLease(mode: 'lock' | 'read'): Promise<{ cancelRequested: boolean }>;
  /**
   * Remembers each number with its line unless one is remembered already, in the same statement, and gives for each
   * the line remembered before this call (null: none, the given line is now remembered). Each number at most once.
   */
  claimNumbers(phoneKeys: number[], lines: number[]): Promise<(number | null)[]>;
  /** For each number, the ACTIVE contact holding it (or null). */
  holders(phones: string[]): Promise<(string | null)[]>;
  /** Remembers the first line of each number; a number already remembered keeps its line. */
  addSeen(phoneKeys: number[], lines: number[]): Promise<void>;
  /** Inserts the contacts whose numbers are free; returns the ids inserted (a number taken meanwhile is skipped). */
  insertContacts(rows: NewContact[], now: number): Promise<Set<string>>;
  /** Gives each holder the row's names and extension; returns the updated rows by holder id (a holder gone meanwhile is absent). */
  updateContacts(updates: HolderUpdate[], now: number): Promise<Map<string, ContactRow>>;
  addFailures(failures: NewFailure[]): Promise<void>;
  /** Forgets the failures recorded so far (an atomic import that starts over). */
  clearFailures(): Promise<void>;
  /** Lines in [from, to] that have a failure recorded. */
  failedLines(from: number, to: number): Promise<Set<number>>;
  /** Writes the batch's counters and resume point; throws LeaseLost when the job is no longer ours. */
  saveProgress(progress: Progress): Promise<void>;
}

/** One engine run's use of the store. */
export interface ImportSession {
  /** Makes the job's table of numbers seen in the file (empty). */
  open(): Promise<void>;
  transaction<T>(work: (tx: BatchTx) => Promise<T>): Promise<T>;
  /** Drops the table of seen numbers. */
  close(): Promise<void>;
}

export interface ImportStore {
  /** The store does its work in another process (PostgreSQL) rather than in this thread (SQLite). */
  readonly writesElsewhere: boolean;
  session(job: JobRef): ImportSession;
  /** After a large import: fresh planner statistics for `contacts` (PostgreSQL; autovacuum may never come by). */
  refreshStatistics(): Promise<void>;
  /** Drops the seen-number tables of jobs that are not running (left by a crash); `liveJobs` is asked after listing them. */
  dropLeftovers(liveJobs: () => Promise<Set<string>>): Promise<void>;
}

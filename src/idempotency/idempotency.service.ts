import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, IdempotencyKeyRow } from '../db/schema.js';
import { ConflictError, UnprocessableError } from '../shared/errors.js';
import { AGAIN, retry } from '../shared/retry.js';
import { createIdempotencyRepository } from './idempotency.repository.js';

/** The right to run the request under a key, held by one request at a time. */
export interface Claim {
  readonly accountId: string;
  readonly key: string;
  readonly token: string;
  /** Known from the start for a JSON request; for an upload, once its file has been read to the end. */
  fingerprint: string | undefined;
  /** Set once the answer is stored or the key released. */
  settled: boolean;
}

/** An answer to send: a fresh one, or the one stored under a key. */
export interface Answer {
  status: number;
  contentType: string;
  body: Buffer | AsyncIterable<Buffer | string>;
  /** A stored answer sent again to a retry. */
  replayed?: boolean;
}

/** What a request finds under its key: it runs, or the key already holds a finished answer. */
export type Start = { kind: 'run'; claim: Claim } | { kind: 'done'; record: IdempotencyKeyRow };

export interface IdempotencyDeps {
  db: Kysely<Database>;
  /** How long a key is kept after its first use. */
  ttlSeconds: number;
  /** A running key not renewed for this long belongs to a process that died, and a retry may take it over. */
  leaseMs: number;
  now?: () => number;
}

// Answers are stored in pieces of this size, so a streamed import answer never sits whole in memory.
const CHUNK_BYTES = 256 * 1024;
// An answer of fewer chunks than this is sent from one buffer (with a Content-Length); a longer one is streamed.
const CHUNKS_PER_PAGE = 4;
const SWEEP_EVERY_MS = 60_000;
const CLAIM_ATTEMPTS = 5;

export function keyInUse(): ConflictError {
  return new ConflictError({
    msg: 'A request with this Idempotency-Key is still running; retry when it has finished',
    code: 'IDEMPOTENCY_KEY_IN_USE',
  });
}

export function keyReused(): UnprocessableError {
  return new UnprocessableError({
    msg: 'This Idempotency-Key was used for a different request; use a new key for a new request',
    code: 'IDEMPOTENCY_KEY_REUSED',
  });
}

/**
 * Idempotency keys: the first request under a key claims it with an INSERT that the store's unique key lets only one
 * request win; its answer is stored when it is done, and sent again to every retry of the same request.
 */
export function createIdempotencyService(deps: IdempotencyDeps) {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const repo = createIdempotencyRepository(db);
  const ttlMs = deps.ttlSeconds * 1000;
  const leases = new Map<Claim, NodeJS.Timeout>();
  let lastSweep = -Infinity;

  function hold(accountId: string, key: string, token: string, fingerprint: string | undefined): Start {
    const claim: Claim = { accountId, key, token, fingerprint, settled: false };
    // A long import outlives the lease; renewing it keeps other processes from taking a key whose holder is alive.
    const timer = setInterval(() => {
      repo.renew(accountId, key, token, now()).catch(() => {});
    }, Math.max(1000, Math.floor(deps.leaseMs / 3)));
    timer.unref();
    leases.set(claim, timer);
    return { kind: 'run', claim };
  }

  function settle(claim: Claim): void {
    claim.settled = true;
    clearInterval(leases.get(claim));
    leases.delete(claim);
  }

  // Expired keys are deleted lazily, by the requests that use keys, at most once a minute per process.
  async function sweepIfDue(t: number): Promise<void> {
    if (t - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = t;
    await repo.deleteExpired(t - ttlMs);
  }

  /**
   * Claims `key` for a request, or finds what the key holds. `fingerprint` is undefined for an upload, whose
   * fingerprint is known only once it has been read; its caller compares it with `sameRequest`.
   * Throws 409 while another request holds the key, 422 when the key was used for a different request.
   */
  async function start(accountId: string, key: string, fingerprint: string | undefined): Promise<Start> {
    await sweepIfDue(now());
    return retry(
      async () => {
        const t = now();
        const claim = { token: randomUUID(), fingerprint: fingerprint ?? null, now: t };
        if (await repo.claim(accountId, key, claim)) return hold(accountId, key, claim.token, fingerprint);
        const row = await repo.find(accountId, key);
        if (!row) return AGAIN; // released or swept meanwhile: claim again
        const expired = row.created_at <= t - ttlMs;
        if (!expired) {
          if (fingerprint && row.fingerprint && row.fingerprint !== fingerprint) throw keyReused();
          if (row.status === 'done') return { kind: 'done', record: row } satisfies Start;
          if (row.locked_at > t - deps.leaseMs) throw keyInUse();
        }
        // Expired, or held by a process that stopped renewing it: take it over, unless another retry just did.
        if (await repo.takeOver(accountId, key, row.claim_token, claim)) {
          await repo.deleteChunks(accountId, key, row.claim_token);
          return hold(accountId, key, claim.token, fingerprint);
        }
        return AGAIN;
      },
      { attempts: CLAIM_ATTEMPTS, exhausted: keyInUse },
    );
  }

  /**
   * Stores the answer of a claimed request as it is read from `body`, a chunk at a time, and marks the key done;
   * the last chunk and the mark share one transaction. False when the claim was lost meanwhile; on a store error
   * the key is released and the error thrown.
   */
  async function complete(claim: Claim, status: number, contentType: string, body: Iterable<Buffer | string> | AsyncIterable<Buffer | string>): Promise<boolean> {
    const { accountId, key, token, fingerprint } = claim;
    let seq = 0;
    let pending: Buffer[] = [];
    let size = 0;
    try {
      if (!fingerprint) throw new Error('An idempotent answer needs the fingerprint of its request');
      for await (const piece of body) {
        const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
        pending.push(bytes);
        size += bytes.length;
        if (size >= CHUNK_BYTES) {
          await repo.appendChunk(accountId, key, token, ++seq, Buffer.concat(pending));
          pending = [];
          size = 0;
        }
      }
      await db.transaction().execute(async (trx) => {
        const tx = createIdempotencyRepository(trx);
        if (size > 0) await tx.appendChunk(accountId, key, token, ++seq, Buffer.concat(pending));
        if (!(await tx.finish(accountId, key, token, { fingerprint, status, contentType }, now()))) throw new LostClaim();
      });
      return true;
    } catch (error) {
      if (error instanceof LostClaim) return false;
      // The effect happened but its answer could not be kept: free the key rather than leave retries waiting
      // for the lease to end. Best effort, since the store that just failed may fail again.
      await repo.release(accountId, key, token).catch(() => {});
      throw error;
    } finally {
      settle(claim);
    }
  }

  /** Frees the key so that a retry runs the request again (after a 5xx, or an upload refused before its end). */
  async function release(claim: Claim): Promise<void> {
    settle(claim);
    await repo.release(claim.accountId, claim.key, claim.token);
  }

  /** The stored answer of a finished key (or of a claim just completed). */
  async function storedAnswer(record: Pick<IdempotencyKeyRow, 'account_id' | 'idempotency_key' | 'claim_token' | 'response_status' | 'response_type'>): Promise<Answer> {
    const { account_id: accountId, idempotency_key: key, claim_token: token } = record;
    const head = { status: record.response_status ?? 200, contentType: record.response_type ?? 'application/json; charset=utf-8' };
    const first = await repo.chunkPage(accountId, key, token, 0, CHUNKS_PER_PAGE);
    if (first.length < CHUNKS_PER_PAGE) return { ...head, body: Buffer.concat(first.map((c) => c.data)) };
    async function* rest(): AsyncGenerator<Buffer> {
      let page = first;
      while (page.length > 0) {
        for (const chunk of page) yield chunk.data;
        page = await repo.chunkPage(accountId, key, token, page[page.length - 1]!.seq, CHUNKS_PER_PAGE);
      }
    }
    return { ...head, body: rest() };
  }

  /** The stored answer of a claim that `complete` has just stored. */
  function answerOf(claim: Claim, status: number, contentType: string): Promise<Answer> {
    return storedAnswer({
      account_id: claim.accountId,
      idempotency_key: claim.key,
      claim_token: claim.token,
      response_status: status,
      response_type: contentType,
    });
  }

  return { start, complete, release, storedAnswer, answerOf };
}

export type IdempotencyService = ReturnType<typeof createIdempotencyService>;

class LostClaim extends Error {}

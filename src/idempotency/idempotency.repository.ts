import type { Kysely } from 'kysely';
import type { Database, IdempotencyKeyRow } from '../db/schema.js';

export interface NewClaim {
  token: string;
  /** Unknown (null) while an upload is still being read. */
  fingerprint: string | null;
  now: number;
}

export interface FinishedAnswer {
  fingerprint: string;
  status: number;
  contentType: string;
}

/** SQL for the `idempotency_keys` table and the answer bodies in `idempotency_chunks`; the account comes first. */
export function createIdempotencyRepository(db: Kysely<Database>) {
  const keyOf = (accountId: string, key: string) => ({ account_id: accountId, idempotency_key: key });
  // A fresh claim, whether it takes a free key or one whose holder died.
  const running = (claim: NewClaim) => ({
    claim_token: claim.token,
    status: 'running' as const,
    fingerprint: claim.fingerprint,
    response_status: null,
    response_type: null,
    created_at: claim.now,
    locked_at: claim.now,
  });

  return {
    /** Inserts a running claim; false when the key is already held. The unique key settles races on both stores. */
    async claim(accountId: string, key: string, claim: NewClaim): Promise<boolean> {
      const result = await db
        .insertInto('idempotency_keys')
        .values({ ...keyOf(accountId, key), ...running(claim) })
        .onConflict((oc) => oc.columns(['account_id', 'idempotency_key']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    find(accountId: string, key: string): Promise<IdempotencyKeyRow | undefined> {
      return db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
    },

    /** Replaces the holder `fromToken` (expired, or a process that died) by a new claim; false if someone else did first. */
    async takeOver(accountId: string, key: string, fromToken: string, claim: NewClaim): Promise<boolean> {
      const result = await db
        .updateTable('idempotency_keys')
        .set(running(claim))
        .where('account_id', '=', accountId)
        .where('idempotency_key', '=', key)
        .where('claim_token', '=', fromToken)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Tells other processes that the holder is alive. */
    async renew(accountId: string, key: string, token: string, now: number): Promise<void> {
      await db
        .updateTable('idempotency_keys')
        .set({ locked_at: now })
        .where('account_id', '=', accountId)
        .where('idempotency_key', '=', key)
        .where('claim_token', '=', token)
        .where('status', '=', 'running')
        .execute();
    },

    async appendChunk(accountId: string, key: string, token: string, seq: number, data: Buffer): Promise<void> {
      await db.insertInto('idempotency_chunks').values({ ...keyOf(accountId, key), claim_token: token, seq, data }).execute();
    },

    /** Marks the claim done with its answer; false when the claim was lost meanwhile. */
    async finish(accountId: string, key: string, token: string, answer: FinishedAnswer, now: number): Promise<boolean> {
      const result = await db
        .updateTable('idempotency_keys')
        .set({
          status: 'done',
          fingerprint: answer.fingerprint,
          response_status: answer.status,
          response_type: answer.contentType,
          locked_at: now,
        })
        .where('account_id', '=', accountId)
        .where('idempotency_key', '=', key)
        .where('claim_token', '=', token)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Frees the key if `token` still holds it; its chunks go with it (ON DELETE CASCADE). */
    async release(accountId: string, key: string, token: string): Promise<void> {
      await db
        .deleteFrom('idempotency_keys')
        .where('account_id', '=', accountId)
        .where('idempotency_key', '=', key)
        .where('claim_token', '=', token)
        .execute();
    },

    /** Chunks written under an earlier holder of the key. */
    async deleteChunks(accountId: string, key: string, token: string): Promise<void> {
      await db
        .deleteFrom('idempotency_chunks')
        .where('account_id', '=', accountId)
        .where('idempotency_key', '=', key)
        .where('claim_token', '=', token)
        .execute();
    },

    chunkPage(accountId: string, key: string, token: string, afterSeq: number, limit: number): Promise<{ seq: number; data: Buffer }[]> {
      return db
        .selectFrom('idempotency_chunks')
        .select(['seq', 'data'])
        .where('account_id', '=', accountId)
        .where('idempotency_key', '=', key)
        .where('claim_token', '=', token)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
    },

    /** Deletes keys first used before `cutoff`, with their answers; returns how many. */
    async deleteExpired(cutoff: number): Promise<number> {
      const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', cutoff).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>;

import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { fingerprint } from './fingerprint.js';
import { requestParts } from './idempotency.hooks.js';
import { keyInUse, keyReused, type Answer, type IdempotencyService } from './idempotency.service.js';

export interface IdempotentUploadDeps {
  idempotency: Pick<IdempotencyService, 'start' | 'complete' | 'release' | 'storedAnswer' | 'answerOf'>;
  /** Largest file the route accepts: a retry's upload larger than this cannot be the stored request. */
  maxBytes: number;
}

/** Runs the route's work on the uploaded file and returns its answer. */
export type UploadWork = (file: AsyncIterable<Buffer>) => Promise<Answer>;

/**
 * Idempotency for a route that streams its upload (the CSV import), which the preHandler cannot fingerprint
 * before the handler reads the body. The fingerprint hashes the FILE bytes after multipart extraction, with the
 * route and query: curl picks a new multipart boundary on every retry, so the raw body of a retry differs.
 */
export function createIdempotentUpload(deps: IdempotentUploadDeps) {
  /**
   * Without an Idempotency-Key, just runs `work`. With one: the first request claims the key and runs `work` on
   * the file as it is hashed; the answer `work` returns is stored (as it streams, a chunk at a time) before it is
   * sent, and a refusal `work` throws frees the key. A retry reads and hashes its upload without running anything,
   * then gets the stored answer, or a 422 when its file or query differ; a retry while the first still runs gets a
   * 409 without its upload being read.
   */
  return async function runOnce(request: FastifyRequest, upload: AsyncIterable<Buffer>, work: UploadWork): Promise<Answer> {
    const key = request.idempotencyKey;
    if (key === undefined) return work(upload);
    const fingerprintOf = (fileSha256: string) => fingerprint([...requestParts(request), { fileSha256 }]);

    const start = await deps.idempotency.start(request.ctx.accountId, key, undefined);
    if (start.kind === 'done') {
      const digest = await digestOf(upload, deps.maxBytes);
      if (digest === undefined || fingerprintOf(digest) !== start.record.fingerprint) throw keyReused();
      return { ...(await deps.idempotency.storedAnswer(start.record)), replayed: true };
    }

    const { claim } = start;
    let fresh: Answer;
    try {
      fresh = await work(hashed(upload, (digest) => {
        claim.fingerprint = fingerprintOf(digest);
      }));
    } catch (error) {
      // A file refused as a whole (empty, too large, not text, a missing column) wrote nothing, and whether it
      // was read to its end before the refusal depends on timing. Freeing the key keeps the outcome the same on
      // every run and lets the caller send a corrected file under it. A failed release only leaves the key to its
      // lease; the refusal is what the caller must see.
      await deps.idempotency.release(claim).catch(() => {});
      throw error;
    }
    if (!claim.fingerprint || fresh.status >= 500) {
      await deps.idempotency.release(claim);
      return fresh;
    }
    const body = Buffer.isBuffer(fresh.body) ? [fresh.body] : fresh.body;
    // Only if this request stopped renewing its lease long enough for a retry to take the key over.
    if (!(await deps.idempotency.complete(claim, fresh.status, fresh.contentType, body))) throw keyInUse();
    // The first answer is sent from the store, as every replay will be: byte-identical by construction.
    return deps.idempotency.answerOf(claim, fresh.status, fresh.contentType);
  };
}

export type IdempotentUpload = ReturnType<typeof createIdempotentUpload>;

/** Passes the bytes through, and reports their sha256 once they have been read to the end. */
async function* hashed(source: AsyncIterable<Buffer>, onEnd: (digest: string) => void): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
  onEnd(hash.digest('hex'));
}

/** sha256 of all the bytes, or undefined as soon as there are more than `maxBytes`. */
async function digestOf(source: AsyncIterable<Buffer>, maxBytes: number): Promise<string | undefined> {
  const hash = createHash('sha256');
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > maxBytes) return undefined;
    hash.update(chunk);
  }
  return hash.digest('hex');
}

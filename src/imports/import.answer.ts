import type { ImportOutcome } from './sync-import.js';

export interface ImportAnswer {
  status: number;
  /** JSON text, produced piece by piece. */
  body: AsyncGenerator<string | Buffer>;
}

// Failures that mean "this number is taken" rather than "this row is malformed".
const DUPLICATE_CODES = new Set(['PHONE_TAKEN', 'DUPLICATE_IN_FILE', 'NOT_WRITTEN']);

/**
 * The contract's answer: 200 and the created contacts when every row succeeds (the seeds' shape), 207 and the
 * report when some fail, 400 (409 when every failure is a duplicate) when none succeed. `report` asks for the
 * report shape always; a dry run always reports, since it creates no contact to show.
 */
export function importAnswer(outcome: ImportOutcome, report: boolean): ImportAnswer {
  const { counts, failureCodes } = outcome;
  const succeeded = counts.created + counts.updated;
  let status = 200;
  if (counts.failed > 0 && succeeded > 0) status = 207;
  if (counts.failed > 0 && succeeded === 0) {
    status = [...failureCodes].every((code) => DUPLICATE_CODES.has(code)) ? 409 : 400;
  }
  const asArray = status === 200 && !report && !outcome.options.dryRun;
  return { status, body: withDispose(outcome, asArray ? contactArray(outcome) : reportBody(outcome)) };
}

async function* contactArray(outcome: ImportOutcome): AsyncGenerator<string | Buffer> {
  yield '[';
  yield* outcome.contactsJson();
  yield ']';
}

async function* reportBody(outcome: ImportOutcome): AsyncGenerator<string | Buffer> {
  const { counts } = outcome;
  const head: Record<string, unknown> = {
    totalRequested: counts.total,
    successful: counts.created + counts.updated,
    failed: counts.failed,
    created: counts.created,
    updated: counts.updated,
    dryRun: outcome.options.dryRun,
    csv: outcome.format,
  };
  yield JSON.stringify(head).slice(0, -1) + ',"successfulRecords":[';
  yield* outcome.succeededJson();
  yield '],"failedRecords":[';
  yield* outcome.failedJson();
  yield ']}';
}

async function* withDispose(outcome: ImportOutcome, body: AsyncGenerator<string | Buffer>): AsyncGenerator<string | Buffer> {
  try {
    yield* body;
  } finally {
    await outcome.dispose();
  }
}

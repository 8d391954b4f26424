/**
 * Retries follow a schedule of waits after each failed try (WEBHOOK_RETRY_SCHEDULE; by default the Standard Webhooks
 * one: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — eight tries over about 27 hours). Each wait is moved by up to ±20 %
 * (jitter), so that the deliveries of an endpoint that was down do not all come back in the same second.
 */
const JITTER = 0.2;
/** A Retry-After longer than this is taken as this. */
const MAX_RETRY_AFTER_MS = 86_400_000;

/** The wait before the next try after `failedTries` failures, or undefined when the schedule is used up. */
export function nextDelay(schedule: readonly number[], failedTries: number, retryAfterMs: number | undefined, random: () => number = Math.random): number | undefined {
  const base = schedule[failedTries - 1];
  if (base === undefined) return undefined;
  const jittered = Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  // The receiver's Retry-After is honoured: never sooner than it asks.
  return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

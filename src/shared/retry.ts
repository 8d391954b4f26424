/** What an attempt returns to be tried again without an error (a row that moved between two statements). */
export const AGAIN: unique symbol = Symbol('again');
export type Again = typeof AGAIN;

export interface RetryPolicy {
  /** Attempts in all, the first included; unbounded when absent (then `retryOn` bounds them). */
  attempts?: number;
  /**
   * Whether an attempt that threw is tried again; it may wait before answering, or throw an error of its own (the
   * conflict it found on a second look). Errors are not retried when absent.
   */
  retryOn?(error: unknown, attempt: number): boolean | Promise<boolean>;
  /** The error when the attempts ran out on a retryable outcome; the last error itself when absent. */
  exhausted?(): Error;
}

/**
 * Runs `attempt` until it gives a value: an attempt is made again when it returns `AGAIN`, or throws an error that
 * `retryOn` accepts, until `attempts` are used up. One loop for every race the services and the import engine retry.
 */
export async function retry<T>(attempt: (n: number) => Promise<T | Again>, policy: RetryPolicy = {}): Promise<T> {
  const attempts = policy.attempts ?? Infinity;
  for (let n = 1; ; n++) {
    let outcome: T | Again;
    try {
      outcome = await attempt(n);
    } catch (error) {
      if (!policy.retryOn || !(await policy.retryOn(error, n))) throw error;
      if (n >= attempts) throw policy.exhausted?.() ?? error;
      continue;
    }
    if (outcome !== AGAIN) return outcome;
    if (n >= attempts) {
      if (!policy.exhausted) throw new Error(`gave up after ${attempts} attempts`);
      throw policy.exhausted();
    }
  }
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AGAIN, retry } from '../../src/shared/retry.js';

describe('retry', () => {
  it('answers the first value an attempt gives, trying again on AGAIN', async () => {
    const seen: number[] = [];
    const value = await retry(async (n) => (seen.push(n), n < 3 ? AGAIN : `done at ${n}`), { attempts: 5 });
    assert.equal(value, 'done at 3');
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it('throws `exhausted` once the attempts run out on AGAIN or on retryable errors', async () => {
    let calls = 0;
    await assert.rejects(
      retry(async () => (calls++, AGAIN), { attempts: 3, exhausted: () => new Error('gave up') }),
      /gave up/,
    );
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(
      retry(
        async () => {
          calls++;
          throw new Error('busy');
        },
        { attempts: 2, retryOn: () => true, exhausted: () => new Error('contended') },
      ),
      /contended/,
    );
    assert.equal(calls, 2);
  });

  it('throws an error retryOn refuses at once, and an error retryOn throws instead of retrying', async () => {
    let calls = 0;
    await assert.rejects(
      retry(
        async () => {
          calls++;
          throw new Error('bug');
        },
        { attempts: 5, retryOn: () => false },
      ),
      /bug/,
    );
    assert.equal(calls, 1);
    await assert.rejects(
      retry(
        async () => {
          throw new Error('race');
        },
        {
          attempts: 5,
          retryOn: () => {
            throw new Error('taken by another');
          },
        },
      ),
      /taken by another/,
    );
  });

  it('retries without a bound when retryOn bounds it, passing the attempt number', async () => {
    const asked: number[] = [];
    const value = await retry(
      async (n) => {
        if (n < 4) throw new Error('busy');
        return n;
      },
      { retryOn: (_e, n) => (asked.push(n), true) },
    );
    assert.equal(value, 4);
    assert.deepEqual(asked, [1, 2, 3]);
  });
});

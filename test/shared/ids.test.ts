import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newObjectId, OBJECT_ID } from '../../src/shared/ids.js';

describe('newObjectId', () => {
  it('is 24 lowercase hex characters', () => {
    for (let i = 0; i < 100; i++) {
      const id = newObjectId();
      assert.match(id, /^[0-9a-f]{24}$/);
      assert.match(id, OBJECT_ID);
    }
  });

  it('carries the second it was made in its first 8 characters, as a MongoDB ObjectId does', () => {
    const at = Date.UTC(2023, 0, 18, 10, 53, 35, 622);
    assert.equal(newObjectId(at).slice(0, 8), Math.floor(at / 1000).toString(16));
  });

  it('sorts an id made later after one made earlier', () => {
    const t = Date.UTC(2024, 5, 1);
    const earlier = newObjectId(t);
    const later = newObjectId(t + 1000);
    assert.ok(earlier < later, `${earlier} should sort before ${later}`);
    // A later second wins even when the counter has moved on in between.
    for (let i = 0; i < 1000; i++) newObjectId(t + 1000);
    assert.ok(later < newObjectId(t + 2000));
  });

  it('keeps the order of ids made one after another within one second', () => {
    const t = Date.UTC(2024, 5, 1, 12);
    const ids = Array.from({ length: 5000 }, () => newObjectId(t));
    assert.deepEqual([...ids].sort(), ids);
  });

  it('never repeats an id among thousands made in a tight loop', () => {
    const ids = new Set<string>();
    const n = 50_000;
    for (let i = 0; i < n; i++) ids.add(newObjectId());
    assert.equal(ids.size, n);
  });
});

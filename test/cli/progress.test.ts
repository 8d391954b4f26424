import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, formatProgress, percentOf, ProgressBar, RateMeter, secondsLeft } from '../../src/cli/progress.js';

describe('the import progress bar', () => {
  it('formats time left as m:ss or h:mm:ss, and --:-- when it cannot be known', () => {
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(6.2), '0:07');
    assert.equal(formatDuration(754), '12:34');
    assert.equal(formatDuration(3723), '1:02:03');
    assert.equal(formatDuration(null), '--:--');
    assert.equal(formatDuration(Infinity), '--:--');
  });

  it('computes time left from the rate, unknown while nothing moved', () => {
    assert.equal(secondsLeft(250, 1000, 50), 15);
    assert.equal(secondsLeft(1000, 1000, 0), 0);
    assert.equal(secondsLeft(0, 1000, 0), null);
    assert.equal(secondsLeft(10, null, 5), null);
  });

  it('never shows 100% before the last row', () => {
    assert.equal(percentOf(0, 1000), 0);
    assert.equal(percentOf(999, 1000), 99);
    assert.equal(percentOf(1000, 1000), 100);
    assert.equal(percentOf(0, 0), 0);
  });

  it('draws rows done/total, percent, rows/s and time left on one line no wider than the terminal', () => {
    const line = formatProgress({ state: 'running', done: 52_000, total: 100_000, rate: 8400, columns: 100 });
    assert.equal(line, `running    [${'█'.repeat(19)}${'░'.repeat(19)}]   52%   52,000/100,000   8,400 rows/s  ETA 0:06`);
    assert.ok(line.length <= 99);
    // The bar keeps its length as the numbers grow.
    const start = formatProgress({ state: 'running', done: 0, total: 100_000, rate: 0, columns: 100 });
    assert.equal(start.length, line.length);
    assert.match(start, /ETA --:--$/);
    for (const columns of [20, 40, 60, 200]) {
      assert.ok(formatProgress({ state: 'running', done: 5, total: 10, rate: 1, columns }).length <= columns - 1, `${columns} columns`);
    }
    assert.match(formatProgress({ state: 'cancelled', done: 5, total: 10, rate: 1, columns: 100 }), /^cancelled  \[.*ETA --:--$/);
  });

  it('measures rows/s over the last seconds', () => {
    const meter = new RateMeter(5000);
    assert.equal(meter.rate(), 0);
    meter.add(0, 0);
    meter.add(1000, 1000);
    assert.equal(meter.rate(), 1000);
    // Slower later on: after the window has passed, the early rate no longer counts.
    for (let t = 2000; t <= 12_000; t += 1000) meter.add(t, 1000 + (t - 1000) / 10);
    assert.equal(Math.round(meter.rate()), 100);
  });

  it('redraws in place at most once per interval, and ends its line once', () => {
    let now = 0;
    const writes: string[] = [];
    const bar = new ProgressBar({ write: (text: string) => writes.push(text), columns: 100 }, 100, () => now);
    bar.update('running', 0, 10);
    now = 50;
    bar.update('running', 5, 10);
    assert.equal(writes.length, 1);
    now = 120;
    bar.update('running', 6, 10);
    assert.equal(writes.length, 2);
    assert.ok(writes.every((w) => w.startsWith('\r') && w.endsWith('\x1b[K')));
    bar.note('dialbook: cancelling');
    assert.deepEqual(writes.slice(2, 4), ['\r\x1b[K', 'dialbook: cancelling\n']);
    now = 130;
    bar.update('completed', 10, 10);
    bar.done();
    bar.done();
    assert.match(writes.at(-2)!, /^\rcompleted .* 100% +10\/10 /);
    assert.equal(writes.at(-1), '\n');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldName, nameKeys, prefixRange } from '../../src/contacts/name-key.js';
import { neutraliseCell, restoreCell } from '../../src/contacts/contact-csv.js';

/** Code-point order, the order both stores compare keys in. */
const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('name keys (pure)', () => {
  it('folds case, accents, compatibility forms and white space', () => {
    assert.equal(foldName('  José   ÁLVAREZ '), 'jose alvarez');
    assert.equal(foldName('Ñúñez'), 'nunez');
    assert.equal(foldName('Straße'), 'strasse');
    assert.equal(foldName('ﬁnn'), 'finn');
    assert.equal(foldName('Ｊｏｅ'), 'joe');
    assert.equal(foldName('İstanbul'), 'istanbul');
    assert.equal(foldName('a\u0000b\u0001c\td'), 'abc d');
    assert.equal(foldName('ΟΔΥΣΣΕΥΣ'), foldName('οδυσσευσ'));
    assert.deepEqual(nameKeys('Zoë', 'Quinn'), { last_name_key: 'quinn', full_name_key: 'zoe quinn' });
  });

  it('bounds exactly the keys that start with a prefix', () => {
    const range = prefixRange('jo');
    assert.deepEqual(range, { from: 'jo', to: 'jp' });
    const inside = ['jo', 'jo ', 'joe', 'jo\u{10ffff}', 'jo😀'];
    const outside = ['j', 'jn\u{10ffff}', 'jp', 'jpa', 'k'];
    for (const key of inside) assert.ok(cmp(key, range.from) >= 0 && cmp(key, range.to!) < 0, key);
    for (const key of outside) assert.ok(!(cmp(key, range.from) >= 0 && cmp(key, range.to!) < 0), key);
    // The last code point cannot grow: the one before it does; none can: no upper bound.
    assert.deepEqual(prefixRange('a\u{10ffff}'), { from: 'a\u{10ffff}', to: 'b' });
    assert.deepEqual(prefixRange('\u{10ffff}'), { from: '\u{10ffff}' });
    assert.equal(prefixRange('\ud7ff').to, '\ue000');
  });
});

describe('spreadsheet cells (pure)', () => {
  it('neutralises what a spreadsheet would run, and the import restores it exactly', () => {
    const cases: [string, string][] = [
      ['=SUM(1)', "'=SUM(1)"], ['+919876543210', "'+919876543210"], ['-y', "'-y"], ['@x', "'@x"], ['\tx', "'\tx"], ['\rx', "'\rx"],
      ["'=x", "''=x"], ["''@x", "'''@x"], ['plain', 'plain'], ["'plain", "'plain"], ["O'Brien", "O'Brien"], ['', ''], ["'", "'"],
    ];
    for (const [value, written] of cases) {
      assert.equal(neutraliseCell(value), written, value);
      assert.equal(restoreCell(written), value, written);
    }
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../../src/shared/error-codes.js';

describe('error codes', () => {
  const doc = fs.readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  const documented = new Set([...doc.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));

  it('documents every code an answer may carry in docs/api.md', () => {
    const missing = ERROR_CODES.filter((code) => !documented.has(code));
    assert.deepEqual(missing, [], `codes not in docs/api.md: ${missing.join(', ')}`);
  });

  it('lists each code once', () => {
    assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length);
  });

  it('has every code used in src/ in its list (a literal the union misses would not compile, this checks the list is whole)', () => {
    const src = new URL('../../src/', import.meta.url);
    const used = new Set<string>();
    for (const file of fs.readdirSync(src, { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      const text = fs.readFileSync(new URL(file, src), 'utf8');
      for (const m of text.matchAll(/\bcode: '([A-Z][A-Z0-9_]+)'/g)) used.add(m[1]!);
    }
    const known = new Set<string>(ERROR_CODES);
    assert.deepEqual(
      [...used].filter((c) => !known.has(c)),
      [],
    );
  });
});

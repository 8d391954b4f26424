import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contactJsonWriter, toContact } from '../../src/contacts/contact.mapper.js';
import type { ContactRow } from '../../src/db/schema.js';
import { JsonBytes } from '../../src/shared/json-bytes.js';
import { contactChanges, createdChangesJson } from '../../src/history/contact-diff.js';

// The synchronous import's answer builds each contact's JSON as text; it must be the bytes JSON.stringify makes.
const base: ContactRow = {
  id: '6745a1b2c3d4e5f601234567', stream_id: 'st-1', account_id: 'acc-1', org_id: 'o-1', status: 'ACTIVE',
  first_name: 'Ada', last_name: 'Lovelace', salutation: 'Ms', phone_number: '+919876543210', country_code: '+91', extension: '',
  created_by: 'u-1', created_by_aid: 'cs-app', updated_by: null, updated_by_aid: null, import_id: 'job', created_at: 1764633600123,
  updated_at: 1764633600123, last_name_key: 'lovelace', full_name_key: 'ada lovelace',
} as ContactRow;

const awkward = ['', 'O"Brien', 'back\\slash', 'tab\there', 'line\nbreak', '\u0001ctl', 'Zoë', '日本語', '\ud83d\ude00', 'lone \ud800 surrogate', '</script>'];

describe('the import answer\'s contact JSON', () => {
  it('is byte for byte what JSON.stringify gives for the contact, for awkward text, shared columns that change, and updated rows', () => {
    const write = contactJsonWriter();
    let n = 0;
    for (const text of awkward) {
      for (const field of ['first_name', 'last_name', 'salutation', 'extension', 'created_by', 'stream_id', 'id'] as const) {
        const row = { ...base, [field]: text, created_at: base.created_at + (n % 3), updated_at: base.updated_at + (n % 5) } as ContactRow;
        if (n % 7 === 0) Object.assign(row, { updated_by: 'u-2', updated_by_aid: 'other-app', status: 'INACTIVE' });
        // A small buffer, so that writing it has to grow it too.
        const out = new JsonBytes(16);
        write(row, out);
        assert.equal(out.bytes().toString('utf8'), JSON.stringify(toContact(row)), `${field} = ${JSON.stringify(text)}`);
        n += 1;
      }
    }
    assert.ok(n > 70);
  });
});

describe('JSON written into a buffer', () => {
  it('writes strings as JSON.stringify does, and the entries with or without the separator before them', () => {
    const out = new JsonBytes(8);
    assert.equal(out.empty, true);
    for (const text of awkward) {
      if (!out.empty) out.raw(',');
      out.string(text);
      out.raw(',');
      out.stringOfTwo(text, 'x');
    }
    const expected = awkward.map((t) => `${JSON.stringify(t)},${JSON.stringify(`${t} x`)}`).join(',');
    assert.equal(out.bytes().toString('utf8'), expected);
    assert.equal(out.bytes(0x2c).toString('utf8'), `,${expected}`);
  });
});

describe('an imported contact\'s history entry', () => {
  it('is byte for byte what JSON.stringify gives for its changes from nothing, for awkward text', () => {
    for (const text of awkward) {
      for (const field of ['first_name', 'last_name', 'salutation', 'phone_number', 'country_code', 'extension'] as const) {
        const row = { ...base, [field]: text } as ContactRow;
        assert.equal(createdChangesJson(row), JSON.stringify(contactChanges(undefined, row)), `${field} = ${JSON.stringify(text)}`);
      }
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata } from 'libphonenumber-js';
import examples from 'libphonenumber-js/mobile/examples';
import {
  normalisePhone,
  normalisePhoneFast,
  normalisePhoneReference,
  parseCountryCode,
  type PhoneResult,
} from '../../src/contacts/phone.js';

// normalisePhone takes a shortcut past libphonenumber's parser for plain digits (national, or `+` and the calling
// code); it must never answer differently from libphonenumber itself. Every case is run both ways, compared whole.

const metadata = new Metadata() as unknown as {
  metadata: { nonGeographic: Record<string, unknown> };
  countryCallingCodes(): Record<string, string[]>;
  selectNumberingPlan(code: string): void;
  numberingPlan: { nationalPrefix(): string | 0; IDDPrefix(): string | 0; possibleLengths(): number[] };
};

interface Code {
  cc: string;
  lengths: number[];
  examples: string[];
  prefixes: string[];
}

/** Every calling code libphonenumber-js knows, with what a generator needs to hit its edges. */
function callingCodes(): Code[] {
  const codes: Code[] = [];
  const groups = { ...metadata.countryCallingCodes() };
  for (const cc of Object.keys(metadata.metadata.nonGeographic)) groups[cc] ??= [cc];
  for (const [cc, members] of Object.entries(groups)) {
    const lengths = new Set<number>();
    const prefixes = new Set<string>(['0', '00', '1', '8', '9', '011', '810', '0011', cc, `0${cc}`, `00${cc}`]);
    const found: string[] = [];
    for (const member of members) {
      metadata.selectNumberingPlan(member);
      const nationalPrefix = metadata.numberingPlan.nationalPrefix();
      const idd = metadata.numberingPlan.IDDPrefix();
      for (const length of metadata.numberingPlan.possibleLengths()) lengths.add(length);
      if (nationalPrefix) prefixes.add(nationalPrefix);
      // Plain-digit international prefixes can be typed as they are; patterns get the common ones above.
      if (typeof idd === 'string' && /^\d+$/.test(idd)) prefixes.add(idd).add(`${idd}${cc}`);
      const example = (examples as Record<string, string | undefined>)[member];
      if (example) found.push(example);
    }
    codes.push({ cc, lengths: [...lengths].sort((a, b) => a - b), examples: found, prefixes: [...prefixes] });
  }
  return codes;
}

/** mulberry32: small, fast, and the same sequence on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(0x5eed_d1a1);
const int = (n: number) => Math.floor(random() * n);
const pick = <T,>(items: readonly T[]): T => items[int(items.length)]!;
const digits = (n: number) => Array.from({ length: n }, () => String(int(10))).join('');

const SEPARATORS = [' ', '-', '.', '(', ')', '\u00a0', '\t', '  '];
const JUNK = ['x', 'O', '#', '/', '+', ',', ';', 'ext. 12', '\u0663', '\uff11', '\u2013', 'a'];

/** National digits around the plan's edges: possible lengths and one either side, examples, typed prefixes. */
function nationalDigits(code: Code): string {
  const roll = random();
  if (roll < 0.3 && code.examples.length) {
    // An example with its tail replaced keeps the leading digits that pick a country within a shared code.
    const example = pick(code.examples);
    const keep = int(example.length + 1);
    const length = Math.max(1, example.length + pick([0, 0, 0, -1, 1, -2, 2]));
    return example.slice(0, Math.min(keep, length)) + digits(Math.max(0, length - keep));
  }
  if (roll < 0.7) {
    const length = Math.max(1, pick(code.lengths) + pick([0, 0, 0, -1, 1, -3, 3]));
    return digits(length);
  }
  if (roll < 0.9) return pick(code.prefixes) + nationalDigits(code);
  return digits(1 + int(19));
}

/** How the number is written: as digits, with separators, as `+…`, with junk, or absurdly long. */
function written(code: Code, national: string): string {
  const roll = random();
  if (roll < 0.55) return national;
  if (roll < 0.8) {
    let out = '';
    for (const ch of national) out += (random() < 0.25 ? pick(SEPARATORS) : '') + ch;
    return random() < 0.2 ? ` ${out} ` : out;
  }
  if (roll < 0.9) return `+${random() < 0.8 ? code.cc : pick(['1', '44', '91', '7', '800', '0', ''])}${random() < 0.3 ? ' ' : ''}${national}`;
  if (roll < 0.97) {
    const at = int(national.length + 1);
    return national.slice(0, at) + pick(JUNK) + national.slice(at);
  }
  return pick(['', '+', '()', ' ', digits(16), digits(18), digits(30 + int(40)), digits(251)]);
}

function countryCodeForm(cc: string): string {
  const roll = random();
  if (roll < 0.01) return pick(['999', '+0', '28', '+1234', 'India', '', '+', '+ 9 1']);
  return roll < 0.5 ? `+${cc}` : roll < 0.75 ? cc : roll < 0.9 ? ` +${cc} ` : pick([`(+${cc})`, `+ ${cc}`, `${cc} `]);
}

type Case = [rawNumber: string, rawCountryCode: string];

/** Every code × every leading digit × lengths 1–18, then seeded random cases up to the total. */
function cases(codes: Code[], total: number): Case[] {
  const all: Case[] = [];
  for (const code of codes) {
    for (let lead = 0; lead <= 9; lead++) {
      for (let length = 1; length <= 18; length++) all.push([`${lead}${digits(length - 1)}`, `+${code.cc}`]);
    }
  }
  while (all.length < total) {
    const code = pick(codes);
    all.push([written(code, nationalDigits(code)), countryCodeForm(code.cc)]);
  }
  return all;
}

describe('normalisePhone fast path against libphonenumber-js', () => {
  it('answers exactly as the libphonenumber-only implementation on ~200k generated numbers', () => {
    const codes = callingCodes();
    assert.ok(codes.length > 200, `only ${codes.length} calling codes found`);
    const all = cases(codes, 200_000);
    const mismatches: { input: Case; expected: PhoneResult; actual: PhoneResult }[] = [];
    let fast = 0;
    let fastInternational = 0;
    const fastCodes = new Set<string>();
    const fastOutcomes = new Set<string>();
    for (const input of all) {
      const expected = normalisePhoneReference(...input);
      const shortcut = normalisePhoneFast(...input);
      if (shortcut) {
        fast++;
        fastCodes.add(parseCountryCode(input[1])!);
        fastOutcomes.add(shortcut.ok ? 'ok' : shortcut.code);
        if (input[0].includes('+')) fastInternational++;
      }
      const actual = normalisePhone(...input);
      try {
        assert.deepEqual(actual, expected);
        if (shortcut) assert.deepEqual(shortcut, expected);
      } catch {
        mismatches.push({ input, expected, actual: shortcut ?? actual });
      }
    }
    const share = fast / all.length;
    console.log(
      `phone differential: ${all.length} cases over ${codes.length} calling codes; fast path decided ` +
        `${fast} (${(share * 100).toFixed(1)}%, ${fastInternational} of them +…) for ${fastCodes.size} calling codes; ` +
        `${mismatches.length} mismatches`,
    );
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} mismatches`);
    // Guards against a fast path that silently stopped running: it still agrees, but helps nobody.
    assert.ok(share > 0.5, `fast path decided only ${(share * 100).toFixed(1)}% of cases`);
    assert.ok(fastCodes.size > 150, `fast path decided for only ${fastCodes.size} calling codes`);
    assert.ok(fastInternational > 1000, `fast path decided only ${fastInternational} +… numbers`);
    assert.deepEqual([...fastOutcomes].sort(), ['INVALID_PHONE_LENGTH', 'PHONE_NUMBER_TOO_LONG', 'ok']);
  });
});

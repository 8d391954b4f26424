import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalisePhone, normalisePhoneFast, type PhoneResult } from '../../src/contacts/phone.js';

const ok = (result: PhoneResult) => {
  assert.ok(result.ok, `expected success, got ${JSON.stringify(result)}`);
  return result.value;
};
const failure = (result: PhoneResult) => {
  assert.ok(!result.ok, `expected a failure, got ${JSON.stringify(result)}`);
  return result;
};

describe('normalisePhone', () => {
  it('stores the country code followed by the national digits', () => {
    assert.deepEqual(ok(normalisePhone('9876543210', '+91')), { phoneNumber: '+919876543210', countryCode: '+91' });
  });

  it('strips the spaces, dashes, dots and parentheses people type', () => {
    for (const typed of ['98765 43210', '98765-43210', '987.654.3210', '(987) 654-3210', ' 98 76 54 32 10 ', '98765\u00a043210']) {
      assert.equal(ok(normalisePhone(typed, '+91')).phoneNumber, '+919876543210', typed);
    }
  });

  it('refuses letters, naming the phone number field', () => {
    for (const typed of ['98765abc10', '9876543210x', 'call me', '98765O4321']) {
      const result = failure(normalisePhone(typed, '+91'));
      assert.equal(result.field, 'cellPhone.phoneNumber', typed);
      assert.equal(result.code, 'INVALID_PHONE_NUMBER', typed);
    }
  });

  it('accepts the country code with or without its +', () => {
    assert.deepEqual(ok(normalisePhone('9876543210', '91')), { phoneNumber: '+919876543210', countryCode: '+91' });
    assert.deepEqual(ok(normalisePhone('9876543210', ' +91 ')), { phoneNumber: '+919876543210', countryCode: '+91' });
  });

  it('takes a number that starts with + as complete, so a stored number sent back is not prefixed twice', () => {
    assert.equal(ok(normalisePhone('+919876543210', '+91')).phoneNumber, '+919876543210');
    assert.equal(ok(normalisePhone('+91 98765-43210', '91')).phoneNumber, '+919876543210');
  });

  it('refuses a complete number whose calling code disagrees with the country code', () => {
    const result = failure(normalisePhone('+919876543210', '+1'));
    assert.equal(result.field, 'cellPhone.phoneNumber');
    assert.equal(result.code, 'COUNTRY_CODE_MISMATCH');
  });

  it('refuses a number too short for the numbering plan of its country', () => {
    const india = failure(normalisePhone('98765', '+91'));
    assert.equal(india.code, 'INVALID_PHONE_LENGTH');
    assert.match(india.msg, /too short/);
    const us = failure(normalisePhone('202555012', '+1'));
    assert.equal(us.code, 'INVALID_PHONE_LENGTH');
    assert.match(us.msg, /too short/);
  });

  it('refuses a number too long for the numbering plan of its country', () => {
    const us = failure(normalisePhone('20255501234', '+1'));
    assert.equal(us.field, 'cellPhone.phoneNumber');
    assert.equal(us.code, 'INVALID_PHONE_LENGTH');
    assert.match(us.msg, /too long/);
    // The same ten digits that are fine for +1 are fine; the plan, not a fixed length, decides.
    assert.equal(ok(normalisePhone('2025550123', '+1')).phoneNumber, '+12025550123');
  });

  it('understands the trunk prefix and the international prefix people dial before a number', () => {
    assert.equal(ok(normalisePhone('0 98765 43210', '+91')).phoneNumber, '+919876543210');
    assert.equal(ok(normalisePhone('0091 98765 43210', '+91')).phoneNumber, '+919876543210');
    assert.equal(ok(normalisePhone('919876543210', '+91')).phoneNumber, '+919876543210');
    assert.equal(failure(normalisePhone('0044 20 7946 0958', '+91')).code, 'COUNTRY_CODE_MISMATCH');
  });

  it('does not count a typed trunk prefix against the 15 digits of E.164', () => {
    // 49 + 13 national digits = 15: the longest E.164 number, typed here with Germany's trunk prefix 0.
    assert.equal(ok(normalisePhone('0 30 11111111111', '+49')).phoneNumber, '+493011111111111');
    assert.equal(failure(normalisePhone('0 30 111111111111', '+49')).code, 'PHONE_NUMBER_TOO_LONG');
  });

  it('measures a number of a shared calling code against the country its leading digits pick', () => {
    // Seven digits are a possible length in Canada (area code 310 here), not in the US, both +1.
    assert.equal(ok(normalisePhone('3101234', '+1')).phoneNumber, '+13101234');
    assert.match(failure(normalisePhone('2041234', '+1')).msg, /too short/);
  });

  it('keeps national digits that merely begin like the calling code, and drops a calling code typed first', () => {
    assert.equal(ok(normalisePhone('9198765432', '+91')).phoneNumber, '+919198765432');
    assert.equal(ok(normalisePhone('91 98765 43210', '+91')).phoneNumber, '+919876543210');
    // Russia's trunk prefix is 8, and 800 numbers start with it too.
    assert.equal(ok(normalisePhone('8 800 555 35 35', '+7')).phoneNumber, '+78005553535');
    assert.equal(ok(normalisePhone('800 555 35 35', '+7')).phoneNumber, '+78005553535');
  });

  it('decides plain digits without libphonenumber, and leaves prefixed or mismatched input to it', () => {
    assert.deepEqual(normalisePhoneFast('98765 43210', '91'), normalisePhone('9876543210', '+91'));
    assert.deepEqual(normalisePhoneFast('+91 98765-43210', '+91'), normalisePhone('9876543210', '+91'));
    assert.equal(normalisePhoneFast('98765', '+91')?.ok, false);
    const leftToLibphonenumber: [string, string][] = [
      ['0 98765 43210', '+91'],
      ['0091 98765 43210', '+91'],
      ['+91 0 98765 43210', '+91'],
      ['+449876543210', '+91'],
      ['12025550123', '+1'],
      ['98765abc10', '+91'],
      ['9876543210', '+999'],
    ];
    for (const [typed, code] of leftToLibphonenumber) {
      assert.equal(normalisePhoneFast(typed, code), undefined, `${typed} ${code}`);
    }
  });

  it('reads a non-geographic calling code by the code alone', () => {
    assert.equal(ok(normalisePhone('1234 5678', '+800')).phoneNumber, '+80012345678');
  });

  it('refuses a calling code no country uses, naming the country code field', () => {
    for (const code of ['+999', '999', '+0', '+28']) {
      const result = failure(normalisePhone('9876543210', code));
      assert.equal(result.field, 'cellPhone.countryCode', code);
      assert.equal(result.code, 'INVALID_COUNTRY_CODE', code);
    }
  });

  it('refuses a country code that is not a calling code at all', () => {
    for (const code of ['India', '+9123', '', '+']) {
      const result = failure(normalisePhone('9876543210', code));
      assert.equal(result.field, 'cellPhone.countryCode', code);
    }
  });

  it('refuses more than the 15 digits E.164 allows, national or complete', () => {
    const national = failure(normalisePhone('98765432101234', '+91'));
    assert.equal(national.code, 'PHONE_NUMBER_TOO_LONG');
    assert.equal(failure(normalisePhone('9'.repeat(60), '+91')).code, 'PHONE_NUMBER_TOO_LONG');
    const complete = failure(normalisePhone('+9198765432101234', '+91'));
    assert.equal(complete.code, 'PHONE_NUMBER_TOO_LONG');
  });

  it('refuses a number with no digits', () => {
    for (const typed of ['', '+', '()', '- -']) {
      assert.equal(failure(normalisePhone(typed, '+91')).field, 'cellPhone.phoneNumber', JSON.stringify(typed));
    }
  });
});

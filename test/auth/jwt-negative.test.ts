import assert from 'node:assert/strict';
import { generateKeyPairSync, createHmac, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT, importPKCS8 } from 'jose';
import { createTenant, useApiFixture, type Tenant } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

const LIMIT = 4;
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** A token whose header and payload are exactly these, signed (or not) as given: the attacker's hand-made JWT. */
function forge(header: unknown, payload: unknown, sign: (input: string) => string = () => ''): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(input)}`;
}
const hmac = (key: string | Buffer, alg = 'sha256') => (input: string) => createHmac(alg, key).update(input).digest('base64url');

for (const dialect of DIALECTS) {
  describe(`forged and broken tokens on ${dialect}: each refused, none spending the account's minute`, { skip: await skipReason(dialect) }, () => {
    const f = useApiFixture(dialect, { RATE_LIMIT_PER_MINUTE: String(LIMIT) });

    it(`refuses 40+ bad tokens with 401 or 403, and the account still has its ${LIMIT} requests`, async () => {
      const strict = await createTenant(f.store.store, { enforceJti: true });
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
      const rsaTenant = await createTenant(f.store.store, { algorithm: 'RS256', publicKeyPem: publicKey });
      const foreign = await createTenant(f.store.store);
      const noScope = await createTenant(f.store.store, { scopes: [] });
      const id = strict.clientId;
      const secret = strict.clientSecret;
      const claims = (extra: Record<string, unknown> = {}) => ({ appId: id, iat: now(), exp: now() + 300, jti: randomUUID(), ...extra });
      const signed = async (payload: Record<string, unknown>, alg = 'HS256', key: Parameters<SignJWT['sign']>[0] = new TextEncoder().encode(secret)) =>
        new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);

      const valid = await signed(claims());
      const [vh, vp] = valid.split('.');
      const rsaPrivate = await importPKCS8(privateKey, 'RS256');
      const ecPrivate = await importPKCS8(ec.privateKey, 'ES256');

      const cases: [string, Record<string, string>, Tenant][] = [];
      const add = (name: string, token: string | undefined, tenant: Tenant = strict, headers: Record<string, string> = {}) =>
        cases.push([name, { ...(token === undefined ? {} : { auth: token }), accountId: tenant.accountId, ...headers }, tenant]);

      for (const alg of ['none', 'None', 'NONE', 'nOnE', 'none ', '']) {
        add(`alg "${alg}", no signature`, forge({ alg, typ: 'JWT' }, claims()));
        add(`alg "${alg}", a signature`, forge({ alg, typ: 'JWT' }, claims(), hmac(secret)));
      }
      add('no alg at all', forge({ typ: 'JWT' }, claims(), hmac(secret)));
      add('HS256 keyed with the RS256 app\'s public key (key confusion)', forge({ alg: 'HS256', typ: 'JWT' }, { ...claims(), appId: rsaTenant.clientId }, hmac(publicKey)), rsaTenant);
      add('RS256 signed with a key that is not the app\'s, for an HS256 app', await signed(claims(), 'RS256', rsaPrivate));
      add('ES256 for an HS256 app', await signed(claims(), 'ES256', ecPrivate));
      add('HS384 with the right secret (not the app\'s algorithm)', forge({ alg: 'HS384', typ: 'JWT' }, claims(), hmac(secret, 'sha384')));
      add('HS512 with the right secret', forge({ alg: 'HS512', typ: 'JWT' }, claims(), hmac(secret, 'sha512')));
      add('a header naming a jwk of its own', forge({ alg: 'HS256', typ: 'JWT', jwk: { kty: 'oct', k: b64('attacker') } }, claims(), hmac('attacker')));
      add('a kid pointing elsewhere', forge({ alg: 'HS256', typ: 'JWT', kid: '../../dev/null' }, claims(), hmac('')));
      add('expired an hour ago', await signed(claims({ iat: now() - 7200, exp: now() - 3600 })));
      add('not valid for an hour yet', await signed(claims({ nbf: now() + 3600 })));
      add('exp as a string', await signed(claims({ exp: String(now() + 300) })));
      add('lives longer than jti is remembered', await signed(claims({ exp: now() + 90 * 86_400 })));
      add('no jti for an app that enforces it', await signed({ appId: id, iat: now(), exp: now() + 300 }));
      add('signed with the wrong secret', await signed(claims(), 'HS256', new TextEncoder().encode('not-the-secret')));
      add('signature of another token', `${vh}.${vp}.${(await signed(claims())).split('.')[2]}`);
      add('signature flipped', valid.slice(0, -2) + (valid.endsWith('A') ? 'BB' : 'AA'));
      add('signature removed', `${vh}.${vp}.`);
      add('two segments', `${vh}.${vp}`);
      add('four segments', `${valid}.${vp}`);
      add('one segment', 'abc');
      add('empty token', '');
      add('header not base64url', `%%%.${vp}.sig`);
      add('header not JSON', `${b64('not json')}.${vp}.sig`);
      add('payload not JSON', forge({ alg: 'HS256' }, 'x', hmac(secret)).replace(/^[^.]+\.[^.]+/, (m) => `${m.split('.')[0]}.${b64('{not json')}`));
      add('payload an array', forge({ alg: 'HS256', typ: 'JWT' }, [id], hmac(secret)));
      add('unknown app', await signed(claims({ appId: `cs-${randomUUID()}` })));
      add('appId not a client id', await signed(claims({ appId: "cs-' or 1=1 --" })));
      add('appId with a NUL', await signed(claims({ appId: `${id}\u0000` })));
      add('another app\'s client id, signed with this secret', await signed(claims({ appId: foreign.clientId })));
      add('a foreign app\'s valid token on this account', foreign.token, strict);
      add('Authorization Basic', undefined, strict, { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
      add('Authorization Bearer with nothing after it', undefined, strict, { authorization: 'Bearer ' });
      add('no token at all', undefined);
      add('a 7 KB token', `${valid}${'A'.repeat(7000)}`);
      add('wrong accountId header', valid.replace(/^/, ''), strict, { accountid: foreign.accountId });
      add('app without the Configuration scope', noScope.token, noScope);

      // Used once (spending one request), then replayed: the replay must not spend another.
      const once = await signed(claims());
      const first = await f.api.app.inject({ url: `${strict.base}/contacts?limit=1`, headers: { auth: once, accountId: strict.accountId } });
      assert.equal(first.statusCode, 200, first.body);
      add('a replayed jti', once);

      assert.ok(cases.length >= 40, `${cases.length} cases`);
      for (const [name, headers, tenant] of cases) {
        const res = await f.api.app.inject({ url: `${tenant.base}/contacts?limit=1`, headers });
        assert.ok([401, 403].includes(res.statusCode), `${name}: ${res.statusCode} ${res.body}`);
        const body = res.json<{ errors: { code: string; msg: string }[] }>();
        assert.ok(body.errors[0]!.code, name);
        if (res.statusCode === 401) assert.equal(res.headers['ratelimit-remaining'], undefined, `${name}: refused at the token check, before the rate limit`);
      }

      // One request spent above; the rest of the minute is still there, then the limit holds.
      for (let i = 2; i <= LIMIT; i++) {
        const res = await f.api.app.inject({ url: `${strict.base}/contacts?limit=1`, headers: { auth: await signed(claims()), accountId: strict.accountId } });
        assert.equal(res.statusCode, 200, `request ${i} of ${LIMIT}: ${res.body}`);
        assert.equal(res.headers['ratelimit-limit'], String(LIMIT));
        assert.equal(res.headers['ratelimit-remaining'], String(LIMIT - i));
      }
      const over = await f.api.app.inject({ url: `${strict.base}/contacts?limit=1`, headers: { auth: await signed(claims()), accountId: strict.accountId } });
      assert.equal(over.statusCode, 429);
      assert.ok(Number(over.headers['retry-after']) > 0);
      assert.equal(over.headers['ratelimit-remaining'], '0');
    });
  });
}

import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { signAppToken } from '../../src/auth/token.js';
import { createTenancyService } from '../../src/tenancy/tenancy.service.js';
import { buildTestApp, contactInput, createTenant, useApiFixture, type Tenant } from '../helpers/app.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';

const secretKey = (secret: string) => new TextEncoder().encode(secret);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A token signed with HS256 (unless told) carrying the vendor's `appId` claim and whatever else is asked. */
function token(clientId: string, secret: string, claims: Record<string, unknown> = {}, alg = 'HS256'): Promise<string> {
  return new SignJWT({ appId: clientId, ...claims }).setProtectedHeader({ alg, typ: 'JWT' }).sign(secretKey(secret));
}

function unsignedToken(clientId: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ appId: clientId, iat: nowSeconds() })}.`;
}

interface ErrorEntry {
  msg: string;
  code: string;
}

for (const dialect of DIALECTS) {
  describe(`request checks on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = useApiFixture(dialect);

    const post = (headers: Record<string, string>, base = fx.tenant.base) =>
      fx.api.app.inject({ method: 'POST', url: `${base}/contacts`, headers, payload: [contactInput()] });

    /** The status, after checking that a failure is in the contract's error shape. */
    const statusOf = async (headers: Record<string, string>, base = fx.tenant.base) => {
      const res = await post(headers, base);
      if (res.statusCode >= 400) {
        const errors = res.json().errors as ErrorEntry[];
        assert.ok(errors.length > 0 && errors.every((e) => typeof e.msg === 'string' && typeof e.code === 'string'), res.body);
      }
      return res.statusCode;
    };

    it('accepts the app token in the auth header', async () => {
      assert.equal(await statusOf(fx.tenant.headers), 200);
    });

    it('refuses a request without a token with 401', async () => {
      assert.equal(await statusOf({ accountId: fx.tenant.accountId }), 401);
      assert.equal(await statusOf({ accountId: fx.tenant.accountId, auth: '' }), 401);
    });

    it('accepts Authorization: Bearer like the auth header', async () => {
      assert.equal(await statusOf({ authorization: `Bearer ${fx.tenant.token}`, accountId: fx.tenant.accountId }), 200);
      assert.equal(await statusOf({ authorization: `Bearer garbage`, accountId: fx.tenant.accountId }), 401);
    });

    it('refuses a token that is not a JWT', async () => {
      for (const garbage of ['garbage', 'a.b.c', `${fx.tenant.token}x`, '...']) {
        assert.equal(await statusOf({ auth: garbage, accountId: fx.tenant.accountId }), 401, garbage);
      }
    });

    it('refuses a token that names no app, or an unknown app', async () => {
      const noApp = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).sign(secretKey(fx.tenant.clientSecret));
      assert.equal(await statusOf({ auth: noApp, accountId: fx.tenant.accountId }), 401);
      const unknown = await token(`cs-${randomUUID()}`, fx.tenant.clientSecret);
      assert.equal(await statusOf({ auth: unknown, accountId: fx.tenant.accountId }), 401);
    });

    it('refuses a token signed with another secret', async () => {
      const forged = await token(fx.tenant.clientId, 'not-the-secret-not-the-secret-not-the-secret');
      assert.equal(await statusOf({ auth: forged, accountId: fx.tenant.accountId }), 401);
    });

    it('refuses an unsigned alg:none token', async () => {
      assert.equal(await statusOf({ auth: unsignedToken(fx.tenant.clientId), accountId: fx.tenant.accountId }), 401);
    });

    it('refuses an HS512 token made with the app secret: the app pins HS256', async () => {
      const hs512 = await token(fx.tenant.clientId, fx.tenant.clientSecret, {}, 'HS512');
      assert.equal(await statusOf({ auth: hs512, accountId: fx.tenant.accountId }), 401);
    });

    it('refuses an expired token, and accepts one that expired within the clock skew', async () => {
      const skew = fx.api.config.jwtClockSkewSeconds;
      const expired = await token(fx.tenant.clientId, fx.tenant.clientSecret, { exp: nowSeconds() - skew - 120 });
      assert.equal(await statusOf({ auth: expired, accountId: fx.tenant.accountId }), 401);
      const justExpired = await token(fx.tenant.clientId, fx.tenant.clientSecret, { exp: nowSeconds() - Math.floor(skew / 3) });
      assert.equal(await statusOf({ auth: justExpired, accountId: fx.tenant.accountId }), 200);
      const live = await token(fx.tenant.clientId, fx.tenant.clientSecret, { exp: nowSeconds() + 600 });
      assert.equal(await statusOf({ auth: live, accountId: fx.tenant.accountId }), 200);
    });

    it('refuses a token that is not valid yet (nbf in the future)', async () => {
      const early = await token(fx.tenant.clientId, fx.tenant.clientSecret, { nbf: nowSeconds() + fx.api.config.jwtClockSkewSeconds + 120 });
      assert.equal(await statusOf({ auth: early, accountId: fx.tenant.accountId }), 401);
    });

    it('refuses a request without the accountId header with 400', async () => {
      const res = await post({ auth: fx.tenant.token });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().errors[0].field, 'accountId');
    });

    it('refuses the accountId of another account with 403', async () => {
      const other = await createTenant(fx.store.store);
      assert.equal(await statusOf({ auth: fx.tenant.token, accountId: other.accountId }), 403);
      assert.equal(await statusOf({ auth: fx.tenant.token, accountId: '0123456789abcdef01234567' }), 403);
    });

    it('reads the accountId header in any letter case', async () => {
      assert.equal(await statusOf({ auth: fx.tenant.token, ACCOUNTID: fx.tenant.accountId }), 200);
      assert.equal(await statusOf({ auth: fx.tenant.token, AccountId: fx.tenant.accountId }), 200);
    });

    it('answers 404 for a stream of another account or an unknown stream', async () => {
      const other = await createTenant(fx.store.store);
      assert.equal(await statusOf(fx.tenant.headers, other.base), 404);
      assert.equal(await statusOf(fx.tenant.headers, `/agentassist/api/v1/public/st-${randomUUID()}`), 404);
      assert.equal(await statusOf(fx.tenant.headers, '/agentassist/api/v1/public/nonsense'), 404);
    });

    it('refuses an app without the Configuration scope with 403', async () => {
      const unscoped = await createTenant(fx.store.store, { scopes: [] });
      assert.equal(await statusOf(unscoped.headers, unscoped.base), 403);
      const otherScope = await createTenant(fx.store.store, { scopes: ['Analytics'] });
      assert.equal(await statusOf(otherScope.headers, otherScope.base), 403);
    });

    describe('an RS256 app', () => {
      let rs: Tenant;
      let privateKeyPem: string;
      let publicKeyPem: string;

      before(async () => {
        const pair = generateKeyPairSync('rsa', {
          modulusLength: 2048,
          publicKeyEncoding: { type: 'spki', format: 'pem' },
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        });
        privateKeyPem = pair.privateKey;
        publicKeyPem = pair.publicKey;
        rs = await createTenant(fx.store.store, { algorithm: 'RS256', publicKeyPem });
      });

      it('accepts a token signed with its private key', async () => {
        const signed = await signAppToken({ clientId: rs.clientId, key: privateKeyPem, algorithm: 'RS256' });
        assert.equal(await statusOf({ auth: signed, accountId: rs.accountId }, rs.base), 200);
      });

      it('refuses an HS256 token that uses the public key text as its secret (key confusion)', async () => {
        const confused = await token(rs.clientId, publicKeyPem);
        assert.equal(await statusOf({ auth: confused, accountId: rs.accountId }, rs.base), 401);
      });

      it('refuses an HS256 token made with its client secret', async () => {
        assert.equal(await statusOf(rs.headers, rs.base), 401);
      });

      it('refuses a token signed by another private key', async () => {
        const stranger = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
        const signed = await signAppToken({ clientId: rs.clientId, key: stranger.privateKey, algorithm: 'RS256' });
        assert.equal(await statusOf({ auth: signed, accountId: rs.accountId }, rs.base), 401);
      });
    });

    it('accepts an ES256 app token signed with its private key and refuses other algorithms', async () => {
      const pair = generateKeyPairSync('ec', {
        namedCurve: 'P-256',
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      const es = await createTenant(fx.store.store, { algorithm: 'ES256', publicKeyPem: pair.publicKey });
      const signed = await signAppToken({ clientId: es.clientId, key: pair.privateKey, algorithm: 'ES256' });
      assert.equal(await statusOf({ auth: signed, accountId: es.accountId }, es.base), 200);
      assert.equal(await statusOf({ auth: await token(es.clientId, pair.publicKey), accountId: es.accountId }, es.base), 401);
      assert.equal(await statusOf(es.headers, es.base), 401);
    });

    describe('an app that enforces jti', () => {
      let strict: Tenant;
      before(async () => {
        strict = await createTenant(fx.store.store, { enforceJti: true });
      });
      const headersFor = (auth: string) => ({ auth, accountId: strict.accountId });

      it('refuses a token without a jti', async () => {
        const noJti = await new SignJWT({ appId: strict.clientId }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(secretKey(strict.clientSecret));
        assert.equal(await statusOf(headersFor(noJti), strict.base), 401);
      });

      it('accepts a jti once and refuses it the second time', async () => {
        const once = await signAppToken({ clientId: strict.clientId, key: strict.clientSecret });
        assert.equal(await statusOf(headersFor(once), strict.base), 200);
        assert.equal(await statusOf(headersFor(once), strict.base), 401);
      });

      it('accepts fresh jtis one after another', async () => {
        for (let i = 0; i < 3; i += 1) {
          const fresh = await signAppToken({ clientId: strict.clientId, key: strict.clientSecret, expiresInSeconds: 300 });
          assert.equal(await statusOf(headersFor(fresh), strict.base), 200);
        }
      });

      it('does not use up a jti on a request refused for its account: the same token then passes', async () => {
        const once = await signAppToken({ clientId: strict.clientId, key: strict.clientSecret });
        assert.equal(await statusOf({ auth: once, accountId: fx.tenant.accountId }, strict.base), 403);
        assert.equal(await statusOf(headersFor(once), strict.base), 200);
        assert.equal(await statusOf(headersFor(once), strict.base), 401);
      });

      it('allows the clock skew on a token issued a moment "in the future" with no exp', async () => {
        const ahead = await new SignJWT({ appId: strict.clientId })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuedAt(nowSeconds() + 2)
          .setJti(randomUUID())
          .sign(secretKey(strict.clientSecret));
        assert.equal(await statusOf(headersFor(ahead), strict.base), 200);
      });

      it('lets apps that do not enforce jti reuse a token', async () => {
        assert.equal(await statusOf(fx.tenant.headers), 200);
        assert.equal(await statusOf(fx.tenant.headers), 200);
      });
    });

    describe('ids a caller controls that no store should see', () => {
      it('answers 401, not 5xx, to an unsigned token naming a client id with a NUL', async () => {
        const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const forged = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ appId: 'cs-\u0000' })}.c2ln`;
        assert.equal(await statusOf({ auth: forged, accountId: fx.tenant.accountId }), 401);
      });

      it('answers 404, not 5xx, to a stream id with a NUL in the path', async () => {
        assert.equal(await statusOf(fx.tenant.headers, '/agentassist/api/v1/public/st-%00'), 404);
      });
    });

    describe('an app whose account has another stream it may not reach', () => {
      it('answers 404 on that stream', async () => {
        const tenancy = createTenancyService({ db: fx.store.store.db });
        const { streamId } = await tenancy.createStream(fx.tenant.accountId, 'Second stream');
        assert.equal(await statusOf(fx.tenant.headers, `/agentassist/api/v1/public/${streamId}`), 404);
      });
    });
  });

  describe(`per-account rate limit on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;

    before(async () => {
      store = await createTestStore(dialect);
    });
    after(async () => {
      await store?.destroy();
    });

    it("refuses an account's 6th request in a minute with 429, Retry-After and the vendor's message; other accounts go on", async (t) => {
      const api = await buildTestApp(store.store, { RATE_LIMIT_PER_MINUTE: '5' });
      t.after(() => api.close());
      const busy = await createTenant(store.store);
      const quiet = await createTenant(store.store);
      const post = (who: Tenant) => api.app.inject({ method: 'POST', url: `${who.base}/contacts`, headers: who.headers, payload: [contactInput()] });

      for (let i = 0; i < 5; i += 1) assert.equal((await post(busy)).statusCode, 200, `request ${i + 1}`);
      const refused = await post(busy);
      assert.equal(refused.statusCode, 429);
      const retryAfter = Number(refused.headers['retry-after']);
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${refused.headers['retry-after']}`);
      assert.deepEqual(refused.json(), {
        errors: [{ msg: "You've exceeded the per-minute rate limit. Please wait for sometime before retrying", code: 'RATE_LIMITED' }],
      });
      assert.equal((await post(quiet)).statusCode, 200);
    });

    it('counts every app of one account together', async (t) => {
      const api = await buildTestApp(store.store, { RATE_LIMIT_PER_MINUTE: '2' });
      t.after(() => api.close());
      const first = await createTenant(store.store);
      const tenancy = createTenancyService({ db: store.store.db });
      const second = await tenancy.createApp({ accountId: first.accountId, streamIds: [first.streamId] });
      const secondToken = await signAppToken({ clientId: second.clientId, key: second.clientSecret });
      const post = (auth: string) =>
        api.app.inject({ method: 'POST', url: `${first.base}/contacts`, headers: { auth, accountId: first.accountId }, payload: [contactInput()] });
      assert.equal((await post(first.token)).statusCode, 200);
      assert.equal((await post(secondToken)).statusCode, 200);
      assert.equal((await post(secondToken)).statusCode, 429);
    });

    it('does not limit at all with RATE_LIMIT_PER_MINUTE=0', async (t) => {
      const api = await buildTestApp(store.store, { RATE_LIMIT_PER_MINUTE: '0' });
      t.after(() => api.close());
      const tenant = await createTenant(store.store);
      for (let i = 0; i < 80; i += 1) {
        const res = await api.app.inject({ method: 'POST', url: `${tenant.base}/contacts`, headers: tenant.headers, payload: [contactInput()] });
        assert.equal(res.statusCode, 200, `request ${i + 1}`);
      }
    });
  });
}

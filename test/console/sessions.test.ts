import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { consoleAppId } from '../../src/users/console-app.js';
import { createSessionService } from '../../src/users/session.service.js';
import { createUserService } from '../../src/users/user.service.js';
import { buildTestApp, contactInput, createTenant, type Tenant, type TestApp } from '../helpers/app.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import { createConsoleUser, signIn } from './console-users.js';

for (const dialect of DIALECTS) {
  describe(`console sessions on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let api: TestApp;
    let tenant: Tenant;
    let other: Tenant;
    let user: Awaited<ReturnType<typeof createConsoleUser>>;

    before(async () => {
      store = await createTestStore(dialect);
      api = await buildTestApp(store.store, { SIGN_IN_MAX_FAILURES_PER_USER: '3', SIGN_IN_MAX_FAILURES_PER_ADDRESS: '8' });
      tenant = await createTenant(store.store);
      other = await createTenant(store.store);
      user = await createConsoleUser(store.store, tenant.accountId, { name: 'Team Lead' });
    });
    after(async () => {
      await api?.close();
      await store?.destroy();
    });

    const inject = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
      api.app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

    it('sets an HttpOnly, SameSite=Lax session cookie for the whole site, without Secure over plain http', async () => {
      const { setCookie } = await signIn(api.app, user.email, user.password);
      const attrs = setCookie.split(';').map((s) => s.trim());
      assert.match(attrs[0]!, /^dialbook_session=[A-Za-z0-9_-]{43}$/);
      assert.ok(attrs.includes('HttpOnly'));
      assert.ok(attrs.includes('SameSite=Lax'));
      assert.ok(attrs.includes('Path=/'));
      assert.ok(attrs.includes(`Max-Age=${12 * 3600}`));
      assert.ok(!attrs.includes('Secure'));
    });

    it('marks the cookie Secure when the request came over https (per X-Forwarded-Proto)', async () => {
      const { setCookie } = await signIn(api.app, user.email, user.password, { 'x-forwarded-proto': 'https' });
      assert.ok(setCookie.split(';').map((s) => s.trim()).includes('Secure'));
    });

    it('answers who is signed in, with the account\'s streams and nothing of another account', async () => {
      const s = await signIn(api.app, user.email, user.password);
      const res = await inject('GET', '/console/api/session', { cookie: s.cookie });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.equal(body.user.email, user.email);
      assert.equal(body.accountId, tenant.accountId);
      assert.deepEqual(body.streams.map((x: { streamId: string }) => x.streamId), [tenant.streamId]);
      assert.equal(body.csrfToken, s.csrfToken);
      assert.ok(!res.body.includes(other.streamId));
    });

    it('authenticates API requests by the session, writing the user and the console app as the author', async () => {
      const s = await signIn(api.app, user.email, user.password);
      const res = await inject('POST', `${tenant.base}/contacts`, { cookie: s.cookie, 'x-csrf-token': s.csrfToken }, [contactInput({ firstName: 'Console' })]);
      assert.equal(res.statusCode, 200, res.body);
      const created = res.json()[0];
      assert.equal(created.createdBy, user.userId);
      assert.equal(created.createdByAId, consoleAppId(tenant.accountId));
      const put = await inject('PUT', `${tenant.base}/contacts/${created.id}`, { cookie: s.cookie, 'x-csrf-token': s.csrfToken }, { lastName: 'Edited' });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal(put.json().updatedBy, user.userId);
      assert.equal(put.json().updatedByAId, consoleAppId(tenant.accountId));
      // The console app is a real app of the account, which no token can use.
      const app = await store.store.db.selectFrom('apps').selectAll().where('id', '=', consoleAppId(tenant.accountId)).executeTakeFirstOrThrow();
      assert.equal(app.account_id, tenant.accountId);
      assert.deepEqual(JSON.parse(app.scopes), []);
    });

    it('refuses a state-changing request without the CSRF token, or with another one, and writes nothing', async () => {
      const s = await signIn(api.app, user.email, user.password);
      const before = await inject('GET', `${tenant.base}/contacts?status=all`, { cookie: s.cookie });
      assert.equal(before.statusCode, 200);
      const cases: [string, string, unknown][] = [
        ['POST', `${tenant.base}/contacts`, [contactInput()]],
        ['DELETE', `${tenant.base}/contacts/bulk-delete`, { ids: [before.json().results[0].id] }],
        ['POST', `${tenant.base}/contacts/imports`, undefined],
        ['POST', '/console/api/sign-out', undefined],
      ];
      for (const [method, url, payload] of cases) {
        for (const headers of [{ cookie: s.cookie }, { cookie: s.cookie, 'x-csrf-token': 'x'.repeat(43) }] as Record<string, string>[]) {
          const res = await inject(method, url, headers, payload);
          assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
          assert.equal(res.json().errors[0].code, 'CSRF_TOKEN_INVALID');
        }
      }
      const afterList = await inject('GET', `${tenant.base}/contacts?status=all`, { cookie: s.cookie });
      assert.deepEqual(afterList.json().results, before.json().results);
      // Another session's token does not do either.
      const s2 = await signIn(api.app, user.email, user.password);
      const res = await inject('POST', `${tenant.base}/contacts`, { cookie: s.cookie, 'x-csrf-token': s2.csrfToken }, [contactInput()]);
      assert.equal(res.statusCode, 403);
    });

    it("answers 404 for another account's stream, contact and import job, as it does for a token", async () => {
      const foreign = await api.app.inject({ method: 'POST', url: `${other.base}/contacts`, headers: other.headers, payload: [contactInput()] });
      const foreignId = foreign.json()[0].id;
      const s = await signIn(api.app, user.email, user.password);
      for (const url of [`${other.base}/contacts`, `${other.base}/contacts/${foreignId}`, `${other.base}/contacts/imports`, `${other.base}/contacts/export`]) {
        const res = await inject('GET', url, { cookie: s.cookie });
        assert.equal(res.statusCode, 404, url);
        assert.equal(res.json().errors[0].code, 'STREAM_NOT_FOUND');
      }
      const del = await inject('DELETE', `${other.base}/contacts/${foreignId}`, { cookie: s.cookie, 'x-csrf-token': s.csrfToken });
      assert.equal(del.statusCode, 404);
      const still = await api.app.inject({ method: 'GET', url: `${other.base}/contacts/${foreignId}`, headers: other.headers });
      assert.equal(still.json().status, 'ACTIVE');
      // Its own stream with the other's contact id: not found either.
      const mine = await inject('GET', `${tenant.base}/contacts/${foreignId}`, { cookie: s.cookie });
      assert.equal(mine.statusCode, 404);
      assert.equal(mine.json().errors[0].code, 'CONTACT_NOT_FOUND');
    });

    it('ends the session on sign-out: the old cookie is refused afterwards', async () => {
      const s = await signIn(api.app, user.email, user.password);
      const out = await inject('POST', '/console/api/sign-out', { cookie: s.cookie, 'x-csrf-token': s.csrfToken });
      assert.equal(out.statusCode, 204);
      assert.match(String(out.headers['set-cookie']), /^dialbook_session=; .*Max-Age=0/);
      for (const url of ['/console/api/session', `${tenant.base}/contacts`]) {
        const res = await inject('GET', url, { cookie: s.cookie });
        assert.equal(res.statusCode, 401, url);
        assert.equal(res.json().errors[0].code, 'SESSION_ENDED');
      }
    });

    it('refuses a wrong password with one message for a wrong email too, and counts it', async () => {
      const someone = await createConsoleUser(store.store, tenant.accountId);
      const wrong = await inject('POST', '/console/api/sign-in', { 'content-type': 'application/json' }, { email: someone.email, password: 'not the password' });
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.json().errors[0].code, 'INVALID_CREDENTIALS');
      const unknown = await inject('POST', '/console/api/sign-in', {}, { email: 'nobody@example.com', password: 'not the password' });
      assert.equal(unknown.statusCode, 401);
      assert.equal(unknown.json().errors[0].msg, wrong.json().errors[0].msg);
      const rows = await store.store.db.selectFrom('sign_in_failures').select('key').where('key', '=', `user:${someone.email}`).execute();
      assert.equal(rows.length, 1);
    });

    it('stops sign-ins for an email after SIGN_IN_MAX_FAILURES_PER_USER failures, even with the right password', async () => {
      const target = await createConsoleUser(store.store, tenant.accountId);
      for (let i = 0; i < 3; i++) {
        const res = await inject('POST', '/console/api/sign-in', { 'x-forwarded-for': '10.0.0.1' }, { email: target.email, password: `wrong ${i}` });
        assert.equal(res.statusCode, 401);
      }
      const res = await inject('POST', '/console/api/sign-in', {}, { email: target.email, password: target.password });
      assert.equal(res.statusCode, 429);
      assert.equal(res.json().errors[0].code, 'SIGN_IN_LIMITED');
      assert.ok(Number(res.headers['retry-after']) > 0);
    });

    it('stops sign-ins from an address after SIGN_IN_MAX_FAILURES_PER_ADDRESS failures, whatever the email', async () => {
      const isolated = await buildTestApp(store.store, { SIGN_IN_MAX_FAILURES_PER_ADDRESS: '4' });
      try {
        // Failures of earlier tests came from the same (injected) address: clear the slate for this one.
        await store.store.db.deleteFrom('sign_in_failures').execute();
        const good = await createConsoleUser(store.store, tenant.accountId);
        for (let i = 0; i < 4; i++) {
          const res = await isolated.app.inject({ method: 'POST', url: '/console/api/sign-in', payload: { email: `guess${i}@example.com`, password: 'wrong password' } });
          assert.equal(res.statusCode, 401);
        }
        const res = await isolated.app.inject({ method: 'POST', url: '/console/api/sign-in', payload: { email: good.email, password: good.password } });
        assert.equal(res.statusCode, 429);
        assert.match(res.json().errors[0].msg, /from this address/);
      } finally {
        await isolated.close();
        await store.store.db.deleteFrom('sign_in_failures').execute();
      }
    });

    it('takes sign-in as JSON only (a cross-site form cannot sign anyone in)', async () => {
      const res = await api.app.inject({ method: 'POST', url: '/console/api/sign-in', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `email=${user.email}&password=x` });
      assert.equal(res.statusCode, 415);
      assert.ok(Array.isArray(res.json().errors));
      for (const email of ['a\u0000@example.com', 'x'.repeat(400)]) {
        const odd = await inject('POST', '/console/api/sign-in', {}, { email, password: 'whatever password' });
        assert.equal(odd.statusCode, 400, odd.body);
        assert.equal(odd.json().errors[0].field, 'email');
      }
      const missing = await inject('POST', '/console/api/sign-in', {}, { email: user.email });
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json().errors[0].field, 'password');
    });

    it('ends every session of a disabled user and refuses their sign-in', async () => {
      const leaving = await createConsoleUser(store.store, tenant.accountId);
      const s = await signIn(api.app, leaving.email, leaving.password);
      const result = await createUserService({ db: store.store.db }).disableUser({ accountId: tenant.accountId, email: leaving.email });
      assert.equal(result.sessionsEnded, 1);
      const res = await inject('GET', `${tenant.base}/contacts`, { cookie: s.cookie });
      assert.equal(res.statusCode, 401);
      const again = await inject('POST', '/console/api/sign-in', {}, { email: leaving.email, password: leaving.password });
      assert.equal(again.statusCode, 401);
    });

    it('ends a session after the idle time without requests, and after the absolute lifetime however busy', async () => {
      let t = 1_000_000_000_000;
      const sessions = createSessionService({
        db: store.store.db,
        settings: { idleMs: 30 * 60_000, maxAgeMs: 2 * 3_600_000, maxFailuresPerUser: 5, maxFailuresPerAddress: 20, windowMs: 15 * 60_000 },
        now: () => t,
      });
      const idle = await sessions.signIn({ email: user.email, password: user.password, address: 'test' });
      t += 29 * 60_000;
      assert.ok(await sessions.resolve(idle.token), 'alive within the idle time');
      t += 29 * 60_000;
      assert.ok(await sessions.resolve(idle.token), 'a request renews the idle time');
      t += 30 * 60_000;
      assert.equal(await sessions.resolve(idle.token), undefined, 'idle for 30 minutes: ended');
      const busy = await sessions.signIn({ email: user.email, password: user.password, address: 'test' });
      const start = t;
      while (t - start < 2 * 3_600_000 - 10 * 60_000) {
        t += 10 * 60_000;
        assert.ok(await sessions.resolve(busy.token));
      }
      t += 10 * 60_000;
      assert.equal(await sessions.resolve(busy.token), undefined, 'two hours after sign-in: ended');
    });
  });
}

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { StoreUrl } from '../../src/config/config.js';
import { buildTestApp, createTenant, type Tenant, type TestApp } from '../helpers/app.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import { childEnv, CLI_MAIN, cliJson, runCli, type CliResult } from '../cli/run-cli.js';
import { signIn } from './console-users.js';

const databaseUrl = (url: StoreUrl) => (url.kind === 'sqlite' ? `sqlite:${url.file}` : url.url);

/** `dialbook …` with this text on standard input. */
function runWithStdin(args: string[], url: string, input: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: childEnv({ DATABASE_URL: url }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

for (const dialect of DIALECTS) {
  describe(`dialbook users on ${dialect}`, { skip: await skipReason(dialect), timeout: 120_000 }, () => {
    let store: TestStore;
    let url: string;
    let api: TestApp;
    let tenant: Tenant;

    before(async () => {
      store = await createTestStore(dialect);
      url = databaseUrl(store.url);
      api = await buildTestApp(store.store);
      tenant = await createTenant(store.store);
    });
    after(async () => {
      await api?.close();
      await store?.destroy();
    });

    const signInStatus = async (email: string, password: string) =>
      (await api.app.inject({ method: 'POST', url: '/console/api/sign-in', payload: { email, password } })).statusCode;

    it('creates a user with a one-time password printed as {userId, email, password}, who can then sign in', async () => {
      const created = await cliJson<{ userId: string; email: string; password: string }>(
        ['users', 'create', '--account', tenant.accountId, '--email', ' Lead@Example.COM ', '--name', 'Team Lead', '--json'], url);
      assert.deepEqual(Object.keys(created), ['userId', 'email', 'password']);
      assert.match(created.userId, /^u-[0-9a-f-]{36}$/);
      assert.equal(created.email, 'lead@example.com');
      assert.ok(created.password.length >= 20);
      assert.equal(await signInStatus('LEAD@example.com', created.password), 200);
      // The hash is argon2id, and the password itself is stored nowhere.
      const row = await store.store.db.selectFrom('users').selectAll().where('id', '=', created.userId).executeTakeFirstOrThrow();
      assert.match(row.password_hash ?? '', /^\$argon2id\$/);
      assert.ok(!JSON.stringify(row).includes(created.password));
    });

    it('reads the password from standard input with --password-stdin', async () => {
      const result = await runWithStdin(['users', 'create', '--account', tenant.accountId, '--email', 'piped@example.com', '--password-stdin', '--json'], url, 'a piped password 1\n');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).password, 'a piped password 1');
      assert.equal(await signInStatus('piped@example.com', 'a piped password 1'), 200);
      const short = await runWithStdin(['users', 'create', '--account', tenant.accountId, '--email', 'short@example.com', '--password-stdin'], url, 'short\n');
      assert.equal(short.code, 1);
      assert.match(short.stderr, /^dialbook: the password must be at least 10 characters\n$/);
    });

    it('refuses an email taken already, a malformed email and an unknown account, in one line', async () => {
      const taken = await runCli(['users', 'create', '--account', tenant.accountId, '--email', 'lead@example.com'], url);
      assert.equal(taken.code, 1);
      assert.match(taken.stderr, /^dialbook: a user with the email lead@example.com exists already\n$/);
      const bad = await runCli(['users', 'create', '--account', tenant.accountId, '--email', 'not-an-email'], url);
      assert.match(bad.stderr, /is not an email address/);
      const unknown = await runCli(['users', 'create', '--account', '0'.repeat(24), '--email', 'x@example.com'], url);
      assert.match(unknown.stderr, /account 0{24} does not exist/);
    });

    it('lists the account\'s users without their passwords', async () => {
      const list = await runCli(['users', 'list', '--account', tenant.accountId, '--json'], url);
      assert.equal(list.code, 0, list.stderr);
      const users = JSON.parse(list.stdout) as { email: string; disabled: boolean }[];
      assert.deepEqual(users.map((u) => u.email), ['lead@example.com', 'piped@example.com']);
      assert.ok(!list.stdout.includes('argon2'));
      assert.ok(!list.stdout.toLowerCase().includes('password'));
    });

    it('resets a password: the old one stops working and the user\'s sessions end', async () => {
      const s = await signIn(api.app, 'piped@example.com', 'a piped password 1');
      const reset = await cliJson<{ password: string }>(['users', 'reset-password', '--account', tenant.accountId, '--email', 'piped@example.com', '--json'], url);
      assert.equal(await signInStatus('piped@example.com', 'a piped password 1'), 401);
      assert.equal(await signInStatus('piped@example.com', reset.password), 200);
      const old = await api.app.inject({ method: 'GET', url: `${tenant.base}/contacts`, headers: { cookie: s.cookie } });
      assert.equal(old.statusCode, 401);
    });

    it('disables a user: every session ends at once and sign-in is refused', async () => {
      const s1 = await signIn(api.app, 'lead@example.com', (await cliJson<{ password: string }>(['users', 'reset-password', '--account', tenant.accountId, '--email', 'lead@example.com', '--json'], url)).password);
      const disabled = await cliJson<{ sessionsEnded: number }>(['users', 'disable', '--account', tenant.accountId, '--email', 'lead@example.com', '--json'], url);
      assert.equal(disabled.sessionsEnded, 1);
      const res = await api.app.inject({ method: 'GET', url: '/console/api/session', headers: { cookie: s1.cookie } });
      assert.equal(res.statusCode, 401);
      const list = JSON.parse((await runCli(['users', 'list', '--account', tenant.accountId, '--json'], url)).stdout) as { email: string; disabled: boolean }[];
      assert.equal(list.find((u) => u.email === 'lead@example.com')?.disabled, true);
      const other = await runCli(['users', 'disable', '--account', tenant.accountId, '--email', 'nobody@example.com'], url);
      assert.match(other.stderr, /no user nobody@example.com/);
    });
  });
}

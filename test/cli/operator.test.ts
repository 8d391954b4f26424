import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signAppToken } from '../../src/auth/token.js';
import { buildCli } from '../../src/cli/cli.js';
import { loadConfig, type StoreUrl } from '../../src/config/config.js';
import { buildTestApp, contactInput, type TestApp } from '../helpers/app.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import { freePort } from '../helpers/server-process.js';
import { cliJson, runCli, startCliServe, type CliResult } from './run-cli.js';

const databaseUrl = (url: StoreUrl) => (url.kind === 'sqlite' ? `sqlite:${url.file}` : url.url);
const VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function assertOneLineFailure(result: CliResult, message: RegExp): void {
  assert.equal(result.code, 1, `expected exit code 1, got ${result.code}: ${result.stderr}`);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^dialbook: [^\n]+\n$/);
  assert.match(result.stderr, message);
}

describe('the dialbook CLI, as an operator reads it', () => {
  it('--version prints the version of package.json', async () => {
    const result = await runCli(['--version'], 'sqlite::memory:');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${VERSION}\n`);
  });

  it('help names DATABASE_URL', async () => {
    const result = await runCli(['--help'], 'sqlite::memory:');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /DATABASE_URL {2}the store every command works on/);
  });

  it('every command has a description, and every command but serve takes --json', () => {
    const program = buildCli(() => loadConfig({}));
    const leaves = program.commands.flatMap((c) => (c.commands.length > 0 ? c.commands.map((sub) => ({ name: `${c.name()} ${sub.name()}`, command: sub })) : [{ name: c.name(), command: c }]));
    assert.ok(leaves.length >= 18, `only ${leaves.length} commands`);
    for (const { name, command } of leaves) {
      assert.notEqual(command.description(), '', `${name} has no description`);
      if (name !== 'serve') assert.ok(command.options.some((o) => o.long === '--json'), `${name} has no --json`);
    }
    for (const group of program.commands.filter((c) => c.commands.length > 0)) assert.notEqual(group.description(), '', `${group.name()} has no description`);
  });

  it('serve logs readable lines with LOG_FORMAT=pretty, JSON with LOG_FORMAT=json, and a last line once stopped', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-logs-'));
    try {
      for (const format of ['pretty', 'json'] as const) {
        const server = await startCliServe(`sqlite:${path.join(dir, 'logs.db')}`, await freePort(), { LOG_LEVEL: 'info', LOG_FORMAT: format });
        assert.equal(await server.stop(), 0);
        const lines = server.output().trim().split('\n');
        const last = lines[lines.length - 1]!;
        if (format === 'json') {
          assert.equal((JSON.parse(last) as { msg: string }).msg, 'stopped');
        } else {
          assert.match(last, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [^\]]+\] INFO: stopped/, last);
          assert.ok(!lines.some((l) => l.startsWith('{')), 'a JSON line in the pretty log');
          assert.ok(lines.some((l) => /INFO: Server listening at http:\/\/127\.0\.0\.1:\d+/.test(l)), server.output());
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const dialect of DIALECTS) {
  describe(`the dialbook tenancy commands on ${dialect}`, { skip: await skipReason(dialect), timeout: 300_000 }, () => {
    let store: TestStore;
    let url: string;
    let api: TestApp;
    let tenant: { accountId: string; streamId: string; appId: string; clientId: string; clientSecret: string };

    before(async () => {
      store = await createTestStore(dialect);
      url = databaseUrl(store.url);
      api = await buildTestApp(store.store);
      const { accountId } = await cliJson(['accounts', 'create', '--name', 'Acme', '--json'], url);
      const { streamId } = await cliJson(['streams', 'create', '--account', accountId!, '--name', 'Support', '--json'], url);
      const app = await cliJson(['apps', 'create', '--account', accountId!, '--stream', streamId!, '--name', 'Dialer', '--json'], url);
      tenant = { accountId: accountId!, streamId: streamId!, appId: app.appId!, clientId: app.clientId!, clientSecret: app.clientSecret! };
    });
    after(async () => {
      await api?.close();
      await store?.destroy();
    });

    const createContact = async (token: string) =>
      (await api.app.inject({
        method: 'POST',
        url: `/agentassist/api/v1/public/${tenant.streamId}/contacts`,
        headers: { auth: token, accountId: tenant.accountId },
        payload: [contactInput()],
      })).statusCode;

    it('accounts list and streams list show what was made, as lines and as --json', async () => {
      const accounts = await cliJson<{ accountId: string; orgId: string; name: string; createdAt: string }[]>(['accounts', 'list', '--json'], url);
      const acme = accounts.find((a) => a.accountId === tenant.accountId);
      assert.equal(acme?.name, 'Acme');
      assert.match(acme!.orgId, /^o-/);
      assert.ok(!Number.isNaN(Date.parse(acme!.createdAt)));
      const lines = await runCli(['accounts', 'list'], url);
      assert.equal(lines.code, 0, lines.stderr);
      assert.match(lines.stdout, new RegExp(`^${tenant.accountId}  o-\\S+  \\S+Z  Acme$`, 'm'));

      const streams = await cliJson<{ streamId: string; accountId: string; name: string }[]>(['streams', 'list', '--account', tenant.accountId, '--json'], url);
      assert.deepEqual(streams.map((s) => [s.streamId, s.accountId, s.name]), [[tenant.streamId, tenant.accountId, 'Support']]);
      const all = await runCli(['streams', 'list'], url);
      assert.match(all.stdout, new RegExp(`^${tenant.streamId}  ${tenant.accountId}  \\S+Z  Support$`, 'm'));
      assertOneLineFailure(await runCli(['streams', 'list', '--account', '0123456789abcdef01234567'], url), /account 0123456789abcdef01234567 does not exist/);
    });

    it('apps list and apps show describe an app by its id or client id, never with its secret', async () => {
      const apps = await cliJson<Record<string, unknown>[]>(['apps', 'list', '--account', tenant.accountId, '--json'], url);
      assert.equal(apps.length, 1);
      assert.deepEqual(
        { ...apps[0], createdAt: undefined },
        {
          appId: tenant.appId, clientId: tenant.clientId, accountId: tenant.accountId, name: 'Dialer', algorithm: 'HS256',
          scopes: ['Configuration'], enforceJti: false, streamIds: [tenant.streamId], createdAt: undefined, disabledAt: null,
        },
      );
      const byClient = await cliJson(['apps', 'show', tenant.clientId, '--json'], url);
      const byId = await cliJson(['apps', 'show', tenant.appId, '--json'], url);
      assert.deepEqual(byClient, apps[0]);
      assert.deepEqual(byId, apps[0]);
      const text = await runCli(['apps', 'show', tenant.clientId], url);
      assert.match(text.stdout, new RegExp(`^streamIds: ${tenant.streamId}$`, 'm'));
      assert.match(text.stdout, /^disabledAt: null$/m);
      for (const output of [JSON.stringify(apps), JSON.stringify(byId), text.stdout]) assert.ok(!output.includes(tenant.clientSecret), 'a secret was printed');
      assertOneLineFailure(await runCli(['apps', 'show', 'cs-nope'], url), /app cs-nope does not exist/);
    });

    it("apps rotate-secret prints a new secret once; the old secret's tokens are refused at once, the new one's accepted", async () => {
      const oldToken = await signAppToken({ clientId: tenant.clientId, key: tenant.clientSecret });
      assert.equal(await createContact(oldToken), 200);
      const rotated = await cliJson(['apps', 'rotate-secret', tenant.clientId, '--json'], url);
      assert.deepEqual(Object.keys(rotated), ['appId', 'clientId', 'clientSecret']);
      assert.notEqual(rotated.clientSecret, tenant.clientSecret);
      // The same token the app accepted (and cached) a moment ago.
      assert.equal(await createContact(oldToken), 401);
      assert.equal(await createContact(await signAppToken({ clientId: tenant.clientId, key: tenant.clientSecret })), 401);
      assert.equal(await createContact(await signAppToken({ clientId: tenant.clientId, key: rotated.clientSecret! })), 200);
      tenant.clientSecret = rotated.clientSecret!;
    });

    it("apps disable: a token accepted a moment before is refused at once, and the app says it is disabled", async () => {
      const { accountId, streamId } = tenant;
      const other = await cliJson(['apps', 'create', '--account', accountId, '--stream', streamId, '--json'], url);
      const token = await signAppToken({ clientId: tenant.clientId, key: tenant.clientSecret });
      const otherToken = await signAppToken({ clientId: other.clientId!, key: other.clientSecret! });
      assert.equal(await createContact(token), 200);
      const disabled = await cliJson<{ appId: string; disabledAt: string | null }>(['apps', 'disable', tenant.appId, '--json'], url);
      assert.equal(disabled.appId, tenant.appId);
      assert.ok(disabled.disabledAt && !Number.isNaN(Date.parse(disabled.disabledAt)));
      assert.equal(await createContact(token), 401);
      // Another app of the same account goes on working.
      assert.equal(await createContact(otherToken), 200);
      const list = await runCli(['apps', 'list', '--account', accountId], url);
      assert.match(list.stdout, new RegExp(`^${tenant.appId}  ${tenant.clientId}  ${accountId}  HS256  disabled  Dialer$`, 'm'));
      assert.match(list.stdout, new RegExp(`^${other.appId}  ${other.clientId}  ${accountId}  HS256  active  Dialbook app$`, 'm'));
    });

    it('migrate --json and token --json print one JSON object', async () => {
      assert.deepEqual(await cliJson(['migrate', '--json'], url), { applied: [] });
      const { token } = await cliJson(['token', '--client-id', tenant.clientId, '--client-secret', 'x', '--json'], url);
      assert.equal(token!.split('.').length, 3);
    });
  });
}

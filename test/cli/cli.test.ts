import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jwtVerify, SignJWT } from 'jose';
import { signAppToken } from '../../src/auth/token.js';
import type { StoreUrl } from '../../src/config/config.js';
import type { Dialect } from '../../src/db/database.js';
import { buildTestApp, contactInput, type TestApp } from '../helpers/app.js';
import { createEmptyStoreUrl, createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import { freePort } from '../helpers/server-process.js';
import { cliJson, jwtPayload, runCli, startCliServe, type CliResult } from './run-cli.js';

const SETUP_KEYS = ['orgId', 'accountId', 'streamId', 'userId', 'appId', 'clientId', 'clientSecret', 'token'];
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

function databaseUrl(url: StoreUrl): string {
  return url.kind === 'sqlite' ? `sqlite:${url.file}` : url.url;
}

/** A store no migration has touched: a new SQLite path, or a new PostgreSQL database. */
async function emptyStore(dialect: Dialect): Promise<{ url: string; drop(): Promise<void> }> {
  const { url, drop } = await createEmptyStoreUrl(dialect);
  return { url: databaseUrl(url), drop };
}

/** The contract's promise for a failed command: exit code 1, one line on stderr, nothing on stdout. */
function assertOneLineFailure(result: CliResult, message: RegExp): void {
  assert.equal(result.code, 1, `expected exit code 1, got ${result.code}: ${result.stderr}`);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^dialbook: [^\n]+\n$/, `not one line: ${JSON.stringify(result.stderr)}`);
  assert.match(result.stderr, message);
  assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+/, 'a stack trace was printed');
}

for (const dialect of DIALECTS) {
  describe(`the dialbook CLI on ${dialect}`, { skip: await skipReason(dialect), timeout: 180_000 }, () => {
    let store: TestStore;
    let url: string;
    let api: TestApp;
    let keyDir: string;
    let setup: Record<string, string>;

    before(async () => {
      store = await createTestStore(dialect);
      url = databaseUrl(store.url);
      api = await buildTestApp(store.store);
      keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-keys-'));
      setup = await cliJson(['setup', '--json'], url);
    });
    after(async () => {
      await api?.close();
      await store?.destroy();
      if (keyDir) fs.rmSync(keyDir, { recursive: true, force: true });
    });

    /** POST /contacts with this token, as the app in the test process sees it. */
    const createContact = (token: string, accountId: string, streamId: string) =>
      api.app.inject({
        method: 'POST',
        url: `/agentassist/api/v1/public/${streamId}/contacts`,
        headers: { auth: token, accountId },
        payload: [contactInput()],
      });

    /** A new account with one stream, made through the CLI. */
    const newTenant = async () => {
      const { accountId } = await cliJson(['accounts', 'create', '--json'], url);
      const { streamId } = await cliJson(['streams', 'create', '--account', accountId!, '--json'], url);
      return { accountId: accountId!, streamId: streamId! };
    };

    it('setup --json prints the eight identities of the contract, with a token that the API accepts', async () => {
      assert.deepEqual(Object.keys(setup), SETUP_KEYS);
      assert.match(setup.orgId!, new RegExp(`^o-${UUID}$`));
      assert.match(setup.accountId!, /^[0-9a-f]{24}$/);
      assert.match(setup.streamId!, new RegExp(`^st-${UUID}$`));
      assert.match(setup.userId!, new RegExp(`^u-${UUID}$`));
      assert.match(setup.appId!, new RegExp(`^a-${UUID}$`));
      assert.match(setup.clientId!, new RegExp(`^cs-${UUID}$`));
      assert.ok(setup.clientSecret!.length >= 32);
      const res = await createContact(setup.token!, setup.accountId!, setup.streamId!);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json()[0].createdByAId, setup.appId);
      assert.equal(res.json()[0].createdBy, setup.userId);
    });

    it('setup run again prints the same identities', async () => {
      const again = await cliJson(['setup', '--json'], url);
      const { token: _first, ...identities } = setup;
      const { token: second, ...sameIdentities } = again;
      assert.deepEqual(sameIdentities, identities);
      assert.equal(jwtPayload(second!).appId, setup.clientId);
    });

    it('token prints a JWT whose appId claim is the client id, signed HS256 with the client secret', async () => {
      const result = await runCli(['token', '--client-id', setup.clientId!, '--client-secret', setup.clientSecret!], url);
      assert.equal(result.code, 0, result.stderr);
      const token = result.stdout.trim();
      assert.equal(result.stdout, `${token}\n`);
      const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(setup.clientSecret), { algorithms: ['HS256'] });
      assert.equal(protectedHeader.alg, 'HS256');
      assert.equal(payload.appId, setup.clientId);
      assert.equal(typeof payload.iat, 'number');
      assert.equal(typeof payload.jti, 'string');
      assert.equal(payload.exp, undefined);
      assert.equal((await createContact(token, setup.accountId!, setup.streamId!)).statusCode, 200);
    });

    it('token --expires-in adds an exp that many seconds after iat', async () => {
      const result = await runCli(['token', '--client-id', setup.clientId!, '--client-secret', setup.clientSecret!, '--expires-in', '120'], url);
      assert.equal(result.code, 0, result.stderr);
      const payload = jwtPayload(result.stdout.trim());
      assert.equal(Number(payload.exp) - Number(payload.iat), 120);
    });

    it('accounts, streams and apps create print their new identities as one JSON object each', async () => {
      const account = await cliJson(['accounts', 'create', '--name', 'Second', '--json'], url);
      assert.deepEqual(Object.keys(account).sort(), ['accountId', 'orgId']);
      assert.notEqual(account.accountId, setup.accountId);
      const stream = await cliJson(['streams', 'create', '--account', account.accountId!, '--json'], url);
      assert.deepEqual(Object.keys(stream), ['streamId']);
      const app = await cliJson(['apps', 'create', '--account', account.accountId!, '--stream', stream.streamId!, '--json'], url);
      assert.deepEqual(Object.keys(app).sort(), ['appId', 'clientId', 'clientSecret', 'userId']);
      // The default scope is Configuration: the new app may write contacts in its stream.
      const token = await signAppToken({ clientId: app.clientId!, key: app.clientSecret! });
      const res = await createContact(token, account.accountId!, stream.streamId!);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json()[0].createdByAId, app.appId);
    });

    it('without --json, prints one "key: value" line per identity', async () => {
      const result = await runCli(['accounts', 'create'], url);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^orgId: o-\S+\naccountId: [0-9a-f]{24}\n$/);
    });

    it('apps create --scope none makes an app with no scope, whose tokens are refused with 403', async () => {
      const tenant = await newTenant();
      const app = await cliJson(['apps', 'create', '--account', tenant.accountId, '--stream', tenant.streamId, '--scope', 'none', '--json'], url);
      const token = await signAppToken({ clientId: app.clientId!, key: app.clientSecret! });
      const res = await createContact(token, tenant.accountId, tenant.streamId);
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json().errors[0].code, 'SCOPE_REQUIRED');
    });

    it('apps create --alg RS256 --public-key FILE: tokens signed with the private key pass, HS256 ones with the secret do not', async () => {
      const tenant = await newTenant();
      // PKCS#1, as `openssl genrsa` used to write it: the token command converts it for signing.
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const publicFile = path.join(keyDir, `${dialect}-public.pem`);
      const privateFile = path.join(keyDir, `${dialect}-private.pem`);
      fs.writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }));
      fs.writeFileSync(privateFile, privateKey.export({ type: 'pkcs1', format: 'pem' }));
      const app = await cliJson(
        ['apps', 'create', '--account', tenant.accountId, '--stream', tenant.streamId, '--alg', 'RS256', '--public-key', publicFile, '--json'],
        url,
      );
      const signed = await runCli(['token', '--client-id', app.clientId!, '--alg', 'RS256', '--private-key', privateFile], url);
      assert.equal(signed.code, 0, signed.stderr);
      const token = signed.stdout.trim();
      assert.equal(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).alg, 'RS256');
      assert.equal((await createContact(token, tenant.accountId, tenant.streamId)).statusCode, 200);

      // The algorithm is the app's: a token signed HS256 with the client secret is refused.
      const hs = await signAppToken({ clientId: app.clientId!, key: app.clientSecret! });
      const refused = await createContact(hs, tenant.accountId, tenant.streamId);
      assert.equal(refused.statusCode, 401, refused.body);
      assert.equal(refused.json().errors[0].code, 'INVALID_TOKEN');
    });

    it('apps create --enforce-jti: a token is accepted once, refused when replayed, and refused without a jti', async () => {
      const tenant = await newTenant();
      const app = await cliJson(['apps', 'create', '--account', tenant.accountId, '--stream', tenant.streamId, '--enforce-jti', '--json'], url);
      const signed = await runCli(['token', '--client-id', app.clientId!, '--client-secret', app.clientSecret!], url);
      const token = signed.stdout.trim();
      assert.equal((await createContact(token, tenant.accountId, tenant.streamId)).statusCode, 200);
      const replayed = await createContact(token, tenant.accountId, tenant.streamId);
      assert.equal(replayed.statusCode, 401, replayed.body);
      assert.equal(replayed.json().errors[0].code, 'TOKEN_REPLAYED');

      const withoutJti = await new SignJWT({ appId: app.clientId })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .sign(new TextEncoder().encode(app.clientSecret));
      const refused = await createContact(withoutJti, tenant.accountId, tenant.streamId);
      assert.equal(refused.statusCode, 401, refused.body);
      assert.equal(refused.json().errors[0].code, 'JTI_REQUIRED');
    });

    it('migrate applies the schema to an empty store, then says it is up to date', async () => {
      const fresh = await emptyStore(dialect);
      try {
        const first = await runCli(['migrate'], fresh.url);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /^applied: 0001_initial(, \d{4}_\w+)*\n$/);
        const second = await runCli(['migrate'], fresh.url);
        assert.equal(second.code, 0, second.stderr);
        assert.equal(second.stdout, 'already up to date\n');
      } finally {
        await fresh.drop();
      }
    });

    it('bad input exits 1 with a one-line message on stderr and no stack trace', async () => {
      const unknownAccount = '000000000000000000000000';
      const [noAccount, noAccountForApp, foreignStream, keylessRs256, secretless, badExpiry, missingKeyFile, keyWithHs256, missingOption, unknownCommand] =
        await Promise.all([
          runCli(['streams', 'create', '--account', unknownAccount, '--json'], url),
          runCli(['apps', 'create', '--account', unknownAccount, '--stream', setup.streamId!, '--json'], url),
          runCli(['apps', 'create', '--account', setup.accountId!, '--stream', 'st-00000000-0000-0000-0000-000000000000'], url),
          runCli(['apps', 'create', '--account', setup.accountId!, '--stream', setup.streamId!, '--alg', 'RS256'], url),
          runCli(['token', '--client-id', setup.clientId!], url),
          runCli(['token', '--client-id', setup.clientId!, '--client-secret', 'x', '--expires-in', 'soon'], url),
          runCli(['token', '--client-id', setup.clientId!, '--alg', 'RS256', '--private-key', path.join(keyDir, 'missing.pem')], url),
          runCli(['apps', 'create', '--account', setup.accountId!, '--stream', setup.streamId!, '--public-key', '/dev/null'], url),
          runCli(['streams', 'create'], url),
          runCli(['frobnicate'], url),
        ]);
      assertOneLineFailure(noAccount, /account 0{24} does not exist/);
      assertOneLineFailure(noAccountForApp, /account 0{24} does not exist/);
      assertOneLineFailure(foreignStream, /is not a stream of account/);
      assertOneLineFailure(keylessRs256, /RS256 apps need a public key/);
      assertOneLineFailure(secretless, /--client-secret is required/);
      assertOneLineFailure(badExpiry, /--expires-in/);
      assertOneLineFailure(missingKeyFile, /missing\.pem/);
      assertOneLineFailure(keyWithHs256, /--public-key needs --alg RS256 or ES256/);
      assertOneLineFailure(missingOption, /--account/);
      assertOneLineFailure(unknownCommand, /unknown command 'frobnicate'/);
    });

    it('serve listens on PORT and, on SIGTERM, stops with exit code 0', async () => {
      const server = await startCliServe(url, await freePort(), { LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
      try {
        const res = await fetch(`${server.url}/readyz`);
        assert.equal(res.status, 200);
        // The start line names the store in use: the SQLite file's full path, or the PostgreSQL URL.
        const started = server.output().split('\n').map((line) => (line.startsWith('{') ? (JSON.parse(line) as { msg?: string; store?: string }) : {})).find((l) => l.msg?.startsWith('serving on'));
        const expected = store.url.kind === 'sqlite' ? `sqlite:${path.resolve(store.url.file)}` : new URL(store.url.url).toString();
        assert.equal(started?.store, expected, server.output());
        assert.ok(started?.msg?.endsWith(`store ${expected}`), server.output());
        assert.equal(await server.stop(), 0, server.output());
      } finally {
        server.kill();
      }
    });

    // With REDIS_URL set, an open Redis connection once kept the failed process alive.
    it('serve on a port already in use exits 1 with one line, and does not hang on its Redis connection', async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = blocker.address() as net.AddressInfo;
        const env = { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' };
        const result = await runCli(['serve'], url, env);
        assertOneLineFailure(result, /EADDRINUSE/);
      } finally {
        blocker.close();
      }
    });

    it('a DATABASE_URL it cannot use exits 1 with one line', async () => {
      assertOneLineFailure(await runCli(['setup', '--json'], 'mysql://localhost/dialbook'), /DATABASE_URL: unsupported store "mysql"/);
    });
  });
}

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import { cliJson, runCli } from '../cli/run-cli.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { curl } from './curl.js';
import type { SetupIdentities } from '../../src/tenancy/tenancy.service.js';

// The fields of each seed's sample response.
const SEED_000_FIELDS = [
  'status', 'firstName', 'lastName', 'salutation', 'cellPhone', 'createdBy', 'orgId', 'accountId', 'instanceBotId',
  'fullName', 'address', 'twitterDetails', 'createdAt', 'updatedAt', 'id',
];
const SEED_002_FIELDS = [
  'status', 'firstName', 'lastName', 'salutation', 'accountId', 'orgId', 'createdBy', 'cellPhone', 'fullName',
  'address', 'twitterDetails', 'createdAt', 'updatedAt', 'id',
];
const SEED_004_FIELDS = [
  'firstName', 'lastName', 'fullName', 'salutation', 'cellPhone', 'status', 'instanceBotId', 'orgId', 'accountId',
  'createdBy', 'createdByAId', 'address', 'twitterDetails', 'createdAt', 'updatedAt', 'updatedBy', 'updatedByAId', 'id',
];
const CELL_PHONE_FIELDS = ['countryCode', 'extension', 'phoneNumber'];
// The contract's contact: the union of the samples; a created contact has no updatedBy yet.
const CREATED_FIELDS = [...new Set([...SEED_000_FIELDS, ...SEED_002_FIELDS, 'createdByAId'])].sort();
const UPDATED_FIELDS = [...SEED_004_FIELDS].sort();

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** What `dialbook setup --json` prints. */
type Setup = SetupIdentities & { token: string };

/** Every field of the seed's sample is there, and nothing beyond the contract's contact. */
function assertContactFields(contact: Record<string, unknown>, sampleFields: string[], contractFields: string[]): void {
  for (const field of sampleFields) assert.ok(field in contact, `the answer lacks ${field}, which the seed's sample shows`);
  assert.deepEqual(Object.keys(contact).sort(), contractFields);
  assert.deepEqual(Object.keys(contact.cellPhone as object).sort(), CELL_PHONE_FIELDS);
  assert.match(String(contact.id), /^[0-9a-f]{24}$/);
  assert.match(String(contact.createdAt), ISO_MS);
  assert.match(String(contact.updatedAt), ISO_MS);
  assert.deepEqual(contact.address, []);
  assert.deepEqual(contact.twitterDetails, []);
}

describe('the built server answers each seed sample request, sent with curl as the seeds write it', { timeout: 120_000 }, () => {
  let dir: string;
  let dbFile: string;
  let databaseUrl: string;
  let server: ServerProcess;
  let setup: Setup;
  let api: string;
  // Filled by the seed 000 request; seed 004 updates this contact.
  let johnId: string;
  let johnCreatedAt: string;
  let afterUpdate: Record<string, unknown>;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-e2e-'));
    dbFile = path.join(dir, 'dialbook.db');
    databaseUrl = `sqlite:${dbFile}`;
    server = await startServerProcess({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' });
    setup = await cliJson<Setup>(['setup', '--json'], databaseUrl);
    api = `${server.url}/agentassist/api/v1/public`;
  });

  after(async () => {
    // Already stopped by the last test when it ran; a SIGKILL follows if it does not stop in time.
    await server?.stop(5_000);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('seed 000: POST /contacts with `accountId:` written without a space creates the sample contact', async () => {
    const res = await curl([
      '--location', '--request', 'POST',
      `${api}/${setup.streamId}/contacts`,
      '--header', `auth: ${setup.token}`,
      '--header', `accountId:${setup.accountId}`,
      '--header', 'Content-Type: application/json',
      '--data', `[
     {
       "firstName": "John",
       "lastName": "Doe",
       "salutation": "Mr",
       "cellPhone": {
            "phoneNumber": "9876500000",
            "countryCode": "+91",
            "extension": "+"
        }
     }
]`,
    ]);
    assert.equal(res.status, 200, res.body);
    const answer = res.json();
    assert.ok(Array.isArray(answer));
    assert.equal(answer.length, 1);
    const [john] = answer;
    assertContactFields(john, SEED_000_FIELDS, CREATED_FIELDS);
    assert.equal(john.status, 'ACTIVE');
    assert.equal(john.firstName, 'John');
    assert.equal(john.lastName, 'Doe');
    assert.equal(john.salutation, 'Mr');
    assert.equal(john.fullName, 'John Doe');
    assert.deepEqual(john.cellPhone, { phoneNumber: '+919876500000', countryCode: '+91', extension: '+' });
    assert.equal(john.createdBy, setup.userId);
    assert.equal(john.createdByAId, setup.appId);
    assert.equal(john.orgId, setup.orgId);
    assert.equal(john.accountId, setup.accountId);
    assert.equal(john.instanceBotId, setup.streamId);
    assert.equal(john.createdAt, john.updatedAt);
    johnId = john.id;
    johnCreatedAt = john.createdAt;
  });

  const seed001 = (phoneNumber: string) =>
    curl([
      '--location', '--request', 'POST', `${api}/${setup.streamId}/contacts`,
      '--header', `auth: ${setup.token}`,
      '--header', `accountId:${setup.accountId}`,
      '--header', 'Content-Type: application/json',
      '--data', `[
{
"firstName": "John",
"lastName": "Doe",
"salutation": "Mr",
"cellPhone": {
"phoneNumber": "${phoneNumber}",
"countryCode": "+91",
"extension": "+"
}
}
]`,
    ]);

  it('seed 001: the same number again is refused with 409 naming the contact that holds it', async () => {
    const res = await seed001('9876500000');
    assert.equal(res.status, 409, res.body);
    assert.deepEqual(res.json(), {
      errors: [{
        msg: `phoneNumber +919876500000 already belongs to contact ${johnId}`,
        code: 'PHONE_TAKEN',
        field: 'cellPhone.phoneNumber',
        index: 0,
        id: johnId,
      }],
    });
  });

  it('seed 001: the same name with a different number is a new contact', async () => {
    const res = await seed001('9876500001');
    assert.equal(res.status, 200, res.body);
    const [twin] = res.json();
    assertContactFields(twin, SEED_000_FIELDS, CREATED_FIELDS);
    assert.equal(twin.fullName, 'John Doe');
    assert.equal(twin.cellPhone.phoneNumber, '+919876500001');
    assert.notEqual(twin.id, johnId);
  });

  it('seed 002: the import with every printed header, the seed-style token and --form answers the sample array', async () => {
    const file = path.join(dir, 'sample.csv');
    fs.writeFileSync(
      file,
      'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension\n' +
        'john,doe,Mr,9876500002,+91,+\n' +
        'jane,doe,Mrs,1234500002,+91,91\n',
    );
    // The seed's token carries the client id in `name` (no appId, no iat): the same shape, signed with our secret.
    const seedStyleToken = await new SignJWT({ name: setup.clientId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(setup.clientSecret));
    const trace = path.join(dir, 'trace-002.txt');
    const res = await curl([
      '--trace-ascii', trace,
      '--location', '--request', 'POST',
      `${api}/${setup.streamId}/contacts/import-contacts`,
      '--header', 'authority: smartassist.kore.ai',
      '--header', 'accept: application/json, text/plain, */*',
      '--header', 'accept-language: en-GB,en;q=0.6',
      '--header', `accountid: ${setup.accountId}`,
      '--header', 'app-language: en',
      '--header', 'content-type: application/json;charset=UTF-8',
      '--header',
      'cookie: mp_047a11cecb5356a4a4d5b3807d280766_mixpanel=%7B%22distinct_id%22%3A%20%22185c4ee76476b6-06c5d613d9143b-1e462c6d-1fa400-185c4ee764897d%22%2C%22%24device_id%22%3A%20%22185c4ee76476b6-06c5d613d9143b-1e462c6d-1fa400-185c4ee764897d%22%7D; mp_7888bdd5fedfd65f44bb9a3100fa9e80_mixpanel=%7B%22distinct_id%22%3A%20%22185c96da2076ba-0f4b0a432b9049-1e462c6d-1fa400-185c96da208b46%22%2C%22%24device_id%22%3A%20%22185c96da2076ba-0f4b0a432b9049-1e462c6d-1fa400-185c96da208b46%22%7D',
      '--header', 'referer: https://smartassist.kore.ai/desktop/console',
      '--header', 'sec-ch-ua: "Not_A Brand";v="99", "Brave";v="109", "Chromium";v="109"',
      '--header', 'sec-ch-ua-mobile: ?0',
      '--header', 'sec-ch-ua-platform: "Linux"',
      '--header', 'sec-fetch-dest: empty',
      '--header', 'sec-fetch-mode: cors',
      '--header', 'sec-fetch-site: same-origin',
      '--header', 'sec-gpc: 1',
      '--header', 'smartassist: true',
      '--header', 'state: configured',
      '--header', 'user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36',
      '--header', 'x-request-id: ed914d3f-9985-47a5-8ab2-84573c680000',
      '--header', 'x-timezone-offset: -330',
      '--header', `auth: ${seedStyleToken}`,
      '--form', `result_file=@"${file}"`,
    ]);
    // The request is the awkward one the contract promises to accept: a JSON media type with a boundary, and a
    // part labelled `attachment`, not `form-data`.
    // (curl's trace wraps its lines at 64 bytes, so only line starts are matched.)
    const sent = fs.readFileSync(trace, 'utf8');
    assert.match(sent, /Content-Type: application\/json;charset=UTF-8; boundary=/i);
    assert.match(sent, /Content-Disposition: attachment; name="result_file"/);

    assert.equal(res.status, 200, res.body);
    const answer = res.json();
    assert.ok(Array.isArray(answer));
    assert.equal(answer.length, 2);
    const [john, jane] = answer;
    for (const contact of answer) {
      assertContactFields(contact, SEED_002_FIELDS, CREATED_FIELDS);
      assert.equal(contact.status, 'ACTIVE');
      assert.equal(contact.accountId, setup.accountId);
      assert.equal(contact.orgId, setup.orgId);
      assert.equal(contact.createdBy, setup.userId);
      assert.equal(contact.createdByAId, setup.appId);
      assert.equal(contact.instanceBotId, setup.streamId);
    }
    assert.deepEqual(
      [john.firstName, john.lastName, john.salutation, john.fullName, john.cellPhone],
      ['john', 'doe', 'Mr', 'john doe', { phoneNumber: '+919876500002', countryCode: '+91', extension: '+' }],
    );
    assert.deepEqual(
      [jane.firstName, jane.lastName, jane.salutation, jane.fullName, jane.cellPhone],
      ['jane', 'doe', 'Mrs', 'jane doe', { phoneNumber: '+911234500002', countryCode: '+91', extension: '91' }],
    );
    assert.notEqual(john.id, jane.id);
  });

  const seed003 = (file: string) =>
    curl([
      '--location', '--request', 'POST',
      `${api}/${setup.streamId}/contacts/import-contacts`,
      '--header', 'authority: smartassist.kore.ai',
      '--header', 'accept: application/json, text/plain, */*',
      '--header', `accountid: ${setup.accountId}`,
      '--header', 'content-type: application/json;charset=UTF-8',
      '--header', `auth: ${setup.token}`,
      '--form', `result_file=@"${file}"`,
    ]);

  it("seed 003: the shorter import request answers the sample array, and the same file again is refused as duplicates", async () => {
    const file = path.join(dir, 'sample-003.csv');
    fs.writeFileSync(
      file,
      'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension\r\n' +
        'john,doe,Mr,9876500003,+91,+\r\n' +
        'jane,doe,Mrs,1234500003,+91,91\r\n',
    );
    const res = await seed003(file);
    assert.equal(res.status, 200, res.body);
    const created = res.json();
    assert.equal(created.length, 2);
    for (const contact of created) assertContactFields(contact, SEED_002_FIELDS, CREATED_FIELDS);
    assert.deepEqual(created.map((c: { fullName: string }) => c.fullName), ['john doe', 'jane doe']);
    assert.deepEqual(created.map((c: { cellPhone: { phoneNumber: string } }) => c.cellPhone.phoneNumber), ['+919876500003', '+911234500003']);

    const again = await seed003(file);
    assert.equal(again.status, 409, again.body);
    const report = again.json();
    assert.equal(report.totalRequested, 2);
    assert.equal(report.successful, 0);
    assert.equal(report.failed, 2);
    assert.deepEqual(report.successfulRecords, []);
    assert.deepEqual(
      report.failedRecords.map((r: { row: number; errors: { code: string; id: string }[] }) => [r.row, r.errors[0]!.code, r.errors[0]!.id]),
      [[2, 'PHONE_TAKEN', created[0].id], [3, 'PHONE_TAKEN', created[1].id]],
    );
  });

  it('seed 004: PUT replaces the fields sent and answers every field of the sample, updatedBy and updatedByAId included', async () => {
    const res = await curl([
      '--location', '--request', 'PUT', `${api}/${setup.streamId}/contacts/${johnId}`,
      '--header', 'Content-Type: application/json',
      '--header', `accountId: ${setup.accountId}`,
      '--header', `auth: ${setup.token}`,
      '--data', `{
    "firstName": "john",
    "lastName": "doe",
    "salutation": "mr",
    "cellPhone": {
        "phoneNumber": "9550100000",
        "countryCode": "+91",
        "extension": "+"
    }
}
`,
    ]);
    assert.equal(res.status, 200, res.body);
    const john = res.json();
    assertContactFields(john, SEED_004_FIELDS, UPDATED_FIELDS);
    assert.equal(john.id, johnId);
    assert.equal(john.firstName, 'john');
    assert.equal(john.lastName, 'doe');
    assert.equal(john.fullName, 'john doe');
    assert.equal(john.salutation, 'mr');
    assert.deepEqual(john.cellPhone, { phoneNumber: '+919550100000', countryCode: '+91', extension: '+' });
    assert.equal(john.status, 'ACTIVE');
    assert.equal(john.instanceBotId, setup.streamId);
    assert.equal(john.orgId, setup.orgId);
    assert.equal(john.accountId, setup.accountId);
    assert.equal(john.createdBy, setup.userId);
    assert.equal(john.createdByAId, setup.appId);
    assert.equal(john.updatedBy, setup.userId);
    assert.equal(john.updatedByAId, setup.appId);
    assert.equal(john.createdAt, johnCreatedAt);
    assert.ok(Date.parse(john.updatedAt) >= Date.parse(john.createdAt));
    afterUpdate = john;
  });

  describe('a second tenant made with the CLI', () => {
    let other: { accountId: string; streamId: string; token: string };

    before(async () => {
      const account = await cliJson(['accounts', 'create', '--json'], databaseUrl);
      assert.deepEqual(Object.keys(account).sort(), ['accountId', 'orgId']);
      const stream = await cliJson(['streams', 'create', '--account', account.accountId!, '--json'], databaseUrl);
      assert.deepEqual(Object.keys(stream), ['streamId']);
      const app = await cliJson(['apps', 'create', '--account', account.accountId!, '--stream', stream.streamId!, '--json'], databaseUrl);
      assert.deepEqual(Object.keys(app).sort(), ['appId', 'clientId', 'clientSecret', 'userId']);
      const token = await runCli(['token', '--client-id', app.clientId!, '--client-secret', app.clientSecret!], databaseUrl);
      assert.equal(token.code, 0, token.stderr);
      other = { accountId: account.accountId!, streamId: stream.streamId!, token: token.stdout.trim() };
    });

    const contactBody = (phoneNumber: string) =>
      JSON.stringify([{ firstName: 'Eve', lastName: 'Other', salutation: 'Ms', cellPhone: { phoneNumber, countryCode: '+91', extension: '+' } }]);

    it("cannot reach the first tenant's stream: 404", async () => {
      const res = await curl([
        '--request', 'POST', `${api}/${setup.streamId}/contacts`,
        '--header', `auth: ${other.token}`,
        '--header', `accountId: ${other.accountId}`,
        '--header', 'Content-Type: application/json',
        '--data', contactBody('9876500009'),
      ]);
      assert.equal(res.status, 404, res.body);
      assert.equal(res.json().errors[0].code, 'STREAM_NOT_FOUND');
    });

    it("cannot speak for the first tenant's account with its own token: 403", async () => {
      const res = await curl([
        '--request', 'PUT', `${api}/${setup.streamId}/contacts/${johnId}`,
        '--header', `auth: ${other.token}`,
        '--header', `accountId: ${setup.accountId}`,
        '--header', 'Content-Type: application/json',
        '--data', '{"firstName":"Mallory"}',
      ]);
      assert.equal(res.status, 403, res.body);
      assert.equal(res.json().errors[0].code, 'ACCOUNT_MISMATCH');
    });

    it("cannot change the first tenant's contact through its own stream: 404, and the contact is unchanged", async () => {
      const res = await curl([
        '--request', 'PUT', `${api}/${other.streamId}/contacts/${johnId}`,
        '--header', `auth: ${other.token}`,
        '--header', `accountId: ${other.accountId}`,
        '--header', 'Content-Type: application/json',
        '--data', '{"firstName":"Mallory","cellPhone":{"phoneNumber":"9876500010","countryCode":"+91","extension":"1"}}',
      ]);
      assert.equal(res.status, 404, res.body);
      assert.equal(res.json().errors[0].code, 'CONTACT_NOT_FOUND');

      const db = new Database(dbFile, { readonly: true });
      try {
        const row = db
          .prepare('select first_name, phone_number, extension, updated_by_aid, updated_at from contacts where id = ?')
          .get(johnId) as Record<string, unknown>;
        assert.deepEqual(row, {
          first_name: 'john',
          phone_number: '+919550100000',
          extension: '+',
          updated_by_aid: setup.appId,
          updated_at: Date.parse(String(afterUpdate.updatedAt)),
        });
      } finally {
        db.close();
      }
    });

    it("keeps its own numbers apart: the first tenant's number is free in the second tenant's stream", async () => {
      const res = await curl([
        '--request', 'POST', `${api}/${other.streamId}/contacts`,
        '--header', `auth: ${other.token}`,
        '--header', `accountId:${other.accountId}`,
        '--header', 'Content-Type: application/json',
        '--data', contactBody('9550100000'),
      ]);
      assert.equal(res.status, 200, res.body);
      const [eve] = res.json();
      assert.equal(eve.instanceBotId, other.streamId);
      assert.equal(eve.accountId, other.accountId);
      assert.equal(eve.cellPhone.phoneNumber, '+919550100000');
      assert.notEqual(eve.id, johnId);
    });
  });

  it('stops gracefully on SIGTERM: exit code 0, and the log never printed a token or secret', async () => {
    // stop() sends SIGTERM and answers the exit code; null would mean it had to be killed.
    assert.equal(await server.stop(30_000), 0, server.output());
    assert.ok(!server.output().includes(setup.token), 'the log printed a token');
    assert.ok(!server.output().includes(setup.clientSecret), 'the log printed a client secret');
  });
});

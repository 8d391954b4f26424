import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { openWritableStore, StoreStartError } from '../../src/db/store-errors.js';
import { startServer } from '../../src/serve.js';
import { PG_ADMIN_URL, postgresReachable } from '../helpers/stores.js';

/** The start's refusal: one line, naming the setting. */
async function refusal(env: Record<string, string>): Promise<string> {
  const config = loadConfig(env);
  try {
    const store = await openWritableStore(config);
    await store.close();
  } catch (error) {
    assert.ok(error instanceof StoreStartError, String(error));
    assert.ok(!error.message.includes('\n'), error.message);
    return error.message;
  }
  throw new Error('the store opened');
}

const pgUrl = (database: string, port?: number) => {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  if (port) url.port = String(port);
  return url.toString();
};

const pgSkip = (await postgresReachable()) ? false : 'PostgreSQL not reachable';

describe('misconfiguration answered in one clear line', () => {
  it('names DATABASE_URL when PostgreSQL does not answer, the password hidden', async () => {
    const msg = await refusal({ DATABASE_URL: 'postgres://dialbook:hunter2@127.0.0.1:1/contacts' });
    assert.match(msg, /^DATABASE_URL=postgres:\/\/dialbook:\*\*\*@127\.0\.0\.1:1\/contacts: PostgreSQL does not answer at 127\.0\.0\.1:1 \(ECONNREFUSED\); start it/);
    assert.ok(!msg.includes('hunter2'));
  });

  it('gives the createdb command for a database that does not exist', { skip: pgSkip }, async () => {
    const url = new URL(PG_ADMIN_URL);
    const msg = await refusal({ DATABASE_URL: pgUrl('dialbook_no_such_db') });
    assert.match(msg, /database "dialbook_no_such_db" does not exist/);
    assert.ok(msg.includes(`createdb -h ${url.hostname} -p ${url.port || 5432} -U ${url.username || 'postgres'} dialbook_no_such_db`), msg);
  });

  it('says which folder a sqlite: path cannot be made in', async () => {
    const msg = await refusal({ DATABASE_URL: 'sqlite:/etc/passwd/dialbook.db' });
    assert.equal(msg, 'DATABASE_URL=sqlite:/etc/passwd/dialbook.db: the folder /etc/passwd cannot be made, a file is in the way; choose another path for sqlite:');
  });

  it('refuses an unknown LOG_LEVEL, listing the levels', () => {
    assert.throws(() => loadConfig({ LOG_LEVEL: 'verbose' }), /^ConfigError: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/);
  });

  it('takes INSTANCE_ID as given, the host and process id without it, and refuses one with a control character', () => {
    assert.equal(loadConfig({ INSTANCE_ID: ' web-2 ' }).instanceId, 'web-2');
    assert.equal(loadConfig({}).instanceId, `${os.hostname()}:${process.pid}`);
    assert.throws(() => loadConfig({ INSTANCE_ID: 'web\n2' }), /^ConfigError: INSTANCE_ID must be at most 200 printable characters$/);
  });

  it('names PORT when the port is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-port-'));
    try {
      await assert.rejects(
        startServer(loadConfig({ PORT: String(port), DATABASE_URL: `sqlite:${path.join(dir, 'd.db')}`, LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0' })),
        new RegExp(`^ConfigError: PORT=${port}: the port is in use on 127\\.0\\.0\\.1 by another process \\(EADDRINUSE\\); stop it or set PORT to a free port$`),
      );
    } finally {
      blocker.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

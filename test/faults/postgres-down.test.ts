import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseDatabaseUrl } from '../../src/config/config.js';
import { openStore, type Store } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { contactInput, createTenant, type Tenant } from '../helpers/app.js';
import { createPgCluster, pgClusterSkipReason, type PgCluster } from '../helpers/pg-cluster.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

// The server is told to give up on a request after 15 s; an answer later than that (or none) is a hang.
const REQUEST_TIMEOUT_MS = 15_000;

interface Answer {
  status: number;
  body: any;
  retryAfter: string | null;
  /** When the answer arrived (Date.now()) and how long it took. */
  at: number;
  ms: number;
}

// A private cluster, because this test stops and starts PostgreSQL under a running server.
describe('a server whose PostgreSQL goes away and comes back', { skip: pgClusterSkipReason() }, () => {
  let cluster: PgCluster | undefined;
  let server: ServerProcess | undefined;
  let store: Store | undefined;
  let tenant: Tenant;
  /** Ids of every contact the server answered 2xx for. */
  const acknowledged: string[] = [];

  before(async () => {
    cluster = await createPgCluster();
    store = openStore(parseDatabaseUrl(cluster.url), { poolSize: 2 });
    await migrateToLatest(store.db);
    tenant = await createTenant(store);
    server = await startServerProcess({
      DATABASE_URL: cluster.url,
      RATE_LIMIT_PER_MINUTE: '0',
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      PG_POOL_SIZE: '4',
    });
  });
  after(async () => {
    await server?.stop();
    await store?.close().catch(() => {});
    await cluster?.destroy();
  });

  async function call(method: string, path: string, body?: string, type = 'application/json'): Promise<Answer> {
    const started = Date.now();
    let res: Response;
    try {
      res = await fetch(`${server!.url}${path}`, {
        method,
        headers: { ...tenant.headers, ...(body === undefined ? {} : { 'content-type': type }) },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new Error(`${method} ${path} got no answer within ${REQUEST_TIMEOUT_MS} ms: ${String(error)}\n${server!.output()}`);
    }
    const text = await res.text();
    const at = Date.now();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, retryAfter: res.headers.get('retry-after'), at, ms: at - started };
  }

  const createOne = async () => {
    const answer = await call('POST', `${tenant.base}/contacts`, JSON.stringify([contactInput()]));
    if (answer.status >= 200 && answer.status < 300) acknowledged.push(answer.body[0].id);
    return answer;
  };

  function assertUnavailable(answer: Answer, what: string) {
    assert.equal(answer.status, 503, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.errors[0].code, 'STORE_UNAVAILABLE', what);
    assert.equal(typeof answer.body.errors[0].msg, 'string', what);
    assert.ok(Number(answer.retryAfter) > 0, `${what}: Retry-After ${answer.retryAfter}`);
  }

  it('acknowledges writes while PostgreSQL answers', async () => {
    for (let i = 0; i < 5; i += 1) assert.equal((await createOne()).status, 200);
    assert.equal((await call('GET', '/readyz')).status, 200);
  });

  it('answers writes under way and after the stop with 503 in the error shape, never a 500 or a hang', async (t) => {
    // Writers keep going while the cluster is killed, so some requests are inside transactions when it dies.
    let stopping = false;
    const answers: Answer[] = [];
    const lane = async () => {
      while (!stopping || answers.filter((a) => a.status === 503).length < 8) {
        answers.push(await createOne());
      }
    };
    const lanes = [lane(), lane(), lane()];
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stopAt = Date.now();
    let stoppedAt: number;
    try {
      await cluster!.stop('immediate');
    } finally {
      stoppedAt = Date.now();
      stopping = true;
      await Promise.all(lanes);
    }

    const statuses = [...new Set(answers.map((a) => a.status))].sort();
    assert.deepEqual(statuses.filter((s) => s !== 200 && s !== 503), [], `statuses seen: ${statuses}`);
    for (const answer of answers.filter((a) => a.status === 503)) assertUnavailable(answer, 'a write during the outage');
    const first503 = answers.filter((a) => a.status === 503).sort((a, b) => a.at - b.at)[0]!;
    t.diagnostic(`pg_ctl stop -m immediate took ${stoppedAt - stopAt} ms; first 503 came ${first503.at - stopAt} ms after the stop began`);
    t.diagnostic(`slowest answer during the outage: ${Math.max(...answers.map((a) => a.ms))} ms; ${answers.length} writes, ${acknowledged.length} acknowledged so far`);

    // Once it is down, every kind of request fails the same way.
    const contactId = acknowledged[0]!;
    const csv = `firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension\nJohn,Doe,Mr,${contactInput().cellPhone.phoneNumber},+91,+\n`;
    for (const [method, path, body, type] of [
      ['POST', `${tenant.base}/contacts`, JSON.stringify([contactInput()]), 'application/json'],
      ['PUT', `${tenant.base}/contacts/${contactId}`, JSON.stringify({ firstName: 'Jane' }), 'application/json'],
      ['POST', `${tenant.base}/contacts/import-contacts`, csv, 'text/csv'],
    ] as const) {
      const answer = await call(method, path, body, type);
      assertUnavailable(answer, `${method} ${path}`);
      t.diagnostic(`${method} ${path.replace(tenant.base, '')} while down: 503 in ${answer.ms} ms`);
    }
    assert.ok(server!.alive(), `the server process died:\n${server!.output()}`);
  });

  it('reports not ready on /readyz while staying alive on /healthz', async () => {
    const ready = await call('GET', '/readyz');
    assertUnavailable(ready, 'GET /readyz');
    // Liveness must not follow the store, or an orchestrator would restart every instance during an outage.
    assert.equal((await call('GET', '/healthz')).status, 200);
  });

  it('recovers by itself once PostgreSQL is back, without a restart', async (t) => {
    const pid = server!.pid;
    const startAt = Date.now();
    await cluster!.start();
    let ready: Answer | undefined;
    while (Date.now() - startAt < 60_000) {
      ready = await call('GET', '/readyz');
      if (ready.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(ready?.status, 200, `still not ready a minute after the restart: ${JSON.stringify(ready?.body)}`);
    t.diagnostic(`ready again ${Date.now() - startAt} ms after pg_ctl start began`);
    for (let i = 0; i < 3; i += 1) assert.equal((await createOne()).status, 200);
    assert.ok(server!.alive());
    assert.equal(server!.pid, pid);
  });

  it('still holds every contact it acknowledged before and during the outage', async () => {
    const ids = [...new Set(acknowledged)];
    assert.equal(ids.length, acknowledged.length, 'an id was acknowledged twice');
    const rows = await store!.db.selectFrom('contacts').select('id').where('id', 'in', ids).execute();
    assert.equal(rows.length, ids.length, `missing: ${ids.filter((id) => !rows.some((r) => r.id === id)).join(', ')}`);
    // A 503 may hide a commit the caller never saw, so the stream may hold more, never fewer.
    const inStream = await store!.db.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('n')).where('stream_id', '=', tenant.streamId).executeTakeFirstOrThrow();
    assert.ok(Number(inStream.n) >= ids.length, `the stream holds ${inStream.n}, ${ids.length} were acknowledged`);
  });
});

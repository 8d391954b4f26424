import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTransact } from '../../src/db/group-commit.js';
import { isUniqueViolation } from '../../src/db/errors.js';
import { createTenant, uniquePhone, type Tenant } from '../helpers/app.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';

const REQUESTS = 50;

for (const dialect of DIALECTS) {
  describe(`concurrent writes committed together, across kill -9, on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let server: ServerProcess | undefined;
    let tenant: Tenant;

    before(async () => {
      store = await createTestStore(dialect);
      tenant = await createTenant(store.store);
      const databaseUrl = store.url.kind === 'sqlite' ? `sqlite:${store.url.file}` : store.url.url;
      server = await startServerProcess({ DATABASE_URL: databaseUrl, RATE_LIMIT_PER_MINUTE: '0', PG_POOL_SIZE: '10' });
    });
    after(async () => {
      await server?.kill();
      await store?.destroy();
    });

    it('answers 50 concurrent creates, some on one number, with one 2xx per number, and keeps every 2xx through kill -9 straight after its answer', async () => {
      // Ten numbers asked for by three requests each, twenty asked for once.
      const shared = Array.from({ length: 10 }, () => uniquePhone());
      const phones = [...shared, ...shared, ...shared, ...Array.from({ length: REQUESTS - 30 }, () => uniquePhone())];
      const answers = await Promise.all(
        phones.map(async (phone, i) => {
          const res = await fetch(`${server!.url}${tenant.base}/contacts`, {
            method: 'POST',
            headers: { ...tenant.headers, 'content-type': 'application/json' },
            body: JSON.stringify([{ firstName: 'Group', lastName: `Commit${i}`, salutation: 'Mx', cellPhone: { phoneNumber: phone, countryCode: '+91', extension: '+' } }]),
          });
          return { phone, status: res.status, body: (await res.json()) as { id: string }[] | { errors: { code: string; id?: string }[] } };
        }),
      );
      // No shutdown of any kind: whatever was answered 2xx must already be on disk.
      await server!.kill();
      server = undefined;

      for (const a of answers) assert.ok(a.status === 200 || a.status === 409, `${a.status} ${JSON.stringify(a.body)}`);
      const winners = new Map<string, string>();
      for (const a of answers.filter((x) => x.status === 200)) {
        assert.ok(!winners.has(a.phone), `two 2xx for ${a.phone}`);
        winners.set(a.phone, (a.body as { id: string }[])[0]!.id);
      }
      // Exactly one 2xx per number; every refusal names the winner.
      assert.equal(winners.size, 30);
      for (const a of answers.filter((x) => x.status === 409)) {
        const [error] = (a.body as { errors: { code: string; id?: string }[] }).errors;
        assert.equal(error!.code, 'PHONE_TAKEN');
        assert.equal(error!.id, winners.get(a.phone));
      }

      const rows = await store.store.db
        .selectFrom('contacts')
        .select(['id', 'phone_number', 'status'])
        .where('stream_id', '=', tenant.streamId)
        .execute();
      assert.equal(rows.length, 30);
      for (const [phone, id] of winners) {
        const row = rows.find((r) => r.id === id);
        assert.ok(row, `contact ${id} answered 200 is not in the store`);
        assert.equal(row.phone_number, `+91${phone}`);
        assert.equal(row.status, 'ACTIVE');
      }
      // And the stream's count took exactly those.
      const counts = await store.store.db
        .selectFrom('stream_counts')
        .select((eb) => eb.fn.sum<number | string>('active').as('a'))
        .where('stream_id', '=', tenant.streamId)
        .executeTakeFirstOrThrow();
      assert.equal(Number(counts.a), 30);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`write transactions on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    before(async () => {
      store = await createTestStore(dialect);
      await sql`create table gc_probe (k text primary key)`.execute(store.store.db);
    });
    after(async () => store?.destroy());

    it('commits writes that arrive together, and a write that fails rolls back alone', async () => {
      const batches: number[] = [];
      const transact = createTransact(store.store, { onBatch: (n) => batches.push(n) });
      const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
      const outcomes = await Promise.allSettled(
        keys.map((k, i) =>
          transact(async (trx) => {
            await sql`insert into gc_probe (k) values (${k})`.execute(trx);
            // One write fails after writing (its row must go), one breaks the primary key (its row must go too).
            if (i === 3) throw new Error('refused after writing');
            if (i === 5) await sql`insert into gc_probe (k) values (${'k0'})`.execute(trx);
            return k;
          }),
        ),
      );
      assert.equal(outcomes[3]!.status, 'rejected');
      assert.equal(outcomes[5]!.status, 'rejected');
      assert.ok(isUniqueViolation((outcomes[5] as PromiseRejectedResult).reason));
      const kept = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      assert.deepEqual(kept, keys.filter((_, i) => i !== 3 && i !== 5));
      const { rows } = await sql<{ k: string }>`select k from gc_probe order by k`.execute(store.store.db);
      assert.deepEqual(rows.map((r) => r.k), [...kept].sort());
      // SQLite: all twenty arrived together and went into one transaction; PostgreSQL runs each in its own.
      if (dialect === 'sqlite') assert.deepEqual(batches, [20]);
      else assert.deepEqual(batches, []);
    });
  });
}

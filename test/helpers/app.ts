import { after, before } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createMemoryRateLimiter } from '../../src/auth/rate-limiter.js';
import { createMemoryReplayCache } from '../../src/auth/replay-cache.js';
import { signAppToken } from '../../src/auth/token.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { Dialect, Store } from '../../src/db/database.js';
import { createTestStore, type TestStore } from './stores.js';
import { createTenancyService, type NewAppOptions, type SetupIdentities } from '../../src/tenancy/tenancy.service.js';

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  close(): Promise<void>;
}

/** The application over a test store, configured as from these environment variables. */
export async function buildTestApp(store: Store, env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({ RATE_LIMIT_PER_MINUTE: '0', ...env });
  const rateLimiter = config.rateLimitPerMinute > 0 ? createMemoryRateLimiter(config.rateLimitPerMinute) : undefined;
  const replayCache = createMemoryReplayCache();
  const app = await buildApp({ config, store, shared: { rateLimiter, replayCache } });
  return {
    app,
    config,
    async close() {
      await app.close();
      await rateLimiter?.close();
      await replayCache.close();
    },
  };
}

/** The identities `setup` makes, for a tenant of its own, with a token and ready headers. */
export interface Tenant extends SetupIdentities {
  token: string;
  /** `auth` and `accountId` headers for this tenant's app. */
  headers: Record<string, string>;
  /** `/agentassist/api/v1/public/{streamId}` */
  base: string;
}

/** A new organisation, account, stream and app (Configuration scope unless told otherwise). */
export async function createTenant(store: Store, app: Partial<Omit<NewAppOptions, 'accountId' | 'streamIds'>> = {}): Promise<Tenant> {
  const tenancy = createTenancyService({ db: store.db });
  const { orgId, accountId } = await tenancy.createAccount('Test account');
  const { streamId } = await tenancy.createStream(accountId, 'Test stream');
  const created = await tenancy.createApp({ accountId, streamIds: [streamId], ...app });
  const token = await signAppToken({ clientId: created.clientId, key: created.clientSecret });
  return {
    orgId,
    accountId,
    streamId,
    ...created,
    token,
    headers: { auth: token, accountId },
    base: `/agentassist/api/v1/public/${streamId}`,
  };
}

let serial = 0;

/** A valid Indian mobile number, different on every call. */
export function uniquePhone(): string {
  serial += 1;
  const n = (process.pid % 1000) * 100_000 + (serial % 100_000);
  return `9${String(n).padStart(9, '0')}`;
}

/** A valid contact as the seeds send it, with a fresh number. */
export function contactInput(overrides: Record<string, unknown> = {}) {
  return {
    firstName: 'John',
    lastName: 'Doe',
    salutation: 'Mr',
    cellPhone: { phoneNumber: uniquePhone(), countryCode: '+91', extension: '+' },
    ...overrides,
  };
}

export interface ApiFixture {
  store: TestStore;
  api: TestApp;
  tenant: Tenant;
}

/**
 * Inside a `describe`: a fresh store of the dialect, the app over it and one tenant, made before the suite's
 * tests and removed after them. Read the fields inside tests and hooks, once `before` has run.
 */
export function useApiFixture(dialect: Dialect, env: Record<string, string> = {}): ApiFixture {
  const fixture = {} as ApiFixture;
  before(async () => {
    fixture.store = await createTestStore(dialect);
    fixture.api = await buildTestApp(fixture.store.store, env);
    fixture.tenant = await createTenant(fixture.store.store);
  });
  after(async () => {
    await fixture.api?.close();
    await fixture.store?.destroy();
  });
  return fixture;
}

import type { Kysely } from 'kysely';
import { createPublicKey } from 'node:crypto';
import type { Database } from '../db/schema.js';
import { newAppId, newClientId, newClientSecret, newObjectId, newOrgId, newStreamId, newUserId } from '../shared/ids.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { CONFIGURATION_SCOPE, SUPPORTED_ALGORITHMS, type Algorithm } from './app-credentials.js';
import { createTenancyRepository, type AccountSummary, type AppSummary, type StreamSummary } from './tenancy.repository.js';

const SETUP_KEY = 'setup';

export interface SetupIdentities {
  orgId: string;
  accountId: string;
  streamId: string;
  userId: string;
  appId: string;
  clientId: string;
  clientSecret: string;
}

export interface NewAppOptions {
  accountId: string;
  streamIds: string[];
  /** Defaults to `Configuration`; an empty list makes an app with no scope. */
  scopes?: string[];
  algorithm?: Algorithm;
  publicKeyPem?: string;
  enforceJti?: boolean;
  name?: string;
}

export interface CreatedApp {
  appId: string;
  clientId: string;
  clientSecret: string;
  userId: string;
}

export interface StreamTenant {
  streamId: string;
  accountId: string;
  orgId: string;
  /** The account's first user, or null for an account that has no app (and so no user) yet. */
  ownerUserId: string | null;
}

/** Creates the tenants and credentials that requests are checked against. */
export function createTenancyService(deps: { db: Kysely<Database>; now?: () => number }) {
  const { db } = deps;
  const now = deps.now ?? Date.now;

  async function createAccount(name = 'Default account'): Promise<{ orgId: string; accountId: string }> {
    return db.transaction().execute(async (trx) => {
      const repo = createTenancyRepository(trx);
      const orgId = newOrgId();
      const accountId = newObjectId();
      await repo.insertOrganisation(orgId, name, now());
      await repo.insertAccount(accountId, orgId, name, now());
      return { orgId, accountId };
    });
  }

  async function createStream(accountId: string, name = 'Default stream'): Promise<{ streamId: string }> {
    const repo = createTenancyRepository(db);
    if (!(await repo.findAccount(accountId))) throw accountNotFound(accountId);
    const streamId = newStreamId();
    await repo.insertStream(accountId, streamId, name, now());
    return { streamId };
  }

  async function createApp(options: NewAppOptions): Promise<CreatedApp> {
    const algorithm = options.algorithm ?? 'HS256';
    if (!SUPPORTED_ALGORITHMS.includes(algorithm)) {
      throw new ValidationError({ msg: `algorithm must be one of ${SUPPORTED_ALGORITHMS.join(', ')}`, code: 'INVALID_ALGORITHM' });
    }
    const publicKey = options.publicKeyPem ?? null;
    if (algorithm !== 'HS256') checkPublicKey(algorithm, publicKey);
    return db.transaction().execute(async (trx) => {
      const repo = createTenancyRepository(trx);
      if (!(await repo.findAccount(options.accountId))) throw accountNotFound(options.accountId);
      const streamIds = [...new Set(options.streamIds)];
      const found = await repo.listStreamIds(options.accountId, streamIds);
      const missing = streamIds.filter((id) => !found.includes(id));
      if (missing.length > 0) {
        throw new NotFoundError({ msg: `stream ${missing.join(', ')} is not a stream of account ${options.accountId}`, code: 'STREAM_NOT_FOUND' });
      }
      const userId = newUserId();
      const app = {
        id: newAppId(),
        clientId: newClientId(),
        clientSecret: newClientSecret(),
        accountId: options.accountId,
        userId,
        name: options.name ?? 'Dialbook app',
        algorithm,
        publicKey,
        scopes: options.scopes ?? [CONFIGURATION_SCOPE],
        enforceJti: options.enforceJti ?? false,
        streamIds,
      };
      await repo.insertUser(options.accountId, userId, `${app.name} owner`, now());
      await repo.insertApp(app, now());
      return { appId: app.id, clientId: app.clientId, clientSecret: app.clientSecret, userId };
    });
  }

  /** A stream's account and organisation, and its account's owner (first user) when there is one. */
  async function findStream(streamId: string): Promise<StreamTenant> {
    const repo = createTenancyRepository(db);
    const stream = await repo.findStream(streamId);
    if (!stream) throw new NotFoundError({ msg: `stream ${streamId} does not exist`, code: 'STREAM_NOT_FOUND' });
    const ownerUserId = (await repo.findFirstUserId(stream.accountId)) ?? null;
    return { streamId: stream.id, accountId: stream.accountId, orgId: stream.orgId, ownerUserId };
  }

  /** The first organisation, account, stream, user and app, made once; later calls return the same ones. */
  async function setup(): Promise<SetupIdentities> {
    const existing = await readSetup();
    if (existing) return existing;
    const { orgId, accountId } = await createAccount();
    const { streamId } = await createStream(accountId);
    const app = await createApp({ accountId, streamIds: [streamId], name: 'Setup app' });
    const identities: SetupIdentities = { orgId, accountId, streamId, ...app };
    try {
      await createTenancyRepository(db).putSetting(SETUP_KEY, JSON.stringify(identities));
      return identities;
    } catch (error) {
      // Another process ran setup at the same moment and won; its identities are the ones to keep.
      const winner = await readSetup();
      if (winner) return winner;
      throw error;
    }
  }

  async function readSetup(): Promise<SetupIdentities | undefined> {
    const value = await createTenancyRepository(db).getSetting(SETUP_KEY);
    return value ? (JSON.parse(value) as SetupIdentities) : undefined;
  }

  async function listAccounts(): Promise<AccountSummary[]> {
    return createTenancyRepository(db).listAccounts();
  }

  async function listStreams(accountId?: string): Promise<StreamSummary[]> {
    const repo = createTenancyRepository(db);
    if (accountId !== undefined && !(await repo.findAccount(accountId))) throw accountNotFound(accountId);
    return repo.listStreams(accountId);
  }

  async function listApps(accountId?: string): Promise<AppSummary[]> {
    const repo = createTenancyRepository(db);
    if (accountId !== undefined && !(await repo.findAccount(accountId))) throw accountNotFound(accountId);
    return repo.listApps({ accountId });
  }

  /** One app, named by its id (`a-…`) or client id (`cs-…`). */
  async function showApp(app: string): Promise<AppSummary> {
    const [found] = await createTenancyRepository(db).listApps({ app });
    if (!found) throw appNotFound(app);
    return found;
  }

  /**
   * Replaces an app's credentials: a new client secret for an HS256 app (returned, shown this once), a new public key
   * for an RS256/ES256 one. Tokens signed with the old ones are refused from the next request on.
   */
  async function rotateSecret(app: string, options: { publicKeyPem?: string } = {}): Promise<{ appId: string; clientId: string; clientSecret?: string }> {
    const found = await showApp(app);
    const repo = createTenancyRepository(db);
    const algorithm = found.algorithm as Algorithm;
    if (algorithm === 'HS256') {
      if (options.publicKeyPem !== undefined) {
        throw new ValidationError({ msg: 'an HS256 app is checked with its secret; a public key would never be used', code: 'INVALID_PUBLIC_KEY' });
      }
      const clientSecret = newClientSecret();
      await repo.replaceCredentials(found.appId, { clientSecret, publicKey: null });
      return { appId: found.appId, clientId: found.clientId, clientSecret };
    }
    const publicKey = options.publicKeyPem ?? null;
    checkPublicKey(algorithm, publicKey);
    await repo.replaceCredentials(found.appId, { clientSecret: newClientSecret(), publicKey });
    return { appId: found.appId, clientId: found.clientId };
  }

  /** Turns an app off: its tokens are refused from the next request on, on every instance. */
  async function disableApp(app: string): Promise<AppSummary> {
    const found = await showApp(app);
    await createTenancyRepository(db).disableApp(found.appId, now());
    return showApp(found.appId);
  }

  return { createAccount, createStream, createApp, setup, findStream, listAccounts, listStreams, listApps, showApp, rotateSecret, disableApp };
}

export type TenancyService = ReturnType<typeof createTenancyService>;

function accountNotFound(accountId: string): NotFoundError {
  return new NotFoundError({ msg: `account ${accountId} does not exist`, code: 'ACCOUNT_NOT_FOUND' });
}

function appNotFound(app: string): NotFoundError {
  return new NotFoundError({ msg: `app ${app} does not exist`, code: 'APP_NOT_FOUND' });
}

function checkPublicKey(algorithm: Algorithm, pem: string | null): void {
  if (!pem) throw new ValidationError({ msg: `${algorithm} apps need a public key (PEM)`, code: 'PUBLIC_KEY_REQUIRED' });
  let type: string | undefined;
  try {
    type = createPublicKey(pem).asymmetricKeyType;
  } catch {
    throw new ValidationError({ msg: 'the public key is not a PEM public key', code: 'INVALID_PUBLIC_KEY' });
  }
  const expected = algorithm === 'RS256' ? 'rsa' : 'ec';
  if (type !== expected) {
    throw new ValidationError({ msg: `${algorithm} needs an ${expected.toUpperCase()} public key, got ${type}`, code: 'INVALID_PUBLIC_KEY' });
  }
}

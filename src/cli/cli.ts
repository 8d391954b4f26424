import fs from 'node:fs';
import { Command, Option } from 'commander';
import { signAppToken, SUPPORTED_ALGORITHMS, type Algorithm } from '../auth/token.js';
import type { Config } from '../config/config.js';
import { openStore } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { startServer } from '../serve.js';
import { createTenancyService, type TenancyService } from '../tenancy/tenancy.service.js';

/** Runs a command against the store named by DATABASE_URL, schema brought up to date first. */
async function withTenancy<T>(config: Config, fn: (tenancy: TenancyService) => Promise<T>): Promise<T> {
  const store = openStore(config.database, { poolSize: 2 });
  try {
    await migrateToLatest(store.db);
    return await fn(createTenancyService({ db: store.db }));
  } finally {
    await store.close();
  }
}

function print(result: Record<string, unknown>, json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else for (const [key, value] of Object.entries(result)) process.stdout.write(`${key}: ${String(value)}\n`);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function buildCli(config: () => Config): Command {
  const program = new Command('dialbook')
    .description('Dialbook: a self-hosted contact directory that speaks the SmartAssist / AgentAssist Contacts API')
    .showHelpAfterError();

  program
    .command('serve')
    .description('serve the API on PORT (what `npm start` runs)')
    .action(async () => {
      const server = await startServer(config());
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => void server.stop().then(() => process.exit(0)));
      }
    });

  program
    .command('migrate')
    .description('bring the store named by DATABASE_URL up to date')
    .action(async () => {
      const store = openStore(config().database, { poolSize: 1 });
      try {
        const result = await migrateToLatest(store.db);
        const applied = (result.results ?? []).map((r) => r.migrationName);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
      } finally {
        await store.close();
      }
    });

  program
    .command('setup')
    .description('create, once, an organisation, account, stream, user and app; print them with a ready token')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const ids = await withTenancy(config(), (t) => t.setup());
      const token = await signAppToken({ clientId: ids.clientId, key: ids.clientSecret });
      print({ ...ids, token }, opts.json);
    });

  program
    .command('token')
    .description("print a JWT for an app, the way the vendor's JWT tool makes one")
    .requiredOption('--client-id <id>', 'the app client id (cs-…)')
    .option('--client-secret <secret>', 'the app client secret (HS256)')
    .option('--private-key <file>', 'PEM private key (RS256 / ES256)')
    .addOption(new Option('--alg <alg>', 'signing algorithm').choices([...SUPPORTED_ALGORITHMS]).default('HS256'))
    .option('--expires-in <seconds>', 'add an exp claim this many seconds ahead', (v) => Number.parseInt(v, 10))
    .action(async (opts: { clientId: string; clientSecret?: string; privateKey?: string; alg: Algorithm; expiresIn?: number }) => {
      const key = opts.alg === 'HS256' ? opts.clientSecret : opts.privateKey && fs.readFileSync(opts.privateKey, 'utf8');
      if (!key) throw new UsageError(opts.alg === 'HS256' ? '--client-secret is required for HS256' : `--private-key is required for ${opts.alg}`);
      const token = await signAppToken({ clientId: opts.clientId, key, algorithm: opts.alg, expiresInSeconds: opts.expiresIn });
      process.stdout.write(`${token}\n`);
    });

  const accounts = program.command('accounts').description('accounts (each with its organisation)');
  accounts
    .command('create')
    .option('--name <name>', 'account name')
    .option('--json', 'print one JSON object')
    .action(async (opts: { name?: string; json?: boolean }) => {
      print(await withTenancy(config(), (t) => t.createAccount(opts.name)), opts.json);
    });

  const streams = program.command('streams').description('streams (bot instances) of an account');
  streams
    .command('create')
    .requiredOption('--account <id>', 'account id')
    .option('--name <name>', 'stream name')
    .option('--json', 'print one JSON object')
    .action(async (opts: { account: string; name?: string; json?: boolean }) => {
      print(await withTenancy(config(), (t) => t.createStream(opts.account, opts.name)), opts.json);
    });

  const apps = program.command('apps').description('apps: the JWT clients that call the API');
  apps
    .command('create')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--stream <id>', 'a stream the app may reach (repeatable)', collect)
    .option('--scope <scope>', 'a scope (repeatable; default Configuration; "none" for no scope)', collect)
    .addOption(new Option('--alg <alg>', 'signing algorithm').choices([...SUPPORTED_ALGORITHMS]).default('HS256'))
    .option('--public-key <file>', 'PEM public key (RS256 / ES256)')
    .option('--enforce-jti', 'refuse tokens without a jti, and a jti seen before')
    .option('--name <name>', 'app name')
    .option('--json', 'print one JSON object')
    .action(async (opts: { account: string; stream: string[]; scope?: string[]; alg: Algorithm; publicKey?: string; enforceJti?: boolean; name?: string; json?: boolean }) => {
      const scopes = opts.scope?.filter((s) => s.toLowerCase() !== 'none');
      const created = await withTenancy(config(), (t) =>
        t.createApp({
          accountId: opts.account,
          streamIds: opts.stream,
          scopes,
          algorithm: opts.alg,
          publicKeyPem: opts.publicKey ? fs.readFileSync(opts.publicKey, 'utf8') : undefined,
          enforceJti: opts.enforceJti ?? false,
          name: opts.name,
        }),
      );
      print({ ...created }, opts.json);
    });

  return program;
}

export class UsageError extends Error {}

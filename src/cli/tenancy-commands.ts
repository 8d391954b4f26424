import fs from 'node:fs';
import { type Command, Option } from 'commander';
import type { Config } from '../config/config.js';
import { SUPPORTED_ALGORITHMS, type Algorithm } from '../tenancy/app-credentials.js';
import type { AppSummary } from '../tenancy/tenancy.repository.js';
import { createTenancyService, type TenancyService } from '../tenancy/tenancy.service.js';
import { UsageError } from './errors.js';
import { print, printList, withStore } from './output.js';

/** Runs a command with the tenancy service over the store named by DATABASE_URL. */
export function withTenancy<T>(config: Config, fn: (tenancy: TenancyService) => Promise<T>): Promise<T> {
  return withStore(config, (db) => fn(createTenancyService({ db })));
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function readPublicKey(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
}

const appLine = (a: AppSummary) => [
  a.appId,
  a.clientId,
  a.accountId,
  a.algorithm,
  a.disabledAt ? 'disabled' : 'active',
  a.name,
];

/**
 * `dialbook accounts|streams|apps …`: the tenants and the credentials requests are checked against. Secrets are
 * printed only when made (`apps create`, `apps rotate-secret`); nothing lists them again.
 */
export function registerTenancyCommands(program: Command, config: () => Config): void {
  const accounts = program.command('accounts').description('accounts (each with its organisation)');
  accounts
    .command('create')
    .description('an account and its organisation')
    .option('--name <name>', 'account name')
    .option('--json', 'print {orgId, accountId} as one JSON object')
    .action(async (opts: { name?: string; json?: boolean }) => {
      print(await withTenancy(config(), (t) => t.createAccount(opts.name)), opts.json);
    });
  accounts
    .command('list')
    .description('every account: id, organisation, created, name')
    .option('--json', 'print one JSON array')
    .action(async (opts: { json?: boolean }) => {
      printList(await withTenancy(config(), (t) => t.listAccounts()), opts.json, (a) => [
        a.accountId,
        a.orgId,
        a.createdAt,
        a.name,
      ]);
    });

  const streams = program.command('streams').description('streams (bot instances) of an account');
  streams
    .command('create')
    .description('a stream of an account; apps reach the streams they are given')
    .requiredOption('--account <id>', 'account id')
    .option('--name <name>', 'stream name')
    .option('--json', 'print {streamId} as one JSON object')
    .action(async (opts: { account: string; name?: string; json?: boolean }) => {
      print(await withTenancy(config(), (t) => t.createStream(opts.account, opts.name)), opts.json);
    });
  streams
    .command('list')
    .description('the streams of an account, or of every account: id, account, created, name')
    .option('--account <id>', 'only this account')
    .option('--json', 'print one JSON array')
    .action(async (opts: { account?: string; json?: boolean }) => {
      printList(await withTenancy(config(), (t) => t.listStreams(opts.account)), opts.json, (s) => [
        s.streamId,
        s.accountId,
        s.createdAt,
        s.name,
      ]);
    });

  const apps = program.command('apps').description('apps: the JWT clients that call the API');
  apps
    .command('create')
    .description('an app that may reach the given streams; prints its client secret, shown only this once')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--stream <id>', 'a stream the app may reach (repeatable)', collect)
    .option('--scope <scope>', 'a scope (repeatable; default Configuration; "none" for no scope)', collect)
    .addOption(new Option('--alg <alg>', 'signing algorithm').choices([...SUPPORTED_ALGORITHMS]).default('HS256'))
    .option('--public-key <file>', 'PEM public key (RS256 / ES256)')
    .option('--enforce-jti', 'refuse tokens without a jti, and a jti seen before')
    .option('--name <name>', 'app name')
    .option('--json', 'print {appId, clientId, clientSecret, userId} as one JSON object')
    .action(
      async (opts: {
        account: string;
        stream: string[];
        scope?: string[];
        alg: Algorithm;
        publicKey?: string;
        enforceJti?: boolean;
        name?: string;
        json?: boolean;
      }) => {
        // An HS256 app is checked with its secret; a key given with it would be stored and silently never used.
        if (opts.alg === 'HS256' && opts.publicKey) throw new UsageError('--public-key needs --alg RS256 or ES256');
        const scopes = opts.scope?.filter((s) => s.toLowerCase() !== 'none');
        const created = await withTenancy(config(), (t) =>
          t.createApp({
            accountId: opts.account,
            streamIds: opts.stream,
            scopes,
            algorithm: opts.alg,
            publicKeyPem: opts.publicKey ? readPublicKey(opts.publicKey) : undefined,
            enforceJti: opts.enforceJti ?? false,
            name: opts.name,
          }),
        );
        print({ ...created }, opts.json);
      },
    );
  apps
    .command('list')
    .description('the apps of an account, or of every account: id, client id, account, algorithm, state, name')
    .option('--account <id>', 'only this account')
    .option('--json', 'print one JSON array (without secrets)')
    .action(async (opts: { account?: string; json?: boolean }) => {
      printList(await withTenancy(config(), (t) => t.listApps(opts.account)), opts.json, appLine);
    });
  apps
    .command('show')
    .description('one app, named by its id (a-…) or client id (cs-…): its streams, scopes and state (never its secret)')
    .argument('<app>', 'app id or client id')
    .option('--json', 'print one JSON object')
    .action(async (app: string, opts: { json?: boolean }) => {
      print({ ...(await withTenancy(config(), (t) => t.showApp(app))) }, opts.json);
    });
  apps
    .command('rotate-secret')
    .description(
      "a new client secret (HS256, printed once) or public key (RS256 / ES256); the old one's tokens are refused at once",
    )
    .argument('<app>', 'app id or client id')
    .option('--public-key <file>', 'the new PEM public key of an RS256 / ES256 app')
    .option('--json', 'print {appId, clientId, clientSecret} as one JSON object')
    .action(async (app: string, opts: { publicKey?: string; json?: boolean }) => {
      const publicKeyPem = opts.publicKey ? readPublicKey(opts.publicKey) : undefined;
      print({ ...(await withTenancy(config(), (t) => t.rotateSecret(app, { publicKeyPem }))) }, opts.json);
    });
  apps
    .command('disable')
    .description('turn an app off: its tokens are refused from the next request on, on every instance')
    .argument('<app>', 'app id or client id')
    .option('--json', 'print the app as one JSON object')
    .action(async (app: string, opts: { json?: boolean }) => {
      print({ ...(await withTenancy(config(), (t) => t.disableApp(app))) }, opts.json);
    });
}

import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { signAppToken } from '../auth/token.js';
import { SUPPORTED_ALGORITHMS, type Algorithm } from '../tenancy/app-credentials.js';
import type { Config } from '../config/config.js';
import { openStore } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createTenancyService, type TenancyService } from '../tenancy/tenancy.service.js';
import { UsageError } from './errors.js';
import type { ImportCommandOptions } from './import-command.js';
import { registerUserCommands } from './users-command.js';
import { registerWebhookCommands } from './webhooks-command.js';

export { UsageError };

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

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number of seconds, at least 1');
  return Number(value);
}

/** jose signs with PKCS#8 only; `openssl genrsa` and older tools write PKCS#1 or SEC1, so any PEM is converted. */
function readPrivateKey(file: string): string {
  try {
    return createPrivateKey(fs.readFileSync(file, 'utf8')).export({ format: 'pem', type: 'pkcs8' }).toString();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') throw new UsageError(`cannot read ${file}: no such file`);
    throw new UsageError(`${file} is not a PEM private key`);
  }
}

function readPublicKey(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
}

export function buildCli(config: () => Config): Command {
  const program = new Command('dialbook')
    .description('Dialbook: a self-hosted contact directory that speaks the SmartAssist / AgentAssist Contacts API')
    // Usage mistakes print one line, like every other failure of the CLI.
    .configureOutput({ outputError: (text, write) => write(`dialbook: ${text.replace(/^error: /, '')}`) });

  program
    .command('serve')
    .description('serve the API on PORT (what `npm start` runs)')
    .action(async () => {
      // Loaded here, not at the top: the HTTP stack would slow every other command down by half.
      const { startServer, stopOnSignals } = await import('../serve.js');
      stopOnSignals(await startServer(config()));
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
      // The contract's order, whatever order the identities were stored in.
      const { orgId, accountId, streamId, userId, appId, clientId, clientSecret } = ids;
      print({ orgId, accountId, streamId, userId, appId, clientId, clientSecret, token }, opts.json);
    });

  program
    .command('token')
    .description("print a JWT for an app, the way the vendor's JWT tool makes one")
    .requiredOption('--client-id <id>', 'the app client id (cs-…)')
    .option('--client-secret <secret>', 'the app client secret (HS256)')
    .option('--private-key <file>', 'PEM private key (RS256 / ES256)')
    .addOption(new Option('--alg <alg>', 'signing algorithm').choices([...SUPPORTED_ALGORITHMS]).default('HS256'))
    .option('--expires-in <seconds>', 'add an exp claim this many seconds ahead', positiveInteger)
    .action(async (opts: { clientId: string; clientSecret?: string; privateKey?: string; alg: Algorithm; expiresIn?: number }) => {
      if (opts.alg === 'HS256' && opts.privateKey) throw new UsageError('--private-key needs --alg RS256 or ES256');
      const key = opts.alg === 'HS256' ? opts.clientSecret : opts.privateKey && readPrivateKey(opts.privateKey);
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
    });

  program
    .command('import')
    .description('import a CSV file of contacts into a stream, as an import job run here, with its progress')
    .argument('<file>', 'the CSV file (the columns of POST /contacts/import-contacts)')
    .requiredOption('--stream <id>', 'the stream (st-…) the contacts go to; its account and organisation are looked up')
    .addOption(new Option('--on-duplicate <mode>', 'a number an ACTIVE contact already holds: fail the row, or update that contact').choices(['reject', 'update']).default('reject'))
    .option('--atomic', 'create nothing unless every row is good')
    .option('--dry-run', 'check and count every row, write nothing')
    .option('--json', 'print the job (as GET /contacts/imports/{id} answers it) and failuresFile as one JSON object')
    .addHelpText(
      'after',
      `
The job runs through the same service as POST /contacts/imports, on the store
DATABASE_URL names, and is listed by GET /contacts/imports. This process runs
it; a job another worker took first (a server on the same store) is followed
to its end. On a terminal a progress bar is drawn on stderr. At the end the
summary is printed (state, totalRows, created, updated, failed, seconds,
rows/s), or with --json the job.

The contacts record createdByAId "cli", and createdBy the owner of the
stream's account: its first user (the owner of its first app, made by
\`dialbook setup\` or \`apps create\`), or "cli" when it has no user yet.

When rows fail, FILE.failures.csv is written beside FILE: the file's header
plus errorCode and errorMessage, then each failed row as it was. Fix the cells
and import that file as it is.

Exit code: 0 when the job completed, even with failed rows; 1 when the file
was refused as a whole (not text, too large, a missing column: no job is
made), the stream does not exist, or the job failed or was cancelled
elsewhere; 130 on Ctrl-C, which cancels the job (the rows a non-atomic job
committed stay).`,
    )
    .action(async (file: string, opts: ImportCommandOptions) => {
      // Loaded here, not at the top: the import engine would slow every other command down.
      const { runImportCommand } = await import('./import-command.js');
      process.exitCode = await runImportCommand(config(), file, opts);
    });

  registerUserCommands(program, config);
  registerWebhookCommands(program, config);
  return program;
}

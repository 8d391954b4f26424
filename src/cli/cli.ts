import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { signAppToken } from '../auth/token.js';
import { SUPPORTED_ALGORITHMS, type Algorithm } from '../tenancy/app-credentials.js';
import type { Config } from '../config/config.js';
import { openStore } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { describeStore, explainStoreFailure } from '../db/store-errors.js';
import { UsageError } from './errors.js';
import type { ImportCommandOptions } from './import-command.js';
import { print } from './output.js';
import { registerTenancyCommands, withTenancy } from './tenancy-commands.js';
import { registerUserCommands } from './users-command.js';
import { registerWebhookCommands } from './webhooks-command.js';

export { UsageError };

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

/** The version in package.json, read where it lies beside src/ and dist/ alike. */
function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const ENVIRONMENT_HELP = `
Environment:
  DATABASE_URL  the store every command works on: sqlite:PATH or postgres://USER@HOST:PORT/DB
                (default sqlite:./data/dialbook.db); commands bring its schema up to date first
  Every other setting (PORT, HOST, REDIS_URL, LOG_LEVEL, LOG_FORMAT, …) is read by \`serve\`:
  see the README's configuration table.

Every command takes --json for output a program can read, except serve.`;

export function buildCli(config: () => Config): Command {
  const program = new Command('dialbook')
    .description('Dialbook: a self-hosted contact directory that speaks the SmartAssist / AgentAssist Contacts API')
    .version(packageVersion(), '-V, --version', 'print the version')
    .addHelpText('after', ENVIRONMENT_HELP)
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
    .option('--json', 'print {applied: [names]} as one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const settings = config();
      let store: ReturnType<typeof openStore> | undefined;
      try {
        store = openStore(settings.database, { poolSize: 1 });
        const result = await migrateToLatest(store.db);
        const applied = (result.results ?? []).map((r) => r.migrationName);
        if (opts.json) process.stdout.write(`${JSON.stringify({ applied })}\n`);
        else process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
      } catch (error) {
        throw explainStoreFailure(settings.database, error);
      } finally {
        await store?.close();
      }
    });

  program
    .command('setup')
    .description('create, once, an organisation, account, stream, user and app; print them with a ready token')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const settings = config();
      // On stderr, so --json stays one object: a setup run from another folder would otherwise make a second store silently.
      process.stderr.write(`dialbook: store ${describeStore(settings.database)}\n`);
      const ids = await withTenancy(settings, (t) => t.setup());
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
    .option('--json', 'print {token} as one JSON object')
    .action(async (opts: { clientId: string; clientSecret?: string; privateKey?: string; alg: Algorithm; expiresIn?: number; json?: boolean }) => {
      if (opts.alg === 'HS256' && opts.privateKey) throw new UsageError('--private-key needs --alg RS256 or ES256');
      const key = opts.alg === 'HS256' ? opts.clientSecret : opts.privateKey && readPrivateKey(opts.privateKey);
      if (!key) throw new UsageError(opts.alg === 'HS256' ? '--client-secret is required for HS256' : `--private-key is required for ${opts.alg}`);
      const token = await signAppToken({ clientId: opts.clientId, key, algorithm: opts.alg, expiresInSeconds: opts.expiresIn });
      process.stdout.write(opts.json ? `${JSON.stringify({ token })}\n` : `${token}\n`);
    });

  registerTenancyCommands(program, config);

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

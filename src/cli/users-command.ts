import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { createUserService, type UserService } from '../users/user.service.js';
import { UsageError } from './errors.js';
import { print, withStore } from './output.js';

function withUsers<T>(config: Config, fn: (users: UserService) => Promise<T>): Promise<T> {
  return withStore(config, (db) => fn(createUserService({ db })));
}

/** The whole of standard input less one trailing newline: `echo secret | dialbook users create … --password-stdin`. */
async function readPasswordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('--password-stdin reads the password from standard input; pipe it in');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

interface UserOpts {
  account: string;
  email: string;
  name?: string;
  passwordStdin?: boolean;
  json?: boolean;
}

/** `dialbook users create|list|reset-password|disable`: the people who sign in to the console (docs/console.md). */
export function registerUserCommands(program: Command, config: () => Config): void {
  const users = program.command('users').description('console users of an account (docs/console.md)');

  users
    .command('create')
    .description('a user who signs in to the console; prints a password shown only this once')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--email <email>', 'the email the user signs in with')
    .option('--name <name>', 'the name shown in the console')
    .option('--password-stdin', 'read the password from standard input instead of making one')
    .option('--json', 'print {userId, email, password} as one JSON object')
    .action(async (opts: UserOpts) => {
      const password = opts.passwordStdin ? await readPasswordFromStdin() : undefined;
      const created = await withUsers(config(), (u) => u.createUser({ accountId: opts.account, email: opts.email, name: opts.name, password }));
      print(created, opts.json);
    });

  users
    .command('list')
    .description("the account's console users (never their passwords)")
    .requiredOption('--account <id>', 'account id')
    .option('--json', 'print one JSON array')
    .action(async (opts: { account: string; json?: boolean }) => {
      const list = await withUsers(config(), (u) => u.listUsers(opts.account));
      if (opts.json) process.stdout.write(`${JSON.stringify(list)}\n`);
      else for (const user of list) process.stdout.write(`${user.userId}  ${user.email}  ${user.disabled ? 'disabled' : 'active'}  ${user.name}\n`);
    });

  users
    .command('reset-password')
    .description('a new password (printed once, or read with --password-stdin); ends all of the user\'s sessions')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--email <email>', "the user's email")
    .option('--password-stdin', 'read the password from standard input instead of making one')
    .option('--json', 'print {userId, email, password} as one JSON object')
    .action(async (opts: UserOpts) => {
      const password = opts.passwordStdin ? await readPasswordFromStdin() : undefined;
      print(await withUsers(config(), (u) => u.resetPassword({ accountId: opts.account, email: opts.email, password })), opts.json);
    });

  users
    .command('disable')
    .description('the user can no longer sign in; every session they hold ends now')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--email <email>', "the user's email")
    .option('--json', 'print {userId, email, sessionsEnded} as one JSON object')
    .action(async (opts: UserOpts) => {
      print(await withUsers(config(), (u) => u.disableUser({ accountId: opts.account, email: opts.email })), opts.json);
    });
}

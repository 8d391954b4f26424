// `npm test`: every test file under test/ (or those whose path contains an argument), run by node's test runner
// with tsx for TypeScript. DIALECTS=sqlite (or postgres) runs the behaviour suites on that store only.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function find(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return find(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

// `npm run test:fast` (`--fast`): the pure units and the in-process behaviour suites, on SQLite only — what a change
// should pass before the whole suite runs. Suites that start server processes, browsers or other stores stay out.
const FAST = [
  'test/unit/', 'test/shared/', 'test/contacts/create', 'test/contacts/update', 'test/contacts/list.test',
  'test/contacts/delete-restore', 'test/contacts/bulk', 'test/contacts/export.test', 'test/contacts/name-key',
  'test/auth/auth.test', 'test/http/errors', 'test/tenancy/isolation',
];

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const filter = fast ? FAST : args;
// The differential phone test compares against libphonenumber over many numbers: thorough, and a quarter of the lane.
const SLOW = ['test/unit/phone-differential'];
const files = find('test')
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
  .filter((f) => !fast || !SLOW.some((part) => f.includes(part)))
  .sort();
const env = fast ? { ...process.env, DIALECTS: process.env.DIALECTS ?? 'sqlite' } : process.env;
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);

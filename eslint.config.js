// ESLint: typescript-eslint's recommended rules, and the folder boundaries of docs/decisions.md ("Layout") held by
// import-x: no import cycle between files, and no import against the direction the folders depend in.
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * What each folder of src/ must not import: the folders above it. A deny list rather than an allow list, so a new
 * folder (webhooks, history) is free until it finds its place here.
 */
const ABOVE = {
  shared: ['auth', 'cli', 'config', 'console', 'contacts', 'db', 'http', 'idempotency', 'imports', 'tenancy', 'users'],
  config: ['auth', 'cli', 'console', 'contacts', 'db', 'http', 'idempotency', 'imports', 'tenancy', 'users'],
  db: ['auth', 'cli', 'console', 'contacts', 'http', 'idempotency', 'imports', 'tenancy', 'users'],
  tenancy: ['auth', 'cli', 'console', 'contacts', 'http', 'idempotency', 'imports', 'users'],
  auth: ['cli', 'console', 'contacts', 'http', 'idempotency', 'imports', 'users'],
  idempotency: ['auth', 'cli', 'console', 'contacts', 'http', 'imports', 'users'],
  users: ['cli', 'console', 'contacts', 'http', 'idempotency', 'imports'],
  contacts: ['auth', 'cli', 'console', 'idempotency', 'imports', 'users'],
  imports: ['cli', 'console', 'users'],
  console: ['cli', 'contacts', 'imports'],
};

const zones = [
  ...Object.entries(ABOVE).flatMap(([folder, above]) =>
    above.map((other) => ({
      target: `./src/${folder}`,
      from: `./src/${other}`,
      message: `src/${folder} sits below src/${other} (docs/decisions.md, "Layout")`,
    })),
  ),
  // The schemas every route shares are the only part of http/ that feature folders use.
  ...['contacts', 'imports'].map((folder) => ({
    target: `./src/${folder}`,
    from: './src/http',
    except: ['./schemas.ts'],
    message: `src/${folder} may use http/schemas.ts only`,
  })),
  // Migrations are frozen in time: they never import application code.
  {
    target: './src/db/migrations',
    from: './src',
    except: ['./db/migrations'],
    message: 'a migration never imports application code',
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'web/', 'data/'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    plugins: { 'import-x': importX },
    settings: {
      // What import-x needs to read TypeScript modules it follows (its own `typescript` preset), with the resolver
      // that maps our `./x.js` specifiers to `./x.ts`.
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': undefined,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Warned, not failed: a few places (JSON parsed from the store, test doubles) are clearer with it.
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    // Migrations take Kysely<any> by design: they are written against the schema of their time, not today's types.
    files: ['src/db/migrations/**', 'src/db/migrate.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);

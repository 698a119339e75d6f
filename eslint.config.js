// Lint rules. The one that matters most: the dependency direction of ARCHITECTURE.md.
// core/ is the domain: it imports no HTTP framework, no database driver and none of the
// outer layers (db/, adapters/, http/, cli/), so every engine difference stays at the edges.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const forbiddenInCore = {
  paths: [
    { name: 'fastify', message: 'core/ must not depend on the HTTP framework.' },
    { name: 'better-sqlite3', message: 'core/ must not depend on a database driver.' },
    { name: 'pg', message: 'core/ must not depend on a database driver.' },
    { name: 'ioredis', message: 'core/ must not depend on a Redis client; define a port.' },
    { name: 'pino', message: 'core/ logs through the Logger port.' },
  ],
  patterns: [
    { group: ['@fastify/*'], message: 'core/ must not depend on the HTTP framework.' },
    { group: ['@opentelemetry/*', '!@opentelemetry/api'], message: 'core/ uses @opentelemetry/api only, through core/tracing; the SDK is loaded by cli/ when tracing is on.' },
    {
      group: ['**/http/**', '**/db/**', '**/adapters/**', '**/cli/**'],
      message: 'core/ must not import the outer layers (http, db, adapters, cli).',
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'basalt_data/', '.bench/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  { files: ['runtime/**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } } },
  {
    // The dashboard runs in browsers (its .svelte files are checked by svelte-check: npm run typecheck).
    files: ['dashboard/src/**/*.ts', 'dashboard/public/**/*.js'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', localStorage: 'readonly', location: 'readonly', history: 'readonly' } },
  },
  { files: ['dashboard/public/**/*.js'], languageOptions: { sourceType: 'script' } },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/clock.ts'],
    rules: {
      'no-restricted-imports': ['error', forbiddenInCore],
      // Time is a port (core/clock.ts): cron, backoff and expiry stay testable with a manual clock.
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'read the time from the injected Clock.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'read the time from the injected Clock.' },
      ],
    },
  },
  {
    // The model types are the bottom of core/: rules/, records/ and collections/ build on them.
    files: ['src/core/model/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...forbiddenInCore,
          patterns: [
            ...forbiddenInCore.patterns,
            { group: ['**/records/**', '**/auth/**', '**/realtime/**', '**/rules/compiler*', '**/collections/collection-*'], message: 'core/model/ is the bottom layer: it depends on no service.' },
          ],
        },
      ],
    },
  },
  { files: ['src/core/clock.ts'], rules: { 'no-restricted-imports': ['error', forbiddenInCore] } },
  {
    files: ['src/db/**/*.ts', 'src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'fastify', message: 'only http/ knows about HTTP.' }],
          patterns: [{ group: ['**/http/**', '**/cli/**'], message: 'db/ and adapters/ implement core ports only.' }],
        },
      ],
    },
  },
  {
    files: ['src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'better-sqlite3', message: 'http/ talks to the database through core.' },
            { name: 'pg', message: 'http/ talks to the database through core.' },
          ],
          patterns: [{ group: ['**/cli/**', '**/db/**'], message: 'http/ depends on core only.' }],
        },
      ],
    },
  },
);

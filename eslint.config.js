// Lint fences: the pure core (src/domain) and deterministic orchestration
// (src/workflows) may not touch Node built-ins or I/O libraries; every
// promise must be handled; imports used only as types must say so.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const noIoImports = {
  patterns: [
    { group: ['node:*'], message: 'No Node built-ins in the pure core or in workflows.' },
    {
      group: ['fs', 'path', 'os', 'crypto', 'http', 'https', 'net', 'child_process', 'worker_threads', 'timers', 'process'],
      message: 'No Node built-ins in the pure core or in workflows.',
    },
    // @solana/offchain-messages only encodes bytes (the signed operator messages): pure, no I/O.
    {
      group: ['better-sqlite3', 'drizzle-orm', 'drizzle-orm/*', 'pino', '@solana/*', '!@solana/offchain-messages', '@pythnetwork/*', '@switchboard-xyz/*', '**/db/*', '**/activities/*', '**/cli/*', '**/paper/*', '**/runtime/*', '**/config.ts'],
      message: 'No I/O in the pure core or in workflows: pass the data in, or call an activity (type-only imports are fine).',
      allowTypeImports: true,
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', 'drizzle/**', 'out/**', 'data/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
      // Activities are async by contract even when their body is synchronous (better-sqlite3).
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['src/domain/**/*.ts', 'src/workflows/**/*.ts', 'src/programs/**/*.ts'],
    languageOptions: { globals: { ...globals.es2022 } },
    rules: {
      'no-restricted-imports': ['error', noIoImports],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'No process access in the pure core or workflows.' },
        { name: 'Buffer', message: 'No Node built-ins in the pure core or workflows.' },
        { name: 'fetch', message: 'No I/O in the pure core or workflows.' },
        { name: 'setTimeout', message: 'Use Temporal timers or pass time in.' },
      ],
    },
  },
  {
    // The pure core has no clock and no randomness (workflows may read Date.now(): Temporal makes it deterministic).
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Pass `now` in: the core has no clock.' },
        { object: 'Math', property: 'random', message: 'Pass randomness in: the core is deterministic.' },
      ],
    },
  },
  {
    // The programs run on Temporal and in the backtest: time, patches and cancellation come from their interpreter.
    files: ['src/programs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [...noIoImports.patterns, { group: ['@temporalio/*'], message: 'Programs run outside Temporal too: take time, patches and cancellation from ProgramEnv.' }],
      }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Use env.now(): the backtest runs programs on a virtual clock.' },
        { object: 'Math', property: 'random', message: 'Programs are deterministic.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', 'eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);

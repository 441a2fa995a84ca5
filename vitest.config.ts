import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    pool: 'forks',
    // Many files start real Temporal servers (Java test server, dev server, worker processes):
    // on a 2-core machine they are steadier one file at a time, and the whole suite stays a few minutes.
    fileParallelism: false,
    testTimeout: 30_000,
    // A throwaway PostgreSQL server for the store's PostgreSQL tests (skipped, with a notice, where there is none).
    globalSetup: ['test/support/postgres-global.ts'],
    reporters: ['default'],
  },
});

/**
 * vitest global setup: the PostgreSQL server the store's PostgreSQL tests
 * share. `TEST_DATABASE_URL` points at an existing server instead. Without
 * either, those tests skip with a notice, unless `REQUIRE_POSTGRES=1` (set
 * by .ci/run), which makes a missing server an error.
 */
import type { TestProject } from 'vitest/node';
import { postgresBin, startPostgres, type PostgresServer } from './postgres-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
  }
}

let server: PostgresServer | null = null;

export async function setup(project: TestProject): Promise<void> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) return project.provide('postgresUrl', given);
  const bin = postgresBin();
  try {
    if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql), and TEST_DATABASE_URL is not set');
    server = await startPostgres(bin);
    project.provide('postgresUrl', server.url);
  } catch (error) {
    if (process.env.REQUIRE_POSTGRES === '1') throw error;
    console.warn(`PostgreSQL store tests will skip: ${(error as Error).message}`);
    project.provide('postgresUrl', null);
  }
}

export function teardown(): void {
  server?.stop();
}

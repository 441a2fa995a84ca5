/** For test files: a fresh, empty PostgreSQL database on the shared test server (test/support/postgres-global.ts). */
import pg from 'pg';
import { inject } from 'vitest';

export const postgresUrl: string | null = inject('postgresUrl');

let n = 0;

/** Creates an empty database and returns its URL. */
export async function freshDatabase(prefix = 't'): Promise<string> {
  if (!postgresUrl) throw new Error('no PostgreSQL test server (see test/support/postgres-global.ts)');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${n++}`.toLowerCase();
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

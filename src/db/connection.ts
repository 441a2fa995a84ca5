/**
 * The two databases the store runs on, behind what the store needs of them:
 * a drizzle handle, the dialect's tables, how to run one statement and how to
 * run a transaction. SQLite (one file, better-sqlite3) is the embedded
 * default; PostgreSQL (node-postgres pool, `DATABASE_URL`) lets several
 * workers on several machines share one store.
 *
 * The store's queries are written once against drizzle's SQLite types. The
 * PostgreSQL tables have identical row types (src/db/schema-pg.test.ts) and
 * drizzle's builders answer the same calls (await, `.returning()`, on-conflict
 * clauses), so the same query runs on both; the whole store test suite runs
 * on both to hold that true.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle as drizzleSqlite, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import pg from 'pg';
import * as sqliteSchema from './schema.ts';
import * as pgSchema from './schema-pg.ts';

/** The drizzle handle the store's queries are typed against (see the header). */
export type Db = BetterSQLite3Database;

const TABLE_NAMES = [
  'priceSamples', 'treasurySnapshots', 'interventions', 'interventionSteps', 'monitoringLogs', 'alerts', 'proposals', 'votes',
  'swapRecords', 'ledgerBalances', 'ledgerEntries', 'lpPositions', 'controlState',
  'moneyJournal',
] as const;

export type Tables = { [K in (typeof TABLE_NAMES)[number]]: (typeof sqliteSchema)[K] };

function tablesOf(schema: Record<string, unknown>): Tables {
  return Object.fromEntries(TABLE_NAMES.map((name) => [name, schema[name]])) as Tables;
}

export interface Connection {
  readonly dialect: 'sqlite' | 'postgres';
  readonly db: Db;
  readonly tables: Tables;
  /** Runs one operation outside any transaction. */
  run<T>(op: (db: Db) => Promise<T>): Promise<T>;
  /** Runs `fn` in a transaction; with `outer`, as a savepoint inside that transaction. */
  transaction<T>(fn: (tx: Db) => Promise<T>, outer?: Db): Promise<T>;
  /** The text at `path` inside a JSON column (SQL NULL when absent). */
  jsonText(column: AnySQLiteColumn, path: readonly string[]): SQL;
  close(): Promise<void>;
}

const SQLITE_MIGRATIONS = fileURLToPath(new URL('../../drizzle', import.meta.url));
const PG_MIGRATIONS = fileURLToPath(new URL('../../drizzle-pg', import.meta.url));

export interface SqliteOptions {
  /** How long a writer waits for another connection's lock before failing. */
  busyTimeoutMs?: number;
}

/** One SQLite file in WAL mode, its schema brought up to date. */
export function openSqlite(path: string, options: SqliteOptions = {}): Connection & { readonly sqlite: Database.Database } {
  const inMemory = path === ':memory:';
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  let db: Db;
  try {
    // WAL lets reports read while an activity writes; NORMAL sync is durable enough under WAL.
    const mode = sqlite.pragma('journal_mode = WAL', { simple: true }) as string;
    if (!inMemory && mode !== 'wal') throw new Error(`${path}: SQLite refused WAL mode (journal_mode is ${mode})`);
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    db = drizzleSqlite(sqlite);
    migrateSqlite(db, { migrationsFolder: SQLITE_MIGRATIONS });
  } catch (error) {
    sqlite.close();
    throw error;
  }
  // better-sqlite3 is synchronous, so a statement never interleaves with
  // another; a transaction that awaits between statements would, so every
  // operation waits its turn behind an open transaction (one connection, one
  // writer at a time, as SQLite has anyway).
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(op: () => Promise<T>): Promise<T> => {
    const result = tail.then(op);
    tail = result.catch(() => undefined);
    return result;
  };
  let savepoints = 0;
  return {
    dialect: 'sqlite', db, tables: tablesOf(sqliteSchema), sqlite,
    run: (op) => exclusive(() => op(db)),
    transaction: (fn, outer) => {
      const [begin, commit, rollback] = outer
        ? ((name) => [`SAVEPOINT ${name}`, `RELEASE ${name}`, `ROLLBACK TO ${name}; RELEASE ${name}`])(`s${++savepoints}`)
        : ['BEGIN IMMEDIATE', 'COMMIT', 'ROLLBACK'];
      const body = async () => {
        sqlite.exec(begin);
        try {
          const result = await fn(db);
          sqlite.exec(commit);
          return result;
        } catch (error) {
          if (sqlite.inTransaction) sqlite.exec(rollback);
          throw error;
        }
      };
      return outer ? body() : exclusive(body);
    },
    jsonText: (column, path) => sql`json_extract(${column}, ${`$.${path.join('.')}`})`,
    close: () => {
      sqlite.close();
      return Promise.resolve();
    },
  };
}

export interface PostgresOptions {
  /** Pool size per worker; default 10. */
  maxConnections?: number;
}

/** PostgreSQL error codes after which a serializable transaction is simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const TRANSACTION_ATTEMPTS = 5;
/** Any fixed number: several workers starting together migrate one at a time. */
const MIGRATION_LOCK = 0x7057_5452; // "pSTR"

/** A pool on `url`, its schema brought up to date (under an advisory lock, so concurrent workers do not race). */
export async function connectPostgres(url: string, options: PostgresOptions = {}): Promise<Connection & { readonly pool: pg.Pool }> {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // An idle client's error (server restart) would otherwise crash the worker; the next query reports it.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await migratePg(drizzlePg(client), { migrationsFolder: PG_MIGRATIONS });
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      }
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw new Error(`PostgreSQL store at ${redactUrl(url)}: ${(error as Error).message}`, { cause: error });
  }
  const pgDb: NodePgDatabase = drizzlePg(pool);
  const db = pgDb as unknown as Db;
  return {
    dialect: 'postgres', db, tables: tablesOf(pgSchema), pool,
    run: (op) => op(db),
    transaction: async (fn, outer) => {
      if (outer) return (outer as unknown as NodePgDatabase).transaction((tx) => fn(tx as unknown as Db));
      // Serializable: a read-then-write (a ledger balance, a swap's status) is as safe as on SQLite's single writer.
      for (let attempt = 1; ; attempt++) {
        try {
          return await pgDb.transaction((tx) => fn(tx as unknown as Db), { isolationLevel: 'serializable' });
        } catch (error) {
          const code = (error as { code?: string; cause?: { code?: string } }).code ?? (error as { cause?: { code?: string } }).cause?.code;
          if (attempt >= TRANSACTION_ATTEMPTS || code === undefined || !RETRYABLE.has(code)) throw error;
        }
      }
    },
    jsonText: (column, path) => sql`(${column} #>> ${`{${path.join(',')}}`})`,
    close: () => pool.end(),
  };
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

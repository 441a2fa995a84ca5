/**
 * The databases a store-backed test runs on: the embedded SQLite default and
 * PostgreSQL (the shared test server of test/support/postgres-global.ts).
 * Wrap a suite in `describe.skipIf(!b.available)` for each, so the same tests
 * hold on both.
 */
import path from 'node:path';
import { TreasuryStore } from '../../src/db/store.ts';
import { freshDatabase, postgresUrl } from './pg.ts';

export interface StoreBackend {
  name: 'SQLite' | 'PostgreSQL';
  available: boolean;
  /** Where a fresh, empty store lives: a SQLite file under `dir`, or a new PostgreSQL database's URL. `TreasuryStore.at` opens either. */
  freshLocation(dir: string): Promise<string>;
  /** A fresh, empty store nobody else opens (SQLite in memory, or a new PostgreSQL database). */
  throwaway(): Promise<TreasuryStore>;
}

export const STORE_BACKENDS: readonly StoreBackend[] = [
  {
    name: 'SQLite', available: true,
    freshLocation: (dir) => Promise.resolve(path.join(dir, 'treasury.db')),
    throwaway: () => Promise.resolve(TreasuryStore.open(':memory:')),
  },
  {
    name: 'PostgreSQL', available: postgresUrl !== null,
    freshLocation: () => freshDatabase('suite'),
    throwaway: async () => TreasuryStore.connect(await freshDatabase('suite')),
  },
];

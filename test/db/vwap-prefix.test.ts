/**
 * The store's running VWAP sums (issue #13 item 2) on both databases: the
 * reading a cycle gets is the naive recomputation over its window exactly,
 * for a constant number of rows read, once per cycle id, and a store written
 * before the sums existed gets them and keeps its history.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { monitorActivities } from '../../src/activities/monitor.ts';
import type { ActivityDeps } from '../../src/activities/deps.ts';
import { TreasuryStore, type NewPriceSample } from '../../src/db/store.ts';
import { DAY_MS, type VwapSample } from '../../src/domain/vwap.ts';
import { naiveWindowReading, readingOfPrefixes } from '../../src/domain/vwap-prefix.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);

/** The recordSample activity over a store (it needs nothing else). */
const recorder = (store: TreasuryStore) => {
  const acts = monitorActivities({ store } as unknown as ActivityDeps);
  return (input: Parameters<typeof acts.recordSample>[0]) => acts.recordSample(input);
};

interface Step { gap: number; price: number; volume: number; windowDays: number; back: boolean; retry: boolean }

const price = fc.oneof(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), fc.constantFrom(0.1, 0.5, 1, 1e-3));
const volume = fc.oneof(fc.constant(0), fc.constant(0), fc.double({ min: 0, max: 1e7, noNaN: true }), fc.double({ min: 1e-12, max: 1e-3, noNaN: true }));
const step: fc.Arbitrary<Step> = fc.record({
  // Ties (0), cadence-like steps and gaps longer than any window.
  gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 6 * HOUR }), fc.integer({ min: 1, max: 4 * DAY_MS })),
  price,
  volume,
  windowDays: fc.constantFrom(1, 2, 3),
  // A sample older than the last one (a late bulk load), and a retried cycle.
  back: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  retry: fc.boolean(),
});

function sampleRow(treasuryId: string, cycleId: string, timestamp: number, s: { price: number; volume: number }): NewPriceSample {
  return { treasuryId, cycleId, timestamp, pstrPrice: s.price, pstrVolume: s.volume, pumpPrice: 0.004, solPrice: 150, consensus: { ok: true } };
}

/** A store whose schema stops before the running sums: the migrations of 0000..`last` only, as an older release left it. */
function migrationsUpTo(folder: string, count: number, dir: string): string {
  const out = path.join(dir, path.basename(folder));
  fs.cpSync(folder, out, { recursive: true });
  const journalFile = path.join(out, 'meta', '_journal.json');
  const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8')) as { entries: unknown[] };
  fs.writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, count) }));
  return out;
}

const ROOT = path.resolve(import.meta.dirname, '../..');
const OLD_SAMPLE_SQL = `INSERT INTO price_samples (treasury_id, cycle_id, timestamp, pstr_price, pstr_volume, pump_price, sol_price, consensus)`;

/** Writes `rows` into a store at `location` as the release before the running sums did (no such columns yet). */
async function oldStore(backend: string, location: string, rows: readonly NewPriceSample[], dir: string): Promise<void> {
  if (backend === 'SQLite') {
    const db = new Database(location);
    try {
      migrateSqlite(drizzleSqlite(db), { migrationsFolder: migrationsUpTo(path.join(ROOT, 'drizzle'), 5, dir) });
      const insert = db.prepare(`${OLD_SAMPLE_SQL} VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
      db.transaction(() => {
        for (const r of rows) insert.run(r.treasuryId, r.cycleId, r.timestamp, r.pstrPrice, r.pstrVolume, r.pumpPrice, r.solPrice ?? null, JSON.stringify(r.consensus));
      })();
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  try {
    await migratePg(drizzlePg(client), { migrationsFolder: migrationsUpTo(path.join(ROOT, 'drizzle-pg'), 4, dir) });
    for (const r of rows) {
      await client.query(`${OLD_SAMPLE_SQL} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [r.treasuryId, r.cycleId, r.timestamp, r.pstrPrice, r.pstrVolume, r.pumpPrice, r.solPrice ?? null, JSON.stringify(r.consensus)]);
    }
  } finally {
    await client.end();
  }
}

/** Counts the store's queries and the rows they return while `fn` runs (every store read goes through `query`). */
async function counted<T>(store: TreasuryStore, fn: () => Promise<T>): Promise<{ result: T; queries: number; rows: number; widest: number }> {
  const query = store.query.bind(store);
  let queries = 0;
  let rows = 0;
  let widest = 0;
  const spy = vi.spyOn(store, 'query').mockImplementation(async (op) => {
    const r = await query(op);
    queries++;
    const n = Array.isArray(r) ? r.length : 1;
    rows += n;
    widest = Math.max(widest, n);
    return r;
  });
  try {
    return { result: await fn(), queries, rows, widest };
  } finally {
    spy.mockRestore();
  }
}

for (const backend of STORE_BACKENDS) {
  describe.skipIf(!backend.available)(`the running VWAP sums on ${backend.name}`, () => {
    let dir: string;
    let store: TreasuryStore;
    let treasuries = 0;
    const freshTreasury = () => `vwap-${++treasuries}`;

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vwap-prefix-'));
      store = await TreasuryStore.at(await backend.freshLocation(dir));
    });

    afterAll(async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('gives every cycle the VWAP a naive recomputation over its window gives, exactly, for random prices, volumes, gaps and windows', async () => {
      const record = recorder(store);
      await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: backend.name === 'SQLite' ? 40 : 25 }), async (steps) => {
        const treasuryId = freshTreasury();
        const recorded = new Map<string, VwapSample>();
        let t = T0;
        for (const [i, s] of steps.entries()) {
          t += s.gap;
          // A late sample lands before the newest ones; a retry repeats an earlier cycle id with other values (ignored).
          const at = s.back ? t - 2 * s.gap - 1 : t;
          const cycleId = s.retry && i > 0 ? `c${i - 1}` : `c${i}`;
          if (!recorded.has(cycleId)) recorded.set(cycleId, { timestamp: at, price: s.price, volume: s.volume });
          const kept = recorded.get(cycleId)!;
          const got = await record({
            treasuryId, cycleId, at: kept.timestamp, pstrPrice: s.price, volumeUsd: s.volume, pumpPrice: 0.004, solPrice: 150,
            consensus: { ok: true }, vwapWindowDays: s.windowDays,
          });
          expect(got, `step ${i}`).toStrictEqual(naiveWindowReading([...recorded.values()], kept.timestamp, s.windowDays * DAY_MS));
        }
      }), { numRuns: backend.name === 'SQLite' ? 60 : 20 });
    });

    it('reads a constant number of rows per cycle: as many with 8,640 samples in the window as with 10', async () => {
      const record = recorder(store);
      const cost = async (samples: number) => {
        const treasuryId = freshTreasury();
        // Each treasury also has a sample long before its window, so both lookups of the window's edges find a row.
        const old = sampleRow(treasuryId, 'seed/old', T0 - 40 * DAY_MS, { price: 2, volume: 1 });
        await store.recordPriceSamples([old, ...Array.from({ length: samples }, (_, i) => sampleRow(treasuryId, `seed/${i}`, T0 + i * 300_000, { price: 1 + (i % 7) / 10, volume: i % 5 }))]);
        const at = T0 + samples * 300_000;
        return counted(store, () => record({
          treasuryId, cycleId: 'next', at, pstrPrice: 1.25, volumeUsd: 3, pumpPrice: 0.004, solPrice: 150, consensus: {}, vwapWindowDays: 30,
        }));
      };
      const small = await cost(10);
      const full = await cost(8_640);
      expect(full.result?.samples).toBe(8_640);
      expect({ queries: full.queries, rows: full.rows }).toEqual({ queries: small.queries, rows: small.rows });
      expect(full.widest).toBe(1);
      expect(full.rows).toBeLessThanOrEqual(5);
    });

    it('writes a retried cycle once and returns the reading it returned the first time', async () => {
      const record = recorder(store);
      const treasuryId = freshTreasury();
      const input = (i: number, price: number) => ({
        treasuryId, cycleId: `c${i}`, at: T0 + i * HOUR, pstrPrice: price, volumeUsd: 10 * i, pumpPrice: 0.004, solPrice: 150, consensus: {}, vwapWindowDays: 1,
      });
      const readings = [];
      for (let i = 1; i <= 5; i++) readings.push(await record(input(i, i)));
      // The last cycle retried (the activity timed out after it wrote), and an earlier one retried late, each with another price.
      expect(await record(input(5, 99))).toStrictEqual(readings[4]);
      expect(await record(input(3, 99))).toStrictEqual(readings[2]);
      expect(await store.priceSamples(treasuryId, 0, T0 + DAY_MS)).toHaveLength(5);
      const next = await record(input(6, 6));
      const want = naiveWindowReading([1, 2, 3, 4, 5, 6].map((i) => ({ timestamp: T0 + i * HOUR, price: i, volume: 10 * i })), T0 + 6 * HOUR, DAY_MS);
      expect(next).toStrictEqual(want);
      expect(next?.samples).toBe(6);
    });

    it('gives a store written before the running sums its sums, and the cycle after the upgrade its full 30-day window', async () => {
      const location = await backend.freshLocation(fs.mkdtempSync(path.join(dir, 'old-')));
      const history = Array.from({ length: 2_000 }, (_, i) => sampleRow(i % 2 ? 'a' : 'b', `old/${i}`, T0 + i * 600_000, { price: 0.3 + (i % 11) / 50, volume: i % 3 === 0 ? 0 : i * 1.5 }));
      await oldStore(backend.name, location, history, dir);
      const upgraded = await TreasuryStore.at(location);
      try {
        const at = T0 + 2_000 * 600_000;
        const got = await recorder(upgraded)({
          treasuryId: 'a', cycleId: 'new/1', at, pstrPrice: 0.4, volumeUsd: 7, pumpPrice: 0.004, solPrice: 150, consensus: {}, vwapWindowDays: 30,
        });
        const mine = history.filter((h) => h.treasuryId === 'a').map((h) => ({ timestamp: h.timestamp, price: h.pstrPrice, volume: h.pstrVolume }));
        expect(got).toStrictEqual(naiveWindowReading([...mine, { timestamp: at, price: 0.4, volume: 7 }], at, 30 * DAY_MS));
        expect(got?.samples).toBe(1_001);
        // Treasury b was not touched by the cycle: the explicit backfill gives it its sums, and then there is nothing left to do.
        expect(await upgraded.backfillRunningSums()).toBe(1);
        expect(await upgraded.backfillRunningSums()).toBe(0);
        const b = history.filter((h) => h.treasuryId === 'b').map((h) => ({ timestamp: h.timestamp, price: h.pstrPrice, volume: h.pstrVolume }));
        expect(readingOfPrefixes(await upgraded.vwapPrefixes('b', at, 30 * DAY_MS), at)).toStrictEqual(naiveWindowReading(b, at, 30 * DAY_MS));
      } finally {
        await upgraded.close();
      }
    });

    it('sums a bulk load that lands before recorded samples as if it had come in time order', async () => {
      const treasuryId = freshTreasury();
      const rows = Array.from({ length: 300 }, (_, i) => sampleRow(treasuryId, `r${i}`, T0 + i * HOUR, { price: 1 + i / 100, volume: i % 4 }));
      const late = rows.filter((_, i) => i % 3 === 0);
      expect(await store.recordPriceSamples(rows.filter((_, i) => i % 3 !== 0))).toBe(200);
      expect(await store.recordPriceSamples([...late, ...late])).toBe(100);
      const all = rows.map((r) => ({ timestamp: r.timestamp, price: r.pstrPrice, volume: r.pstrVolume }));
      for (const t of [T0, T0 + 50 * HOUR, T0 + 299 * HOUR, T0 + 400 * HOUR]) {
        expect(readingOfPrefixes(await store.vwapPrefixes(treasuryId, t, 2 * DAY_MS), t)).toStrictEqual(naiveWindowReading(all, t, 2 * DAY_MS));
      }
    });
  });
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TreasuryStore } from '../db/store.ts';
import { drawdown, vwapOf } from '../domain/vwap.ts';
import { historySamples, seedPriceHistory } from './history.ts';
import { demoDrawdown, SimulatedMarket } from './market.ts';

const T = 'pstr-main';
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

let dir: string;
let file: string;
let store: TreasuryStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paper-history-'));
  file = path.join(dir, 'treasury.db');
  store = TreasuryStore.open(file);
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('seedPriceHistory', () => {
  const market = new SimulatedMarket({ seed: 42, originMs: NOW, drawdown: demoDrawdown(NOW + 60_000) });

  it('writes one sample per 5 minutes over the 30 days before now, quickly, and a second call writes nothing', async () => {
    const started = performance.now();
    const written = await seedPriceHistory(store, { treasuryId: T, market, nowMs: NOW });
    const elapsedMs = performance.now() - started;
    expect(written).toBe(8_640);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(await seedPriceHistory(store, { treasuryId: T, market, nowMs: NOW })).toBe(0);
    const rows = await store.priceSamples(T, 0, NOW);
    expect(rows).toHaveLength(8_640);
    expect(rows[0]?.timestamp).toBe(NOW - 30 * DAY + 300_000);
    expect(rows.at(-1)?.timestamp).toBe(NOW);
    expect(rows.at(-1)?.cycleId).toBe('seed/2025-06-01T12:00:00.000Z');
  });

  it('stores the market itself: each price at its time, the volume traded since the previous sample', async () => {
    await seedPriceHistory(store, { treasuryId: T, market, nowMs: NOW, days: 1 });
    const row = (await store.priceSamples(T, NOW - 3_600_000, NOW - 3_600_000))[0];
    const t = NOW - 3_600_000;
    expect(row).toMatchObject({
      pstrPrice: market.pstrPrice(t), pumpPrice: market.pumpPrice(t), solPrice: market.solPrice(t),
      pstrVolume: market.volumeUsd(t - 300_000, t),
    });
    expect(row?.consensus).toMatchObject({ ok: true, price: market.pstrPrice(t) });
  });

  it('adds only the newer samples when seeded again later, on the same grid', async () => {
    await seedPriceHistory(store, { treasuryId: T, market, nowMs: NOW, days: 1 });
    const later = NOW + 3_600_000 + 123_456;
    expect(await seedPriceHistory(store, { treasuryId: T, market, nowMs: later, days: 1 })).toBe(12);
    expect(await store.priceSamples(T, 0, later)).toHaveLength(288 + 12);
  });

  it('warms the 30-day VWAP so that the demo drawdown, read back from SQLite, is a tier-1 drawdown', async () => {
    await seedPriceHistory(store, { treasuryId: T, market, nowMs: NOW });
    const samples = (await store.priceSamples(T, NOW - 30 * DAY, NOW)).map((s) => ({ timestamp: s.timestamp, price: s.pstrPrice, volume: s.pstrVolume }));
    const vwap = vwapOf(samples, NOW);
    expect(vwap?.volumeless).toBe(false);
    expect(Math.abs((vwap?.vwap ?? NaN) / 0.0002 - 1)).toBeLessThan(0.005);
    const atBottom = drawdown(market.pstrPrice(NOW + 3 * 60_000), vwap?.vwap ?? NaN);
    expect(atBottom).toBeGreaterThanOrEqual(0.15);
    expect(atBottom).toBeLessThan(0.2);
  });

  it('keeps the in-memory samples equal to what it writes', async () => {
    const samples = historySamples({ treasuryId: T, market, nowMs: NOW, days: 2, intervalMs: 900_000 });
    await seedPriceHistory(store, { treasuryId: T, market, nowMs: NOW, days: 2, intervalMs: 900_000 });
    expect((await store.priceSamples(T, 0, NOW)).map((r) => [r.cycleId, r.pstrPrice])).toEqual(samples.map((s) => [s.cycleId, s.pstrPrice]));
  });

  it('refuses a bad interval, naming it', async () => {
    await expect(seedPriceHistory(store, { treasuryId: T, market, nowMs: NOW, intervalMs: 0 })).rejects.toThrow(/intervalMs .* 0/);
    await expect(seedPriceHistory(store, { treasuryId: T, market, nowMs: NOW, days: -1 })).rejects.toThrow(/days .* -1/);
  });
});

/**
 * Warm history for paper mode: the simulated market's past written into
 * price_samples, so the 30-day VWAP (SPEC §1) is warm from the first cycle
 * instead of after a week of warming up.
 *
 * Samples sit on a grid of `intervalMs` counted from the epoch, in
 * (nowMs − days, nowMs]: a run restarted later on the same file finds the
 * same timestamps and cycle ids (seed/<iso>) and adds only the newer ones.
 * Each sample's volume is what the market traded since the previous grid
 * point, as a live cycle records it.
 */
import type { NewPriceSample, TreasuryStore } from '../db/store.ts';
import type { SimulatedMarket } from './market.ts';

const DAY_MS = 86_400_000;

export interface SeedHistoryOptions {
  treasuryId: string;
  market: SimulatedMarket;
  nowMs: number;
  days?: number;
  intervalMs?: number;
}

/** The samples seedPriceHistory writes, oldest first (also usable without a store). */
export function historySamples(opts: SeedHistoryOptions): NewPriceSample[] {
  const { treasuryId, market, nowMs, days = 30, intervalMs = 300_000 } = opts;
  if (!treasuryId) throw new RangeError('seedPriceHistory: treasuryId must be a non-empty string');
  if (!Number.isSafeInteger(nowMs)) throw new RangeError(`seedPriceHistory: nowMs must be integer epoch ms, got ${nowMs}`);
  if (!(days > 0 && Number.isFinite(days))) throw new RangeError(`seedPriceHistory: days must be a finite number > 0, got ${days}`);
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) {
    throw new RangeError(`seedPriceHistory: intervalMs must be an integer > 0, got ${intervalMs}`);
  }
  const last = Math.floor(nowMs / intervalMs) * intervalMs;
  const from = nowMs - days * DAY_MS;
  const samples: NewPriceSample[] = [];
  for (let t = last; t > from; t -= intervalMs) {
    const pstrPrice = market.pstrPrice(t);
    samples.push({
      treasuryId,
      cycleId: `seed/${new Date(t).toISOString()}`,
      timestamp: t,
      pstrPrice,
      pstrVolume: market.volumeUsd(t - intervalMs, t),
      pumpPrice: market.pumpPrice(t),
      solPrice: market.solPrice(t),
      // A decision record in the shape of a consensus result, saying where the price came from.
      consensus: { ok: true, price: pstrPrice, seeded: 'simulated market history', readings: [], agreeing: [], excluded: [], outliers: [] },
    });
  }
  return samples.reverse();
}

/**
 * Writes the market's history into price_samples in one transaction;
 * idempotent (insert-or-ignore on the cycle id). Returns how many rows were new.
 * Uses the store's batch form of recordPriceSample (multi-row inserts).
 */
export async function seedPriceHistory(store: TreasuryStore, opts: SeedHistoryOptions): Promise<number> {
  return store.recordPriceSamples(historySamples(opts));
}

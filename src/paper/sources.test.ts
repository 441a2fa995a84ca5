import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config.ts';
import { computeConsensus, consensusParams } from '../domain/consensus.ts';
import type { OracleReading } from '../domain/consensus.ts';
import type { OracleSource } from '../ports.ts';
import { demoDrawdown, SimulatedMarket } from './market.ts';
import { isOutlierMinute, OUTLIER_OFFSET, paperMarketData, paperOracleSources } from './sources.ts';

const ORIGIN = Date.UTC(2025, 5, 1, 12);
const MIN = 60_000;
const params = consensusParams(defaultConfig());
const market = new SimulatedMarket({ seed: 11, originMs: ORIGIN, drawdown: demoDrawdown(ORIGIN + MIN) });

async function readAll(sources: OracleSource[]): Promise<OracleReading[]> {
  return Promise.all(sources.map((s) => s.read()));
}

/** A source set whose clock is set by the test. */
function atClock(opts?: Parameters<typeof paperOracleSources>[2]) {
  let now = ORIGIN;
  const sources = paperOracleSources(market, () => now, opts);
  return { sources, read: (t: number) => { now = t; return readAll(sources); } };
}

const timeArb = fc.integer({ min: ORIGIN - 30 * 86_400_000, max: ORIGIN + 3 * 86_400_000 });

describe('paperOracleSources', () => {
  it('names the three sources of SPEC §2', () => {
    expect(paperOracleSources(market, () => ORIGIN).map((s) => s.name)).toEqual(['pyth', 'switchboard', 'dex-twap']);
  });

  it('reads the market price within the noise, fresh, with a confidence of 0.1–0.5 % of the price', async () => {
    const { read } = atClock({ outlierEveryMinutes: 0 });
    await fc.assert(fc.asyncProperty(timeArb, async (t) => {
      for (const r of await read(t)) {
        expect(Math.abs(r.price / market.pstrPrice(r.publishTime) - 1)).toBeLessThanOrEqual(0.002 + 1e-12);
        expect(t - r.publishTime).toBeGreaterThan(0);
        expect(t - r.publishTime).toBeLessThanOrEqual(10_000);
        expect(r.confidence / r.price).toBeGreaterThanOrEqual(0.001);
        expect(r.confidence / r.price).toBeLessThanOrEqual(0.005);
      }
    }));
  });

  it('reads the same at the same clock time, every time', async () => {
    const { read } = atClock();
    const t = ORIGIN + 17 * MIN + 4_321;
    expect(await read(t)).toEqual(await read(t));
  });

  it('gives a valid consensus with all three agreeing outside the outlier minutes', async () => {
    const { read } = atClock();
    await fc.assert(fc.asyncProperty(timeArb, async (t) => {
      const readings = await read(t);
      const dex = readings.find((r) => r.source === 'dex-twap') as OracleReading;
      fc.pre(!isOutlierMinute(market, dex.publishTime, 7));
      const c = computeConsensus(readings, t, params);
      expect(c.ok).toBe(true);
      expect(c.excluded).toEqual([]);
      if (c.ok) expect(Math.abs(c.price / market.pstrPrice(t) - 1)).toBeLessThan(0.003);
    }));
  });

  it('has the DEX TWAP read 8 % off for one minute in seven, which the consensus excludes as an outlier', async () => {
    const { read } = atClock();
    let outlierMinutes = 0;
    for (let minute = 0; minute < 70; minute++) {
      const t = ORIGIN + minute * MIN + 30_000;
      const readings = await read(t);
      const c = computeConsensus(readings, t, params);
      expect(c.ok).toBe(true);
      if (c.outliers.length === 0) continue;
      outlierMinutes++;
      expect(c.outliers).toEqual(['dex-twap']);
      expect(c.excluded.map((e) => e.reason)).toEqual(['outlier']);
      const dex = readings.find((r) => r.source === 'dex-twap') as OracleReading;
      expect(dex.price / market.pstrPrice(dex.publishTime)).toBeGreaterThan(1 + OUTLIER_OFFSET - 0.003);
      if (c.ok) expect(Math.abs(c.price / market.pstrPrice(t) - 1)).toBeLessThan(0.003);
    }
    expect(outlierMinutes).toBe(10);
  });

  it('raises no outlier at all when outliers are turned off', async () => {
    const { read } = atClock({ outlierEveryMinutes: 0 });
    for (let minute = 0; minute < 60; minute++) {
      const t = ORIGIN + minute * MIN + 30_000;
      expect(computeConsensus(await read(t), t, params).outliers).toEqual([]);
    }
  });

  it('refuses options that would break the simulation, naming them', () => {
    expect(() => paperOracleSources(market, () => ORIGIN, { outlierEveryMinutes: 2.5 })).toThrow(/outlierEveryMinutes .* 2\.5/);
    expect(() => paperOracleSources(market, () => ORIGIN, { noise: 0.2 })).toThrow(/noise .* 0\.2/);
  });

  it('rejects (never throws) with the source named when the clock is broken', async () => {
    const [pyth] = paperOracleSources(market, () => NaN);
    await expect(pyth?.read()).rejects.toThrow(/^pyth: .*t must be finite/);
  });
});

describe('paperMarketData', () => {
  it('reports the market prices at the clock and its volume', async () => {
    const t = ORIGIN + 90 * MIN;
    const data = paperMarketData(market, () => t);
    expect(await data.pumpPrice()).toBe(market.pumpPrice(t));
    expect(await data.solPrice()).toBe(market.solPrice(t));
    expect(await data.volumeUsd(t - 5 * MIN, t)).toBe(market.volumeUsd(t - 5 * MIN, t));
    await expect(data.volumeUsd(t, t - 1)).rejects.toThrow(/volume: .*before fromMs/);
  });
});

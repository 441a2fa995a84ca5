import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config.ts';
import { tierFor } from '../domain/intervention.ts';
import { drawdown, vwapOf } from '../domain/vwap.ts';
import { historySamples } from './history.ts';
import { demoDrawdown, hash01, SimulatedMarket } from './market.ts';

const ORIGIN = Date.UTC(2025, 5, 1, 12);
const DAY = 86_400_000;
const MIN = 60_000;

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const originArb = fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) });
const offsetArb = fc.integer({ min: -60 * DAY, max: 60 * DAY });

describe('SimulatedMarket determinism', () => {
  it('gives the same prices for the same seed and time, whatever order they are asked in', () => {
    fc.assert(fc.property(seedArb, originArb, fc.array(offsetArb, { minLength: 1, maxLength: 40 }), (seed, origin, offsets) => {
      const times = offsets.map((o) => origin + o);
      const drawdown = demoDrawdown(origin + 60_000);
      const forward = new SimulatedMarket({ seed, originMs: origin, drawdown });
      const backward = new SimulatedMarket({ seed, originMs: origin, drawdown });
      const ask = (m: SimulatedMarket, t: number) => [m.pstrPrice(t), m.pumpPrice(t), m.solPrice(t), m.volumeUsd(t - 300_000, t)];
      const first = times.map((t) => ask(forward, t));
      const second = [...times].reverse().map((t) => ask(backward, t)).reverse();
      const again = times.map((t) => ask(forward, t));
      expect(second).toEqual(first);
      expect(again).toEqual(first);
    }), { numRuns: 50 });
  });

  it('gives different paths for different seeds', () => {
    const a = new SimulatedMarket({ seed: 1, originMs: ORIGIN });
    const b = new SimulatedMarket({ seed: 2, originMs: ORIGIN });
    expect(a.pstrPrice(ORIGIN + 3 * 3_600_000)).not.toBe(b.pstrPrice(ORIGIN + 3 * 3_600_000));
  });

  it('hashes the same words to the same number in [0, 1), and nearby words to different ones', () => {
    fc.assert(fc.property(fc.array(fc.integer(), { maxLength: 5 }), (words) => {
      const h = hash01(...words);
      expect(h).toBe(hash01(...words));
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(1);
    }));
    expect(hash01(7, 1, 0)).not.toBe(hash01(7, 1, 1));
    expect(hash01(7, 2 ** 40)).not.toBe(hash01(7, 2 ** 41));
  });
});

describe('SimulatedMarket base paths', () => {
  it('keeps every price within its wiggle of its starting level (PSTR 1.2 %, PUMP 1.5 %, SOL 1 % in log terms)', () => {
    fc.assert(fc.property(seedArb, originArb, offsetArb, (seed, origin, offset) => {
      const m = new SimulatedMarket({ seed, originMs: origin });
      const t = origin + offset;
      expect(Math.abs(Math.log(m.pstrPrice(t) / 0.0002))).toBeLessThanOrEqual(0.012 + 1e-12);
      expect(Math.abs(Math.log(m.pumpPrice(t) / 0.005))).toBeLessThanOrEqual(0.015 + 1e-12);
      expect(Math.abs(Math.log(m.solPrice(t) / 150))).toBeLessThanOrEqual(0.01 + 1e-12);
    }));
  });

  it('never comes near the 15 % trigger without a drawdown: the seeded month stays within 2 % of its VWAP', () => {
    fc.assert(fc.property(seedArb, originArb, (seed, origin) => {
      const market = new SimulatedMarket({ seed, originMs: origin });
      const samples = historySamples({ treasuryId: 't', market, nowMs: origin + 10 * DAY });
      const vwap = vwapOf(samples.map((s) => ({ timestamp: s.timestamp, price: s.pstrPrice, volume: s.pstrVolume })), origin + 10 * DAY);
      const worst = Math.max(...samples.map((s) => Math.abs(drawdown(s.pstrPrice, vwap?.vwap ?? NaN))));
      expect(worst).toBeLessThan(0.02);
    }), { numRuns: 10 });
  });

  it('uses the configured starting levels', () => {
    const m = new SimulatedMarket({ seed: 3, originMs: ORIGIN, pstr0: 1, pump0: 2, sol0: 3 });
    const standard = new SimulatedMarket({ seed: 3, originMs: ORIGIN });
    expect(m.pstrPrice(ORIGIN + 5 * MIN) / 1).toBeCloseTo(standard.pstrPrice(ORIGIN + 5 * MIN) / 0.0002, 12);
    expect(Math.abs(Math.log(m.pstrPrice(ORIGIN)))).toBeLessThanOrEqual(0.012);
    expect(Math.abs(Math.log(m.pumpPrice(ORIGIN) / 2))).toBeLessThanOrEqual(0.015);
    expect(Math.abs(Math.log(m.solPrice(ORIGIN) / 3))).toBeLessThanOrEqual(0.01);
  });
});

describe('SimulatedMarket drawdown envelope', () => {
  const d = { startMs: ORIGIN + MIN, depth: 0.2, rampSeconds: 60, holdSeconds: 600, recoverSeconds: 300 };
  const withDrop = new SimulatedMarket({ seed: 9, originMs: ORIGIN, drawdown: d });
  const without = new SimulatedMarket({ seed: 9, originMs: ORIGIN });
  const factor = (t: number) => withDrop.pstrPrice(t) / without.pstrPrice(t);

  it('leaves the price untouched before the start and after the recovery', () => {
    expect(factor(d.startMs - 1)).toBe(1);
    expect(factor(d.startMs)).toBe(1);
    expect(factor(d.startMs + (60 + 600 + 300) * 1000)).toBe(1);
    expect(factor(d.startMs + 10 * DAY)).toBe(1);
  });

  it('falls linearly over the ramp: half the depth half-way, the full depth at its end', () => {
    expect(factor(d.startMs + 30_000)).toBeCloseTo(1 - 0.2 / 2, 12);
    expect(factor(d.startMs + 60_000)).toBeCloseTo(0.8, 12);
  });

  it('holds the full depth, then recovers linearly', () => {
    expect(factor(d.startMs + 60_000 + 599_999)).toBeCloseTo(0.8, 12);
    expect(factor(d.startMs + 660_000 + 150_000)).toBeCloseTo(0.9, 12);
  });

  it('does not touch PUMP, SOL or the volume', () => {
    const t = d.startMs + 120_000;
    expect(withDrop.pumpPrice(t)).toBe(without.pumpPrice(t));
    expect(withDrop.solPrice(t)).toBe(without.solPrice(t));
    expect(withDrop.volumeUsd(t - MIN, t)).toBe(without.volumeUsd(t - MIN, t));
  });

  it('lands between 15 % and 20 % below the 30-day VWAP of the seeded history all through the hold: a tier-1 drawdown', () => {
    const tiers = defaultConfig().strategy.tiers;
    fc.assert(fc.property(seedArb, originArb, (seed, origin) => {
      const start = origin + MIN;
      const market = new SimulatedMarket({ seed, originMs: origin, drawdown: demoDrawdown(start) });
      const samples = historySamples({ treasuryId: 't', market, nowMs: start });
      const reading = vwapOf(samples.map((s) => ({ timestamp: s.timestamp, price: s.pstrPrice, volume: s.pstrVolume })), start);
      expect(reading?.historyMs).toBeGreaterThan(29 * DAY);
      const vwap = reading?.vwap ?? NaN;
      for (let t = start + 60_000; t < start + 60_000 + 1_800_000; t += 15_000) {
        const dd = drawdown(market.pstrPrice(t), vwap);
        expect(dd).toBeGreaterThanOrEqual(0.15);
        expect(dd).toBeLessThan(0.2);
        expect(tierFor(dd, tiers)?.fraction).toBe(0.1);
      }
    }), { numRuns: 25 });
  });

  it('refuses a drawdown deeper than everything, naming the field', () => {
    expect(() => new SimulatedMarket({ seed: 1, originMs: ORIGIN, drawdown: { ...d, depth: 1.2 } })).toThrow(/drawdown\.depth .* 1\.2/);
    expect(() => new SimulatedMarket({ seed: 1, originMs: ORIGIN, drawdown: { ...d, rampSeconds: -1 } })).toThrow(/drawdown\.rampSeconds/);
    expect(() => new SimulatedMarket({ seed: 1.5, originMs: ORIGIN })).toThrow(/seed .* 1\.5/);
    expect(() => new SimulatedMarket({ seed: 1, originMs: ORIGIN, pstr0: 0 })).toThrow(/pstr0 .* 0/);
  });
});

describe('SimulatedMarket volume', () => {
  const m = new SimulatedMarket({ seed: 5, originMs: ORIGIN });

  it('is never negative and adds up: volume(a, b) + volume(b, c) = volume(a, c)', () => {
    fc.assert(fc.property(offsetArb, fc.nat(5 * DAY), fc.nat(5 * DAY), (o, x, y) => {
      const a = ORIGIN + o;
      const v1 = m.volumeUsd(a, a + x);
      const v2 = m.volumeUsd(a + x, a + x + y);
      expect(v1).toBeGreaterThanOrEqual(0);
      expect(v2).toBeGreaterThanOrEqual(0);
      expect(v1 + v2).toBeCloseTo(m.volumeUsd(a, a + x + y), 6);
    }));
  });

  it('is zero over an empty interval and refuses one that runs backwards', () => {
    expect(m.volumeUsd(ORIGIN, ORIGIN)).toBe(0);
    expect(() => m.volumeUsd(ORIGIN, ORIGIN - 1)).toThrow(/toMs .* before fromMs/);
  });

  it('matches a numerical integral of its per-minute rate', () => {
    const from = ORIGIN + 7 * 3_600_000;
    const to = from + 6 * 3_600_000;
    let riemann = 0;
    for (let t = from; t < to; t += 1000) riemann += (m.volumeRatePerMinute(t + 500) * 1000) / MIN;
    expect(m.volumeUsd(from, to) / riemann).toBeCloseTo(1, 6);
  });

  it('trades about volumeUsdPerDay in a day, with the rate always positive', () => {
    expect(m.volumeUsd(ORIGIN, ORIGIN + DAY) / 60_000).toBeCloseTo(1, 1);
    for (let t = ORIGIN; t < ORIGIN + DAY; t += 7 * MIN) expect(m.volumeRatePerMinute(t)).toBeGreaterThan(0.19 * (60_000 / 1440));
  });
});

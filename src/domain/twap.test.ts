import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { defaultConfig } from '../config-schema.ts';
import { timeWeightedPrice, twapParams, type PriceSample, type TwapParams } from './twap.ts';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const S = 1000;
const params: TwapParams = { windowMs: 1800 * S, minCoverage: 0.6, maxGapMs: 900 * S };

/** Samples every `everyS` seconds from `fromS` seconds before now up to now, all at the given price function. */
function series(fromS: number, everyS: number, priceAt: (i: number) => number): PriceSample[] {
  const out: PriceSample[] = [];
  for (let i = 0, t = -fromS; t <= 0; i++, t += everyS) out.push({ at: NOW + t * S, price: priceAt(i) });
  return out;
}

describe('twapParams', () => {
  it('takes the window, coverage and gap limits from config.oracle.dex in ms', () => {
    expect(twapParams(defaultConfig())).toEqual({ windowMs: 1_800_000, minCoverage: 0.6, maxGapMs: 900_000 });
  });
});

describe('timeWeightedPrice', () => {
  it('takes the geometric, time-weighted mean: 1 for half the window then 4 gives 2 (hand-computed)', () => {
    // μ = (ln 1·900 + ln 4·900) / 1800 = ln 2 → e^μ = 2; σ = ln 2 (each half is ln 2 from the mean).
    const r = timeWeightedPrice([{ at: NOW - 1800 * S, price: 1 }, { at: NOW - 900 * S, price: 4 }], NOW, params);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.price).toBeCloseTo(2, 12);
      expect(r.logStdDev).toBeCloseTo(Math.LN2, 12);
      expect(r.coverage).toBe(1);
      expect(r.largestGapMs).toBe(900 * S);
    }
  });

  it('weighs each price by how long it held, not by how many samples it has', () => {
    // 2 held 1500 s, 8 held 300 s: μ = (1500 ln 2 + 300 ln 8)/1800 = (1500 + 900) ln 2 / 1800 = (4/3) ln 2.
    const samples = [
      { at: NOW - 1800 * S, price: 2 },
      { at: NOW - 300 * S, price: 8 },
      { at: NOW - 200 * S, price: 8 },
      { at: NOW - 100 * S, price: 8 },
    ];
    const r = timeWeightedPrice(samples, NOW, { ...params, maxGapMs: 1800 * S });
    expect(r.ok && r.price).toBeCloseTo(2 ** (4 / 3), 12);
  });

  it('carries the last sample before the window into it, clipped at the window start', () => {
    // 10 from long before the window holds until now − 600 s, then 10·e: μ = (1200·ln10 + 600·(ln10+1))/1800 = ln10 + 1/3.
    const r = timeWeightedPrice([{ at: NOW - 7200 * S, price: 10 }, { at: NOW - 1000 * S, price: 10 }, { at: NOW - 600 * S, price: 10 * Math.E }], NOW, params);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.price).toBeCloseTo(10 * Math.exp(1 / 3), 10);
      expect(r.from).toBe(NOW - 1800 * S);
      expect(r.largestGapMs).toBe(800 * S);
    }
  });

  it('ignores samples stamped after now', () => {
    const base = series(1800, 300, () => 5);
    const r = timeWeightedPrice([...base, { at: NOW + 10 * S, price: 500 }], NOW, params);
    expect(r.ok && r.price).toBeCloseTo(5, 12);
  });

  it('reports no samples when there is nothing at or before now', () => {
    const r = timeWeightedPrice([{ at: NOW + S, price: 1 }], NOW, params);
    expect(r).toMatchObject({ ok: false, reason: 'no samples' });
  });

  it('accepts a gap of exactly maxGapSeconds and refuses one a millisecond longer', () => {
    const atLimit = [{ at: NOW - 1800 * S, price: 1 }, { at: NOW - 900 * S, price: 1 }, { at: NOW, price: 1 }];
    expect(timeWeightedPrice(atLimit, NOW, params).ok).toBe(true);
    const beyond = [{ at: NOW - 1800 * S, price: 1 }, { at: NOW - 900 * S + 1, price: 1 }, { at: NOW, price: 1 }];
    const r = timeWeightedPrice(beyond, NOW, params);
    expect(r).toMatchObject({ ok: false, reason: 'gap', largestGapMs: 900 * S + 1 });
    if (!r.ok) expect(r.detail).toBe('900.001 s without a sample inside the 1800 s window; limit 900 s');
  });

  it('counts the tail from the last sample to now as a gap, so a stale series is refused', () => {
    const r = timeWeightedPrice(series(1800, 300, () => 1).filter((s) => s.at <= NOW - 901 * S), NOW, params);
    expect(r).toMatchObject({ ok: false, reason: 'gap' });
  });

  it('accepts coverage of exactly minCoverage and refuses anything less', () => {
    // 0.6 of 1800 s = 1080 s.
    const exactly = series(1080, 360, () => 3);
    const r = timeWeightedPrice(exactly, NOW, params);
    expect(r.ok && r.coverage).toBe(0.6);
    const less = series(1079, 359.666, () => 3);
    const r2 = timeWeightedPrice(less, NOW, params);
    expect(r2).toMatchObject({ ok: false, reason: 'insufficient coverage' });
    if (!r2.ok) expect(r2.detail).toBe('samples cover 59.94 % of the 1800 s window; need 60 %');
  });

  it('refuses a single sample at now: zero duration is not an average, even with minCoverage 0', () => {
    const r = timeWeightedPrice([{ at: NOW, price: 7 }], NOW, { ...params, minCoverage: 0 });
    expect(r).toMatchObject({ ok: false, reason: 'insufficient coverage', coverage: 0 });
  });

  it('refuses bad samples and parameters, naming the field and the value', () => {
    expect(() => timeWeightedPrice([{ at: NOW, price: 1 }, { at: NOW, price: -2 }], NOW, params)).toThrow('twap: samples[1].price = -2 must be a positive finite number');
    expect(() => timeWeightedPrice([{ at: Number.NaN, price: 1 }], NOW, params)).toThrow(/samples\[0\].at = NaN/);
    expect(() => timeWeightedPrice([], NOW, { ...params, windowMs: 0 })).toThrow(/windowMs = 0/);
    expect(() => timeWeightedPrice([], NOW, { ...params, minCoverage: 1.5 })).toThrow(/minCoverage = 1.5/);
  });

  const priceArb = fc.double({ min: 1e-6, max: 1e6, noNaN: true });
  const denseSeries = fc.array(priceArb, { minLength: 8, maxLength: 40 }).map((prices) =>
    prices.map((price, i) => ({ at: NOW - Math.round((1800 * S * (prices.length - 1 - i)) / (prices.length - 1)), price })),
  );

  it('lies between the lowest and the highest price used (property)', () => {
    fc.assert(
      fc.property(denseSeries, (samples) => {
        const r = timeWeightedPrice(samples, NOW, params);
        if (!r.ok) return;
        const prices = samples.map((s) => s.price);
        expect(r.price).toBeGreaterThanOrEqual(Math.min(...prices) * (1 - 1e-12));
        expect(r.price).toBeLessThanOrEqual(Math.max(...prices) * (1 + 1e-12));
      }),
    );
  });

  it('scales with the prices: k times every price gives k times the TWAP (property)', () => {
    fc.assert(
      fc.property(denseSeries, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (samples, k) => {
        const a = timeWeightedPrice(samples, NOW, params);
        const b = timeWeightedPrice(samples.map((s) => ({ ...s, price: s.price * k })), NOW, params);
        expect(a.ok && b.ok).toBe(true);
        if (a.ok && b.ok) {
          expect(b.price / (a.price * k)).toBeCloseTo(1, 9);
          expect(b.logStdDev).toBeCloseTo(a.logStdDev, 9);
        }
      }),
    );
  });

  it('does not depend on the order the samples arrive in (property)', () => {
    fc.assert(
      fc.property(denseSeries, fc.integer(), (samples, seed) => {
        const shuffled = [...samples].sort((x, y) => ((x.at * 31 + seed) % 97) - ((y.at * 31 + seed) % 97));
        expect(timeWeightedPrice(shuffled, NOW, params)).toEqual(timeWeightedPrice(samples, NOW, params));
      }),
    );
  });

  it('a constant price gives back that price with zero dispersion (property)', () => {
    fc.assert(
      fc.property(priceArb, fc.integer({ min: 2, max: 30 }), (p, n) => {
        const r = timeWeightedPrice(series(1800, 1800 / n, () => p), NOW, params);
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(r.price / p).toBeCloseTo(1, 12);
          expect(r.logStdDev).toBeLessThan(1e-9);
        }
      }),
    );
  });
});

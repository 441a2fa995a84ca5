import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { HEALTH_LEVELS, diversification, healthLevel, healthRank, healthScore } from './health.ts';
import type { HealthLevel } from './health.ts';

describe('diversification', () => {
  it('is 0 for a treasury all in one asset class', () => {
    expect(diversification([900_000, 0, 0, 0])).toBe(0);
  });

  it('is 1 for an even split over the four classes', () => {
    expect(diversification([250, 250, 250, 250])).toBe(1);
  });

  it('is 0 for an empty treasury', () => {
    expect(diversification([0, 0, 0, 0])).toBe(0);
  });

  it('counts the classes the treasury can hold, not only those it holds (hand-computed)', () => {
    // Half PUMP, half USDC, over n = 4: Σs² = 0.5, (1 − 0.5)/(1 − 0.25) = 2/3
    expect(diversification([500, 500, 0, 0])).toBeCloseTo(2 / 3, 12);
    // Same split over n = 2 is perfectly even
    expect(diversification([500, 500])).toBe(1);
  });

  it('stays at 1 for a near-even split where the raw formula rounds to 1.0000000000000002', () => {
    expect(diversification([309056.6454746107, 309056.64547461073])).toBe(1);
  });

  it('refuses fewer than two classes and negative values, naming them', () => {
    expect(() => diversification([100])).toThrow(/at least 2 asset classes \(got 1\)/);
    expect(() => diversification([100, -1, 0, 0])).toThrow(/classValuesUsd\[1\] = -1/);
  });

  it('always lies in [0, 1]', () => {
    const values = fc.array(fc.double({ min: 0, max: 1e12, noNaN: true }), { minLength: 2, maxLength: 8 });
    fc.assert(
      fc.property(values, (v) => {
        const d = diversification(v);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('depends only on the shares: scaling every value leaves it unchanged', () => {
    const values = fc.array(fc.double({ min: 1, max: 1e9, noNaN: true }), { minLength: 2, maxLength: 8 });
    fc.assert(
      fc.property(values, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (v, k) => {
        expect(diversification(v.map((x) => x * k))).toBeCloseTo(diversification(v), 9);
      }),
    );
  });
});

describe('healthScore', () => {
  it('weighs reserve ratio, capacity and diversification 0.333/0.333/0.334 (hand-computed)', () => {
    // 3·0.333 + 1·0.333 + 0.5·0.334 = 0.999 + 0.333 + 0.167 = 1.499
    expect(healthScore({ reserveRatio: 3, interventionCapacity: 1, diversification: 0.5 })).toBeCloseTo(1.499, 12);
  });

  it('is unbounded (excellent) when no PSTR float is left and the reserve ratio is infinite', () => {
    const score = healthScore({ reserveRatio: Number.POSITIVE_INFINITY, interventionCapacity: 1, diversification: 0 });
    expect(score).toBe(Number.POSITIVE_INFINITY);
    expect(healthLevel(score)).toBe('excellent');
  });

  it('refuses out-of-range inputs, naming the field', () => {
    expect(() => healthScore({ reserveRatio: -1, interventionCapacity: 0, diversification: 0 })).toThrow(/reserveRatio = -1/);
    expect(() => healthScore({ reserveRatio: 1, interventionCapacity: 1.2, diversification: 0 })).toThrow(/interventionCapacity = 1.2/);
    expect(() => healthScore({ reserveRatio: 1, interventionCapacity: 0, diversification: Number.NaN })).toThrow(/diversification = NaN/);
  });
});

describe('healthLevel', () => {
  const cases: [number, HealthLevel][] = [
    [1.5, 'excellent'],
    [1.4999, 'good'],
    [1.0, 'good'],
    [0.9999, 'moderate'],
    [0.8, 'moderate'],
    [0.7999, 'poor'],
    [0.6, 'poor'],
    [0.5999, 'critical'],
    [0, 'critical'],
  ];
  it.each(cases)('rates a score of %s as %s', (score, level) => {
    expect(healthLevel(score)).toBe(level);
  });

  it('refuses NaN', () => {
    expect(() => healthLevel(Number.NaN)).toThrow(/score = NaN/);
  });

  it('never rates a higher score lower', () => {
    fc.assert(
      fc.property(fc.double({ min: -1, max: 5, noNaN: true }), fc.double({ min: -1, max: 5, noNaN: true }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(healthRank(healthLevel(hi))).toBeGreaterThanOrEqual(healthRank(healthLevel(lo)));
      }),
    );
  });
});

describe('healthRank', () => {
  it('ranks critical 0 up to excellent 4, worst to best as HEALTH_LEVELS lists them', () => {
    expect(HEALTH_LEVELS.map(healthRank)).toEqual([0, 1, 2, 3, 4]);
    expect(healthRank('critical')).toBe(0);
    expect(healthRank('excellent')).toBe(4);
    expect(healthRank('good')).toBeGreaterThan(healthRank('moderate'));
  });
});

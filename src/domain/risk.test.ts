import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { defaultConfig } from '../config-schema.ts';
import {
  annualizedVolatility,
  historicalValues,
  logReturns,
  marketRiskLevel,
  quantileType7,
  sampleStdev,
  simpleReturns,
  valueAtRisk,
} from './risk.ts';

const MIN_RETURNS = defaultConfig().risk.minReturnsForVar;

describe('quantileType7', () => {
  // numpy is not installed here; the expected values follow numpy.quantile's default (linear, R type 7):
  // h = (n − 1)·p, q = v[⌊h⌋] + (h − ⌊h⌋)·(v[⌊h⌋ + 1] − v[⌊h⌋]) on the sorted values.
  const oneToTen = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  it('matches numpy.quantile([1..10], 0.05) = 1.45', () => {
    // h = 9·0.05 = 0.45 → 1 + 0.45·(2 − 1) = 1.45
    expect(quantileType7(oneToTen, 0.05)).toBeCloseTo(1.45, 12);
  });

  it('matches numpy.quantile([1..10], 0.9) = 9.1', () => {
    // h = 9·0.9 = 8.1 → 9 + 0.1·(10 − 9) = 9.1
    expect(quantileType7(oneToTen, 0.9)).toBeCloseTo(9.1, 12);
  });

  it('gives the mean of the middle two as the 0.5 quantile of an even count', () => {
    // h = 4.5 → 5 + 0.5·1 = 5.5
    expect(quantileType7(oneToTen, 0.5)).toBe(5.5);
  });

  it('sorts unsorted input: numpy.quantile([3,1,4,1,5,9,2,6], 0.25) = 1.75', () => {
    // sorted [1,1,2,3,4,5,6,9]; h = 7·0.25 = 1.75 → 1 + 0.75·(2 − 1) = 1.75
    expect(quantileType7([3, 1, 4, 1, 5, 9, 2, 6], 0.25)).toBe(1.75);
  });

  it('returns the common value exactly when all values are equal, despite rounding', () => {
    // Unclamped, (1 − 0.2)·(−0.1) + 0.2·(−0.1) rounds to −0.10000000000000002 (h = 4·0.05 = 0.2).
    expect(quantileType7([-0.1, -0.1, -0.1, -0.1, -0.1], 0.05)).toBe(-0.1);
  });

  it('returns the minimum at p = 0 and the maximum at p = 1', () => {
    expect(quantileType7([5, -2, 7], 0)).toBe(-2);
    expect(quantileType7([5, -2, 7], 1)).toBe(7);
  });

  it('refuses an empty list, p outside [0, 1], and non-finite values', () => {
    expect(() => quantileType7([], 0.5)).toThrow(/empty/);
    expect(() => quantileType7([1, 2], 1.01)).toThrow(/p = 1.01/);
    expect(() => quantileType7([1, 2], -0.1)).toThrow(/p = -0.1/);
    expect(() => quantileType7([1, 2], Number.NaN)).toThrow(/p = NaN/);
    expect(() => quantileType7([1, Number.POSITIVE_INFINITY], 0.5)).toThrow(/values\[1\] = Infinity/);
  });

  it('stays between the minimum and maximum for any p', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1 }), fc.double({ min: 0, max: 1, noNaN: true }), (values, p) => {
        const q = quantileType7(values, p);
        expect(q).toBeGreaterThanOrEqual(Math.min(...values) - 1e-9);
        expect(q).toBeLessThanOrEqual(Math.max(...values) + 1e-9);
      }),
    );
  });
});

describe('returns', () => {
  it('computes simple returns v[i]/v[i−1] − 1', () => {
    const r = simpleReturns([100, 110, 99]);
    expect(r[0]).toBeCloseTo(0.1, 12);
    expect(r[1]).toBeCloseTo(-0.1, 12);
    expect(r).toHaveLength(2);
  });

  it('computes log returns ln(v[i]/v[i−1])', () => {
    const r = logReturns([100, 200, 50]);
    expect(r[0]).toBeCloseTo(Math.LN2, 12);
    expect(r[1]).toBeCloseTo(-2 * Math.LN2, 12);
  });

  it('has no returns for fewer than two values', () => {
    expect(simpleReturns([100])).toEqual([]);
    expect(logReturns([])).toEqual([]);
  });

  it('refuses a zero or negative value and names its index', () => {
    expect(() => simpleReturns([100, 0, 50])).toThrow(/values\[1\] = 0/);
    expect(() => logReturns([100, -5])).toThrow(/values\[1\] = -5/);
  });
});

describe('historicalValues', () => {
  it("prices today's holdings on each past day", () => {
    const values = historicalValues({ PUMP: 1000, USDC: 500 }, [
      { PUMP: 0.01, USDC: 1 },
      { PUMP: 0.012, USDC: 1 },
    ]);
    // 1000·0.01 + 500 = 510; 1000·0.012 + 500 = 512
    expect(values[0]).toBeCloseTo(510, 9);
    expect(values[1]).toBeCloseTo(512, 9);
  });

  it('needs no price for an asset held at zero', () => {
    expect(historicalValues({ PUMP: 10, SOL: 0 }, [{ PUMP: 2 }])).toEqual([20]);
  });

  it('refuses a missing price, naming the asset and the day index', () => {
    expect(() => historicalValues({ PUMP: 10, SOL: 1 }, [{ PUMP: 2, SOL: 150 }, { PUMP: 2 }])).toThrow('no price for SOL on day index 1');
  });

  it('refuses a negative holding, naming the asset', () => {
    expect(() => historicalValues({ PUMP: -1 }, [])).toThrow(/holdings.PUMP = -1/);
  });
});

describe('valueAtRisk', () => {
  // 30 daily returns; sorted, the lowest are −0.10, −0.06, −0.04, −0.03, …
  const thirty = [
    0.01, -0.04, 0.02, 0.005, -0.1, 0.015, -0.01, 0.03, -0.02, 0.0, 0.012, -0.06, 0.008, 0.025, -0.015, 0.004, 0.018, -0.005, 0.022,
    0.001, -0.03, 0.011, 0.007, -0.008, 0.016, 0.003, -0.012, 0.009, 0.02, 0.006,
  ];

  it('computes VaR95 and ES95 on a 30-return series (hand-computed)', () => {
    // h = 29·0.05 = 1.45 → q = −0.06 + 0.45·(−0.04 − (−0.06)) = −0.051
    // VaR95 = 0.051·1,000,000 = 51,000; tail {−0.10, −0.06} → ES95 = 0.08·1,000,000 = 80,000
    const result = valueAtRisk(thirty, 1_000_000, MIN_RETURNS);
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    expect(result.quantile).toBeCloseTo(-0.051, 12);
    expect(result.var95).toBeCloseTo(51_000, 6);
    expect(result.es95).toBeCloseTo(80_000, 6);
    expect(result.returns).toBe(30);
  });

  it('reports insufficient history with 29 returns', () => {
    expect(valueAtRisk(thirty.slice(1), 1_000_000, MIN_RETURNS)).toEqual({ kind: 'insufficient history', returns: 29, needed: 30 });
  });

  it('refuses a negative value or a non-integer minimum', () => {
    expect(() => valueAtRisk(thirty, -1, 30)).toThrow(/currentValue = -1/);
    expect(() => valueAtRisk(thirty, 1, 2.5)).toThrow(/minReturns = 2.5/);
  });

  it('keeps ES equal to VaR, and finite, when every return is the same', () => {
    // A plain mean of five copies of x rounds to a hair above x, which would put ES below VaR.
    const x = -0.49220474133272085;
    const result = valueAtRisk([x, x, x, x, x], 1, 1);
    expect(result).toMatchObject({ kind: 'ok', quantile: x, var95: -x, es95: -x });
    const tenths = valueAtRisk([-0.1, -0.1, -0.1, -0.1, -0.1], 1000, 1);
    expect(tenths).toMatchObject({ kind: 'ok', var95: 100, es95: 100 });
  });

  // Ties are drawn often on purpose: equal returns are where rounding bites.
  const returnArb = fc.oneof(fc.double({ min: -0.9, max: 0.9, noNaN: true }), fc.constantFrom(-0.1, -0.49220474133272085, 0.3, 0.07));
  const returnsArb = fc.array(returnArb, { minLength: 1, maxLength: 60 });
  const valueArb = fc.double({ min: 0, max: 1e9, noNaN: true });

  it('never reports an ES smaller than the VaR', () => {
    fc.assert(
      fc.property(returnsArb, valueArb, (returns, value) => {
        const result = valueAtRisk(returns, value, 1);
        if (result.kind !== 'ok') throw new Error('expected a VaR');
        expect(result.es95).toBeGreaterThanOrEqual(result.var95);
      }),
    );
  });

  it('never lowers the VaR when the worst return gets worse', () => {
    fc.assert(
      fc.property(returnsArb, valueArb, fc.double({ min: 0, max: 1, noNaN: true }), (returns, value, worsening) => {
        const worst = returns.indexOf(Math.min(...returns));
        const worse = returns.map((r, i) => (i === worst ? r - worsening : r));
        const before = valueAtRisk(returns, value, 1);
        const after = valueAtRisk(worse, value, 1);
        if (before.kind !== 'ok' || after.kind !== 'ok') throw new Error('expected a VaR');
        expect(after.var95).toBeGreaterThanOrEqual(before.var95);
      }),
    );
  });
});

describe('annualizedVolatility', () => {
  it('is √365 × the sample stdev of daily log returns (hand-computed)', () => {
    // log returns +0.02 and −0.02: mean 0, sample variance (0.02² + 0.02²)/1 → stdev 0.02·√2; × √365 = 0.02·√730 ≈ 0.54037
    const prices = [100, 100 * Math.exp(0.02), 100];
    expect(annualizedVolatility(prices)).toBeCloseTo(0.02 * Math.sqrt(730), 10);
  });

  it('is null with fewer than two returns', () => {
    expect(annualizedVolatility([100, 110])).toBeNull();
    expect(annualizedVolatility([])).toBeNull();
  });

  it('is zero for a constant price', () => {
    expect(annualizedVolatility([5, 5, 5, 5])).toBe(0);
  });
});

describe('sampleStdev', () => {
  it('divides by n − 1: stdev of [2, 4, 4, 4, 5, 5, 7, 9] is √(32/7)', () => {
    // mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32
    expect(sampleStdev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });

  it('refuses fewer than two values', () => {
    expect(() => sampleStdev([1])).toThrow(/at least 2 values \(got 1\)/);
  });
});

describe('marketRiskLevel', () => {
  it('is low just under 0.5 and medium exactly at 0.5', () => {
    expect(marketRiskLevel(0.4999)).toBe('low');
    expect(marketRiskLevel(0.5)).toBe('medium');
  });

  it('is medium just under 1.0 and high exactly at 1.0', () => {
    expect(marketRiskLevel(0.9999)).toBe('medium');
    expect(marketRiskLevel(1.0)).toBe('high');
  });

  it('is high just under 1.5 and extreme exactly at 1.5', () => {
    expect(marketRiskLevel(1.4999)).toBe('high');
    expect(marketRiskLevel(1.5)).toBe('extreme');
  });

  it('is low for zero volatility and refuses a negative one', () => {
    expect(marketRiskLevel(0)).toBe('low');
    expect(() => marketRiskLevel(-0.1)).toThrow(/volatility = -0.1/);
  });
});

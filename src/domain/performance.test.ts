import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { compoundGrowth30d, isSuccess, maxDrawdown, sharpeRatio, successRate } from './performance.ts';
import type { InterventionOutcome } from './performance.ts';

describe('sharpeRatio', () => {
  // returns 0.01, −0.01, 0.02, 0.00: mean 0.005; squared deviations 2.5e-5 + 2.25e-4 + 2.25e-4 + 2.5e-5 = 5e-4;
  // sample variance 5e-4/3; mean/stdev = 0.005·√(3/5e-4) = √0.15
  const returns = [0.01, -0.01, 0.02, 0.0];

  it('annualizes mean/stdev by √365 by default (hand-computed √(0.15·365) = √54.75)', () => {
    expect(sharpeRatio(returns)).toBeCloseTo(Math.sqrt(54.75), 10);
  });

  it('annualizes by the given number of periods', () => {
    expect(sharpeRatio(returns, 252)).toBeCloseTo(Math.sqrt(0.15 * 252), 10);
  });

  it('is negative when the mean return is negative', () => {
    expect(sharpeRatio(returns.map((r) => -r))).toBeCloseTo(-Math.sqrt(54.75), 10);
  });

  it('is null with fewer than two returns', () => {
    expect(sharpeRatio([0.01])).toBeNull();
    expect(sharpeRatio([])).toBeNull();
  });

  it('is null when the returns do not vary, even where rounding would leave a tiny stdev', () => {
    expect(sharpeRatio([0.01, 0.01, 0.01])).toBeNull();
    expect(sharpeRatio([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])).toBeNull();
  });

  it('refuses a non-finite return or period count', () => {
    expect(() => sharpeRatio([0.01, Number.NaN])).toThrow(/dailyReturns\[1\] = NaN/);
    expect(() => sharpeRatio(returns, 0)).toThrow(/periodsPerYear = 0/);
  });
});

describe('maxDrawdown', () => {
  it('finds the largest peak-to-trough decline: [100,120,90,130,65] → 0.5', () => {
    // declines: 120 → 90 = 0.25; 130 → 65 = 0.5
    expect(maxDrawdown([100, 120, 90, 130, 65])).toBe(0.5);
  });

  it('is 0 for a rising series, a single value and no values', () => {
    expect(maxDrawdown([1, 2, 3])).toBe(0);
    expect(maxDrawdown([5])).toBe(0);
    expect(maxDrawdown([])).toBe(0);
  });

  it('is 1 when the value falls to zero', () => {
    expect(maxDrawdown([0, 10, 0])).toBe(1);
  });

  it('refuses a negative value, naming its index', () => {
    expect(() => maxDrawdown([10, -1])).toThrow(/values\[1\] = -1/);
  });

  it('always lies in [0, 1] and is at least the decline from the first value to the last below it', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 30 }), (values) => {
        const dd = maxDrawdown(values);
        expect(dd).toBeGreaterThanOrEqual(0);
        expect(dd).toBeLessThanOrEqual(1);
        const first = values[0] as number;
        const last = values[values.length - 1] as number;
        if (first > 0 && last < first) expect(dd).toBeGreaterThanOrEqual((first - last) / first - 1e-12);
      }),
    );
  });
});

describe('compoundGrowth30d', () => {
  it('rescales +21 % over 60 days to +10 % per 30 days', () => {
    // (121/100)^(30/60) − 1 = 1.1 − 1 = 0.1
    expect(compoundGrowth30d(100, 121, 60)).toBeCloseTo(0.1, 12);
  });

  it('scales +10 % over 15 days to +21 % per 30 days', () => {
    // 1.1^2 − 1 = 0.21
    expect(compoundGrowth30d(100, 110, 15)).toBeCloseTo(0.21, 12);
  });

  it('is −100 % when everything is lost', () => {
    expect(compoundGrowth30d(100, 0, 30)).toBe(-1);
  });

  it('is null when days ≤ 0 or the start value ≤ 0', () => {
    expect(compoundGrowth30d(100, 110, 0)).toBeNull();
    expect(compoundGrowth30d(100, 110, -3)).toBeNull();
    expect(compoundGrowth30d(0, 110, 30)).toBeNull();
  });

  it('refuses a negative end value', () => {
    expect(() => compoundGrowth30d(100, -5, 30)).toThrow(/endValue = -5/);
  });
});

describe('isSuccess', () => {
  it('is a success when executed with a 7-day ROI of exactly 0 or more', () => {
    expect(isSuccess({ executed: true, roi7d: 0 })).toBe(true);
    expect(isSuccess({ executed: true, roi7d: 0.12 })).toBe(true);
  });

  it('is not a success with a negative ROI, an unknown ROI, or no execution', () => {
    expect(isSuccess({ executed: true, roi7d: -0.0001 })).toBe(false);
    expect(isSuccess({ executed: true, roi7d: null })).toBe(false);
    expect(isSuccess({ executed: false, roi7d: null })).toBe(false);
  });
});

describe('successRate', () => {
  it('ignores executed interventions whose 7-day ROI is not known yet', () => {
    const outcomes: InterventionOutcome[] = [
      { executed: true, roi7d: 0.05 },
      { executed: true, roi7d: -0.02 },
      { executed: true, roi7d: null },
      { executed: true, roi7d: null },
    ];
    expect(successRate(outcomes)).toBe(0.5);
  });

  it('counts an intervention that never executed as a settled failure', () => {
    expect(successRate([{ executed: true, roi7d: 0.05 }, { executed: false, roi7d: null }])).toBe(0.5);
  });

  it('is null when nothing has settled', () => {
    expect(successRate([])).toBeNull();
    expect(successRate([{ executed: true, roi7d: null }])).toBeNull();
  });

  it('refuses a non-finite ROI, naming the outcome', () => {
    expect(() => successRate([{ executed: true, roi7d: Number.NaN }])).toThrow(/outcomes\[0\].roi7d = NaN/);
  });

  it('always lies in [0, 1] when defined', () => {
    const outcome = fc.record({ executed: fc.boolean(), roi7d: fc.option(fc.double({ min: -1, max: 1, noNaN: true })) });
    fc.assert(
      fc.property(fc.array(outcome), (outcomes) => {
        const rate = successRate(outcomes);
        if (rate === null) return;
        expect(rate).toBeGreaterThanOrEqual(0);
        expect(rate).toBeLessThanOrEqual(1);
      }),
    );
  });
});

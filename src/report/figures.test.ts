import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  bucketCycles, bucketWidthMs, chartSeries, mergeStats, operatorFigures, rangeAt,
  type CyclePoint, type FigureInputs, type LpPositionInput, type PoolPricePoint, type SnapshotPoint, type Stat,
} from './figures.ts';

const F = Date.UTC(2025, 2, 1); // 2025-03-01T00:00Z, the period's start
const MIN = 60_000;
const H = 3_600_000;
const D = 86_400_000;

// ── The recorded dataset (the store test records the same rows) ────────────

const snapshots: SnapshotPoint[] = [
  { at: F + 10 * MIN, valueUsd: 1000, reserveRatio: 2.0, health: 1.2 },
  { at: F + 50 * MIN, valueUsd: 1100, reserveRatio: 3.0, health: 1.6 },
  { at: F + D + H, valueUsd: 990, reserveRatio: 1.5, health: 0.9 },
  { at: F + 3 * D + 2 * H, valueUsd: 1210, reserveRatio: 2.5, health: 1.3 },
];

const cycles: CyclePoint[] = [
  { at: F + 10 * MIN, consensus: 100, vwap30: 110, readings: [{ source: 'pyth', price: 101 }, { source: 'switchboard', price: 98 }, { source: 'dex', price: 100 }] },
  { at: F + 50 * MIN, consensus: 130, vwap30: 120, readings: [{ source: 'pyth', price: 123.5 }, { source: 'switchboard', price: 132.6 }, { source: 'dex', price: 0 }] },
  { at: F + D + 30 * MIN, consensus: null, vwap30: null, readings: [{ source: 'pyth', price: 500 }] },
  { at: F + 3 * D + 2 * H, consensus: 121, vwap30: 60, readings: [{ source: 'pyth', price: 121 }, { source: 'switchboard', price: 127.05 }, { source: 'dex', price: 108.9 }] },
];

const poolPrices: PoolPricePoint[] = [
  { at: F + 5 * MIN, pstrUsd: 100, solUsd: null },
  { at: F + 10 * MIN, pstrUsd: 100, solUsd: 50 },
  { at: F + 50 * MIN, pstrUsd: 130, solUsd: 50 },
  { at: F + 3 * D + 2 * H, pstrUsd: 121, solUsd: 47.265625 },
];

const usdcPool: LpPositionInput = {
  pool: 'USDC/PSTR', quote: 'USDC', liquidity: 10, range: { lower: 81, upper: 121, center: 100 },
  // Opened at 100 (√ = 10, a = 9, b = 11): base = 10·(1/10 − 1/11) = 1/11, quote = 10·(10 − 9) = 10.
  entryBase: 1 / 11, entryQuote: 10, rebalances: 0, epochs: [{ since: null, range: { lower: 81, upper: 121, center: 100 } }],
};
const solPool: LpPositionInput = {
  pool: 'SOL/PSTR', quote: 'SOL', liquidity: 1, range: { lower: 2.25, upper: 3.24, center: 2.7 },
  // Re-centred at 2.89 (√ = 1.7, a = 1.5, b = 1.8): base = 1/1.7 − 1/1.8 = 0.1/3.06 = 5/153, quote = 1.7 − 1.5 = 0.2.
  entryBase: 5 / 153, entryQuote: 0.2, rebalances: 1,
  epochs: [{ since: null, range: { lower: 1.8, upper: 2.2, center: 2 } }, { since: F + H, range: { lower: 2.25, upper: 3.24, center: 2.7 } }],
};

const params = { dailyBudgetUsd: 2400, hourlyBudgetUsd: 100, minReturnsForVar: 4, volatilityWindowDays: 3 };

function inputs(over: Partial<FigureInputs> = {}, bucketMs = H): FigureInputs {
  const positions = [usdcPool, solPool];
  return {
    from: F,
    to: F + 3 * D + 12 * H,
    buckets: bucketCycles({ snapshots, cycles, poolPrices }, positions, { from: F, bucketMs }),
    dailyValues: [{ day: '2025-03-01', value: 1100 }, { day: '2025-03-02', value: 990 }, { day: '2025-03-04', value: 1210 }],
    closes: [1.0, 1.1, 1.0, 0.9, 1.0, 0.8].map((pump, i) => ({ day: `2025-02-${20 + i}`, pump, sol: null, pstr: i % 2 === 0 ? 1 : Math.exp(0.1) })),
    holdings: { pump: 1000, usdc: 100, sol: 0 },
    interventions: [
      { id: 'i/0', status: 'executed', startedAt: F - D, executedAt: F - D, price: 1, vwap30: 1.3, drawdown: 0.23, usdValue: 10, roi7d: -0.5 },
      { id: 'i/1', status: 'executed', startedAt: F + H, executedAt: F + H, price: 100, vwap30: 125, drawdown: 0.2, usdValue: 50, roi7d: 0.1 },
      { id: 'i/2', status: 'executed', startedAt: F + 2 * H, executedAt: F + 2 * H, price: 100, vwap30: 125, drawdown: 0.2, usdValue: 50, roi7d: -0.05 },
      { id: 'i/3', status: 'invalidated', startedAt: F + D, executedAt: null, price: 100, vwap30: 125, drawdown: 0.2, usdValue: null, roi7d: null },
      { id: 'i/4', status: 'executed', startedAt: F + 3 * D, executedAt: F + 3 * D, price: 100, vwap30: 125, drawdown: 0.2, usdValue: 50, roi7d: null },
    ],
    accumulation: [
      { at: F + H, bought: true, usdSpent: null, skip: null },
      { at: F + 2 * H, bought: true, usdSpent: 99.5, skip: null },
      { at: F + 3 * H, bought: false, usdSpent: null, skip: 'usdc' },
      { at: F + 3 * D + H, bought: true, usdSpent: null, skip: null },
      { at: F + 3 * D + 2 * H, bought: false, usdSpent: null, skip: 'concentration' },
      { at: F + 3 * D + 3 * H, bought: true, usdSpent: 100, skip: null },
    ],
    positions,
    latestPrices: poolPrices[3] as PoolPricePoint,
    ...over,
  };
}

describe('operatorFigures on the small recorded dataset', () => {
  const f = operatorFigures(inputs(), params);

  it('counts the interventions started in the period and their success rate', () => {
    // i/0 started before the period. Settled: i/1 (ROI +0.10, success), i/2 (−0.05), i/3 (invalidated): 1/3.
    // i/4 executed but its 7-day ROI is not known yet: left out, counted as awaiting.
    expect(f.interventions).toEqual({ count: 4, byStatus: { executed: 3, invalidated: 1 }, successRate: 1 / 3, awaitingRoi: 1 });
  });

  it('computes growth, Sharpe and max drawdown from the daily treasury values', () => {
    // Values 1100 (03-01), 990 (03-02), 1210 (03-04). Growth over 3 calendar days (03-03 is missing):
    // (1210/1100)^(30/3) − 1 = 1.1^10 − 1 = 1.5937424601.
    expect(f.performance.growth30d).toBeCloseTo(1.5937424601, 9);
    // Returns −1/10 and 2/9 (1210/990 = 11/9): mean 11/180, deviations ∓29/180, sample sd = 29√2/180,
    // Sharpe = (11/180)/(29√2/180)·√365 = (11/29)·√182.5 = 0.3793103 × 13.509256 = 5.124201…
    expect(f.performance.sharpe).toBeCloseTo((11 * Math.sqrt(365)) / (29 * Math.SQRT2), 9);
    expect(f.performance.sharpe).toBeCloseTo(5.124201, 5);
    // Peak 1100 → trough 990: 110/1100.
    expect(f.performance.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(f.performance.valueDays).toBe(3);
  });

  it('computes VaR95 and ES95 from today’s holdings priced on each close', () => {
    // 1000 PUMP + 100 USDC at PUMP 1.0, 1.1, 1.0, 0.9, 1.0, 0.8 → 1100, 1200, 1100, 1000, 1100, 900.
    // Returns 1/11, −1/12, −1/11, 1/10, −2/11; sorted −2/11, −1/11, −1/12, 1/11, 1/10.
    // Type 7: h = 4·0.05 = 0.2 → q = −2/11 + 0.2·(−1/11 + 2/11) = −1.8/11.
    // VaR = 1.8/11 · 900 = 147.2727…; the tail (≤ q) is −2/11 alone: ES = 2/11 · 900 = 163.6363…
    const v = f.risk.var;
    expect(v.kind).toBe('ok');
    if (v.kind !== 'ok') return;
    expect(v.quantile).toBeCloseTo(-1.8 / 11, 12);
    expect(v.var95).toBeCloseTo(147.272727, 5);
    expect(v.es95).toBeCloseTo(163.636364, 5);
    expect(v.returns).toBe(5);
  });

  it('takes PSTR volatility over the last window of closes and grades it', () => {
    // Window 3 days → last 4 closes: 1, e^0.1, 1, e^0.1; log returns 0.1, −0.1, 0.1; mean 1/30,
    // deviations 1/15, −2/15, 1/15; sample variance (1 + 4 + 1)/225/2 = 1/75; vol = √(365/75) = 2.2061 → extreme.
    expect(f.risk.volatility).toBeCloseTo(Math.sqrt(365 / 75), 9);
    expect(f.risk.marketRisk).toBe('extreme');
    expect(f.risk.closeDays).toBe(6);
  });

  it('reports insufficient history below the minimum number of returns', () => {
    const thin = operatorFigures(inputs(), { ...params, minReturnsForVar: 30 });
    expect(thin.risk.var).toEqual({ kind: 'insufficient history', returns: 5, needed: 30 });
  });

  it('gives the reserve-ratio and health trends over every snapshot of the period', () => {
    // RR 2.0, 3.0, 1.5, 2.5: start 2.0, end 2.5, min 1.5, max 3.0, mean 9/4.
    expect(f.treasury.reserveRatio).toEqual({ start: 2, end: 2.5, change: 0.5, min: 1.5, max: 3, mean: 2.25, samples: 4 });
    // Health 1.2, 1.6, 0.9, 1.3: mean 5.0/4 = 1.25; the last, 1.3, is "good" (≥ 1.0, < 1.5).
    const h = f.treasury.health;
    expect(h?.mean).toBeCloseTo(1.25, 12);
    expect(h?.change).toBeCloseTo(0.1, 12);
    expect([h?.start, h?.end, h?.min, h?.max]).toEqual([1.2, 1.3, 0.9, 1.6]);
    expect(f.treasury.healthLevel).toBe('good');
    expect(f.treasury.valueUsd).toBe(1210);
  });

  it('measures each source’s mean and max deviation from the consensus, skipping invalid cycles and zero prices', () => {
    // dex:         |100 − 100|/100 = 0, (0 is no price), |108.9 − 121|/121 = 0.1 → mean 0.05, max 0.1
    // pyth:        1/100 = 0.01, 6.5/130 = 0.05, 0 → mean 0.02, max 0.05   (500 in the invalid cycle is not counted)
    // switchboard: 2/100 = 0.02, 2.6/130 = 0.02, 6.05/121 = 0.05 → mean 0.03, max 0.05
    expect(f.oracle.map((o) => o.source)).toEqual(['dex', 'pyth', 'switchboard']);
    const [dex, pyth, sb] = f.oracle;
    expect(dex?.readings).toBe(2);
    expect(dex?.mean).toBeCloseTo(0.05, 12);
    expect(dex?.max).toBeCloseTo(0.1, 12);
    expect(pyth?.readings).toBe(3);
    expect(pyth?.mean).toBeCloseTo(0.02, 12);
    expect(pyth?.max).toBeCloseTo(0.05, 12);
    expect(sb?.mean).toBeCloseTo(0.03, 12);
    expect(sb?.max).toBeCloseTo(0.05, 12);
    expect(f.period).toMatchObject({ cycles: 4, validCycles: 3, days: 3.5 });
  });

  it('adds up accumulation today and over the period against the daily budget', () => {
    // 03-01: 100 (no recorded fill: the hourly budget) + 99.5 = 199.5, 2 buys of 3 runs.
    // 03-04 (today): 100 + 100 = 200, 2 buys of 3 runs → 200/2400 of the daily budget.
    // Period: 399.5 over 2 days with runs, budget 2 × 2400 = 4800 → 399.5/4800.
    const a = f.accumulation;
    expect(a.today).toEqual({ day: '2025-03-04', usd: 200, buys: 2, runs: 3, shareOfBudget: 200 / 2400 });
    expect(a.period).toEqual({ days: 2, usd: 399.5, buys: 4, budgetUsd: 4800, shareOfBudget: 399.5 / 4800, skipped: { usdc: 1, concentration: 1 } });
    expect(a.byDay.map((d) => [d.day, d.usd])).toEqual([['2025-03-01', 199.5], ['2025-03-04', 200]]);
  });

  it('gives each pool its in-range share over the sampled prices and its impermanent loss at the last price', () => {
    // USDC/PSTR, range [81, 121]: 100 in, 100 in, 130 out, 121 in (the edge counts) → 3/4.
    // At 121 = upper: LP = 10·(11 − 9) = 20 USDC; holding 1/11·121 + 10 = 21 → IL = 20/21 − 1.
    // SOL/PSTR: the first sample has no SOL price; 100/50 = 2.0 in [1.8, 2.2]; 130/50 = 2.6 out of it (before
    // the re-centring at +1 h); 121/47.265625 = 2.56 in [2.25, 3.24] → 2/3.
    // At 2.56 (√ = 1.6): LP = (1/1.6 − 1/1.8)·2.56 + (1.6 − 1.5) = 5/18; holding 5/153·2.56 + 0.2 = 43.4/153;
    // IL = (5/18)·(153/43.4) − 1 = 765/781.2 − 1 = −0.020737…
    const [usdc, sol] = f.liquidity;
    expect(usdc).toMatchObject({ pool: 'USDC/PSTR', samples: 4, inRangeShare: 0.75, price: 121, rebalances: 0 });
    expect(usdc?.impermanentLoss).toBeCloseTo(20 / 21 - 1, 12);
    expect(sol).toMatchObject({ pool: 'SOL/PSTR', samples: 3, rebalances: 1 });
    expect(sol?.inRangeShare).toBeCloseTo(2 / 3, 12);
    expect(sol?.price).toBeCloseTo(2.56, 12);
    expect(sol?.impermanentLoss).toBeCloseTo(765 / 781.2 - 1, 9);
  });

  it('charts one point per bucket that received a row', () => {
    const s = chartSeries(inputs().buckets);
    // Buckets of 1 h starting at F, F + 24 h (the invalid cycle), F + 25 h (a snapshot), F + 74 h.
    expect(s.t).toEqual([F, F + 24 * H, F + 25 * H, F + 74 * H].map((t) => t / 1000));
    expect(s.valueUsd).toEqual([1100, null, 990, 1210]);
    expect(s.reserveRatio).toEqual([3, null, 1.5, 2.5]);
    expect(s.pstrUsd).toEqual([130, null, null, 121]);
    expect(s.vwap30).toEqual([120, null, null, 60]);
    expect(s.deviation.pyth?.[0]).toBeCloseTo(0.03, 12); // (0.01 + 0.05) / 2
    expect(s.deviation.pyth?.slice(1)).toEqual([null, null, 0]);
  });
});

describe('price history before the first cycle', () => {
  it('charts the price samples of buckets no cycle priced (the seeded history), and the cycles\' consensus where there is one', () => {
    const samples = [0, 1, 2].map((h) => ({ at: F + h * H + 10 * MIN, pstrUsd: 10 + h, solUsd: null }));
    const cycle = { at: F + 2 * H + 20 * MIN, consensus: 20, vwap30: 11, readings: [] };
    const s = chartSeries(bucketCycles({ snapshots: [], cycles: [cycle], poolPrices: samples }, [], { from: F, bucketMs: H }));
    expect(s.pstrUsd).toEqual([10, 11, 20]);
    expect(s.vwap30).toEqual([null, null, 11]);
  });
});

describe('empty and bad input', () => {
  it('reports nothing measured for an empty period instead of inventing numbers', () => {
    const f = operatorFigures({
      from: F, to: F + D, buckets: [], dailyValues: [], closes: [], holdings: null, interventions: [], accumulation: [], positions: [], latestPrices: null,
    }, params);
    expect(f.interventions.successRate).toBeNull();
    expect(f.performance).toEqual({ growth30d: null, sharpe: null, maxDrawdown: 0, valueDays: 0 });
    expect(f.risk.var.kind).toBe('insufficient history');
    expect(f.risk.marketRisk).toBe('insufficient history');
    expect(f.treasury).toEqual({ valueUsd: null, reserveRatio: null, health: null, healthLevel: null });
    expect(f.accumulation.period.shareOfBudget).toBeNull();
    expect(f.accumulation.today.usd).toBe(0);
  });

  it('names the field of a bad bucket width, period or consensus', () => {
    expect(() => bucketCycles({ snapshots, cycles, poolPrices }, [], { from: F, bucketMs: 0 })).toThrow(/bucketMs.*0/);
    expect(() => operatorFigures(inputs({ from: F + 5 * D }), params)).toThrow(/period: to/);
    const bad = [{ at: F, consensus: -1, vwap30: null, readings: [] }];
    expect(() => bucketCycles({ snapshots: [], cycles: bad, poolPrices: [] }, [], { from: F, bucketMs: H })).toThrow(/cycles\[0\]\.consensus.*-1/);
    expect(() => bucketWidthMs(D, 0)).toThrow(/maxPoints.*0/);
  });
});

describe('rangeAt', () => {
  it('has no known range before the first epoch that has a start time', () => {
    const r = { lower: 1, upper: 2, center: 1.5 };
    expect(rangeAt([{ since: 100, range: r }], 99)).toBeNull();
    expect(rangeAt([{ since: 100, range: r }], 100)).toBe(r);
  });
});

describe('bucketWidthMs', () => {
  it('picks the smallest nice width that keeps the points within the budget', () => {
    expect(bucketWidthMs(30 * D, 400)).toBe(2 * H); // 1 h would give 720 points, 2 h gives 360
    expect(bucketWidthMs(3.5 * D, 100)).toBe(H); // 84 points
    expect(bucketWidthMs(D, 400)).toBe(5 * MIN); // 288 points
    expect(bucketWidthMs(3650 * D, 400)).toBe(10 * D); // beyond the ladder: whole days
  });
});

describe('bucketing is exact', () => {
  const value = fc.double({ min: 0.01, max: 1000, noNaN: true });
  const stat = fc.array(value, { minLength: 1, maxLength: 20 });
  const statOf = (xs: number[]): Stat => xs.slice(1).reduce<Stat>((s, v) => mergeStats(s, { n: 1, sum: v, min: v, max: v, first: v, last: v }) as Stat,
    { n: 1, sum: xs[0] as number, min: xs[0] as number, max: xs[0] as number, first: xs[0] as number, last: xs[0] as number });

  it('merges stats in time order whatever the split', () => {
    fc.assert(fc.property(stat, stat, (a, b) => {
      const merged = mergeStats(statOf(a), statOf(b));
      const whole = statOf([...a, ...b]);
      expect(merged).toMatchObject({ n: whole.n, min: whole.min, max: whole.max, first: whole.first, last: whole.last });
      expect(merged?.sum).toBeCloseTo(whole.sum, 6);
    }));
  });

  it('gives the same figures for any bucket width', () => {
    const widths = fc.constantFrom(MIN, 15 * MIN, H, 6 * H, D, 10 * D);
    fc.assert(fc.property(widths, (w) => {
      const fine = operatorFigures(inputs({}, MIN), params);
      const coarse = operatorFigures(inputs({}, w), params);
      expect(coarse.treasury.reserveRatio?.mean).toBeCloseTo(fine.treasury.reserveRatio?.mean as number, 12);
      expect(coarse.treasury.health).toMatchObject({ start: 1.2, end: 1.3, min: 0.9, max: 1.6 });
      expect(coarse.oracle.map((o) => [o.source, o.readings, o.max])).toEqual(fine.oracle.map((o) => [o.source, o.readings, o.max]));
      coarse.oracle.forEach((o, i) => expect(o.mean).toBeCloseTo(fine.oracle[i]?.mean as number, 12));
      expect(coarse.liquidity.map((p) => [p.samples, p.inRangeShare])).toEqual(fine.liquidity.map((p) => [p.samples, p.inRangeShare]));
      expect(coarse.period).toEqual(fine.period);
    }), { numRuns: 20 });
  });

  it('keeps every oracle mean between 0 and its max for random readings', () => {
    const reading = fc.record({ source: fc.constantFrom('a', 'b', 'c'), price: fc.double({ min: -1, max: 2, noNaN: true }) });
    const cycle = fc.record({ at: fc.integer({ min: F, max: F + D }), consensus: fc.double({ min: 0.5, max: 1.5, noNaN: true }), readings: fc.array(reading, { maxLength: 4 }) });
    fc.assert(fc.property(fc.array(cycle, { maxLength: 30 }), (cs) => {
      const buckets = bucketCycles({ snapshots: [], cycles: cs.map((c) => ({ ...c, vwap30: null })), poolPrices: [] }, [], { from: F, bucketMs: H });
      const f = operatorFigures({ ...inputs(), buckets }, params);
      for (const o of f.oracle) {
        expect(o.mean).toBeGreaterThanOrEqual(0);
        expect(o.mean).toBeLessThanOrEqual(o.max * (1 + 1e-12));
      }
      expect(f.period.cycles).toBe(cs.length);
    }));
  });
});

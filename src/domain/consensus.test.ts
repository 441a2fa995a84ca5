import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { defaultConfig } from '../config-schema.ts';
import { computeConsensus, consensusParams, median } from './consensus.ts';
import type { ConsensusParams, OracleReading } from './consensus.ts';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const params: ConsensusParams = consensusParams(defaultConfig());

function reading(source: string, price: number, overrides: Partial<OracleReading> = {}): OracleReading {
  return { source, price, confidence: 0.1, publishTime: NOW - 5_000, ...overrides };
}

describe('consensusParams', () => {
  it('takes the SPEC §2 defaults from config.oracle', () => {
    expect(params).toEqual({ maxStalenessSeconds: 60, maxPriceDeviation: 0.05, confidenceWeight: 0.3, minAgreeingSources: 2 });
  });
});

describe('median', () => {
  it('takes the middle value of an odd count, whatever the order', () => {
    expect(median([3, 1, 2])).toBe(2);
  });

  it('takes the mean of the middle two for an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(/empty/);
  });

  it('refuses a non-finite value and names its index', () => {
    expect(() => median([1, Number.NaN])).toThrow(/values\[1\] = NaN/);
  });
});

describe('computeConsensus', () => {
  it('blends the median and the confidence-weighted mean of agreeing readings (hand-computed)', () => {
    // median' = 101; weights 1/c²: 1/1, 1/4, 1/1 → Σp/c² = 100 + 25.25 + 102 = 227.25, Σ1/c² = 2.25
    // weighted mean = 101; price = 0.7·101 + 0.3·101 = 101
    const result = computeConsensus(
      [reading('pyth', 100, { confidence: 1 }), reading('switchboard', 101, { confidence: 2 }), reading('dex', 102, { confidence: 1 })],
      NOW,
      params,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.agreeingMedian).toBe(101);
    expect(result.weightedMean).toBeCloseTo(227.25 / 2.25, 12);
    expect(result.price).toBeCloseTo(101, 12);
  });

  it('pulls the price toward the reading with the tightest confidence', () => {
    // median' = (100 + 104)/2 = 102; weights 1/1 and 1/16 → mean = (100 + 104/16)/(1 + 1/16) = 106.5/1.0625 = 100.2352941…
    // price = 0.7·102 + 0.3·100.2352941 = 71.4 + 30.0705882 = 101.4705882…
    const result = computeConsensus([reading('pyth', 100, { confidence: 1 }), reading('dex', 104, { confidence: 4 })], NOW, params);
    expect(result.ok && result.weightedMean).toBeCloseTo(106.5 / 1.0625, 12);
    expect(result.ok && result.price).toBeCloseTo(0.7 * 102 + 0.3 * (106.5 / 1.0625), 12);
  });

  it('drops a reading older than 60 seconds as stale and says by how much', () => {
    const result = computeConsensus(
      [reading('pyth', 100), reading('switchboard', 100), reading('dex', 100, { publishTime: NOW - 75_000 })],
      NOW,
      params,
    );
    expect(result.excluded).toEqual([{ source: 'dex', price: 100, reason: 'stale', detail: 'published 75 s before now; limit 60 s' }]);
    expect(result.agreeing.map((r) => r.source)).toEqual(['pyth', 'switchboard']);
  });

  it('keeps a reading exactly 60 seconds old and drops one a millisecond older', () => {
    const result = computeConsensus(
      [reading('pyth', 100, { publishTime: NOW - 60_000 }), reading('switchboard', 100, { publishTime: NOW - 60_001 }), reading('dex', 100)],
      NOW,
      params,
    );
    expect(result.agreeing.map((r) => r.source)).toEqual(['dex', 'pyth']);
    expect(result.excluded.map((e) => [e.source, e.reason])).toEqual([['switchboard', 'stale']]);
  });

  it('treats a reading stamped more than 60 seconds in the future as stale (clock skew)', () => {
    const result = computeConsensus(
      [reading('pyth', 100, { publishTime: NOW + 60_000 }), reading('switchboard', 100, { publishTime: NOW + 61_000 }), reading('dex', 100)],
      NOW,
      params,
    );
    expect(result.excluded).toEqual([
      { source: 'switchboard', price: 100, reason: 'stale', detail: 'published 61 s after now (clock skew); limit 60 s' },
    ]);
  });

  it('drops zero, negative and non-finite prices as non-positive', () => {
    const result = computeConsensus(
      [reading('a', 0), reading('b', -1), reading('c', Number.NaN), reading('d', 100), reading('e', 100)],
      NOW,
      params,
    );
    expect(result.excluded.map((e) => [e.source, e.reason])).toEqual([
      ['a', 'non-positive price'],
      ['b', 'non-positive price'],
      ['c', 'non-positive price'],
    ]);
    expect(result.ok && result.price).toBe(100);
  });

  it('drops a negative or non-finite confidence as invalid', () => {
    const result = computeConsensus(
      [reading('a', 100, { confidence: -0.5 }), reading('b', 100, { confidence: Number.POSITIVE_INFINITY }), reading('c', 100), reading('d', 100)],
      NOW,
      params,
    );
    expect(result.excluded.map((e) => [e.source, e.reason])).toEqual([
      ['a', 'invalid confidence'],
      ['b', 'invalid confidence'],
    ]);
  });

  it('gives a zero-confidence reading the weight of c = 1e-9·p, so it dominates the weighted mean without breaking it', () => {
    // c = 1e-9·100 = 1e-7 against c = 1: the weighted mean is 100 to within 1e-14 relative, and finite.
    const result = computeConsensus([reading('pyth', 100, { confidence: 0 }), reading('dex', 104, { confidence: 1 })], NOW, params);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.weightedMean).toBeCloseTo(100, 10);
    expect(result.price).toBeCloseTo(0.7 * 102 + 0.3 * 100, 10);
  });

  it('weighs two zero-confidence readings of different prices by 1/(1e-9·p)²', () => {
    // weights 1/100² and 1/200² → (100/1e4 + 200/4e4)/(1/1e4 + 1/4e4) = 0.015/0.000125 = 120
    const result = computeConsensus([reading('a', 100, { confidence: 0 }), reading('b', 200, { confidence: 0 })], NOW, {
      ...params,
      maxPriceDeviation: 1,
    });
    expect(result.ok && result.weightedMean).toBeCloseTo(120, 9);
  });

  it('excludes a source 30 % off the others as an outlier and names it', () => {
    const result = computeConsensus([reading('pyth', 100), reading('switchboard', 101), reading('dex', 130)], NOW, params);
    expect(result.ok).toBe(true);
    expect(result.outliers).toEqual(['dex']);
    expect(result.excluded).toEqual([{ source: 'dex', price: 130, reason: 'outlier', detail: 'deviates 28.7129 % from the median 101; limit 5 %' }]);
    expect(result.agreeing.map((r) => r.source)).toEqual(['pyth', 'switchboard']);
    expect(result.ok && result.median).toBe(101);
    expect(result.ok && result.agreeingMedian).toBe(100.5);
  });

  it('keeps a reading exactly 5 % from the median and excludes one just beyond', () => {
    const kept = computeConsensus([reading('a', 95), reading('b', 100), reading('c', 105)], NOW, params);
    expect(kept.excluded).toEqual([]);
    const beyond = computeConsensus([reading('a', 100), reading('b', 100), reading('c', 105.000001)], NOW, params);
    expect(beyond.outliers).toEqual(['c']);
  });

  it('measures outliers against the median of an even count (mean of the middle two)', () => {
    // usable median = (100 + 110)/2 = 105; 100 and 110 deviate 4.76 % (kept), 94 deviates 10.5 %, 120 deviates 14.3 %
    const result = computeConsensus([reading('a', 94), reading('b', 100), reading('c', 110), reading('d', 120)], NOW, params);
    expect(result.ok && result.median).toBe(105);
    expect(result.outliers).toEqual(['a', 'd']);
    expect(result.ok && result.agreeingMedian).toBe(105);
  });

  it('reports no valid price when fewer sources agree than needed, saying how many agreed and how many were needed', () => {
    const result = computeConsensus([reading('pyth', 100), reading('dex', 100, { publishTime: NOW - 120_000 })], NOW, params);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toMatch(/^no valid price: 1 source\(s\) agreed, 2 needed/);
    expect(result.reason).toContain('dex (stale: published 120 s before now; limit 60 s)');
    expect(result.readings).toHaveLength(2);
  });

  it('reports no valid price when there are no readings at all', () => {
    const result = computeConsensus([], NOW, params);
    expect(result).toMatchObject({ ok: false, agreeing: [], excluded: [], outliers: [] });
    expect(!result.ok && result.reason).toMatch(/0 source\(s\) agreed, 2 needed/);
  });

  it('counts two readings of one source as a single agreeing source', () => {
    const result = computeConsensus([reading('pyth', 100), reading('pyth', 100.5)], NOW, params);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/1 source\(s\) agreed, 2 needed/);
  });

  it('keeps every reading and every exclusion in the result for the audit trail', () => {
    const input = [reading('pyth', 100), reading('switchboard', 101), reading('dex', 130), reading('old', 100, { publishTime: NOW - 90_000 })];
    const result = computeConsensus(input, NOW, params);
    expect(result.readings).toHaveLength(4);
    expect(result.agreeing.length + result.excluded.length).toBe(4);
  });

  it('refuses bad parameters with the field and value in the message', () => {
    expect(() => computeConsensus([], Number.NaN, params)).toThrow(/now = NaN/);
    expect(() => computeConsensus([], NOW, { ...params, confidenceWeight: 1.5 })).toThrow(/confidenceWeight = 1.5/);
    expect(() => computeConsensus([], NOW, { ...params, minAgreeingSources: 0 })).toThrow(/minAgreeingSources = 0/);
  });
});

const freshReading = fc.record({
  source: fc.constantFrom('pyth', 'switchboard', 'dex', 'extra'),
  price: fc.double({ min: 0.5, max: 2, noNaN: true }),
  confidence: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 1, noNaN: true })),
  publishTime: fc.integer({ min: NOW - 90_000, max: NOW + 30_000 }),
});

describe('computeConsensus properties', () => {
  it('puts the consensus price between the lowest and highest agreeing price', () => {
    fc.assert(
      fc.property(fc.array(freshReading, { maxLength: 8 }), (readings) => {
        const result = computeConsensus(readings, NOW, params);
        if (!result.ok) return;
        const prices = result.agreeing.map((r) => r.price);
        const [lo, hi] = [Math.min(...prices), Math.max(...prices)];
        // Allow a few ulps: the blend is a convex combination, exact only up to float rounding.
        const slack = hi * 1e-12;
        expect(result.price).toBeGreaterThanOrEqual(lo - slack);
        expect(result.price).toBeLessThanOrEqual(hi + slack);
      }),
    );
  });

  it('gives the same result whatever order the readings arrive in', () => {
    const readingsAndPermutation = fc
      .array(freshReading, { maxLength: 8 })
      .chain((readings) => fc.tuple(fc.constant(readings), fc.shuffledSubarray(readings, { minLength: readings.length })));
    fc.assert(
      fc.property(readingsAndPermutation, ([readings, permuted]) => {
        expect(computeConsensus(permuted, NOW, params)).toEqual(computeConsensus(readings, NOW, params));
      }),
    );
  });

  it('never lets an excluded reading into the agreeing set', () => {
    fc.assert(
      fc.property(fc.array(freshReading, { maxLength: 8 }), (readings) => {
        const result = computeConsensus(readings, NOW, params);
        expect(result.agreeing.length + result.excluded.length).toBe(readings.length);
        for (const r of result.agreeing) expect(Math.abs(NOW - r.publishTime)).toBeLessThanOrEqual(60_000);
      }),
    );
  });
});

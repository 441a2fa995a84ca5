import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  clmmTwap, meanTickBetween, orderedObservations, sqrtPriceX64ToPrice, tickToPrice, tradedBetween,
  type ClmmTwapInput, type Observation, type PoolOrientation,
} from './clmm.ts';
import { timeWeightedPrice, type TwapParams } from './twap.ts';

const T = 1_750_000_000; // unix seconds
const params: TwapParams = { windowMs: 1_800_000, minCoverage: 0.6, maxGapMs: 900_000 };
const same: PoolOrientation = { decimals0: 6, decimals1: 6, baseIsToken0: true };
const emptyRing = (): Observation[] => Array.from({ length: 100 }, () => ({ timestamp: 0, tickCumulative: 0n }));

/** Observations oldest first from (seconds before T, tick held until the next one); written into a ring ending at `newestIndex`. */
function ringOf(steps: readonly [number, number][], newestIndex = steps.length - 1, start = 0n): { ring: Observation[]; newestIndex: number } {
  const ring = emptyRing();
  let cum = start;
  steps.forEach(([ago, tick], i) => {
    const slot = (newestIndex - (steps.length - 1 - i) + 100) % 100;
    ring[slot] = { timestamp: T - ago, tickCumulative: BigInt.asIntN(64, cum) };
    const next = steps[i + 1];
    if (next) cum += BigInt(tick) * BigInt(ago - next[0]);
  });
  return { ring, newestIndex };
}

const twap = (over: Partial<ClmmTwapInput> & Pick<ClmmTwapInput, 'ring' | 'newestIndex'>) =>
  clmmTwap({ tickCurrent: 0, nowMs: T * 1000, params, orientation: same, ...over });

describe('tick and sqrt price to price', () => {
  it('1.0001^tick, scaled by 10^(decimals0 − decimals1), inverted when PSTR is token1', () => {
    expect(tickToPrice(0, same)).toBe(1);
    expect(tickToPrice(6932, same)).toBeCloseTo(2.0000363, 7); // 6932·ln 1.0001 = ln 2 + 1.816e-5 → 2·e^1.816e-5
    expect(tickToPrice(100, { decimals0: 9, decimals1: 6, baseIsToken0: true })).toBeCloseTo(1.0001 ** 100 * 1000, 9);
    expect(tickToPrice(100, { decimals0: 9, decimals1: 6, baseIsToken0: false })).toBeCloseTo(1 / (1.0001 ** 100 * 1000), 15);
    expect(tickToPrice(-23028, same)).toBeCloseTo(0.1, 4); // 1.0001^-23028 ≈ 0.1000
  });

  it('(sqrtPriceX64 / 2^64)^2 with decimals, both orientations (hand-computed)', () => {
    // PSTR token0 (6 dp), USDC token1 (6 dp): sqrt = 2^63 → 0.25 USDC per PSTR.
    expect(sqrtPriceX64ToPrice(1n << 63n, same)).toBe(0.25);
    // USDC token0 (6 dp), PSTR token1 (9 dp): sqrt = 2000·2^64 → raw 4e6 PSTR units per USDC unit
    // → 4e6 · 10^(6−9) = 4,000 PSTR per USDC → 0.00025 USDC per PSTR.
    expect(sqrtPriceX64ToPrice(2000n << 64n, { decimals0: 6, decimals1: 9, baseIsToken0: false })).toBeCloseTo(0.00025, 15);
    expect(() => sqrtPriceX64ToPrice(0n, same)).toThrow(RangeError);
  });

  it('agrees with the tick price at the tick\'s exact sqrt price', () => {
    const sqrt = BigInt(Math.round(Math.sqrt(1.0001 ** 5000) * 2 ** 52)) << 12n;
    expect(sqrtPriceX64ToPrice(sqrt, same) / tickToPrice(5000, same)).toBeCloseTo(1, 12);
  });
});

describe('mean tick from two observations', () => {
  it('is Δ tickCumulative / Δt, also across the i64 wrap', () => {
    expect(meanTickBetween({ timestamp: 1000, tickCumulative: 0n }, { timestamp: 1600, tickCumulative: 60_000n })).toBe(100);
    expect(meanTickBetween({ timestamp: 1000, tickCumulative: 0n }, { timestamp: 1400, tickCumulative: -50n })).toBe(-0.125);
    const max = 2n ** 63n - 1n;
    const wrapped = BigInt.asIntN(64, max + 150n * 30n);
    expect(meanTickBetween({ timestamp: 0 + 10, tickCumulative: max }, { timestamp: 40, tickCumulative: wrapped })).toBe(150);
  });
});

describe('clmmTwap', () => {
  // Tick −200 from T−2400 s, 400 from T−1200 s, 1000 (the current tick) from T−300 s.
  const steps: [number, number][] = [[2400, -200], [1200, 400], [300, 1000]];

  it('interpolates the window start and carries the newest observation to now (hand-computed: mean tick 300)', () => {
    // (600·−200 + 900·400 + 300·1000) / 1800 = 540,000 / 1800 = 300.
    const r = twap({ ...ringOf(steps), tickCurrent: 1000 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.meanTick).toBe(300);
    expect(r.price).toBe(tickToPrice(300, same));
    expect(r.coverage).toBe(1);
    expect([r.from, r.to]).toEqual([(T - 1800) * 1000, T * 1000]);
    // σ² of the tick = (600·500² + 900·100² + 300·700²) / 1800 = 170,000.
    expect(r.logStdDev).toBeCloseTo(Math.sqrt(170_000) * Math.log(1.0001), 12);
    expect(r.newestAgeMs).toBe(300_000);
  });

  it('is the geometric time-weighted mean of twap.ts over the same steps', () => {
    const r = twap({ ...ringOf(steps), tickCurrent: 1000 });
    const samples = steps.map(([ago, tick]) => ({ at: (T - ago) * 1000, price: tickToPrice(tick, same) }));
    const ref = timeWeightedPrice(samples, T * 1000, { ...params, maxGapMs: params.windowMs });
    expect(r.ok && ref.ok).toBe(true);
    if (r.ok && ref.ok) {
      expect(r.price / ref.price).toBeCloseTo(1, 12);
      expect(r.logStdDev).toBeCloseTo(ref.logStdDev, 12);
    }
  });

  it('reads a wrapped ring oldest first (slot after the newest index) and skips never-written slots', () => {
    const wrapped = ringOf(steps, 1); // slots 99, 0, 1
    expect(orderedObservations(wrapped.ring, 1)?.map((o) => o.timestamp)).toEqual([T - 2400, T - 1200, T - 300]);
    const a = twap({ ...wrapped, tickCurrent: 1000 });
    expect(a.ok && a.meanTick).toBe(300);
    const full = ringOf(Array.from({ length: 100 }, (_, i) => [3000 - 20 * i, i % 7] as [number, number]), 41);
    const ordered = orderedObservations(full.ring, 41);
    expect(ordered?.[0]).toBe(full.ring[42]);
    expect(ordered?.at(-1)).toBe(full.ring[41]);
    expect(ordered?.length).toBe(100);
  });

  it('refuses a ring whose timestamps do not increase', () => {
    const { ring } = ringOf(steps);
    ring[1] = { timestamp: T - 5000, tickCumulative: 0n };
    expect(twap({ ring, newestIndex: 2 })).toMatchObject({ ok: false, reason: 'out of order' });
  });

  it('refuses an empty ring, a newest observation older than maxGap, and too little history', () => {
    expect(twap({ ring: emptyRing(), newestIndex: 0 })).toMatchObject({ ok: false, reason: 'no observations' });
    const old = ringOf([[4000, 5], [901, 5]]);
    expect(twap(old)).toMatchObject({ ok: false, reason: 'stale' });
    expect(twap(ringOf([[4000, 5], [900, 5]])).ok).toBe(true); // exactly maxGap old is fine
    const short = twap(ringOf([[900, 5], [100, 5]]));
    expect(short).toMatchObject({ ok: false, reason: 'insufficient coverage' });
    expect(!short.ok && short.detail).toContain('50 % of the 1800 s window');
    const enough = twap({ ...ringOf([[1200, 7], [100, 7]]), tickCurrent: 7 });
    expect(enough.ok && [enough.coverage, enough.from, enough.meanTick]).toEqual([2 / 3, (T - 1200) * 1000, 7]);
  });

  it('ends at the newest observation when the chain clock is ahead of ours', () => {
    const r = twap({ ...ringOf([[3000, 10], [-5, 10]]), tickCurrent: 99 });
    expect(r.ok && [r.to, r.meanTick]).toEqual([(T + 5) * 1000, 10]);
  });

  it('property: a constant tick gives exactly that tick\'s price, wherever the ring wraps and whatever the offsets', () => {
    fc.assert(fc.property(
      fc.integer({ min: -443_636, max: 443_636 }),
      fc.array(fc.integer({ min: 15, max: 900 }), { minLength: 1, maxLength: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.integer({ min: 0, max: 899_999 }),
      fc.integer({ min: 60, max: 7200 }),
      fc.boolean(),
      (tick, gaps, newestIndex, start, ageMs, windowS, baseIsToken0) => {
        const agoOfNewest = Math.floor(ageMs / 1000);
        const agos = gaps.reduceRight<number[]>((acc, g) => [(acc[0] as number) + g, ...acc], [agoOfNewest]);
        const { ring } = ringOf(agos.map((a) => [a, tick]), newestIndex, start);
        const o = { decimals0: 9, decimals1: 6, baseIsToken0 };
        const r = clmmTwap({ ring, newestIndex, tickCurrent: tick, nowMs: T * 1000 + (ageMs % 1000), params: { windowMs: windowS * 1000, minCoverage: 0, maxGapMs: 900_000 }, orientation: o });
        return r.ok && r.meanTick === tick && r.price === tickToPrice(tick, o);
      },
    ));
  });
});

describe('tradedBetween', () => {
  const zero = { swapInAmountToken0: 0n, swapOutAmountToken1: 0n, swapInAmountToken1: 0n, swapOutAmountToken0: 0n };
  it('adds what went in and out of each side', () => {
    const next = { swapInAmountToken0: 10n, swapOutAmountToken1: 3n, swapInAmountToken1: 5n, swapOutAmountToken0: 2n };
    expect(tradedBetween(zero, next)).toEqual({ ok: true, amount0: 12n, amount1: 8n });
  });
  it('refuses a counter that goes back, naming it', () => {
    const r = tradedBetween({ ...zero, swapOutAmountToken0: 9n }, { ...zero, swapOutAmountToken0: 8n });
    expect(r).toMatchObject({ ok: false, field: 'swapOutAmountToken0' });
  });
});

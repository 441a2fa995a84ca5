import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, RollingVwap, drawdown, vwapOf, type VwapSample } from './vwap.ts';

/** The definition, recomputed from scratch: the reference the incremental version must match. */
function naiveVwap(samples: readonly VwapSample[], t: number, windowMs: number) {
  const inWindow = samples.filter((s) => s.timestamp > t - windowMs && s.timestamp <= t);
  if (inWindow.length === 0) return null;
  const volume = inWindow.reduce((a, s) => a + s.volume, 0);
  const vwap = volume === 0
    ? inWindow.reduce((a, s) => a + s.price, 0) / inWindow.length
    : inWindow.reduce((a, s) => a + s.price * s.volume, 0) / volume;
  return { vwap, volumeless: volume === 0, samples: inWindow.length, historyMs: t - inWindow[0]!.timestamp };
}

const series = fc
  .array(
    fc.record({
      gap: fc.integer({ min: 0, max: 3 * DAY_MS }),
      price: fc.double({ min: 1e-6, max: 1e3, noNaN: true }),
      volume: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 1e7, noNaN: true })),
    }),
    { minLength: 1, maxLength: 150 },
  )
  .map((steps) => {
    let t = Date.UTC(2025, 0, 1);
    return steps.map((s) => ({ timestamp: (t += s.gap), price: s.price, volume: s.volume }));
  });

describe('RollingVwap', () => {
  it('equals a naive recomputation after every sample of a random series', () => {
    fc.assert(
      fc.property(series, fc.integer({ min: 1, max: 40 }), (samples, windowDays) => {
        const windowMs = windowDays * DAY_MS;
        const rolling = new RollingVwap(windowMs);
        for (let i = 0; i < samples.length; i++) {
          const s = samples[i]!;
          rolling.push(s);
          const got = rolling.at(s.timestamp);
          const want = naiveVwap(samples.slice(0, i + 1), s.timestamp, windowMs)!;
          expect(got).not.toBeNull();
          expect(got!.volumeless).toBe(want.volumeless);
          expect(got!.samples).toBe(want.samples);
          expect(got!.historyMs).toBe(want.historyMs);
          expect(got!.vwap).toBeCloseTo(want.vwap, 6);
          expect(Math.abs(got!.vwap - want.vwap) / want.vwap).toBeLessThan(1e-9);
        }
      }),
    );
  });

  it('excludes a sample exactly 30 days old and keeps one a millisecond younger', () => {
    const t0 = Date.UTC(2025, 0, 1);
    const rolling = new RollingVwap(30 * DAY_MS);
    rolling.push({ timestamp: t0, price: 100, volume: 1 });
    rolling.push({ timestamp: t0 + 1, price: 200, volume: 1 });
    rolling.push({ timestamp: t0 + 30 * DAY_MS, price: 300, volume: 1 });
    const r = rolling.at(t0 + 30 * DAY_MS)!;
    expect(r.samples).toBe(2);
    expect(r.vwap).toBe(250);
  });

  it('weights prices by volume', () => {
    const r = vwapOf(
      [
        { timestamp: 1, price: 10, volume: 3 },
        { timestamp: 2, price: 20, volume: 1 },
      ],
      2,
    )!;
    expect(r.vwap).toBe(12.5);
    expect(r.volumeless).toBe(false);
  });

  it('falls back to the plain mean and says volumeless when the window has no volume', () => {
    const r = vwapOf(
      [
        { timestamp: 1, price: 10, volume: 0 },
        { timestamp: 2, price: 20, volume: 0 },
      ],
      2,
    )!;
    expect(r).toEqual({ vwap: 15, volumeless: true, samples: 2, historyMs: 1 });
  });

  it('becomes volumeless again once every sample with volume has left the window', () => {
    const rolling = new RollingVwap(10);
    rolling.push({ timestamp: 0, price: 5, volume: 1e9 });
    rolling.push({ timestamp: 5, price: 7, volume: 0 });
    expect(rolling.at(5)!.vwap).toBeCloseTo(5, 12);
    rolling.push({ timestamp: 12, price: 9, volume: 0 });
    expect(rolling.at(12)).toEqual({ vwap: 8, volumeless: true, samples: 2, historyMs: 7 });
  });

  it('returns null for an empty window', () => {
    const rolling = new RollingVwap(10);
    expect(rolling.at(0)).toBeNull();
    rolling.push({ timestamp: 0, price: 1, volume: 1 });
    expect(rolling.at(10)).toBeNull();
  });

  it('refuses samples that go back in time or have a non-positive price', () => {
    const rolling = new RollingVwap(10);
    rolling.push({ timestamp: 5, price: 1, volume: 1 });
    expect(() => rolling.push({ timestamp: 4, price: 1, volume: 1 })).toThrow(/back in time/);
    expect(() => rolling.push({ timestamp: 6, price: 0, volume: 1 })).toThrow(/price must be positive/);
    expect(() => rolling.push({ timestamp: 6, price: 1, volume: -1 })).toThrow(/volume/);
  });

  it('keeps its memory bounded by the window, not by the series length', () => {
    const rolling = new RollingVwap(100);
    for (let t = 0; t < 100_000; t++) {
      rolling.push({ timestamp: t, price: 1 + (t % 7), volume: t % 3 });
      rolling.at(t);
    }
    expect(rolling.size).toBe(100);
  });
});

describe('drawdown', () => {
  it('is 1 − price / vwap, negative above the VWAP', () => {
    expect(drawdown(85, 100)).toBeCloseTo(0.15, 12);
    expect(drawdown(110, 100)).toBeCloseTo(-0.1, 12);
  });
});

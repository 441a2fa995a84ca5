import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, vwapOf } from './vwap.ts';
import {
  addSums, naiveWindowReading, NO_SUMS, PRICE_DECIMALS, ratioToNumber, readingOfPrefixes, sampleTerms, subtractSums, toFixedPoint,
  VOLUME_DECIMALS,
} from './vwap-prefix.ts';

/** A finite double's exact value as a rational n / d (d a power of two). */
function exactRational(x: number): { n: bigint; d: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = (bits >> 52n) & 0x7ffn;
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0n ? fraction : fraction | (1n << 52n);
  const exponent = biased === 0n ? -1074 : Number(biased) - 1075;
  return exponent >= 0 ? { n: mantissa << BigInt(exponent), d: 1n } : { n: mantissa, d: 1n << BigInt(-exponent) };
}

/** |x − n/d| as a rational. */
function distance(x: number, n: bigint, d: bigint): { n: bigint; d: bigint } {
  const r = exactRational(x);
  const diff = r.n * d - n * r.d;
  return { n: diff < 0n ? -diff : diff, d: r.d * d };
}

const notCloser = (a: { n: bigint; d: bigint }, b: { n: bigint; d: bigint }) => a.n * b.d >= b.n * a.d;

const nextUp = (x: number) => {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
};
const nextDown = (x: number) => {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) - 1n);
  return view.getFloat64(0);
};

describe('the fixed-point terms of a sample', () => {
  it('round the double\'s exact value, half to even, with no floating-point product on the way', () => {
    // 0.1 is 0.1000000000000000055511151231257827…: ×10^18 is …005.55, rounded up.
    expect(toFixedPoint(0.1, 18)).toBe(100_000_000_000_000_006n);
    expect(toFixedPoint(0.5, 0)).toBe(0n);
    expect(toFixedPoint(1.5, 0)).toBe(2n);
    expect(toFixedPoint(2.5, 0)).toBe(2n);
    expect(toFixedPoint(1234.5678, 9)).toBe(1_234_567_800_000n);
    expect(toFixedPoint(2 ** 80, 0)).toBe(2n ** 80n);
    expect(toFixedPoint(5e-324, 18)).toBe(0n);
    expect(toFixedPoint(0, 18)).toBe(0n);
  });

  it('refuse what the VWAP cannot weigh: a price ≤ 0, a negative volume, NaN and infinities', () => {
    expect(() => sampleTerms(0, 1)).toThrow(/price must be positive/);
    expect(() => sampleTerms(-1, 1)).toThrow(/price must be positive/);
    expect(() => sampleTerms(Number.POSITIVE_INFINITY, 1)).toThrow(/price must be positive/);
    expect(() => sampleTerms(1, -1)).toThrow(/volume must be ≥ 0/);
    expect(() => sampleTerms(1, Number.NaN)).toThrow(/volume must be ≥ 0/);
  });

  it('are P = round(price·10^18), V = round(volume·10^18), P·V and a count of one', () => {
    expect(PRICE_DECIMALS).toBe(18);
    expect(VOLUME_DECIMALS).toBe(18);
    const e18 = 10n ** 18n;
    expect(sampleTerms(2, 3.5)).toEqual({ priceVolume: 2n * e18 * 35n * 10n ** 17n, volume: 35n * 10n ** 17n, price: 2n * e18, count: 1 });
  });
});

describe('ratioToNumber', () => {
  it('gives what IEEE division gives for integers a double holds exactly', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (a, b) => {
      expect(ratioToNumber(BigInt(a), BigInt(b))).toBe(a / b);
    }));
  });

  it('rounds a quotient of huge integers to the nearest double: no neighbour is closer', () => {
    const big = fc.bigInt({ min: 1n, max: 10n ** 60n });
    fc.assert(fc.property(big, big, (n, d) => {
      const x = ratioToNumber(n, d);
      const here = distance(x, n, d);
      expect(notCloser(distance(nextUp(x), n, d), here)).toBe(true);
      expect(notCloser(distance(nextDown(x), n, d), here)).toBe(true);
    }));
  });

  it('breaks an exact tie to the even mantissa', () => {
    // (2^53 + 1) / 1 lies halfway between 2^53 and 2^53 + 2: even is 2^53.
    expect(ratioToNumber(2n ** 53n + 1n, 1n)).toBe(2 ** 53);
    expect(ratioToNumber(2n ** 53n + 3n, 1n)).toBe(2 ** 53 + 4);
    expect(ratioToNumber(0n, 7n)).toBe(0);
  });
});

const samples = fc.array(fc.record({
  gap: fc.integer({ min: 0, max: 3 * DAY_MS }),
  price: fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
  // No volume between 0 and 5e-19: the fixed point rounds those to zero weight (documented), the float version does not.
  volume: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 1e7, noNaN: true })),
}), { minLength: 1, maxLength: 120 }).map((steps) => {
  let t = Date.UTC(2025, 0, 1);
  return steps.map((s) => ({ timestamp: (t += s.gap), price: s.price, volume: s.volume }));
});

describe('the VWAP from prefix sums', () => {
  it('equals the naive window recomputation exactly, for every prefix split of a random series', () => {
    fc.assert(fc.property(samples, fc.integer({ min: 1, max: 40 }), (series, windowDays) => {
      const windowMs = windowDays * DAY_MS;
      const prefixes = [NO_SUMS];
      for (const s of series) prefixes.push(addSums(prefixes.at(-1)!, sampleTerms(s.price, s.volume)));
      series.forEach((s, i) => {
        const t = s.timestamp;
        // Prefix k holds the first k samples (the series is in time order).
        const upTo = series.filter((x) => x.timestamp <= t).length;
        const before = series.filter((x) => x.timestamp <= t - windowMs).length;
        const oldest = series.find((x) => x.timestamp > t - windowMs)!.timestamp;
        const got = readingOfPrefixes({ upTo: prefixes[upTo]!, before: before === 0 ? null : prefixes[before]!, oldest }, t);
        expect(got, `sample ${i}`).toStrictEqual(naiveWindowReading(series, t, windowMs));
      });
    }));
  });

  // Down to prices and volumes of 1e-6 the fixed point's rounding (5e-19 absolute) stays under 1e-12 relative per term.
  it('agrees with a floating-point recomputation over the window to 1e-11, with the same samples, history and volumeless mark', () => {
    fc.assert(fc.property(samples, fc.integer({ min: 1, max: 40 }), (series, windowDays) => {
      const windowMs = windowDays * DAY_MS;
      const t = series.at(-1)!.timestamp;
      const exact = naiveWindowReading(series, t, windowMs)!;
      const float = vwapOf(series.filter((s) => s.timestamp > t - windowMs), t, windowMs)!;
      expect({ ...exact, vwap: 0 }).toEqual({ ...float, vwap: 0 });
      expect(Math.abs(exact.vwap - float.vwap) / float.vwap).toBeLessThan(1e-11);
    }));
  });

  it('stays exact in a small window after a huge sample has left it, where floating-point running sums cancel', () => {
    // Found by the property above against RollingVwap: 2.1e9 of price·volume in and out leaves a residue larger than 1e-12.
    const series = [
      { timestamp: 0, price: 1e-6, volume: 0.11920928955078128 },
      { timestamp: 0, price: 834.9469768253227, volume: 2572000.0282715796 },
      { timestamp: 77_505_671, price: 1e-6, volume: 0 },
      { timestamp: DAY_MS, price: 1e-6, volume: 1e-6 },
    ];
    const prefixes = series.reduce((acc, s) => [...acc, addSums(acc.at(-1)!, sampleTerms(s.price, s.volume))], [NO_SUMS]);
    const reading = readingOfPrefixes({ upTo: prefixes[4]!, before: prefixes[2]!, oldest: 77_505_671 }, DAY_MS);
    expect(reading).toStrictEqual({ vwap: 1e-6, volumeless: false, samples: 2, historyMs: DAY_MS - 77_505_671 });
    expect(reading).toStrictEqual(naiveWindowReading(series, DAY_MS, DAY_MS));
  });

  it('takes the plain mean of the prices when the window has no volume, and says so', () => {
    const r = naiveWindowReading([{ timestamp: 1, price: 1, volume: 0 }, { timestamp: 2, price: 2, volume: 0 }], 2, 10)!;
    expect(r).toEqual({ vwap: 1.5, volumeless: true, samples: 2, historyMs: 1 });
  });

  it('reads nothing from an empty window', () => {
    expect(readingOfPrefixes({ upTo: null, before: null, oldest: null }, 5)).toBeNull();
    expect(naiveWindowReading([{ timestamp: 1, price: 1, volume: 1 }], 20, 10)).toBeNull();
    const one = sampleTerms(1, 1);
    expect(readingOfPrefixes({ upTo: one, before: one, oldest: null }, 20)).toBeNull();
    expect(subtractSums(one, one)).toEqual(NO_SUMS);
  });
});

describe('toFixedPoint', () => {
  it('gives the exact rounding of the double\'s value for any magnitude, subnormals and powers of two included', () => {
    const exact = (x: number, decimals: number) => {
      const r = exactRational(x);
      const scaled = r.n * 10n ** BigInt(decimals);
      const q = scaled / r.d;
      const rest = scaled - q * r.d;
      return 2n * rest > r.d || (2n * rest === r.d && (q & 1n) === 1n) ? q + 1n : q;
    };
    const value = fc.oneof(fc.double({ min: 0, max: 1e300, noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -1074, max: 1023 }).map((e) => 2 ** e));
    fc.assert(fc.property(value, fc.integer({ min: 0, max: 30 }), (x, decimals) => {
      expect(toFixedPoint(x, decimals)).toBe(exact(x, decimals));
    }), { numRuns: 500 });
  });
});

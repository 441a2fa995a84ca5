/**
 * The 30-day VWAP (SPEC §1) from prefix sums, exactly.
 *
 *   vwap30(t) = Σ price_i·volume_i / Σ volume_i  over  t − window < timestamp_i ≤ t
 *   (Σ volume_i = 0 → plain mean of the window's prices, marked `volumeless`)
 *
 * The store keeps, with each sample row, the running sums of every sample up
 * to and including it; a window's sums are then the difference of two rows'
 * sums. Floating-point sums would not subtract exactly, so every sum is an
 * integer (bigint) of fixed-point terms:
 *
 *   P_i = round(price_i · 10^18)       price in atto-USD (1e-18 USD)
 *   V_i = round(volume_i · 10^18)      volume in atto-units (1e-18 USD, or token)
 *   sums: Σ P_i·V_i,  Σ V_i,  Σ P_i,  Σ 1
 *
 * where round() is the exact value of the double rounded half to even (no
 * floating-point multiplication on the way). Integer sums are associative, so
 * any order of rows, any split into prefixes, gives the same window sums, and
 *
 *   vwap = Σ P_i·V_i / (Σ V_i · 10^18)   or, volumeless,   Σ P_i / (n · 10^18)
 *
 * is that exact rational rounded once to the nearest double (ties to even).
 *
 * Precision: a price or a volume loses at most 5e-19 in its term, which is
 * below a double's own spacing for any value above 1e-2 (so nothing at all
 * for real prices and volumes), and under 1e-12 relative down to 1e-6. A
 * volume below 5e-19 rounds to 0 and weighs nothing (a window whose every
 * volume is that small is `volumeless`). The quotient is correctly rounded.
 * Bigints do not overflow, so the sums never lose anything: a year of
 * samples at 1e3 USD and 1e7 volume needs ~52 digits (TEXT in SQLite,
 * unbounded NUMERIC in PostgreSQL).
 *
 * Pure: no I/O, no clock. The store only stores sums and looks rows up.
 */
import type { VwapReading, VwapSample } from './vwap.ts';

export const PRICE_DECIMALS = 18;
export const VOLUME_DECIMALS = 18;
const PRICE_SCALE = 10n ** BigInt(PRICE_DECIMALS);

/** Running sums over a run of samples (one sample's terms, a prefix, or a window). */
export interface VwapSums {
  /** Σ P_i·V_i (atto-USD × atto-units). */
  readonly priceVolume: bigint;
  /** Σ V_i (atto-units). */
  readonly volume: bigint;
  /** Σ P_i (atto-USD): the volumeless mean's numerator. */
  readonly price: bigint;
  /** How many samples. */
  readonly count: number;
}

export const NO_SUMS: VwapSums = { priceVolume: 0n, volume: 0n, price: 0n, count: 0 };

// One buffer for reading a double's bits (a standard typed array, not a Node built-in).
const bits = new DataView(new ArrayBuffer(8));

/** The double's exact value as mantissa · 2^exponent (finite, ≥ 0). */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  bits.setFloat64(0, x);
  const hi = bits.getUint32(0);
  const lo = bits.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  // Subnormals have no hidden bit and the smallest exponent.
  return biased === 0 ? { mantissa: fraction, exponent: -1074 } : { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/** n / 2^shift rounded half to even (shift ≥ 1). */
function shiftRoundHalfEven(n: bigint, shift: bigint): bigint {
  const q = n >> shift;
  const rest = n - (q << shift);
  const half = 1n << (shift - 1n);
  return rest > half || (rest === half && (q & 1n) === 1n) ? q + 1n : q;
}

// Powers of ten by exponent, built once: the backtest converts two values a row.
const POWERS_OF_TEN: bigint[] = [];
const tenTo = (decimals: number): bigint => (POWERS_OF_TEN[decimals] ??= 10n ** BigInt(decimals));

/** round(x · 10^decimals), half to even, from the double's exact value: x must be finite and ≥ 0. */
export function toFixedPoint(x: number, decimals: number): bigint {
  if (!Number.isFinite(x) || x < 0) throw new RangeError(`fixed-point value must be finite and ≥ 0, got ${x}`);
  if (x === 0) return 0n;
  const { mantissa, exponent } = decompose(x);
  const scaled = mantissa * tenTo(decimals);
  return exponent >= 0 ? scaled << BigInt(exponent) : shiftRoundHalfEven(scaled, BigInt(-exponent));
}

/** One sample's terms (count 1). Refuses what RollingVwap refuses: a price ≤ 0, a negative volume, non-finite values. */
export function sampleTerms(price: number, volume: number): VwapSums {
  if (!(price > 0) || !Number.isFinite(price)) throw new RangeError(`VWAP sample price must be positive, got ${price}`);
  if (!(volume >= 0) || !Number.isFinite(volume)) throw new RangeError(`VWAP sample volume must be ≥ 0, got ${volume}`);
  const p = toFixedPoint(price, PRICE_DECIMALS);
  const v = toFixedPoint(volume, VOLUME_DECIMALS);
  return { priceVolume: p * v, volume: v, price: p, count: 1 };
}

export function addSums(a: VwapSums, b: VwapSums): VwapSums {
  return { priceVolume: a.priceVolume + b.priceVolume, volume: a.volume + b.volume, price: a.price + b.price, count: a.count + b.count };
}

/** The sums of the samples in `upTo` but not in `before` (a prefix of it). */
export function subtractSums(upTo: VwapSums, before: VwapSums): VwapSums {
  return {
    priceVolume: upTo.priceVolume - before.priceVolume, volume: upTo.volume - before.volume, price: upTo.price - before.price,
    count: upTo.count - before.count,
  };
}

/** Bits of n > 0, from its hex digits (toString(2) would be four times longer to build). */
function bitLength(n: bigint): number {
  const hex = n.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0] as string, 16)));
}

/**
 * log2(d) − log2(n) rounded up to within a bit or two: any overestimate only
 * gives the quotient more bits, which rounds the same. From the doubles
 * nearest n and d (cheap); exact bit lengths when those overflow.
 */
function log2Ratio(n: bigint, d: bigint): number {
  const nf = Number(n);
  const df = Number(d);
  if (Number.isFinite(nf) && Number.isFinite(df)) return Math.ceil(Math.log2(df) - Math.log2(nf)) + 2;
  return bitLength(d) - bitLength(n) + 1;
}

/**
 * n / d rounded to the nearest double, ties to even (n ≥ 0, d > 0). A quotient of
 * at least 55 bits with a sticky bit for any remainder makes Number() (itself
 * round-half-even) round as the exact rational would; the power of two is exact.
 */
export function ratioToNumber(n: bigint, d: bigint): number {
  if (d <= 0n || n < 0n) throw new RangeError(`ratio needs n ≥ 0 and d > 0, got ${n} / ${d}`);
  if (n === 0n) return 0;
  const k = log2Ratio(n, d) + 55;
  const num = k >= 0 ? n << BigInt(k) : n;
  const den = k >= 0 ? d : d << BigInt(-k);
  const q = num / den;
  const sticky = num % den === 0n ? 0n : 1n;
  return Number(q | sticky) * 2 ** -k;
}

/** A window's VWAP from its sums; null for an empty window. `oldest` is the oldest sample's timestamp in the window. */
export function readingOfWindow(window: VwapSums, oldest: number, t: number): VwapReading | null {
  if (window.count === 0) return null;
  const historyMs = t - oldest;
  if (window.volume === 0n) {
    return { vwap: ratioToNumber(window.price, BigInt(window.count) * PRICE_SCALE), volumeless: true, samples: window.count, historyMs };
  }
  return { vwap: ratioToNumber(window.priceVolume, window.volume * PRICE_SCALE), volumeless: false, samples: window.count, historyMs };
}

/**
 * What a window needs from the store: the running sums through the last sample
 * with timestamp ≤ t (`upTo`), through the last with timestamp ≤ t − window
 * (`before`; null: no sample that old), and the oldest timestamp inside the
 * window (null: the window is empty).
 */
export interface VwapPrefixes {
  readonly upTo: VwapSums | null;
  readonly before: VwapSums | null;
  readonly oldest: number | null;
}

/** The reading at `t` from the window's prefix rows: their difference is the window's sums. */
export function readingOfPrefixes(p: VwapPrefixes, t: number): VwapReading | null {
  if (p.upTo === null || p.oldest === null) return null;
  return readingOfWindow(subtractSums(p.upTo, p.before ?? NO_SUMS), p.oldest, t);
}

/** The reference: the window's sums recomputed from its samples, as the store's prefix difference must give them. */
export function naiveWindowReading(samples: readonly VwapSample[], t: number, windowMs: number): VwapReading | null {
  const inWindow = samples.filter((s) => s.timestamp > t - windowMs && s.timestamp <= t);
  const sums = inWindow.reduce((acc, s) => addSums(acc, sampleTerms(s.price, s.volume)), NO_SUMS);
  const oldest = inWindow.reduce((m, s) => Math.min(m, s.timestamp), Infinity);
  return readingOfWindow(sums, oldest, t);
}

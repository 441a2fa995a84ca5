/**
 * Exact comparisons of prices against thresholds (SPEC §4's trigger and
 * tiers). A double such as 0.8 stands for the decimal a person wrote ("0.8"),
 * and `1 − 0.8` in floating point is 0.19999999999999996: a 20 % drawdown
 * would miss the 20 % tier. So each finite double is read as the exact
 * rational of its shortest round-trip decimal form (what `String(x)` prints,
 * ECMAScript's Number::toString), and `price ≤ vwap × (1 − d)` is decided on
 * bigint numerators and denominators, with no rounding at all.
 */

/** n / d with d > 0. */
export interface Rational {
  readonly n: bigint;
  readonly d: bigint;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

/** The exact rational of the shortest decimal that round-trips to `x`; throws on NaN or ±Infinity. */
export function rationalOf(x: number): Rational {
  if (!Number.isFinite(x)) throw new RangeError(`rationalOf: ${x} is not a finite number`);
  const m = DECIMAL.exec(String(x));
  if (!m) throw new RangeError(`rationalOf: cannot read ${String(x)} as a decimal`);
  const [, sign, whole, frac = '', exp = '0'] = m;
  const digits = BigInt(`${whole}${frac}`) * (sign === '-' ? -1n : 1n);
  const scale = Number(exp) - frac.length;
  return scale >= 0 ? { n: digits * 10n ** BigInt(scale), d: 1n } : { n: digits, d: 10n ** BigInt(-scale) };
}

const allFinite = (...xs: number[]): boolean => xs.every(Number.isFinite);

/**
 * True when the float comparison of `price` with `bound` already has the exact sign: the bound is a product of at
 * most two roundings (each 2⁻⁵³ relative, and 1 − d errs by at most 2⁻⁵³ absolute), so a gap wider than 1e-12 of
 * the operands' size cannot be a rounding artefact. Non-finite inputs keep IEEE semantics (NaN compares false).
 */
function clearOfTie(price: number, bound: number, vwap: number): boolean {
  return Math.abs(price - bound) > 1e-12 * Math.max(Math.abs(price), Math.abs(bound), Math.abs(vwap));
}

/** a ≤ b exactly (denominators are positive). */
function atMost(a: Rational, b: Rational): boolean {
  return a.n * b.d <= b.n * a.d;
}

/**
 * price ≤ vwap × factor, exactly, on the decimals the three doubles stand for.
 * Far from the boundary the float comparison already has the right sign, so
 * only near-ties pay for bigints (a backtest decides this every cycle).
 */
export function atMostTimes(price: number, vwap: number, factor: number): boolean {
  const bound = vwap * factor;
  if (!allFinite(price, vwap, factor) || clearOfTie(price, bound, vwap)) return price <= bound;
  const p = rationalOf(price);
  const v = rationalOf(vwap);
  const f = rationalOf(factor);
  return atMost(p, { n: v.n * f.n, d: v.d * f.d });
}

/** price ≤ vwap × (1 − drawdown), exactly: the price is at least `drawdown` below the VWAP. */
export function reachesDrawdown(price: number, vwap: number, drawdown: number): boolean {
  const bound = vwap * (1 - drawdown);
  if (!allFinite(price, vwap, drawdown) || clearOfTie(price, bound, vwap)) return price <= bound;
  const p = rationalOf(price);
  const v = rationalOf(vwap);
  const d = rationalOf(drawdown);
  // vwap × (1 − d) = v.n·(d.d − d.n) / (v.d·d.d)
  return atMost(p, { n: v.n * (d.d - d.n), d: v.d * d.d });
}

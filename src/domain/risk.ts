/**
 * Market and portfolio risk (SPEC §7): historical VaR/ES of the treasury and
 * PSTR's market risk level from its annualized volatility.
 */

/**
 * Linear-interpolation quantile, "type 7" of R and numpy's default: with the
 * values sorted, h = (n − 1)·p and q = v[⌊h⌋] + (h − ⌊h⌋)·(v[⌈h⌉] − v[⌊h⌋]).
 */
export function quantileType7(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('quantileType7: values is empty; a quantile of nothing is undefined');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantileType7: p = ${p} must be in [0, 1]`);
  requireFinite('quantileType7', 'values', values);
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const g = h - lo;
  const below = sorted[lo] as number;
  if (g === 0) return below;
  const above = sorted[lo + 1] as number;
  // Written as (1 − g)·below + g·above: each term is monotone in its value even after rounding,
  // so making the worst return worse can never raise the quantile (VaR stays monotone).
  // Clamped because rounding can land it outside [below, above] (five returns of −0.1 gave
  // −0.10000000000000002, below every return, which left the ES tail empty).
  return Math.min(above, Math.max(below, (1 - g) * below + g * above));
}

/** r_i = v_i / v_(i−1) − 1. */
export function simpleReturns(values: readonly number[]): number[] {
  requirePositive('simpleReturns', values);
  return values.slice(1).map((v, i) => v / (values[i] as number) - 1);
}

/** r_i = ln(v_i / v_(i−1)). */
export function logReturns(values: readonly number[]): number[] {
  requirePositive('logReturns', values);
  return values.slice(1).map((v, i) => Math.log(v / (values[i] as number)));
}

/**
 * SPEC §7: today's holdings (whole tokens per asset) priced on each past day,
 * oldest first. An asset held at zero needs no price.
 */
export function historicalValues(
  holdings: Readonly<Record<string, number>>,
  dailyPrices: readonly Readonly<Record<string, number>>[],
): number[] {
  const held = Object.entries(holdings).filter(([asset, amount]) => {
    if (!Number.isFinite(amount) || amount < 0) {
      throw new RangeError(`historicalValues: holdings.${asset} = ${amount} must be a finite number ≥ 0`);
    }
    return amount > 0;
  });
  return dailyPrices.map((prices, day) =>
    held.reduce((total, [asset, amount]) => {
      const price = prices[asset];
      if (price === undefined) throw new RangeError(`historicalValues: no price for ${asset} on day index ${day}`);
      if (!Number.isFinite(price) || price < 0) {
        throw new RangeError(`historicalValues: price of ${asset} on day index ${day} = ${price} must be a finite number ≥ 0`);
      }
      return total + amount * price;
    }, 0),
  );
}

export type VarResult =
  | { kind: 'ok'; var95: number; es95: number; quantile: number; returns: number }
  | { kind: 'insufficient history'; returns: number; needed: number };

/** The 5 % tail of SPEC §7. */
const TAIL = 0.05;

/**
 * Historical one-day VaR95 and ES95 in the currency of `currentValue`, positive for a loss.
 * With too few returns (SPEC §7: fewer than 30) it reports `insufficient history`.
 */
export function valueAtRisk(returns: readonly number[], currentValue: number, minReturns: number): VarResult {
  if (!Number.isInteger(minReturns) || minReturns < 1) {
    throw new RangeError(`valueAtRisk: minReturns = ${minReturns} must be an integer ≥ 1`);
  }
  if (!Number.isFinite(currentValue) || currentValue < 0) {
    throw new RangeError(`valueAtRisk: currentValue = ${currentValue} must be a finite number ≥ 0`);
  }
  if (returns.length < minReturns) return { kind: 'insufficient history', returns: returns.length, needed: minReturns };
  const q = quantileType7(returns, TAIL);
  const tail = returns.filter((r) => r <= q);
  // mean(tail) computed as q + mean(r − q): every r − q ≤ 0 exactly, so the result is ≤ q even after
  // rounding, which keeps ES ≥ VaR as the mathematics promises.
  const tailMean = q + tail.reduce((sum, r) => sum + (r - q), 0) / tail.length;
  // SPEC §7: VaR95 = −q₀.₀₅(returns)·value; ES95 = −mean(returns ≤ q₀.₀₅)·value.
  return { kind: 'ok', var95: -q * currentValue, es95: -tailMean * currentValue, quantile: q, returns: returns.length };
}

/** Days per year for annualizing daily crypto returns (markets never close). */
const DAYS_PER_YEAR = 365;

/** SPEC §7: √365 × sample stdev (n − 1) of daily log returns; null with fewer than 2 returns. */
export function annualizedVolatility(dailyPrices: readonly number[]): number | null {
  const returns = logReturns(dailyPrices);
  if (returns.length < 2) return null;
  return Math.sqrt(DAYS_PER_YEAR) * sampleStdev(returns);
}

export type MarketRiskLevel = 'low' | 'medium' | 'high' | 'extreme';

/** SPEC §7: < 0.5 low, < 1.0 medium, < 1.5 high, else extreme. */
export function marketRiskLevel(volatility: number): MarketRiskLevel {
  if (!Number.isFinite(volatility) || volatility < 0) {
    throw new RangeError(`marketRiskLevel: volatility = ${volatility} must be a finite number ≥ 0`);
  }
  if (volatility < 0.5) return 'low';
  if (volatility < 1.0) return 'medium';
  if (volatility < 1.5) return 'high';
  return 'extreme';
}

/** Sample standard deviation (divisor n − 1); needs at least 2 values. */
export function sampleStdev(values: readonly number[]): number {
  if (values.length < 2) throw new RangeError(`sampleStdev: needs at least 2 values (got ${values.length})`);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const squares = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return Math.sqrt(squares / (values.length - 1));
}

function requireFinite(fn: string, field: string, values: readonly number[]): void {
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new RangeError(`${fn}: ${field}[${i}] = ${v} is not a finite number`);
  });
}

function requirePositive(fn: string, values: readonly number[]): void {
  values.forEach((v, i) => {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${fn}: values[${i}] = ${v} must be a positive finite number`);
  });
}

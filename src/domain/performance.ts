/**
 * Performance metrics of the architecture document ("Key Metrics & KPIs"):
 * Sharpe ratio, maximum drawdown, 30-day compound growth and the
 * intervention success rate of SPEC §5 step 6.
 */
import { sampleStdev } from './risk.ts';

/** Daily returns annualized over a calendar year: crypto markets never close. */
const DEFAULT_PERIODS_PER_YEAR = 365;

/**
 * Sharpe = mean / sample stdev × √periodsPerYear, risk-free rate 0.
 * null with fewer than 2 returns or when the returns do not vary (the ratio is undefined).
 */
export function sharpeRatio(dailyReturns: readonly number[], periodsPerYear: number = DEFAULT_PERIODS_PER_YEAR): number | null {
  if (!Number.isFinite(periodsPerYear) || periodsPerYear <= 0) {
    throw new RangeError(`sharpeRatio: periodsPerYear = ${periodsPerYear} must be a positive finite number`);
  }
  dailyReturns.forEach((r, i) => {
    if (!Number.isFinite(r)) throw new RangeError(`sharpeRatio: dailyReturns[${i}] = ${r} is not a finite number`);
  });
  if (dailyReturns.length < 2) return null;
  // Identical returns are checked directly: their computed stdev can be a rounding crumb (1e-18) instead of 0,
  // which would report an absurd ratio instead of "undefined".
  if (dailyReturns.every((r) => r === dailyReturns[0])) return null;
  const mean = dailyReturns.reduce((s, r) => s + r, 0) / dailyReturns.length;
  const stdev = sampleStdev(dailyReturns);
  if (stdev === 0) return null;
  return (mean / stdev) * Math.sqrt(periodsPerYear);
}

/** Largest peak-to-trough decline, (peak − trough) / peak, as a fraction in [0, 1]; 0 for fewer than 2 values. */
export function maxDrawdown(values: readonly number[]): number {
  let peak = 0;
  let worst = 0;
  values.forEach((v, i) => {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`maxDrawdown: values[${i}] = ${v} must be a finite number ≥ 0`);
    if (v > peak) peak = v;
    // A peak of 0 has nothing to lose: skip it rather than divide by zero.
    else if (peak > 0) worst = Math.max(worst, (peak - v) / peak);
  });
  return worst;
}

/** Growth rescaled to a 30-day period: (end / start)^(30 / days) − 1; null when days ≤ 0 or start ≤ 0. */
export function compoundGrowth30d(startValue: number, endValue: number, days: number): number | null {
  if (Number.isNaN(startValue) || Number.isNaN(days)) {
    throw new RangeError(`compoundGrowth30d: startValue = ${startValue}, days = ${days} must be numbers`);
  }
  if (!Number.isFinite(endValue) || endValue < 0) {
    throw new RangeError(`compoundGrowth30d: endValue = ${endValue} must be a finite number ≥ 0`);
  }
  if (days <= 0 || startValue <= 0) return null;
  return (endValue / startValue) ** (30 / days) - 1;
}

export interface InterventionOutcome {
  readonly executed: boolean;
  /** ROI 7 days after execution; null until it is measured (or when nothing executed). */
  readonly roi7d: number | null;
}

/** SPEC §5 step 6: a success is an intervention that executed and whose 7-day ROI is ≥ 0. */
export function isSuccess(o: InterventionOutcome): boolean {
  return o.executed && o.roi7d !== null && o.roi7d >= 0;
}

/**
 * Successes / settled interventions. Settled: ended without executing (a failed attempt), or executed
 * with its 7-day ROI known; an executed one still waiting for its ROI is left out. null when none settled.
 */
export function successRate(outcomes: readonly InterventionOutcome[]): number | null {
  outcomes.forEach((o, i) => {
    if (o.roi7d !== null && !Number.isFinite(o.roi7d)) {
      throw new RangeError(`successRate: outcomes[${i}].roi7d = ${o.roi7d} must be a finite number or null`);
    }
  });
  const settled = outcomes.filter((o) => !o.executed || o.roi7d !== null);
  if (settled.length === 0) return null;
  return settled.filter(isSuccess).length / settled.length;
}

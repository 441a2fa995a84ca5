/**
 * Time-weighted average price of a DEX pool from point samples: the mean of
 * log prices, each weighted by how long it held, over a trailing window.
 * Log prices so that a doubling and a halving weigh the same, and the result
 * is a geometric mean (a pool's price is a ratio; its arithmetic mean is biased
 * upwards by volatility).
 *
 * A sample's price holds from its time until the next sample (step
 * interpolation, what an observer of the pool knows). The last sample at or
 * before the window start carries into the window; samples after `now` are not
 * known yet and are ignored. Two checks keep a thin or stale series from
 * passing as a price:
 *   - gap: no stretch of the window, including the tail from the last sample
 *     to `now`, longer than `maxGapMs` without a sample;
 *   - coverage: the samples must cover at least `minCoverage` of the window.
 */
import type { Config } from '../config-schema.ts';

export interface PriceSample {
  /** Epoch ms. */
  readonly at: number;
  readonly price: number;
}

export interface TwapParams {
  readonly windowMs: number;
  /** Fraction of the window in [0, 1] the samples must cover. */
  readonly minCoverage: number;
  readonly maxGapMs: number;
}

export type TwapFailureReason = 'no samples' | 'gap' | 'insufficient coverage';

export type TwapResult =
  | {
      readonly ok: true;
      readonly price: number;
      /** Time-weighted standard deviation of the log prices: the relative dispersion over the window. */
      readonly logStdDev: number;
      readonly coverage: number;
      readonly largestGapMs: number;
      readonly samplesUsed: number;
      /** The span the mean was taken over, epoch ms. */
      readonly from: number;
      readonly to: number;
    }
  | { readonly ok: false; readonly reason: TwapFailureReason; readonly detail: string; readonly coverage: number; readonly largestGapMs: number };

export function twapParams(config: Config): TwapParams {
  const { twapWindowSeconds, minCoverage, maxGapSeconds } = config.oracle.dex;
  return { windowMs: twapWindowSeconds * 1000, minCoverage, maxGapMs: maxGapSeconds * 1000 };
}

export function timeWeightedPrice(samples: readonly PriceSample[], now: number, params: TwapParams): TwapResult {
  checkInputs(samples, now, params);
  const start = now - params.windowMs;
  const known = samples.filter((s) => s.at <= now).sort((a, b) => a.at - b.at || a.price - b.price);
  const anchor = known.filter((s) => s.at <= start).at(-1);
  const inWindow = known.filter((s) => s.at > start);
  // The anchor's price is what held at the window start: clip it there.
  const points: PriceSample[] = anchor ? [{ at: start, price: anchor.price }, ...inWindow] : inWindow;
  const first = points[0];
  if (first === undefined) {
    return { ok: false, reason: 'no samples', detail: `no price sample at or before now; window ${seconds(params.windowMs)} s`, coverage: 0, largestGapMs: params.windowMs };
  }

  const segments = points.map((p, i) => ({ logPrice: Math.log(p.price), durationMs: (points[i + 1]?.at ?? now) - p.at }));
  const largestGapMs = Math.max(...segments.map((s) => s.durationMs));
  const coveredMs = now - first.at;
  const coverage = coveredMs / params.windowMs;
  if (largestGapMs > params.maxGapMs) {
    const detail = `${seconds(largestGapMs)} s without a sample inside the ${seconds(params.windowMs)} s window; limit ${seconds(params.maxGapMs)} s`;
    return { ok: false, reason: 'gap', detail, coverage, largestGapMs };
  }
  if (coverage < params.minCoverage || coveredMs === 0) {
    const detail = `samples cover ${percent(coverage)} of the ${seconds(params.windowMs)} s window; need ${percent(params.minCoverage)}`;
    return { ok: false, reason: 'insufficient coverage', detail, coverage, largestGapMs };
  }

  // Issue "DEX TWAP": time-weighted mean of log prices, μ = Σ ln(p_i)·Δt_i / Σ Δt_i; TWAP = e^μ.
  const mean = segments.reduce((sum, s) => sum + s.logPrice * s.durationMs, 0) / coveredMs;
  const variance = segments.reduce((sum, s) => sum + (s.logPrice - mean) ** 2 * s.durationMs, 0) / coveredMs;
  return {
    ok: true,
    price: Math.exp(mean),
    logStdDev: Math.sqrt(variance),
    coverage,
    largestGapMs,
    samplesUsed: points.length,
    from: first.at,
    to: now,
  };
}

function checkInputs(samples: readonly PriceSample[], now: number, p: TwapParams): void {
  if (!Number.isFinite(now)) throw new RangeError(`twap: now = ${now} is not a finite epoch-ms timestamp`);
  if (!Number.isFinite(p.windowMs) || p.windowMs <= 0) throw new RangeError(`twap: windowMs = ${p.windowMs} must be a positive finite number`);
  if (!(p.minCoverage >= 0 && p.minCoverage <= 1)) throw new RangeError(`twap: minCoverage = ${p.minCoverage} must be in [0, 1]`);
  if (!Number.isFinite(p.maxGapMs) || p.maxGapMs <= 0) throw new RangeError(`twap: maxGapMs = ${p.maxGapMs} must be a positive finite number`);
  samples.forEach((s, i) => {
    if (!Number.isFinite(s.at)) throw new RangeError(`twap: samples[${i}].at = ${s.at} is not a finite epoch-ms timestamp`);
    if (!Number.isFinite(s.price) || s.price <= 0) throw new RangeError(`twap: samples[${i}].price = ${s.price} must be a positive finite number`);
  });
}

function seconds(ms: number): number {
  return Number((ms / 1000).toFixed(3));
}

function percent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))} %`;
}

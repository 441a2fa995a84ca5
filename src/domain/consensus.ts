/**
 * Oracle consensus (SPEC §2): from the raw readings of several price sources
 * to one price, or to "no valid price" (fail closed). The result keeps every
 * reading and every exclusion with its reason, because auditors read it.
 *
 * Readings are put in a canonical order first (source, price, publishTime,
 * confidence) so that the result, down to the last floating-point bit, does
 * not depend on the order the adapters happened to answer in.
 */
import type { Config } from '../config-schema.ts';

export interface OracleReading {
  readonly source: string;
  readonly price: number;
  readonly confidence: number;
  /** Epoch ms. */
  readonly publishTime: number;
}

export type ExclusionReason = 'stale' | 'non-positive price' | 'invalid confidence' | 'outlier';

export interface ExcludedReading {
  readonly source: string;
  readonly price: number;
  readonly reason: ExclusionReason;
  /** Human-readable, e.g. "published 75 s before now; limit 60 s". */
  readonly detail: string;
}

export interface ConsensusParams {
  readonly maxStalenessSeconds: number;
  readonly maxPriceDeviation: number;
  readonly confidenceWeight: number;
  readonly minAgreeingSources: number;
}

export type ConsensusResult =
  | {
      ok: true;
      price: number;
      /** Median of every usable reading, outliers included: the yardstick outliers are measured against. */
      median: number;
      /** median' of SPEC §2: median of the agreeing readings only. */
      agreeingMedian: number;
      weightedMean: number;
      readings: OracleReading[];
      agreeing: OracleReading[];
      excluded: ExcludedReading[];
      outliers: string[];
    }
  | { ok: false; reason: string; readings: OracleReading[]; agreeing: OracleReading[]; excluded: ExcludedReading[]; outliers: string[] };

/** A zero confidence would be an infinite weight; SPEC §2 gives it c = 1e-9·p instead. */
const ZERO_CONFIDENCE_FACTOR = 1e-9;

export function consensusParams(config: Config): ConsensusParams {
  const { maxStalenessSeconds, maxPriceDeviation, confidenceWeight, minAgreeingSources } = config.oracle;
  return { maxStalenessSeconds, maxPriceDeviation, confidenceWeight, minAgreeingSources };
}

/** Mean of the middle two for an even count; throws on an empty list or a non-finite value. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median: values is empty; the median of nothing is undefined');
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new RangeError(`median: values[${i}] = ${v} is not a finite number`);
  });
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] as number) + upper) / 2;
}

export function computeConsensus(readings: readonly OracleReading[], now: number, params: ConsensusParams): ConsensusResult {
  checkInputs(now, params);
  const all = [...readings].sort(compareReadings);
  const excluded: ExcludedReading[] = [];
  const usable: OracleReading[] = [];
  for (const reading of all) {
    const problem = validityProblem(reading, now, params.maxStalenessSeconds);
    if (problem) excluded.push({ source: reading.source, price: reading.price, ...problem });
    else usable.push(reading);
  }

  const usableMedian = usable.length > 0 ? median(usable.map((r) => r.price)) : undefined;
  const agreeing: OracleReading[] = [];
  const outliers: string[] = [];
  for (const reading of usable) {
    const m = usableMedian as number;
    const deviation = Math.abs(reading.price - m) / m;
    // SPEC §2: an outlier is strictly beyond the limit; exactly at it is kept.
    if (deviation > params.maxPriceDeviation) {
      const detail = `deviates ${percent(deviation)} from the median ${m}; limit ${percent(params.maxPriceDeviation)}`;
      excluded.push({ source: reading.source, price: reading.price, reason: 'outlier', detail });
      if (!outliers.includes(reading.source)) outliers.push(reading.source);
    } else {
      agreeing.push(reading);
    }
  }

  // Two readings from one source are one opinion: count distinct sources, so a duplicated feed cannot fake agreement.
  const agreeingSources = new Set(agreeing.map((r) => r.source)).size;
  if (agreeingSources < params.minAgreeingSources || usableMedian === undefined) {
    const exclusions = excluded.length ? `; excluded: ${excluded.map((e) => `${e.source} (${e.reason}: ${e.detail})`).join(', ')}` : '';
    const reason = `no valid price: ${agreeingSources} source(s) agreed, ${params.minAgreeingSources} needed (${all.length} reading(s) received${exclusions})`;
    return { ok: false, reason, readings: all, agreeing, excluded, outliers };
  }

  const agreeingMedian = median(agreeing.map((r) => r.price));
  const weightedMean = confidenceWeightedMean(agreeing);
  const w = params.confidenceWeight;
  // SPEC §2: price = (1 − confidenceWeight)·median' + confidenceWeight·Σ(p/c²)/Σ(1/c²).
  const price = (1 - w) * agreeingMedian + w * weightedMean;
  return { ok: true, price, median: usableMedian, agreeingMedian, weightedMean, readings: all, agreeing, excluded, outliers };
}

/** Σ(p_i/c_i²)/Σ(1/c_i²), with c_i = 0 read as 1e-9·p_i (SPEC §2). */
function confidenceWeightedMean(readings: readonly OracleReading[]): number {
  const c = readings.map((r) => (r.confidence === 0 ? ZERO_CONFIDENCE_FACTOR * r.price : r.confidence));
  // Weights scaled by the tightest confidence, (c_min/c_i)² instead of 1/c_i²: same ratio, but tiny
  // confidences (1e-200) cannot overflow 1/c² to Infinity and turn the mean into NaN.
  const cMin = Math.min(...c);
  let weightSum = 0;
  let weightedSum = 0;
  readings.forEach((r, i) => {
    const weight = (cMin / (c[i] as number)) ** 2;
    weightSum += weight;
    weightedSum += weight * r.price;
  });
  return weightedSum / weightSum;
}

function validityProblem(r: OracleReading, now: number, maxStalenessSeconds: number): { reason: ExclusionReason; detail: string } | undefined {
  const limitMs = maxStalenessSeconds * 1000;
  if (!Number.isFinite(r.publishTime)) {
    return { reason: 'stale', detail: `publishTime ${r.publishTime} is not a finite epoch-ms timestamp` };
  }
  const ageMs = now - r.publishTime;
  if (ageMs > limitMs) {
    return { reason: 'stale', detail: `published ${seconds(ageMs)} s before now; limit ${maxStalenessSeconds} s` };
  }
  // Clock-skew guard (our choice; SPEC §2 is silent): a reading stamped further in the future than
  // the staleness limit comes from a clock we cannot trust, so it is treated as stale too.
  if (-ageMs > limitMs) {
    return { reason: 'stale', detail: `published ${seconds(-ageMs)} s after now (clock skew); limit ${maxStalenessSeconds} s` };
  }
  if (!Number.isFinite(r.price) || r.price <= 0) {
    return { reason: 'non-positive price', detail: `price ${r.price} is not a positive finite number` };
  }
  if (!Number.isFinite(r.confidence) || r.confidence < 0) {
    return { reason: 'invalid confidence', detail: `confidence ${r.confidence} is not a finite number ≥ 0` };
  }
  return undefined;
}

function checkInputs(now: number, p: ConsensusParams): void {
  if (!Number.isFinite(now)) throw new RangeError(`computeConsensus: now = ${now} is not a finite epoch-ms timestamp`);
  if (!(p.maxStalenessSeconds > 0) || !Number.isFinite(p.maxStalenessSeconds)) {
    throw new RangeError(`computeConsensus: maxStalenessSeconds = ${p.maxStalenessSeconds} must be a positive finite number`);
  }
  if (!(p.maxPriceDeviation >= 0) || !Number.isFinite(p.maxPriceDeviation)) {
    throw new RangeError(`computeConsensus: maxPriceDeviation = ${p.maxPriceDeviation} must be a finite number ≥ 0`);
  }
  if (!(p.confidenceWeight >= 0 && p.confidenceWeight <= 1)) {
    throw new RangeError(`computeConsensus: confidenceWeight = ${p.confidenceWeight} must be in [0, 1]`);
  }
  if (!Number.isInteger(p.minAgreeingSources) || p.minAgreeingSources < 1) {
    throw new RangeError(`computeConsensus: minAgreeingSources = ${p.minAgreeingSources} must be an integer ≥ 1`);
  }
}

function compareReadings(a: OracleReading, b: OracleReading): number {
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  return compareNumbers(a.price, b.price) || compareNumbers(a.publishTime, b.publishTime) || compareNumbers(a.confidence, b.confidence);
}

/** A total order on numbers (NaN last, −0 before +0), so sorting never depends on input order. */
function compareNumbers(a: number, b: number): number {
  if (Object.is(a, b)) return 0;
  if (Number.isNaN(a)) return 1;
  if (Number.isNaN(b)) return -1;
  if (a === b) return Object.is(a, -0) ? -1 : 1;
  return a < b ? -1 : 1;
}

function seconds(ms: number): number {
  return Number((ms / 1000).toFixed(3));
}

function percent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(4))} %`;
}

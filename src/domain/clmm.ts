/**
 * Concentrated-liquidity pool math (Raydium CLMM, Uniswap v3 style), pure:
 * tick and sqrt-price to price, the TWAP from the pool's on-chain tick
 * cumulatives, and traded amounts from its cumulative swap counters.
 *
 * Prices. The pool's raw price is token1 base units per token0 base unit:
 * 1.0001^tick, or (sqrtPriceX64 / 2^64)^2. One whole token0 is then worth
 * raw × 10^(decimals0 − decimals1) whole token1; when the priced token (the
 * base, PSTR) is token1 the price is inverted.
 *
 * TWAP. An observation is (timestamp s, tickCumulative = Σ tick·Δt). The mean
 * tick over [a, b] is Δcumulative / Δt, and 1.0001^meanTick is the
 * time-weighted geometric mean of the price: the same definition as
 * twap.ts (mean of log prices weighted by how long each held), with the same
 * TwapParams. The span ends now: the newest observation is carried forward
 * with the pool's current tick (what held since). It starts at the window
 * start, interpolated between the two observations around it (the program
 * writes a constant tick between observations, so this is exact), or at the
 * oldest observation when the ring does not reach back that far; then the
 * span must cover `minCoverage` of the window. The newest observation may be
 * at most `maxGapMs` old (twap.ts's limit on the tail with no sample).
 */
import type { TwapParams } from './twap.ts';

export interface PoolOrientation {
  readonly decimals0: number;
  readonly decimals1: number;
  /** Whether the priced token (PSTR) is token0; false: it is token1 and prices are inverted. */
  readonly baseIsToken0: boolean;
}

export interface Observation {
  /** Unix seconds (the program's u32 block timestamp); 0 marks a slot never written. */
  readonly timestamp: number;
  /** i64, wrapping. */
  readonly tickCumulative: bigint;
}

const LOG_TICK_BASE = Math.log(1.0001);

function orient(rawPrice: number, o: PoolOrientation): number {
  const human = rawPrice * 10 ** (o.decimals0 - o.decimals1);
  return o.baseIsToken0 ? human : 1 / human;
}

/** The base token's price in quote units at a (possibly fractional, e.g. mean) tick. */
export function tickToPrice(tick: number, o: PoolOrientation): number {
  if (!Number.isFinite(tick)) throw new RangeError(`tickToPrice: tick = ${tick} is not finite`);
  return orient(1.0001 ** tick, o);
}

/** The base token's price in quote units from a Q64.64 sqrt price. */
export function sqrtPriceX64ToPrice(sqrtPriceX64: bigint, o: PoolOrientation): number {
  if (sqrtPriceX64 <= 0n) throw new RangeError(`sqrtPriceX64ToPrice: sqrtPriceX64 = ${sqrtPriceX64} must be positive`);
  const root = Number(sqrtPriceX64) / 2 ** 64;
  return orient(root * root, o);
}

/** Wrapping i64 difference b − a (the program adds with wrapping_add). */
function cumulativeDelta(b: bigint, a: bigint): bigint {
  return BigInt.asIntN(64, b - a);
}

/** Mean tick between two observations: Δ tickCumulative / Δ t. */
export function meanTickBetween(a: Observation, b: Observation): number {
  const dt = b.timestamp - a.timestamp;
  if (!(dt > 0)) throw new RangeError(`meanTickBetween: timestamps ${a.timestamp} → ${b.timestamp} do not increase`);
  return exactRatio(cumulativeDelta(b.tickCumulative, a.tickCumulative), BigInt(dt));
}

/** num / den as a number, exact whenever the quotient is an integer (a constant tick gives exactly that tick). */
function exactRatio(num: bigint, den: bigint): number {
  return Number(num / den) + Number(num % den) / Number(den);
}

/**
 * The ring buffer oldest first: the slot after `newestIndex` is the oldest
 * once the ring has wrapped; never-written slots (timestamp 0) are skipped.
 * Null when the written slots do not strictly increase in time (a corrupt or
 * misread ring).
 */
export function orderedObservations(ring: readonly Observation[], newestIndex: number): Observation[] | null {
  if (!Number.isInteger(newestIndex) || newestIndex < 0 || newestIndex >= ring.length) {
    throw new RangeError(`orderedObservations: newestIndex = ${newestIndex} is outside the ring of ${ring.length}`);
  }
  const ordered = [...ring.slice(newestIndex + 1), ...ring.slice(0, newestIndex + 1)].filter((o) => o.timestamp !== 0);
  const increasing = ordered.every((o, i) => i === 0 || o.timestamp > (ordered[i - 1] as Observation).timestamp);
  return increasing ? ordered : null;
}

export type ClmmTwapFailure = 'no observations' | 'out of order' | 'stale' | 'insufficient coverage';

export type ClmmTwapResult =
  | {
      readonly ok: true;
      readonly price: number;
      readonly meanTick: number;
      /** Time-weighted standard deviation of the log price over the span (as twap.ts's logStdDev). */
      readonly logStdDev: number;
      readonly coverage: number;
      /** The span the mean was taken over, epoch ms. */
      readonly from: number;
      readonly to: number;
      readonly newestAgeMs: number;
      readonly observationsUsed: number;
    }
  | { readonly ok: false; readonly reason: ClmmTwapFailure; readonly detail: string };

export interface ClmmTwapInput {
  readonly ring: readonly Observation[];
  readonly newestIndex: number;
  /** The pool's tick now: what has held since the newest observation. */
  readonly tickCurrent: number;
  readonly nowMs: number;
  readonly params: TwapParams;
  readonly orientation: PoolOrientation;
}

export function clmmTwap(input: ClmmTwapInput): ClmmTwapResult {
  const { params, nowMs } = input;
  const windowS = Math.round(params.windowMs / 1000);
  if (!Number.isFinite(nowMs) || !(windowS > 0)) throw new RangeError(`clmmTwap: nowMs = ${nowMs}, windowMs = ${params.windowMs} must be finite and ≥ 1 s`);
  const ordered = orderedObservations(input.ring, input.newestIndex);
  if (ordered === null) return { ok: false, reason: 'out of order', detail: 'observation timestamps do not increase along the ring' };
  const newest = ordered.at(-1);
  if (newest === undefined) return { ok: false, reason: 'no observations', detail: 'the observation ring holds no observation yet' };

  const newestAgeMs = nowMs - newest.timestamp * 1000;
  if (newestAgeMs > params.maxGapMs) {
    return { ok: false, reason: 'stale', detail: `newest observation is ${s(newestAgeMs)} s old (block_timestamp ${newest.timestamp}); limit ${s(params.maxGapMs)} s` };
  }
  // The chain's clock may run a little ahead of ours: never end before the newest observation.
  const endS = Math.max(Math.floor(nowMs / 1000), newest.timestamp);
  const points = endS > newest.timestamp
    ? [...ordered, { timestamp: endS, tickCumulative: newest.tickCumulative + BigInt(input.tickCurrent) * BigInt(endS - newest.timestamp) }]
    : ordered;
  const oldest = points[0] as Observation;
  const fromS = Math.max(endS - windowS, oldest.timestamp);
  const coverage = (endS - fromS) / windowS;
  if (endS === fromS || coverage < params.minCoverage) {
    return { ok: false, reason: 'insufficient coverage', detail: `observations cover ${pct(coverage)} of the ${windowS} s window (oldest block_timestamp ${oldest.timestamp}); need ${pct(params.minCoverage)}` };
  }

  // Segments between consecutive points, clipped to [fromS, endS]; k = the one holding fromS.
  let k = 0;
  while ((points[k + 1] as Observation).timestamp <= fromS) k++;
  const a = points[k] as Observation;
  const b = points[k + 1] as Observation;
  // Interpolated Δcumulative over [fromS, endS], as a fraction over D = b.t − a.t (exact in bigint).
  const D = BigInt(b.timestamp - a.timestamp);
  const end = points.at(-1) as Observation;
  const num = cumulativeDelta(end.tickCumulative, a.tickCumulative) * D - cumulativeDelta(b.tickCumulative, a.tickCumulative) * BigInt(fromS - a.timestamp);
  const meanTick = exactRatio(num, BigInt(endS - fromS) * D);

  let variance = 0;
  for (let i = k; i < points.length - 1; i++) {
    const p = points[i] as Observation;
    const q = points[i + 1] as Observation;
    const held = q.timestamp - Math.max(p.timestamp, fromS);
    variance += (meanTickBetween(p, q) - meanTick) ** 2 * held;
  }
  return {
    ok: true,
    price: tickToPrice(meanTick, input.orientation),
    meanTick,
    logStdDev: Math.sqrt(variance / (endS - fromS)) * LOG_TICK_BASE,
    coverage,
    from: fromS * 1000,
    to: endS * 1000,
    newestAgeMs,
    observationsUsed: points.length - k,
  };
}

/** The pool's cumulative swap counters (u128 each), in base units. */
export interface SwapCounters {
  readonly swapInAmountToken0: bigint;
  readonly swapOutAmountToken1: bigint;
  readonly swapInAmountToken1: bigint;
  readonly swapOutAmountToken0: bigint;
}

export type TradedResult =
  | { readonly ok: true; readonly amount0: bigint; readonly amount1: bigint }
  | { readonly ok: false; readonly field: keyof SwapCounters; readonly detail: string };

/** Base units of each token that changed hands between two reads of the counters (in plus out); a counter going back is refused. */
export function tradedBetween(prev: SwapCounters, next: SwapCounters): TradedResult {
  for (const field of ['swapInAmountToken0', 'swapOutAmountToken1', 'swapInAmountToken1', 'swapOutAmountToken0'] as const) {
    if (next[field] < prev[field]) return { ok: false, field, detail: `${field} went back from ${prev[field]} to ${next[field]}` };
  }
  return {
    ok: true,
    amount0: next.swapInAmountToken0 - prev.swapInAmountToken0 + (next.swapOutAmountToken0 - prev.swapOutAmountToken0),
    amount1: next.swapInAmountToken1 - prev.swapInAmountToken1 + (next.swapOutAmountToken1 - prev.swapOutAmountToken1),
  };
}

function s(ms: number): number {
  return Number((ms / 1000).toFixed(3));
}

function pct(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))} %`;
}

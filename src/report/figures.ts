/**
 * The operator report's figures (SPEC §3, §5–§8) from plain recorded data,
 * pure: no clock, no I/O. Every rule is a domain call; this module only
 * gathers the inputs, groups them and counts.
 *
 * Per-cycle data (snapshots, cycle records, price samples) arrives as time
 * buckets of sufficient statistics (`bucketCycles`): a month of 5-minute
 * cycles crosses Temporal as a few hundred buckets, yet every figure stays
 * exact, because a mean is rebuilt from sums and counts, a maximum from
 * maxima and a share from counts. The buckets' last values are the charts.
 */
import { healthLevel, type HealthLevel } from '../domain/health.ts';
import { impermanentLoss, inRange, type PriceRange } from '../domain/liquidity.ts';
import { compoundGrowth30d, maxDrawdown, sharpeRatio, successRate } from '../domain/performance.ts';
import { annualizedVolatility, historicalValues, marketRiskLevel, simpleReturns, valueAtRisk, type MarketRiskLevel, type VarResult } from '../domain/risk.ts';

const DAY_MS = 86_400_000;

// ── Per-cycle rows and their buckets ────────────────────────────────────────

export interface SnapshotPoint { readonly at: number; readonly valueUsd: number; readonly reserveRatio: number; readonly health: number }
/** A monitoring cycle: its consensus (null: no valid price), its 30-day VWAP and every reading it received. */
export interface CyclePoint {
  readonly at: number;
  readonly consensus: number | null;
  readonly vwap30: number | null;
  readonly readings: readonly { readonly source: string; readonly price: number }[];
}
/** A price sample: PSTR and SOL in USD (USDC counted at 1). */
export interface PoolPricePoint { readonly at: number; readonly pstrUsd: number; readonly solUsd: number | null }
/** The range a position held from `since` (null: from before the period) until the next epoch. */
export interface RangeEpoch { readonly since: number | null; readonly range: PriceRange }
export interface LpPositionInput {
  readonly pool: string;
  readonly quote: 'SOL' | 'USDC';
  readonly liquidity: number;
  readonly range: PriceRange;
  /** Whole PSTR and quote tokens at opening or the last rebalance: the "holding" of impermanent loss. */
  readonly entryBase: number;
  readonly entryQuote: number;
  readonly rebalances: number;
  /** Oldest first. A sample older than every epoch has no known range and is not counted. */
  readonly epochs: readonly RangeEpoch[];
}

/** Mergeable summary of a number stream. */
export interface Stat { n: number; sum: number; min: number; max: number; first: number; last: number }
export interface DeviationStat { n: number; sum: number; max: number }
export interface Bucket {
  /** Start of the bucket, epoch ms. */
  t: number;
  cycles: number;
  validCycles: number;
  valueUsd: number | null;
  reserveRatio: Stat | null;
  health: Stat | null;
  pstrUsd: number | null;
  vwap30: number | null;
  deviation: Record<string, DeviationStat>;
  pools: Record<string, { n: number; inRange: number }>;
}

function requireFinite(field: string, v: number): void {
  if (!Number.isFinite(v)) throw new RangeError(`${field} must be a finite number, got ${v}`);
}

function addStat(s: Stat | null, v: number): Stat {
  if (s === null) return { n: 1, sum: v, min: v, max: v, first: v, last: v };
  return { n: s.n + 1, sum: s.sum + v, min: Math.min(s.min, v), max: Math.max(s.max, v), first: s.first, last: v };
}

/** `a` covers earlier time than `b`. */
export function mergeStats(a: Stat | null, b: Stat | null): Stat | null {
  if (a === null || b === null) return a ?? b;
  return { n: a.n + b.n, sum: a.sum + b.sum, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max), first: a.first, last: b.last };
}

/** The range in force at `at`: the latest epoch begun by then; null when none is known. */
export function rangeAt(epochs: readonly RangeEpoch[], at: number): PriceRange | null {
  let found: PriceRange | null = null;
  for (const e of epochs) if (e.since === null || e.since <= at) found = e.range;
  return found;
}

/** PSTR priced in the pool's quote token; null when that quote's USD price is unknown. */
export function poolPrice(quote: 'SOL' | 'USDC', p: PoolPricePoint): number | null {
  if (quote === 'USDC') return p.pstrUsd;
  return p.solUsd !== null && p.solUsd > 0 ? p.pstrUsd / p.solUsd : null;
}

/** |price − consensus| / consensus: how far one source read from the agreed price. */
export function readingDeviation(price: number, consensus: number): number {
  return Math.abs(price - consensus) / consensus;
}

/** Rows of [from, from + k·bucketMs) land in bucket k; only buckets that received a row are returned, oldest first. */
export function bucketCycles(
  rows: { snapshots: readonly SnapshotPoint[]; cycles: readonly CyclePoint[]; poolPrices: readonly PoolPricePoint[] },
  positions: readonly LpPositionInput[],
  opts: { from: number; bucketMs: number },
): Bucket[] {
  if (!(Number.isFinite(opts.bucketMs) && opts.bucketMs > 0)) throw new RangeError(`bucketMs must be a number > 0, got ${opts.bucketMs}`);
  requireFinite('from', opts.from);
  const buckets = new Map<number, Bucket>();
  const at = (t: number, field: string): Bucket => {
    requireFinite(`${field}.at`, t);
    const k = Math.floor((t - opts.from) / opts.bucketMs);
    let b = buckets.get(k);
    if (!b) {
      b = { t: opts.from + k * opts.bucketMs, cycles: 0, validCycles: 0, valueUsd: null, reserveRatio: null, health: null, pstrUsd: null, vwap30: null, deviation: {}, pools: {} };
      buckets.set(k, b);
    }
    return b;
  };
  rows.snapshots.forEach((s, i) => {
    const b = at(s.at, `snapshots[${i}]`);
    b.valueUsd = s.valueUsd;
    b.reserveRatio = addStat(b.reserveRatio, s.reserveRatio);
    b.health = addStat(b.health, s.health);
  });
  rows.cycles.forEach((c, i) => {
    const b = at(c.at, `cycles[${i}]`);
    b.cycles += 1;
    if (c.consensus === null) return;
    if (!(c.consensus > 0)) throw new RangeError(`cycles[${i}].consensus must be > 0 or null, got ${c.consensus}`);
    b.validCycles += 1;
    b.pstrUsd = c.consensus;
    if (c.vwap30 !== null) b.vwap30 = c.vwap30;
    for (const r of c.readings) {
      // A non-positive price is no price (SPEC §2 drops it): it measures nothing.
      if (!(r.price > 0 && Number.isFinite(r.price))) continue;
      const d = readingDeviation(r.price, c.consensus);
      const s = b.deviation[r.source] ?? { n: 0, sum: 0, max: 0 };
      b.deviation[r.source] = { n: s.n + 1, sum: s.sum + d, max: Math.max(s.max, d) };
    }
  });
  rows.poolPrices.forEach((p, i) => {
    const b = at(p.at, `poolPrices[${i}]`);
    // A bucket no cycle priced (the paper world's seeded history, a gap in the cycle log) charts its samples' price.
    if (b.validCycles === 0 && p.pstrUsd > 0 && Number.isFinite(p.pstrUsd)) b.pstrUsd = p.pstrUsd;
    for (const pos of positions) {
      const price = poolPrice(pos.quote, p);
      const range = rangeAt(pos.epochs, p.at);
      if (price === null || range === null) continue;
      const s = b.pools[pos.pool] ?? { n: 0, inRange: 0 };
      // SPEC §8: in range while the pool price is inside the position's range.
      b.pools[pos.pool] = { n: s.n + 1, inRange: s.inRange + (inRange(range, price) ? 1 : 0) };
    }
  });
  return [...buckets.entries()].sort(([a], [b]) => a - b).map(([, b]) => b);
}

// ── The figures ──────────────────────────────────────────────────────────────

export interface InterventionPoint {
  readonly id: string;
  readonly status: string;
  readonly startedAt: number;
  readonly executedAt: number | null;
  readonly price: number;
  readonly vwap30: number;
  readonly drawdown: number;
  readonly usdValue: number | null;
  readonly roi7d: number | null;
}
export interface AccumulationRun { readonly at: number; readonly bought: boolean; readonly usdSpent: number | null; readonly skip: string | null }
export interface DailyClose { readonly day: string; readonly pstr: number; readonly pump: number; readonly sol: number | null }

export interface FigureInputs {
  readonly from: number;
  readonly to: number;
  readonly buckets: readonly Bucket[];
  /** Treasury value at each UTC day's last snapshot in the period, oldest first. */
  readonly dailyValues: readonly { readonly day: string; readonly value: number }[];
  /** Daily closes over the risk lookback (SPEC §7), oldest first. */
  readonly closes: readonly DailyClose[];
  /** Today's holdings in whole tokens; null before the first snapshot. */
  readonly holdings: { readonly pump: number; readonly usdc: number; readonly sol: number } | null;
  readonly interventions: readonly InterventionPoint[];
  readonly accumulation: readonly AccumulationRun[];
  readonly positions: readonly LpPositionInput[];
  readonly latestPrices: PoolPricePoint | null;
}

export interface FigureParams {
  /** `dailyBudgetUsd(config.strategy)` and `hourlyBudgetUsd(config.strategy)` of the domain. */
  readonly dailyBudgetUsd: number;
  readonly hourlyBudgetUsd: number;
  readonly minReturnsForVar: number;
  readonly volatilityWindowDays: number;
}

export interface Trend { start: number; end: number; change: number; min: number; max: number; mean: number; samples: number }
export interface OracleDeviation { source: string; readings: number; mean: number; max: number }
export interface PoolFigures { pool: string; quote: 'SOL' | 'USDC'; inRangeShare: number | null; samples: number; impermanentLoss: number | null; price: number | null; rebalances: number }
export interface DayAccumulation { day: string; usd: number; buys: number; runs: number }

export interface OperatorFigures {
  period: { from: number; to: number; days: number; cycles: number; validCycles: number };
  interventions: { count: number; byStatus: Record<string, number>; successRate: number | null; awaitingRoi: number };
  performance: { growth30d: number | null; sharpe: number | null; maxDrawdown: number; valueDays: number };
  risk: { var: VarResult; volatility: number | null; marketRisk: MarketRiskLevel | 'insufficient history'; closeDays: number };
  treasury: { valueUsd: number | null; reserveRatio: Trend | null; health: Trend | null; healthLevel: HealthLevel | null };
  oracle: OracleDeviation[];
  accumulation: {
    dailyBudgetUsd: number;
    today: DayAccumulation & { shareOfBudget: number };
    period: { days: number; usd: number; buys: number; budgetUsd: number; shareOfBudget: number | null; skipped: Record<string, number> };
    byDay: DayAccumulation[];
  };
  liquidity: PoolFigures[];
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function trendOf(s: Stat | null): Trend | null {
  return s === null ? null : { start: s.first, end: s.last, change: s.last - s.first, min: s.min, max: s.max, mean: s.sum / s.n, samples: s.n };
}

function performanceOf(dailyValues: FigureInputs['dailyValues']): OperatorFigures['performance'] {
  const rows = dailyValues.filter((d) => d.value > 0);
  const values = rows.map((d) => d.value);
  const first = rows[0];
  const last = rows.at(-1);
  // Calendar days between the first and last close: a missing day must not shorten the period.
  const days = first && last ? (Date.parse(last.day) - Date.parse(first.day)) / DAY_MS : 0;
  return {
    growth30d: first && last ? compoundGrowth30d(first.value, last.value, days) : null,
    sharpe: values.length > 2 ? sharpeRatio(simpleReturns(values)) : null,
    maxDrawdown: maxDrawdown(values),
    valueDays: values.length,
  };
}

function riskOf(inputs: FigureInputs, params: FigureParams): OperatorFigures['risk'] {
  const { closes, holdings } = inputs;
  // A close without a SOL price takes the nearest earlier one (the latest known for the first ones).
  let sol = closes.find((c) => c.sol !== null)?.sol ?? inputs.latestPrices?.solUsd ?? 0;
  const days = closes.map((c) => {
    sol = c.sol ?? sol;
    return { pump: c.pump, usdc: 1, sol };
  });
  const values = holdings && days.length ? historicalValues(holdings, days) : [];
  const returns = values.length > 1 && values.every((v) => v > 0) ? simpleReturns(values) : [];
  const vol = closes.length ? annualizedVolatility(closes.slice(-params.volatilityWindowDays - 1).map((c) => c.pstr)) : null;
  return {
    var: valueAtRisk(returns, values.at(-1) ?? 0, params.minReturnsForVar),
    volatility: vol,
    marketRisk: vol === null ? 'insufficient history' : marketRiskLevel(vol),
    closeDays: closes.length,
  };
}

function accumulationOf(inputs: FigureInputs, params: FigureParams): OperatorFigures['accumulation'] {
  const byDay = new Map<string, DayAccumulation>();
  const skipped: Record<string, number> = {};
  for (const run of inputs.accumulation) {
    const day = utcDay(run.at);
    const d = byDay.get(day) ?? { day, usd: 0, buys: 0, runs: 0 };
    // A buy with no recorded fill spent the hourly budget, the amount the job asks for (SPEC §3).
    const usd = run.bought ? (run.usdSpent ?? params.hourlyBudgetUsd) : 0;
    byDay.set(day, { day, usd: d.usd + usd, buys: d.buys + (run.bought ? 1 : 0), runs: d.runs + 1 });
    if (!run.bought) skipped[run.skip ?? 'unknown'] = (skipped[run.skip ?? 'unknown'] ?? 0) + 1;
  }
  const days = [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day));
  const today = byDay.get(utcDay(inputs.to)) ?? { day: utcDay(inputs.to), usd: 0, buys: 0, runs: 0 };
  const usd = days.reduce((s, d) => s + d.usd, 0);
  // Unspent budget does not roll over (SPEC §3): the period's budget counts the days the job ran.
  const budgetUsd = params.dailyBudgetUsd * days.length;
  return {
    dailyBudgetUsd: params.dailyBudgetUsd,
    today: { ...today, shareOfBudget: today.usd / params.dailyBudgetUsd },
    period: { days: days.length, usd, buys: days.reduce((s, d) => s + d.buys, 0), budgetUsd, shareOfBudget: budgetUsd > 0 ? usd / budgetUsd : null, skipped },
    byDay: days,
  };
}

function liquidityOf(inputs: FigureInputs): PoolFigures[] {
  return inputs.positions.map((p) => {
    let n = 0;
    let inside = 0;
    for (const b of inputs.buckets) {
      n += b.pools[p.pool]?.n ?? 0;
      inside += b.pools[p.pool]?.inRange ?? 0;
    }
    const price = inputs.latestPrices ? poolPrice(p.quote, inputs.latestPrices) : null;
    return {
      pool: p.pool, quote: p.quote, inRangeShare: n > 0 ? inside / n : null, samples: n, price, rebalances: p.rebalances,
      impermanentLoss: price === null ? null : impermanentLoss(p.liquidity, p.range, { base: p.entryBase, quote: p.entryQuote }, price),
    };
  });
}

export function operatorFigures(inputs: FigureInputs, params: FigureParams): OperatorFigures {
  if (!(params.dailyBudgetUsd > 0)) throw new RangeError(`dailyBudgetUsd must be > 0, got ${params.dailyBudgetUsd}`);
  if (!(inputs.to >= inputs.from)) throw new RangeError(`period: to (${inputs.to}) must not be before from (${inputs.from})`);
  let rr: Stat | null = null;
  let health: Stat | null = null;
  const deviation = new Map<string, DeviationStat>();
  for (const b of inputs.buckets) {
    rr = mergeStats(rr, b.reserveRatio);
    health = mergeStats(health, b.health);
    for (const [source, d] of Object.entries(b.deviation)) {
      const s = deviation.get(source) ?? { n: 0, sum: 0, max: 0 };
      deviation.set(source, { n: s.n + d.n, sum: s.sum + d.sum, max: Math.max(s.max, d.max) });
    }
  }
  const inPeriod = inputs.interventions.filter((i) => i.startedAt >= inputs.from && i.startedAt <= inputs.to);
  const outcomes = inPeriod.map((i) => ({ executed: i.status === 'executed', roi7d: i.roi7d }));
  const byStatus: Record<string, number> = {};
  for (const i of inPeriod) byStatus[i.status] = (byStatus[i.status] ?? 0) + 1;
  const lastValue = [...inputs.buckets].reverse().find((b) => b.valueUsd !== null)?.valueUsd ?? null;
  return {
    period: {
      from: inputs.from, to: inputs.to, days: (inputs.to - inputs.from) / DAY_MS,
      cycles: inputs.buckets.reduce((s, b) => s + b.cycles, 0), validCycles: inputs.buckets.reduce((s, b) => s + b.validCycles, 0),
    },
    interventions: {
      count: inPeriod.length, byStatus, successRate: successRate(outcomes),
      awaitingRoi: outcomes.filter((o) => o.executed && o.roi7d === null).length,
    },
    performance: performanceOf(inputs.dailyValues),
    risk: riskOf(inputs, params),
    treasury: { valueUsd: lastValue, reserveRatio: trendOf(rr), health: trendOf(health), healthLevel: health ? healthLevel(health.last) : null },
    oracle: [...deviation.entries()].sort(([a], [b]) => a.localeCompare(b))
      .map(([source, d]) => ({ source, readings: d.n, mean: d.sum / d.n, max: d.max })),
    accumulation: accumulationOf(inputs, params),
    liquidity: liquidityOf(inputs),
  };
}

// ── Chart series ─────────────────────────────────────────────────────────────

export interface ChartSeries {
  /** Bucket starts, epoch seconds (uPlot's x). */
  t: number[];
  valueUsd: (number | null)[];
  reserveRatio: (number | null)[];
  health: (number | null)[];
  pstrUsd: (number | null)[];
  vwap30: (number | null)[];
  /** Per source, the bucket's mean deviation. */
  deviation: Record<string, (number | null)[]>;
}

/** One point per bucket: the bucket's last value (its mean, for oracle deviation). */
export function chartSeries(buckets: readonly Bucket[]): ChartSeries {
  const sources = [...new Set(buckets.flatMap((b) => Object.keys(b.deviation)))].sort();
  return {
    t: buckets.map((b) => b.t / 1000),
    valueUsd: buckets.map((b) => b.valueUsd),
    reserveRatio: buckets.map((b) => b.reserveRatio?.last ?? null),
    health: buckets.map((b) => b.health?.last ?? null),
    pstrUsd: buckets.map((b) => b.pstrUsd),
    vwap30: buckets.map((b) => b.vwap30),
    deviation: Object.fromEntries(sources.map((s) => [s, buckets.map((b) => {
      const d = b.deviation[s];
      return d ? d.sum / d.n : null;
    })])),
  };
}

/** Nice bucket widths, smallest first: the report picks the smallest that keeps the chart within its point budget. */
const BUCKET_LADDER_MS = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * 60_000);

export function bucketWidthMs(periodMs: number, maxPoints: number): number {
  if (!(periodMs > 0)) throw new RangeError(`period must be > 0 ms, got ${periodMs}`);
  if (!(Number.isInteger(maxPoints) && maxPoints >= 1)) throw new RangeError(`maxPoints must be an integer ≥ 1, got ${maxPoints}`);
  const width = BUCKET_LADDER_MS.find((w) => Math.ceil(periodMs / w) <= maxPoints);
  return width ?? Math.ceil(periodMs / maxPoints / DAY_MS) * DAY_MS;
}

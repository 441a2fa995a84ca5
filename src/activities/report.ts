/**
 * The operator report's one activity: everything its figures need, read from
 * the store (and the liquidity port) in one go. Per-cycle rows leave as time
 * buckets of exact sufficient statistics (src/report/figures.ts), so the
 * payload stays a few hundred kilobytes whatever the period; the figures are
 * computed by the workflow. Token amounts cross as decimal strings.
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { TreasuryStore } from '../db/store.ts';
import type { PriceRange } from '../domain/liquidity.ts';
import type { PositionView } from '../ports.ts';
import {
  bucketCycles, bucketWidthMs, type Bucket, type CyclePoint, type DailyClose, type InterventionPoint, type LpPositionInput,
  type PoolPricePoint, type RangeEpoch,
} from '../report/figures.ts';
import type { CycleRecord } from '../workflows/contract.ts';
import { serverClock, type ActivityDeps } from './deps.ts';

const DAY = 86_400_000;

export interface ReportInputsRequest {
  treasuryId: string;
  /** The report's period: the last `days` days up to now. */
  days: number;
  /** Days of daily closes for VaR and volatility (SPEC §7); default the worker's risk.varLookbackDays. */
  closeDays?: number;
  /** Most chart points (buckets) over the period; default 400. */
  maxPoints?: number;
}

/** One run of the hourly accumulation job; `usdcSpent` (base units) when the treasury's ledger recorded the fill. */
export interface AccumulationRunWire {
  at: number;
  bought: boolean;
  skip: string | null;
  reason: string;
  usdcSpent: string | null;
}

export interface ReportInputs {
  treasuryId: string;
  from: number;
  to: number;
  bucketMs: number;
  buckets: Bucket[];
  dailyValues: { day: string; value: number }[];
  closes: DailyClose[];
  /** The latest snapshot's balances in base units; null before the first snapshot. */
  holdings: { pump: string; usdc: string; sol: string; pstrRetired: string } | null;
  interventions: InterventionPoint[];
  accumulation: AccumulationRunWire[];
  positions: LpPositionInput[];
  latestPrices: PoolPricePoint | null;
}

const DEFAULT_MAX_POINTS = 400;

/** Needs only the store, the config's risk defaults and the liquidity port. */
export function reportActivities(deps: Pick<ActivityDeps, 'store' | 'config' | 'liquidity'>) {
  const { store } = deps;
  return {
    async reportInputs(input: ReportInputsRequest): Promise<ReportInputs> {
      const { treasuryId } = input;
      if (!treasuryId) throw new RangeError('reportInputs: treasuryId must be a non-empty string');
      if (!(Number.isFinite(input.days) && input.days > 0)) throw new RangeError(`reportInputs: days must be a number > 0, got ${input.days}`);
      const closeDays = input.closeDays ?? deps.config.risk.varLookbackDays;
      if (!(Number.isInteger(closeDays) && closeDays >= 1)) throw new RangeError(`reportInputs: closeDays must be an integer ≥ 1, got ${closeDays}`);
      const to = serverClock();
      const from = to - input.days * DAY;
      const bucketMs = bucketWidthMs(to - from, input.maxPoints ?? DEFAULT_MAX_POINTS);

      const samples = await store.priceSamples(treasuryId, Math.min(from, to - closeDays * DAY), to);
      const inPeriod = samples.filter((s) => s.timestamp >= from);
      const snapshots = await store.snapshots(treasuryId, from, to);
      const logs = await store.monitoringLogs(treasuryId, from, to);
      const cycles: CyclePoint[] = [];
      const jobRuns: { at: number; runKey: string; data: { bought?: unknown; skip?: unknown; reason?: unknown } }[] = [];
      for (const log of logs) {
        const data = log.data as Partial<CycleRecord> & { job?: unknown };
        if (data.job === 'accumulation') jobRuns.push({ at: log.at, runKey: log.cycleId.slice('accumulation/'.length), data: data as never });
        else if (data.summary) cycles.push(cyclePoint(data as CycleRecord));
      }
      const positions = await positionInputs(deps, treasuryId);
      // Buckets on a grid of whole widths since the epoch, so chart points fall on round times.
      const gridStart = Math.floor(from / bucketMs) * bucketMs;
      const buckets = bucketCycles({
        snapshots: snapshots.map((s) => ({ at: s.at, valueUsd: s.treasuryValueUsd, reserveRatio: s.reserveRatio, health: s.health })),
        cycles,
        poolPrices: inPeriod.map(poolPricePoint),
      }, positions, { from: gridStart, bucketMs });

      const latest = await store.latestSnapshot(treasuryId);
      const last = samples.at(-1);
      return {
        treasuryId, from, to, bucketMs, buckets,
        dailyValues: lastPerDay(snapshots.map((s) => ({ at: s.at, value: s.treasuryValueUsd }))).map(({ day, row }) => ({ day, value: row.value })),
        closes: lastPerDay(samples.filter((s) => s.timestamp >= to - closeDays * DAY).map((s) => ({ at: s.timestamp, s })))
          .map(({ day, row }) => ({ day, pstr: row.s.pstrPrice, pump: row.s.pumpPrice, sol: row.s.solPrice })),
        holdings: latest ? { pump: latest.pumpBalance.toString(), usdc: latest.usdcBalance.toString(), sol: latest.solBalance.toString(), pstrRetired: latest.pstrRetired.toString() } : null,
        interventions: await interventionPoints(store, treasuryId, from),
        accumulation: await accumulationRuns(store, treasuryId, jobRuns),
        positions,
        latestPrices: last ? poolPricePoint(last) : null,
      };
    },
  };
}

function cyclePoint(record: CycleRecord): CyclePoint {
  const s = record.summary;
  return {
    at: s.at,
    consensus: s.validPrice ? s.consensusPrice : null,
    vwap30: s.vwap30,
    readings: (record.consensus?.readings ?? []).map((r) => ({ source: r.source, price: r.price })),
  };
}

function poolPricePoint(s: { timestamp: number; pstrPrice: number; solPrice: number | null }): PoolPricePoint {
  return { at: s.timestamp, pstrUsd: s.pstrPrice, solUsd: s.solPrice };
}

/** The last row of each UTC day, oldest day first (rows come oldest first). */
function lastPerDay<T extends { at: number }>(rows: readonly T[]): { day: string; row: T }[] {
  const byDay = new Map<string, T>();
  for (const row of rows) byDay.set(new Date(row.at).toISOString().slice(0, 10), row);
  return [...byDay].map(([day, row]) => ({ day, row }));
}

async function interventionPoints(store: TreasuryStore, treasuryId: string, from: number): Promise<InterventionPoint[]> {
  const points: InterventionPoint[] = [];
  for (const i of await store.interventions(treasuryId, { sinceMs: from })) {
    const week = (await store.interventionSteps(i.id)).find((s) => s.step === 'track:168h');
    const roi = (week?.outcome as { roi?: number | null } | undefined)?.roi;
    points.push({
      id: i.id, status: i.status, startedAt: i.startedAt, executedAt: i.executedAt, price: i.decidedPrice, vwap30: i.vwap30,
      drawdown: i.drawdown, usdValue: i.usdValue, roi7d: typeof roi === 'number' ? roi : null,
    });
  }
  return points;
}

/** The job's records, with the USDC each buy spent when the treasury's ledger (paper mode) has the entry of its key. */
async function accumulationRuns(
  store: TreasuryStore, treasuryId: string,
  runs: readonly { at: number; runKey: string; data: { bought?: unknown; skip?: unknown; reason?: unknown } }[],
): Promise<AccumulationRunWire[]> {
  const keys = runs.map((r) => `accumulation/${treasuryId}/${r.runKey}`);
  const spent = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const rows = await store.query((db, { ledgerEntries: t }) => db.select({ key: t.entryKey, usdc: t.usdcDelta }).from(t)
      .where(and(eq(t.treasuryId, treasuryId), eq(t.kind, 'accumulation'), inArray(t.entryKey, chunk))));
    for (const r of rows) spent.set(r.key, (-r.usdc).toString());
  }
  return runs.map((r, i) => ({
    at: r.at,
    bought: r.data.bought === true,
    skip: typeof r.data.skip === 'string' ? r.data.skip : null,
    reason: typeof r.data.reason === 'string' ? r.data.reason : '',
    usdcSpent: r.data.bought === true ? (spent.get(keys[i] as string) ?? null) : null,
  }));
}

function isRange(v: unknown): v is PriceRange {
  const r = v as Partial<PriceRange> | null;
  return typeof r?.lower === 'number' && typeof r.upper === 'number' && typeof r.center === 'number';
}

/**
 * Each position with the ranges it held: from the ledger's rebalance entries
 * (paper mode records from → to), else the current range since its last
 * rebalance (earlier samples have no known range and are not counted).
 */
async function positionInputs(deps: Pick<ActivityDeps, 'store' | 'liquidity'>, treasuryId: string): Promise<LpPositionInput[]> {
  const views: PositionView[] = deps.liquidity ? await deps.liquidity.positions() : [];
  const rebalances = await deps.store.query((db, { ledgerEntries: t }) => db.select({ at: t.at, details: t.details }).from(t)
    .where(and(eq(t.treasuryId, treasuryId), eq(t.kind, 'rebalance')))
    .orderBy(asc(t.at)));
  return views.map((p) => {
    const range = { lower: p.lower, upper: p.upper, center: p.center };
    const moves = rebalances.flatMap((r) => {
      const d = r.details as { pool?: unknown; from?: unknown; to?: unknown } | null;
      return d?.pool === p.pool && isRange(d.from) && isRange(d.to) ? [{ at: r.at, from: d.from, to: d.to }] : [];
    });
    const epochs: RangeEpoch[] = moves.length
      ? [{ since: null, range: (moves[0] as (typeof moves)[number]).from }, ...moves.map((m) => ({ since: m.at, range: m.to }))]
      : [{ since: p.lastRebalanceAt, range }];
    return { pool: p.pool, quote: p.quote, liquidity: p.liquidity, range, entryBase: p.entryBase, entryQuote: p.entryQuote, rebalances: p.rebalances, epochs };
  });
}

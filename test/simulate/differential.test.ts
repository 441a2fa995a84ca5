/**
 * The differential test of issue #12: on generated paths, `simulate` (the
 * real worker, workflows and activities on the time-skipping server) and the
 * backtest (the same programs on a virtual clock) must agree. They must have
 * the same interventions (decided and executed within one cycle, the same
 * tier and status, PUMP spent within a few base units), the same emergency
 * stops and the same accumulation counts. A mismatch prints the first
 * intervention whose record differs, with both sides' records.
 *
 * The paths are short: two days of VWAP history and one day of warm-up
 * (`strategy.vwapWindowDays`, `minVwapHistoryDays`), hourly rows, so six
 * simulations take about a minute on one shared server.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backtest } from '../../src/backtest/engine.ts';
import { generatePriceRows } from '../../src/backtest/generate.ts';
import type { BacktestSummary, InterventionRecord, PriceRow } from '../../src/backtest/types.ts';
import { parseConfig, type ConfigInput } from '../../src/config.ts';
import { simulate } from '../../src/simulate/run.ts';
import { startTimeSkippingServer } from '../../src/temporal/server.ts';
import type { StepRecord } from '../../src/workflows/contract.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);
const DAYS = 4;

/** 40M PUMP (≈ 200k USD): tier 1 is ≈ 18.5k USD, above the 10k timelock threshold, so the scripted operator signs. */
const base: ConfigInput = {
  treasury: { initial: { pump: '40000000', usdc: '700000' } },
  liquidity: { enabled: false },
  strategy: { vwapWindowDays: 2, minVwapHistoryDays: 1 },
};
const configOf = (over: ConfigInput = {}) => parseConfig({ ...base, ...over, strategy: { ...base.strategy, ...over.strategy } });

/** Hourly rows with PSTR at 0.0002 × f(h), PUMP at 0.005 × g(h), SOL 150, a steady volume. */
function hourly(f: (h: number) => number, g: (h: number) => number = () => 1): PriceRow[] {
  return Array.from({ length: DAYS * 24 }, (_, h) => ({
    timestamp: T0 + h * HOUR, pstrPrice: 0.0002 * f(h), pstrVolume: 2500, pumpPrice: 0.005 * g(h), solPrice: 150, line: h + 2,
  }));
}

/** The seeded generator's path with a crash. */
function generated(opts: { crashDay: number; depth: number; recoveryDays: number; sources?: boolean; outlier?: boolean }): PriceRow[] {
  const rows: PriceRow[] = [];
  generatePriceRows({
    days: DAYS, intervalMs: HOUR, seed: 11, crashes: [{ day: opts.crashDay, depth: opts.depth, recoveryDays: opts.recoveryDays }],
    ...(opts.sources ? { sources: true } : {}),
    ...(opts.outlier ? { outliers: [{ source: 'dex' as const, fromDay: opts.crashDay, toDay: opts.crashDay + 1, offset: 0.08 }] } : {}),
  }, (r) => rows.push(r));
  return rows;
}

const PATHS: { name: string; rows: () => PriceRow[]; config: ConfigInput; expect: (b: BacktestSummary) => void }[] = [
  { name: 'a crash', rows: () => generated({ crashDay: 2.2, depth: 0.35, recoveryDays: 1 }), config: {}, expect: (b) => expect(b.interventions[0]?.status).toBe('executed') },
  { name: 'a slow bleed', rows: () => hourly((h) => (h < 48 ? 1 : Math.max(0.6, 1 - 0.006 * (h - 48)))), config: {}, expect: (b) => expect(b.interventions[0]?.status).toBe('executed') },
  { name: 'a recovery during the timelock', rows: () => hourly((h) => (h === 50 ? 0.78 : 1)), config: {}, expect: (b) => expect(b.interventions.map((i) => i.status)).toEqual(['invalidated']) },
  // The slice window is not a whole number of cycles: a slice due exactly at its end runs in the backtest (its clock
  // is exact) but not on the server (whose clock has moved on by the activities' milliseconds).
  { name: 'sliced fills in a shallow pool', rows: () => hourly((h) => (h >= 50 && h < 60 ? 0.8 : 1)), config: { backtest: { poolDepthUsd: 400_000 }, intervention: { sliceWindowMinutes: 150 } },
    expect: (b) => expect(Number(b.interventions[0]?.unfilledPump)).toBeGreaterThan(0) },
  { name: 'an outlier source', rows: () => generated({ crashDay: 2.2, depth: 0.35, recoveryDays: 1, sources: true, outlier: true }), config: {},
    expect: (b) => expect(b.oracles?.outlierReadings).toBeGreaterThan(0) },
  { name: 'an emergency stop', rows: () => hourly((h) => (h >= 50 && h < 54 ? 0.75 : 1), (h) => (h >= 52 ? 0.05 : 1)), config: { treasury: { initial: { pump: '40000000', usdc: '0' } } },
    expect: (b) => expect(b.emergencyStops).toHaveLength(1) },
];

interface Mismatch {
  what: string;
  /** The intervention (0-based) the mismatch is in, when it is in one. */
  index: number | null;
  backtest: unknown;
  simulate: unknown;
}

/** A verdict with its numbers to 6 significant digits (the consensus of agreeing sources may differ from the row price by an ulp). */
const gist = (verdict: string | undefined) => verdict?.replace(/\d+(\.\d+)?(e-?\d+)?/g, (m) => String(Number(Number(m).toPrecision(6))));

/** The first step where two interventions' records part (a different step, or the same step with another verdict). */
function firstDivergingStep(b: readonly StepRecord[], s: readonly StepRecord[]): string {
  const n = Math.max(b.length, s.length);
  // Step times are each run's clock (the simulation's server runs days ahead of the file): shown, not compared.
  const show = (r: StepRecord | undefined) => (r ? `${r.step}: ${r.verdict} (at ${new Date(r.at).toISOString()})` : '(no such step)');
  for (let i = 0; i < n; i++) {
    if (b[i]?.step !== s[i]?.step || gist(b[i]?.verdict) !== gist(s[i]?.verdict)) return `first diverging step (#${i + 1}):\n  backtest: ${show(b[i])}\n  simulate: ${show(s[i])}`;
  }
  return 'their steps agree';
}

const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));

/** The first way two interventions differ beyond the tolerances, or null. */
function interventionMismatch(b: InterventionRecord, s: InterventionRecord, cycleMs: number, pumpDecimals: number): string | null {
  const within = (x: string | null, y: string | null) => (x === null || y === null ? x === y : Math.abs((ms(x) as number) - (ms(y) as number)) <= cycleMs);
  if (!within(b.decidedAt, s.decidedAt)) return 'decidedAt';
  if (!within(b.executedAt, s.executedAt)) return 'executedAt';
  if (b.tier !== s.tier) return 'tier';
  if (b.status !== s.status) return 'status';
  const units = (t: string) => Math.round(Number(t) * 10 ** pumpDecimals);
  // A few base units: the paper ledger prices each hourly buy's USDC to the cent's millionth.
  if (Math.abs(units(b.pumpSpent) - units(s.pumpSpent)) > 10_000) return 'pumpSpent';
  return null;
}

function firstMismatch(b: BacktestSummary, s: BacktestSummary, cycleMs: number, pumpDecimals: number): Mismatch | null {
  const n = Math.max(b.interventions.length, s.interventions.length);
  for (let i = 0; i < n; i++) {
    const bi = b.interventions[i];
    const si = s.interventions[i];
    if (!bi || !si) return { what: `intervention ${i + 1} exists on one side only`, index: i, backtest: bi ?? null, simulate: si ?? null };
    const field = interventionMismatch(bi, si, cycleMs, pumpDecimals);
    if (field) return { what: `intervention ${i + 1}: ${field}`, index: i, backtest: bi, simulate: si };
  }
  const stops = (x: BacktestSummary) => x.emergencyStops.map((e) => ms(e.at) as number);
  const bs = stops(b);
  const ss = stops(s);
  if (bs.length !== ss.length || bs.some((t, i) => Math.abs(t - (ss[i] as number)) > cycleMs)) return { what: 'emergency stops', index: null, backtest: b.emergencyStops, simulate: s.emergencyStops };
  if (b.accumulation.buys !== s.accumulation.buys) return { what: 'accumulation buys', index: null, backtest: b.accumulation, simulate: s.accumulation };
  return null;
}

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkippingServer();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

describe('simulate and the backtest agree', () => {
  for (const path of PATHS) {
    it(`on ${path.name}: the same interventions, emergency stops and accumulation`, async () => {
      const rows = path.rows();
      const config = configOf(path.config);
      const bt = new Backtest(config);
      for (const row of rows) bt.step(row);
      const backtest = bt.finish().summary;
      const simulation = await simulate({ rows, file: `${path.name}.csv`, config, env });
      const mismatch = firstMismatch(backtest, simulation.result.summary, HOUR, config.tokens.pump.decimals);
      const steps = mismatch?.index == null ? '' : `\n${firstDivergingStep(bt.interventionSteps()[mismatch.index] ?? [], simulation.interventionSteps[mismatch.index] ?? [])}`;
      expect(mismatch, mismatch ? `${mismatch.what}\n  backtest: ${JSON.stringify(mismatch.backtest)}\n  simulate: ${JSON.stringify(mismatch.simulate)}${steps}` : '').toBeNull();
      // The path does what it is named for (a path that triggers nothing could not fail).
      path.expect(backtest);
    }, 240_000);
  }
});

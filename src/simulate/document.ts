/**
 * The simulation's document: the backtest's BacktestResult (the same `--json`
 * summary, the same charts and details for the HTML report), built only from
 * what the real run recorded, with the backtest's own domain functions for
 * the metrics (successRate, sharpeRatio over daily values, maxDrawdown).
 *
 * Times are file times, and a moment is reported at the row that was the
 * market then: on the server a cycle starts a little after its row's time
 * (see csv-market.ts), so the decision of the cycle that read the 12:00 row
 * is "decided at 12:00", as the backtest says it.
 *
 * Where a figure cannot be produced exactly as the backtest does:
 * - Treasury value, RR and health per cycle are the monitor's, measured at
 *   the start of the cycle; the backtest measures after the row's buy and
 *   swap. The daily values (Sharpe, max drawdown) and the final figures are
 *   therefore the first cycle's of a day and the last cycle's, before that
 *   cycle's own actions.
 * - usdValue is the intervention's own (each slice at its observation's PUMP
 *   consensus price; the backtest prices slices at the row's pump_price: the
 *   same number up to the consensus's rounding).
 * - Liquidity: the paper ledger earns no fees (feesUsd 0), and it keeps a
 *   position's entry amounts from its last rebalance, so impermanentLoss is
 *   measured against holding since then, not since funding.
 * - Accumulation skips are counted under the reason the job recorded (the
 *   backtest's keys, plus any other the production job has, e.g. `failure`).
 * - `oracles` (files with per-source columns): the alerts are those the
 *   monitor's cycle records carry, by kind (alerts raised outside a cycle, by
 *   an intervention or a job, are not counted, as the backtest counts the
 *   cycle's).
 */
import type { BacktestResult, BacktestSummary, ChartSeries, InterventionRecord } from '../backtest/types.ts';
import type { Config } from '../config.ts';
import { formatAmount } from '../domain/amount.ts';
import { healthLevel } from '../domain/health.ts';
import { HOUR_MS } from '../domain/intervention.ts';
import { impermanentLoss, inRange, type PriceRange } from '../domain/liquidity.ts';
import { maxDrawdown, sharpeRatio, successRate } from '../domain/performance.ts';
import { simpleReturns } from '../domain/risk.ts';
import { DAY_MS } from '../domain/vwap.ts';
import type { CycleRecord } from '../workflows/contract.ts';
import type { CsvMarket } from './csv-market.ts';
import type { InterventionFacts, SimulationFacts } from './facts.ts';

const iso = (t: number) => new Date(t).toISOString();
const ENDED_BY_DATA = 'the price data ended before the intervention finished';

export function buildDocument(facts: SimulationFacts, market: CsvMarket, config: Config): BacktestResult {
  const rowTime = (serverMs: number) => market.rowAt(serverMs).timestamp;
  const records = facts.interventions.map((i) => interventionRecord(i, rowTime, config));
  const valued = facts.cycles.filter((c) => c.summary.treasuryValueUsd !== null);
  const last = valued.at(-1)?.summary ?? null;
  const dailyValues = [...dailyValuesOf(facts.cycles, rowTime), last?.treasuryValueUsd ?? 0];
  const finalHealth = last?.health ?? 0;
  const summary: BacktestSummary = {
    samples: facts.cycles.length,
    interventions: records,
    emergencyStops: facts.cycles.filter((c) => c.emergency.entered).map((c) => ({ at: iso(rowTime(c.summary.at)), reserveRatio: c.summary.reserveRatio ?? 0 })),
    accumulation: accumulationOf(facts, config),
    metrics: {
      interventionCount: records.length,
      successRate: successRate(facts.interventions.map((i) => outcomeOf(i, config))),
      sharpe: sharpeRatio(simpleReturns(dailyValues)),
      maxDrawdown: maxDrawdown(dailyValues),
      finalReserveRatio: last?.reserveRatio ?? 0,
      finalHealth,
    },
    ...(market.hasSources ? { oracles: oraclesOf(facts.cycles) } : {}),
  };
  const t = config.tokens;
  return {
    summary,
    charts: chartsOf(facts.cycles, rowTime, config),
    details: {
      from: iso(market.rows[0]?.timestamp ?? 0),
      to: iso(market.rows.at(-1)?.timestamp ?? 0),
      finalHealthLevel: healthLevel(finalHealth),
      finalTreasuryValue: last?.treasuryValueUsd ?? 0,
      finalBalances: {
        pump: formatAmount({ raw: facts.balances.pump, decimals: t.pump.decimals }),
        usdc: formatAmount({ raw: facts.balances.usdc, decimals: t.usdc.decimals }),
        sol: formatAmount({ raw: facts.balances.sol, decimals: t.sol.decimals }),
        pstrRetired: formatAmount({ raw: facts.balances.pstrRetired, decimals: t.pstr.decimals }),
      },
      liquidity: liquidityOf(facts, market),
    },
  };
}

/** As the backtest's InterventionRun.record(): the workflow's state first, the decision where the state has nothing. */
function interventionRecord(f: InterventionFacts, rowTime: (t: number) => number, config: Config): InterventionRecord {
  const { row, state: st, decision } = f;
  const pump = config.tokens.pump.decimals;
  const pstr = config.tokens.pstr.decimals;
  const status = st?.status ?? row.status;
  const running = status === 'running';
  const executed = status === 'executed';
  const result = st?.result ?? null;
  const roi = executed ? Object.fromEntries(config.intervention.trackHorizonsHours.map((h) => [`${h}h`, st?.roi[`${h}h`] ?? null])) : {};
  return {
    decidedAt: iso(rowTime(row.startedAt)),
    executedAt: row.executedAt === null ? null : iso(rowTime(row.executedAt)),
    status: running ? 'expired' : status,
    price: row.decidedPrice,
    vwap30: row.vwap30,
    drawdown: decision?.drawdown ?? row.drawdown,
    tier: st?.tier ?? row.tier ?? decision?.tier?.tier ?? 0,
    fraction: st?.fraction ?? row.fraction ?? decision?.fraction ?? 0,
    pumpSpent: formatAmount({ raw: BigInt(result?.pumpSpent ?? '0'), decimals: pump }),
    pstrBought: formatAmount({ raw: BigInt(result?.pstrBought ?? row.pstrBought?.toString() ?? '0'), decimals: pstr }),
    usdValue: row.usdValue ?? 0,
    reason: running ? ENDED_BY_DATA : (st?.reason ?? row.reason ?? ''),
    slippage: result?.slippage ?? null,
    unfilledPump: formatAmount({ raw: executed ? BigInt(result?.unfilledPump ?? '0') : 0n, decimals: pump }),
    roi,
  };
}

function outcomeOf(f: InterventionFacts, config: Config): { executed: boolean; roi7d: number | null } {
  const last = config.intervention.trackHorizonsHours.at(-1) ?? 168;
  const status = f.state?.status ?? f.row.status;
  return { executed: status === 'executed', roi7d: f.state?.roi[`${last}h`] ?? null };
}

/** The treasury value of the first cycle of each UTC day (file time); a day whose first cycle had no price keeps the last value. */
function dailyValuesOf(cycles: readonly CycleRecord[], rowTime: (t: number) => number): number[] {
  const values: number[] = [];
  let lastDay = -1;
  let lastValue: number | null = null;
  for (const c of cycles) {
    const value = c.summary.treasuryValueUsd;
    const day = Math.floor(rowTime(c.summary.at) / DAY_MS);
    if (value !== null) {
      if (day !== lastDay) values.push(value);
      lastValue = value;
      lastDay = day;
    } else if (day !== lastDay && lastValue !== null) {
      values.push(lastValue);
      lastDay = day;
    }
  }
  return values;
}

function accumulationOf(facts: SimulationFacts, config: Config): BacktestSummary['accumulation'] {
  const skipped: Record<string, number> = {};
  for (const run of facts.accumulationRuns) {
    if (run.bought) continue;
    const key = run.reason.startsWith('no valid price') ? 'noValidPrice' : (run.skip ?? 'failure');
    skipped[key] = (skipped[key] ?? 0) + 1;
  }
  const usdcIn = facts.accumulationEntries.reduce((sum, e) => sum - e.usdcDelta, 0n);
  return {
    buys: facts.accumulationEntries.length,
    // USDC counted at 1 USD, as the backtest counts it.
    usdSpent: Number(usdcIn) / 10 ** config.tokens.usdc.decimals,
    // The backtest's keys, and any other the production job records (e.g. `failure`, `reserve-ratio`).
    skipped,
  };
}

function oraclesOf(cycles: readonly CycleRecord[]): NonNullable<BacktestSummary['oracles']> {
  const report: NonNullable<BacktestSummary['oracles']> = { noValidPriceCycles: 0, outlierReadings: 0, alerts: {} };
  for (const c of cycles) {
    if (!c.summary.validPrice) report.noValidPriceCycles++;
    report.outlierReadings += c.consensus.outliers.length;
    for (const a of c.alerts) report.alerts[a.kind] = (report.alerts[a.kind] ?? 0) + 1;
  }
  return report;
}

/** One point per file hour (the first cycle of each), and the last cycle's: what the backtest's charts hold. */
function chartsOf(cycles: readonly CycleRecord[], rowTime: (t: number) => number, config: Config): ChartSeries {
  const charts: ChartSeries = { t: [], pstrPrice: [], vwap30: [], trigger: [], treasuryValue: [], reserveRatio: [], health: [] };
  let lastHour = -1;
  let last: CycleRecord['summary'] | null = null;
  const point = (t: number) => {
    charts.t.push(Math.floor(t / 1000));
    charts.pstrPrice.push(last?.consensusPrice ?? 0);
    charts.vwap30.push(last?.vwap30 ?? null);
    charts.trigger.push(last?.vwap30 == null ? null : last.vwap30 * config.strategy.triggerThreshold);
    charts.treasuryValue.push(last?.treasuryValueUsd ?? 0);
    charts.reserveRatio.push(last?.reserveRatio ?? 0);
    charts.health.push(last?.health ?? 0);
  };
  let t = 0;
  for (const c of cycles) {
    t = rowTime(c.summary.at);
    if (c.summary.validPrice) last = c.summary;
    const hour = Math.floor(t / HOUR_MS);
    if (hour !== lastHour) {
      lastHour = hour;
      point(t);
    }
  }
  if (cycles.length > 0 && charts.t.at(-1) !== Math.floor(t / 1000)) point(t);
  return charts;
}

/**
 * Per pool: the share of time its position was in range (time-weighted over the cycles, each rebalance's range
 * from the ledger), impermanent loss at the last row against holding its recorded entry, fees (none: the paper
 * ledger has no fee model), rebalances.
 */
function liquidityOf(facts: SimulationFacts, market: CsvMarket): BacktestResult['details']['liquidity'] {
  return facts.positions.map((p) => {
    const rebalances = facts.rebalances.filter((r) => r.pool === p.pool).sort((a, b) => a.at - b.at);
    const poolPrice = (t: number) => market.pstrPrice(t) / (p.quote === 'SOL' ? market.solPrice(t) : 1);
    // Before each rebalance the position held the range that rebalance moved it from; after the last, the current one.
    const rangeAt = (t: number): PriceRange => rebalances.find((r) => r.at > t)?.from ?? p.range;
    let inRangeMs = 0;
    let totalMs = 0;
    let prev: { t: number; within: boolean } | null = null;
    for (const c of facts.cycles) {
      const t = c.summary.at;
      if (prev) {
        totalMs += t - prev.t;
        if (prev.within) inRangeMs += t - prev.t;
      }
      prev = { t, within: inRange(rangeAt(t), poolPrice(t)) };
    }
    const lastT = facts.cycles.at(-1)?.summary.at ?? 0;
    return {
      pool: p.pool,
      inRangeShare: totalMs > 0 ? inRangeMs / totalMs : 1,
      impermanentLoss: impermanentLoss(p.liquidity, p.range, { base: p.entryBase, quote: p.entryQuote }, poolPrice(lastT)),
      feesUsd: 0,
      rebalances: p.rebalances,
    };
  });
}

/**
 * The backtest: one CSV row = one monitoring cycle, run through the same
 * domain rules the live monitor uses, and each intervention through the
 * production lifecycle itself (src/programs/intervention.ts, bound to the
 * price file and the model pool in intervention-run.ts) on a virtual clock
 * (scheduler.ts): timers due before a row fire at their own times on the
 * previous row's market. Streaming (`step` per row, `finish` at the end) so a
 * year of one-minute rows never sits in memory twice.
 */
import type { Config } from '../config.ts';
import { add, amount, formatAmount, parseAmount, sub, toTokens, type TokenAmount } from '../domain/amount.ts';
import { diversification, healthLevel, healthScore } from '../domain/health.ts';
import { interventionParams, type InterventionParams } from '../domain/intervention.ts';
import { maxDrawdown, sharpeRatio, successRate } from '../domain/performance.ts';
import { simpleReturns } from '../domain/risk.ts';
import { classValues, decideAccumulation, quantitiesOf, stateOf, type Holdings, type Quantities, type SkipReason, type TreasuryState } from '../domain/treasury.ts';
import { DAY_MS, RollingVwap } from '../domain/vwap.ts';
import { HOUR_MS } from '../domain/intervention.ts';
import { initialMonitorState, monitorCycle, type CyclePorts } from '../programs/monitor-cycle.ts';
import type { MonitorState } from '../workflows/monitor.ts';
import type { GateContextResult } from '../activities/intervention.ts';
import type { ConsensusResult } from '../domain/consensus.ts';
import type { CycleRecord, MarketObservation, StepRecord } from '../workflows/contract.ts';
import { consensusOf } from '../workflows/monitor-cycle.ts';
import { InterventionRun, scriptedOperators, type BacktestWorld, type RowMarket } from './intervention-run.ts';
import { rowReadings } from './row-readings.ts';
import { Scheduler } from './scheduler.ts';
import { READING_SOURCE, ROW_SOURCES } from './types.ts';
import { LiquidityBook } from './liquidity-book.ts';
import type { BacktestResult, BacktestSummary, ChartSeries, PriceRow } from './types.ts';

const iso = (t: number) => new Date(t).toISOString();

/** A price file without per-source columns: its row price is the consensus (one reading, agreeing with itself). */
function rowConsensus(row: PriceRow): ConsensusResult {
  const p = row.pstrPrice;
  const reading = { source: 'price file', price: p, confidence: 0, publishTime: row.timestamp };
  return { ok: true, price: p, median: p, agreeingMedian: p, weightedMean: p, readings: [reading], agreeing: [reading], excluded: [], outliers: [] };
}

export class Backtest {
  private readonly vwap: RollingVwap;
  private readonly params: InterventionParams;
  private readonly capacity: { minRrThreshold: number; minReserveRatio: number };
  private readonly liquidity: LiquidityBook;
  private readonly supply: TokenAmount<'PSTR'>;
  private pump: TokenAmount<'PUMP'>;
  private usdc: TokenAmount<'USDC'>;
  private sol: TokenAmount<'SOL'>;
  private pstrRetired: TokenAmount<'PSTR'>;
  private readonly emergencyStops: { at: string; reserveRatio: number }[] = [];
  private readonly runs: InterventionRun[] = [];
  private active: InterventionRun[] = [];
  private buys = 0;
  private usdSpent = 0;
  private readonly skipped: Partial<Record<SkipReason | 'noValidPrice', number>> = {};
  /** Only for files with per-source readings: what SPEC §2 did with them. */
  private oracleReport: NonNullable<BacktestSummary['oracles']> | undefined;
  private samples = 0;
  private firstT = 0;
  private lastT = 0;
  private lastHour = -1;
  /** When the next monitoring cycle is due, and the time between cycles (known from the second row). */
  private nextCycleAt = 0;
  private cadenceMs = 0;
  private lastDay = -1;
  private readonly dailyValues: number[] = [];
  private readonly charts: ChartSeries = { t: [], pstrPrice: [], vwap30: [], trigger: [], treasuryValue: [], reserveRatio: [], health: [] };
  private lastState: TreasuryState | null = null;
  private lastPrice = 0;
  private lastVwap: number | null = null;
  private config: Config;
  /** The interventions' configuration with the scripted operators' keys: derived at the first intervention (ed25519 set-up costs ~50 ms). */
  private scripted: ReturnType<typeof scriptedOperators> | null = null;
  private readonly scheduler = new Scheduler(0, () => this.operate());
  /** The row at virtual time (the market every observation reads). */
  private row: PriceRow | null = null;
  private readonly world: BacktestWorld;
  /** The monitor's memory, as the workflow keeps it (MonitorState): the cycle program reads and changes it. */
  private readonly mon: MonitorState;
  private readonly cyclePorts: CyclePorts;
  /** The consensus of the row at a time (the cycle's and an intervention's observation at the same instant agree). */
  private consensusMemo: { row: PriceRow; now: number; result: ConsensusResult } | null = null;

  constructor(config: Config) {
    this.config = config;
    const t = config.tokens;
    this.world = this.worldPorts();
    this.mon = initialMonitorState(this.config);
    this.cyclePorts = this.cycleBindings();
    this.vwap = new RollingVwap(config.strategy.vwapWindowDays * DAY_MS);
    this.params = interventionParams(config);
    this.capacity = { minRrThreshold: config.risk.minRrThreshold, minReserveRatio: config.risk.minReserveRatio };
    this.liquidity = new LiquidityBook(config);
    this.supply = parseAmount('PSTR', config.treasury.pstrCirculatingSupply, t.pstr.decimals, 'treasury.pstrCirculatingSupply');
    this.pump = parseAmount('PUMP', config.treasury.initial.pump, t.pump.decimals, 'treasury.initial.pump');
    this.usdc = parseAmount('USDC', config.treasury.initial.usdc, t.usdc.decimals, 'treasury.initial.usdc');
    this.sol = parseAmount('SOL', config.treasury.initial.sol, t.sol.decimals, 'treasury.initial.sol');
    this.pstrRetired = amount('PSTR', 0n, t.pstr.decimals);
  }

  /** Whole-token quantities, converted from the exact balances only when they change. */
  private cachedQuantities: Quantities | null = null;

  private quantities(): Quantities {
    this.cachedQuantities ??= quantitiesOf(this.balances(), this.supply);
    return this.cachedQuantities;
  }

  private balances(): Omit<Holdings, 'lpValueUsd'> {
    return { pump: this.pump, usdc: this.usdc, sol: this.sol, pstrRetired: this.pstrRetired };
  }

  /** What the interventions' lifecycle reads and moves here (intervention-run.ts binds it to the program's ports). */
  private worldPorts(): BacktestWorld {
    return {
      scheduler: this.scheduler,
      market: () => this.rowMarket(),
      observation: () => this.observation(),
      consensus: (obs, now) => this.consensus(obs, now),
      gateContext: (excludeId) => this.gateContext(excludeId),
      settleFill: (pumpIn, pstrOut) => {
        this.cachedQuantities = null;
        this.pump = sub(this.pump, amount('PUMP', pumpIn, this.pump.decimals));
        this.pstrRetired = add(this.pstrRetired, amount('PSTR', pstrOut, this.pstrRetired.decimals));
      },
      settled: (e) => {
        // The monitor's settle handler: out of flight, and a swap (a partial one too) dates the cooldown.
        this.active = this.active.filter((r) => r.id !== e.interventionId);
        const m = this.mon;
        m.inFlight = m.inFlight.filter((id) => id !== e.interventionId);
        if (e.executedAt !== null && (m.lastExecutedSwapAt === null || e.executedAt > m.lastExecutedSwapAt)) m.lastExecutedSwapAt = e.executedAt;
      },
    };
  }

  private currentRow(): PriceRow {
    if (this.row === null) throw new Error('backtest: no price row yet');
    return this.row;
  }

  private rowMarket(): RowMarket {
    const row = this.currentRow();
    return { t: this.scheduler.now(), pstr: row.pstrPrice, pump: row.pumpPrice, vwap: this.lastVwap };
  }

  /** The market as observeMarket reports it: the row's readings (or none), its PUMP and SOL prices, the balances now. */
  private observation(): MarketObservation {
    const row = this.currentRow();
    const readings = rowReadings(row);
    const failures = row.sources ? ROW_SOURCES.filter((s) => !row.sources?.[s]).map((s) => ({ source: READING_SOURCE[s], error: 'no reading in the price file' })) : [];
    return {
      at: this.scheduler.now(), readings, failures, pumpPrice: row.pumpPrice, solPrice: row.solPrice ?? this.config.backtest.initialSolPrice,
      volumeUsd: row.pstrVolume,
      balances: this.wireBalances(),
    };
  }

  /** The balances as observeMarket reports them (decimal strings), rebuilt only when they or the LP value change. */
  private wireCache: { key: TokenAmount<'PUMP'>; usdc: TokenAmount<'USDC'>; lp: number; value: MarketObservation['balances'] } | null = null;

  private wireBalances(): MarketObservation['balances'] {
    const lp = this.liquidity.valueUsd();
    const c = this.wireCache;
    if (c && c.key === this.pump && c.usdc === this.usdc && c.lp === lp) return c.value;
    const value = { pump: this.pump.raw.toString(), usdc: this.usdc.raw.toString(), sol: this.sol.raw.toString(), pstrRetired: this.pstrRetired.raw.toString(), lpValueUsd: lp };
    this.wireCache = { key: this.pump, usdc: this.usdc, lp, value };
    return value;
  }

  /** SPEC §2 over the row's per-source readings as live; a file without them gives its row price as the consensus. */
  private consensus(obs: MarketObservation, now: number): ConsensusResult {
    const row = this.currentRow();
    const memo = this.consensusMemo;
    if (memo && memo.row === row && memo.now === now) return memo.result;
    const result = row.sources ? consensusOf(obs, now, this.config) : rowConsensus(row);
    this.consensusMemo = { row, now, result };
    return result;
  }

  private gateContext(excludeId: string): GateContextResult {
    const others = this.runs.filter((r) => r.id !== excludeId);
    return {
      paused: this.mon.paused, emergencyStop: this.mon.emergencyStop, monitorRunning: true, lastExecutedSwapAt: this.mon.lastExecutedSwapAt,
      interventionStarts: others.map((r) => r.startedAt), inFlight: others.filter((r) => r.inFlight).map((r) => r.id), failClosed: false, reason: null,
    };
  }

  /** The scripted operator looks at every intervention in its timelock whenever a program parks. */
  private operate(): void {
    for (const run of this.active) run.operate();
  }

  step(row: PriceRow): void {
    const t = row.timestamp;
    // Timers due before this row fire on the previous row's market; those due at it, on this row.
    this.scheduler.runUntilBefore(t);
    this.row = row;
    this.scheduler.runDue();
    const solPrice = row.solPrice ?? this.config.backtest.initialSolPrice;
    if (this.samples === 0) {
      this.firstT = t;
      this.nextCycleAt = t;
      if (this.config.liquidity.enabled) this.liquidity.fund(row.pstrPrice, solPrice);
    }
    if (this.samples === 1) this.cycleEvery(t - this.firstT);
    this.samples++;
    this.lastT = t;
    this.liquidity.step(t, row.pstrPrice, solPrice, row.pstrVolume);
    const newHour = this.hourStarts(t);
    const cycles = t >= this.nextCycleAt;
    let consensus: ConsensusResult | undefined;
    if (cycles) {
      // The first row cycles before the cadence is known (the second row sets it, from the first).
      if (this.cadenceMs > 0) while (this.nextCycleAt <= t) this.nextCycleAt += this.cadenceMs;
      // The monitoring cycle itself (src/programs/monitor-cycle.ts): consensus, sample, decision, the start, the record.
      this.scheduler.spawn(monitorCycle(this.mon, true, this.scheduler.env, this.cyclePorts));
      consensus = this.consensusMemo?.result;
    } else if (newHour) {
      // A row between cycles is the market between observations (the monitor does not see it); the hour's buy reads it.
      consensus = this.consensus(this.observation(), t);
    }
    if (cycles || newHour) {
      if (!consensus?.ok) {
        // No valid price: the cycle failed closed (no sample, no decision); the hour's buy has no price either.
        if (newHour) this.skipped.noValidPrice = (this.skipped.noValidPrice ?? 0) + 1;
      } else {
        this.accumulateAndValue(consensus.price, row, solPrice, newHour);
      }
    }
    const day = Math.floor(t / DAY_MS);
    if (day !== this.lastDay && this.lastState) {
      this.lastDay = day;
      this.dailyValues.push(this.lastState.valueUsd);
    }
    if (newHour) this.chartPoint(t);
  }

  /**
   * The monitor cycles at its configured interval, as live; rows finer than that are the market between its
   * observations (1-minute rows, 5-minute cycles: every fifth row is a cycle). A file coarser than the interval has
   * one cycle per row, and the monitor's cadence (the wait between slices, among others) is then the rows' interval.
   * `npm run simulate` runs its monitor at the same cadence.
   */
  private cycleEvery(rowsMs: number): void {
    const seconds = rowsMs / 1000;
    const configured = this.config.monitor.cycleIntervalSeconds;
    this.cadenceMs = Math.max(rowsMs, configured * 1000);
    this.nextCycleAt = this.firstT + this.cadenceMs;
    if (!(seconds > configured)) return;
    this.config = { ...this.config, monitor: { ...this.config.monitor, cycleIntervalSeconds: seconds } };
    this.mon.config = this.config;
    this.scripted = null;
  }

  private hourStarts(t: number): boolean {
    const hour = Math.floor(t / HOUR_MS);
    if (hour === this.lastHour) return false;
    this.lastHour = hour;
    return true;
  }

  /** The hourly accumulation (decideAccumulation, as the scheduled job) after the cycle, and the treasury's value at the consensus. */
  private accumulateAndValue(price: number, row: PriceRow, solPrice: number, newHour: boolean): void {
    const prices = { pstr: price, pump: row.pumpPrice, sol: solPrice };
    const lpValueUsd = this.liquidity.valueUsd();
    let state = stateOf(this.quantities(), lpValueUsd, prices, this.capacity);
    if (newHour) {
      const d = decideAccumulation({ holdings: { ...this.balances(), lpValueUsd }, state, prices, paused: this.mon.paused, emergencyStop: this.mon.emergencyStop }, this.config);
      if (d.buy) {
        this.cachedQuantities = null;
        this.usdc = sub(this.usdc, d.usdcIn);
        this.pump = add(this.pump, d.pumpOut);
        this.buys++;
        this.usdSpent += toTokens(d.usdcIn);
        state = stateOf(this.quantities(), lpValueUsd, prices, this.capacity);
      } else {
        this.skipped[d.skip] = (this.skipped[d.skip] ?? 0) + 1;
      }
    }
    this.lastState = state;
    this.lastPrice = price;
  }

  /** The cycle's ports: the row's market, the engine's rolling VWAP as the store's samples, interventions started on the scheduler. */
  private cycleBindings(): CyclePorts {
    return {
      recordBacklog: () => true,
      observe: () => this.observation(),
      consensus: (obs, now) => this.consensus(obs, now),
      recordSample: (sample) => {
        this.vwap.push({ timestamp: sample.at, price: sample.pstrPrice, volume: sample.volumeUsd });
        const reading = this.vwap.at(sample.at);
        this.lastVwap = reading?.vwap ?? null;
        return reading;
      },
      gateMemory: () => this.mon,
      configBlock: () => null,
      configVersion: () => ({}),
      reserve: () => true,
      startIntervention: (req) => {
        const row = this.currentRow();
        const decided = { t: req.startedAt, pstr: req.consensus.ok ? req.consensus.price : row.pstrPrice, pump: row.pumpPrice, vwap: req.vwap30, consensus: req.consensus };
        this.scripted ??= scriptedOperators(this.config);
        const run = new InterventionRun(req.seq, this.scripted.config, req.decision, decided, this.world, this.scripted.seeds);
        this.runs.push(run);
        this.active.push(run);
        run.start();
        return null;
      },
      recordCycle: (record) => {
        this.noteCycle(record);
        return undefined;
      },
      deliver: () => undefined,
      isActivityFailure: () => false,
      authRefused: () => [],
      idTaken: () => false,
    };
  }

  /** What the backtest reports from a cycle's record: the emergency stops, and with per-source readings what SPEC §2 did. */
  private noteCycle(record: CycleRecord): void {
    if (record.emergency.entered) this.emergencyStops.push({ at: iso(record.summary.at), reserveRatio: record.summary.reserveRatio ?? Number.NaN });
    if (!this.currentRow().sources) return;
    const report = (this.oracleReport ??= { noValidPriceCycles: 0, outlierReadings: 0, alerts: {} });
    if (!record.summary.validPrice) report.noValidPriceCycles++;
    report.outlierReadings += record.consensus.outliers.length;
    for (const a of record.alerts) report.alerts[a.kind] = (report.alerts[a.kind] ?? 0) + 1;
  }

  /** Health of the last row's state (SPEC §6); computed where it is reported, not on every row. */
  private health(): number {
    const s = this.lastState;
    if (s === null) return 0;
    return healthScore({ reserveRatio: s.reserveRatio, interventionCapacity: s.interventionCapacity, diversification: diversification(classValues(s)) });
  }

  private chartPoint(t: number): void {
    const c = this.charts;
    c.t.push(Math.floor(t / 1000));
    c.pstrPrice.push(this.lastPrice);
    c.vwap30.push(this.lastVwap);
    c.trigger.push(this.lastVwap === null ? null : this.lastVwap * this.params.triggerThreshold);
    c.treasuryValue.push(this.lastState?.valueUsd ?? 0);
    c.reserveRatio.push(this.lastState?.reserveRatio ?? 0);
    c.health.push(this.health());
  }

  /** Each intervention's step records, as the workflow writes them (diagnostics: the differential test prints where runs part). */
  interventionSteps(): (readonly StepRecord[])[] {
    return this.runs.map((r) => r.recordedSteps);
  }

  finish(): BacktestResult {
    if (this.samples === 0) throw new Error('no price rows: nothing to backtest');
    if (this.charts.t.at(-1) !== Math.floor(this.lastT / 1000)) this.chartPoint(this.lastT);
    const records = this.runs.map((r) => r.record());
    const finalValue = this.lastState?.valueUsd ?? 0;
    const finalHealth = this.health();
    const dailyValues = [...this.dailyValues, finalValue];
    const metrics = {
      interventionCount: records.length,
      successRate: successRate(this.runs.map((r) => r.outcome)),
      sharpe: sharpeRatio(simpleReturns(dailyValues)),
      maxDrawdown: maxDrawdown(dailyValues),
      finalReserveRatio: this.lastState?.reserveRatio ?? 0,
      finalHealth,
    };
    const skipped = Object.fromEntries(Object.entries(this.skipped).filter(([, n]) => (n ?? 0) > 0));
    return {
      summary: {
        samples: this.samples,
        interventions: records,
        emergencyStops: this.emergencyStops,
        accumulation: { buys: this.buys, usdSpent: this.usdSpent, skipped },
        metrics,
        ...(this.oracleReport ? { oracles: this.oracleReport } : {}),
      },
      charts: this.charts,
      details: {
        from: iso(this.firstT),
        to: iso(this.lastT),
        finalHealthLevel: healthLevel(finalHealth),
        finalTreasuryValue: finalValue,
        finalBalances: { pump: formatAmount(this.pump), usdc: formatAmount(this.usdc), sol: formatAmount(this.sol), pstrRetired: formatAmount(this.pstrRetired) },
        liquidity: this.liquidity.report(),
      },
    };
  }
}

/** Runs a whole series (already validated rows) through a fresh backtest. */
export function runBacktest(rows: Iterable<PriceRow>, config: Config): BacktestResult {
  const bt = new Backtest(config);
  for (const row of rows) bt.step(row);
  return bt.finish();
}


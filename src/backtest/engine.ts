/**
 * The backtest: one CSV row = one monitoring cycle, run through the same
 * domain rules the live monitor uses. Streaming (`step` per row, `finish` at
 * the end) so a year of one-minute rows never sits in memory twice.
 */
import type { Config } from '../config.ts';
import { add, amount, formatAmount, parseAmount, sub, toTokens, type TokenAmount } from '../domain/amount.ts';
import { diversification, healthLevel, healthScore } from '../domain/health.ts';
import { decideIntervention, interventionParams, isTriggered, nextEmergencyState, type InterventionParams } from '../domain/intervention.ts';
import { maxDrawdown, sharpeRatio, successRate } from '../domain/performance.ts';
import { simpleReturns } from '../domain/risk.ts';
import { classValues, decideAccumulation, quantitiesOf, stateOf, type Holdings, type Quantities, type SkipReason, type TreasuryState } from '../domain/treasury.ts';
import { DAY_MS, RollingVwap } from '../domain/vwap.ts';
import { HOUR_MS } from '../domain/intervention.ts';
import { InterventionRun, type RowMarket } from './intervention-run.ts';
import { LiquidityBook } from './liquidity-book.ts';
import type { BacktestResult, ChartSeries, PriceRow } from './types.ts';

const iso = (t: number) => new Date(t).toISOString();

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
  private emergency = false;
  private readonly emergencyStops: { at: string; reserveRatio: number }[] = [];
  private readonly runs: InterventionRun[] = [];
  private active: InterventionRun[] = [];
  private lastSwapAt: number | null = null;
  private buys = 0;
  private usdSpent = 0;
  private readonly skipped: Partial<Record<SkipReason, number>> = {};
  private samples = 0;
  private firstT = 0;
  private lastT = 0;
  private lastHour = -1;
  private lastDay = -1;
  private readonly dailyValues: number[] = [];
  private readonly charts: ChartSeries = { t: [], pstrPrice: [], vwap30: [], trigger: [], treasuryValue: [], reserveRatio: [], health: [] };
  private lastState: TreasuryState | null = null;
  private lastPrice = 0;
  private lastVwap: number | null = null;

  constructor(private readonly config: Config) {
    const t = config.tokens;
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

  private readonly ledger = {
    pumpBalance: () => this.pump,
    settle: (pumpIn: bigint, pstrOut: bigint) => {
      this.cachedQuantities = null;
      this.pump = sub(this.pump, amount('PUMP', pumpIn, this.pump.decimals));
      this.pstrRetired = add(this.pstrRetired, amount('PSTR', pstrOut, this.pstrRetired.decimals));
    },
  };

  step(row: PriceRow): void {
    const t = row.timestamp;
    const solPrice = row.solPrice ?? this.config.backtest.initialSolPrice;
    const prices = { pstr: row.pstrPrice, pump: row.pumpPrice, sol: solPrice };
    if (this.samples === 0) {
      this.firstT = t;
      if (this.config.liquidity.enabled) this.liquidity.fund(row.pstrPrice, solPrice);
    }
    this.samples++;
    this.lastT = t;
    this.vwap.push({ timestamp: t, price: row.pstrPrice, volume: row.pstrVolume });
    const vwap = this.vwap.at(t);
    this.liquidity.step(t, row.pstrPrice, solPrice, row.pstrVolume);
    const lpValueUsd = this.liquidity.valueUsd();

    let state = stateOf(this.quantities(), lpValueUsd, prices, this.capacity);
    let changed = false;
    const em = nextEmergencyState(this.emergency, state.reserveRatio, this.config.risk.minRrThreshold);
    this.emergency = em.latched;
    if (em.entered) this.emergencyStops.push({ at: iso(t), reserveRatio: state.reserveRatio });

    const hour = Math.floor(t / HOUR_MS);
    const newHour = hour !== this.lastHour;
    if (newHour) {
      this.lastHour = hour;
      const d = decideAccumulation({ holdings: { ...this.balances(), lpValueUsd }, state, prices, paused: false, emergencyStop: this.emergency }, this.config);
      if (d.buy) {
        this.cachedQuantities = null;
        changed = true;
        this.usdc = sub(this.usdc, d.usdcIn);
        this.pump = add(this.pump, d.pumpOut);
        this.buys++;
        this.usdSpent += toTokens(d.usdcIn);
      } else {
        this.skipped[d.skip] = (this.skipped[d.skip] ?? 0) + 1;
      }
    }

    const market: RowMarket = { t, pstr: row.pstrPrice, pump: row.pumpPrice, vwap: vwap?.vwap ?? null };
    if (this.active.length > 0) {
      for (const run of this.active) run.step(market);
      this.settleRuns();
      changed = true;
    }

    const inFlight = this.active.some((r) => r.inFlight);
    // Only a cycle at or below the trigger can start one; decideIntervention applies the same test and the gates.
    if (!inFlight && vwap !== null && isTriggered(row.pstrPrice, vwap.vwap, this.params.triggerThreshold)) {
      if (changed) state = stateOf(this.quantities(), lpValueUsd, prices, this.capacity);
      const decision = decideIntervention(
        {
          now: t, price: row.pstrPrice, vwap, paused: false, emergencyStop: this.emergency,
          lastExecutedSwapAt: this.lastSwapAt, interventionStarts: this.runs.map((r) => r.startedAt),
          inFlight, reserveRatio: state.reserveRatio,
        },
        this.params,
      );
      if (decision.intervene) {
        const run = new InterventionRun(this.runs.length + 1, this.config, decision, market, this.ledger);
        this.runs.push(run);
        this.active.push(run);
        run.step(market);
        this.settleRuns();
        changed = true;
      }
    }

    if (changed) state = stateOf(this.quantities(), lpValueUsd, prices, this.capacity);
    this.lastState = state;
    this.lastPrice = row.pstrPrice;
    this.lastVwap = vwap?.vwap ?? null;
    const day = Math.floor(t / DAY_MS);
    if (day !== this.lastDay) {
      this.lastDay = day;
      this.dailyValues.push(state.valueUsd);
    }
    if (newHour) this.chartPoint(t);
  }

  /** Health of the last row's state (SPEC §6); computed where it is reported, not on every row. */
  private health(): number {
    const s = this.lastState;
    if (s === null) return 0;
    return healthScore({ reserveRatio: s.reserveRatio, interventionCapacity: s.interventionCapacity, diversification: diversification(classValues(s)) });
  }

  private settleRuns(): void {
    for (const run of this.active) {
      const at = run.swapCompletedAt;
      if (at !== null && (this.lastSwapAt === null || at > this.lastSwapAt)) this.lastSwapAt = at;
    }
    if (this.active.some((r) => r.finished)) this.active = this.active.filter((r) => !r.finished);
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


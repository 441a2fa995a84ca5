/**
 * One intervention's life inside a backtest, SPEC §5 steps 1–6 with the
 * timelock as a delay followed by automatic approval: validate and assess at
 * the deciding row, size, wait, re-check the trigger, swap (sliced against a
 * constant-product pool when one is configured), then track ROI.
 */
import type { Config } from '../config.ts';
import { amount, formatAmount, mulFraction, toTokens, type TokenAmount } from '../domain/amount.ts';
import { needsTimelock, timelockParams, type TimelockParams } from '../domain/approval.ts';
import { HOUR_MS, isTriggered, type InterventionDecision } from '../domain/intervention.ts';
import { buybackRoi, constantProductOut, impliedOutput, maxInputWithinSlippage, planSlices, poolReserves, withinSlippage } from '../domain/swap.ts';
import type { InterventionRecord, InterventionStatus } from './types.ts';

export interface RowMarket {
  readonly t: number;
  readonly pstr: number;
  readonly pump: number;
  readonly vwap: number | null;
}

/** What the run needs from the treasury it acts on. */
export interface Ledger {
  pumpBalance(): TokenAmount<'PUMP'>;
  /** Moves PUMP out and PSTR in (retired). */
  settle(pumpIn: bigint, pstrOut: bigint): void;
}

type Phase = 'timelock' | 'swapping' | 'tracking' | 'done';

const iso = (t: number) => new Date(t).toISOString();

export class InterventionRun {
  private phase: Phase;
  private readonly unlockAt: number;
  private swapDeadline = 0;
  private remaining = 0n;
  private pumpSpent = 0n;
  private pstrBought = 0n;
  private impliedTotal = 0n;
  private usdValue = 0;
  private status: InterventionStatus | null = null;
  private reason = '';
  private executedAt: number | null = null;
  private readonly roi: Record<string, number | null> = {};
  private readonly horizons: { key: string; at: number }[] = [];
  private readonly tl: TimelockParams;
  readonly pumpAmount: bigint;

  constructor(
    readonly id: number,
    private readonly config: Config,
    private readonly decision: InterventionDecision,
    private readonly decided: RowMarket,
    private readonly ledger: Ledger,
  ) {
    this.tl = timelockParams(config);
    const size = mulFraction(ledger.pumpBalance(), decision.fraction);
    this.pumpAmount = size.raw;
    const usdSize = toTokens(size) * decided.pump;
    const wait = needsTimelock(usdSize, this.tl);
    this.unlockAt = decided.t + (wait ? this.tl.timelockMinutes * 60_000 : 0);
    this.phase = 'timelock';
    if (size.raw === 0n) this.end('aborted', 'nothing to deploy: the PUMP balance is zero');
    else this.reason = wait ? `timelock: ${usdSize.toFixed(2)} USD exceeds ${this.tl.timelockThresholdUsd}; auto-approved after ${this.tl.timelockMinutes} min` : 'below the timelock threshold';
  }

  get startedAt(): number {
    return this.decided.t;
  }

  get inFlight(): boolean {
    return this.phase === 'timelock' || this.phase === 'swapping';
  }

  get finished(): boolean {
    return this.phase === 'done';
  }

  /** The moment its swap completed, for the cooldown; null unless it executed. */
  get swapCompletedAt(): number | null {
    return this.status === 'executed' ? this.executedAt : null;
  }

  get outcome(): { executed: boolean; roi7d: number | null } {
    const last = this.config.intervention.trackHorizonsHours.at(-1) ?? 168;
    return { executed: this.status === 'executed', roi7d: this.roi[`${last}h`] ?? null };
  }

  /** Advances on a row; the deciding row itself is the first call. */
  step(m: RowMarket): void {
    if (this.phase === 'timelock' && m.t >= this.unlockAt) this.afterTimelock(m);
    if (this.phase === 'swapping') this.swapSlice(m);
    if (this.phase === 'tracking') this.track(m);
  }

  private afterTimelock(m: RowMarket): void {
    // Step 4's last check: a price that recovered above the trigger during the wait ends it with no swap.
    if (this.unlockAt > this.decided.t && (m.vwap === null || !isTriggered(m.pstr, m.vwap, this.config.strategy.triggerThreshold))) {
      this.end('invalidated', `price ${m.pstr} recovered above the trigger during the timelock`);
      return;
    }
    const available = this.ledger.pumpBalance().raw;
    this.remaining = this.pumpAmount < available ? this.pumpAmount : available;
    this.swapDeadline = m.t + this.config.intervention.sliceWindowMinutes * 60_000;
    this.phase = 'swapping';
  }

  /** One slice per cycle: the largest the pool takes within maxSlippage (all of it without a pool model). */
  private swapSlice(m: RowMarket): void {
    if (m.t > this.swapDeadline) return this.finishSwap(m.t);
    const decimals = this.config.tokens.pstr.decimals;
    const pumpDecimals = this.config.tokens.pump.decimals;
    const depth = this.config.backtest.poolDepthUsd;
    let slice = this.remaining;
    let out: bigint;
    const implied = (x: bigint) => impliedOutput(amount('PUMP', x, pumpDecimals), m.pump, m.pstr, decimals).raw;
    if (depth === undefined) {
      out = implied(slice);
    } else {
      const { pump: reservePump, pstr: reservePstr } = poolReserves(depth, m.pump, m.pstr, pumpDecimals, decimals);
      const cap = maxInputWithinSlippage(reservePump, this.config.risk.maxSlippage);
      slice = planSlices(this.remaining, cap)[0] ?? 0n;
      out = constantProductOut(slice, reservePump, reservePstr);
    }
    const ideal = implied(slice);
    if (slice === 0n || !withinSlippage(out, ideal, this.config.risk.maxSlippage)) {
      if (this.pumpSpent === 0n) return this.end('aborted', `quote worse than the consensus-implied output by more than ${this.config.risk.maxSlippage}; nothing moved`);
      return this.finishSwap(m.t);
    }
    this.ledger.settle(slice, out);
    this.remaining -= slice;
    this.pumpSpent += slice;
    this.pstrBought += out;
    this.impliedTotal += ideal;
    this.usdValue += toTokens({ raw: slice, decimals: pumpDecimals }) * m.pump;
    if (this.remaining === 0n) this.finishSwap(m.t);
  }

  private finishSwap(t: number): void {
    if (this.pumpSpent === 0n) return this.end('aborted', 'nothing was filled within the slice window');
    this.executedAt = t;
    this.status = 'executed';
    const unfilled = this.remaining > 0n ? `; ${formatAmount({ raw: this.remaining, decimals: this.config.tokens.pump.decimals })} PUMP unfilled within ${this.config.intervention.sliceWindowMinutes} min` : '';
    this.reason = `swapped${unfilled}`;
    for (const h of this.config.intervention.trackHorizonsHours) {
      this.horizons.push({ key: `${h}h`, at: t + h * HOUR_MS });
      this.roi[`${h}h`] = null;
    }
    this.phase = 'tracking';
  }

  private track(m: RowMarket): void {
    const bought = amount('PSTR', this.pstrBought, this.config.tokens.pstr.decimals);
    while (this.horizons.length > 0 && m.t >= (this.horizons[0] as { at: number }).at) {
      const h = this.horizons.shift() as { key: string };
      this.roi[h.key] = buybackRoi(bought, m.pstr, this.usdValue);
    }
    if (this.horizons.length === 0) this.phase = 'done';
  }

  private end(status: InterventionStatus, reason: string): void {
    this.status = status;
    this.reason = reason;
    this.phase = 'done';
  }

  record(): InterventionRecord {
    const pump = this.config.tokens.pump.decimals;
    const pstr = this.config.tokens.pstr.decimals;
    return {
      decidedAt: iso(this.decided.t),
      executedAt: this.executedAt === null ? null : iso(this.executedAt),
      // A run still waiting when the data ends never reached a verdict: it counts as expired.
      status: this.status ?? 'expired',
      price: this.decided.pstr,
      vwap30: this.decided.vwap ?? Number.NaN,
      drawdown: this.decision.drawdown ?? Number.NaN,
      tier: this.decision.tier?.tier ?? 0,
      fraction: this.decision.fraction,
      pumpSpent: formatAmount({ raw: this.pumpSpent, decimals: pump }),
      pstrBought: formatAmount({ raw: this.pstrBought, decimals: pstr }),
      usdValue: this.usdValue,
      reason: this.status === null ? 'the price data ended before the intervention finished' : this.reason,
      slippage: this.impliedTotal > 0n ? 1 - Number(this.pstrBought) / Number(this.impliedTotal) : null,
      unfilledPump: formatAmount({ raw: this.status === 'executed' ? this.remaining : 0n, decimals: pump }),
      roi: { ...this.roi },
    };
  }
}

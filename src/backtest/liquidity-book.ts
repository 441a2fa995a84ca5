/**
 * The treasury's concentrated-liquidity positions during a backtest: funded
 * at the first row, valued at every row, re-centered by the domain's
 * rebalance rule, and reported per pool (SPEC §8).
 */
import type { Config } from '../config.ts';
import {
  amountsAt,
  decideRebalance,
  impermanentLoss,
  inRange,
  liquidityForValue,
  mayRebalance,
  poolBudgetsUsd,
  positionValue,
  rangeAround,
  type PriceRange,
  type RebalanceParams,
} from '../domain/liquidity.ts';

interface Position {
  readonly name: string;
  readonly quote: 'SOL' | 'USDC';
  readonly share: number;
  L: number;
  range: PriceRange;
  readonly entry: { base: number; quote: number };
  lastRebalanceAt: number | null;
  wasInRange: boolean;
  inRangeMs: number;
  totalMs: number;
  feesUsd: number;
  rebalances: number;
  lastQuoteUsd: number;
  lastPoolPrice: number;
}

export interface PoolReport {
  pool: string;
  inRangeShare: number;
  impermanentLoss: number;
  feesUsd: number;
  rebalances: number;
}

export class LiquidityBook {
  private positions: Position[] = [];
  private lastT: number | null = null;
  private lastValueUsd = 0;
  private readonly rebalance: RebalanceParams;

  constructor(private readonly config: Config) {
    const l = config.liquidity;
    this.rebalance = { width: l.rangeWidth, threshold: l.rebalanceThreshold, minIntervalHours: l.minRebalanceIntervalHours };
  }

  /** Opens each pool's position with its USD budget, centered on the current pool price. */
  fund(pstrUsd: number, solUsd: number): void {
    const budgets = poolBudgetsUsd(this.config);
    const total = budgets.reduce((s, b) => s + b.usd, 0);
    this.positions = budgets.map((b) => {
      const quoteUsd = b.quote === 'SOL' ? solUsd : 1;
      const price = pstrUsd / quoteUsd;
      const range = rangeAround(price, this.config.liquidity.rangeWidth);
      const L = liquidityForValue(b.usd / quoteUsd, price, range);
      return {
        name: b.name, quote: b.quote, share: total > 0 ? b.usd / total : 0, L, range,
        entry: amountsAt(L, range, price), lastRebalanceAt: null, wasInRange: true,
        inRangeMs: 0, totalMs: 0, feesUsd: 0, rebalances: 0, lastQuoteUsd: quoteUsd, lastPoolPrice: price,
      };
    });
  }

  get funded(): boolean {
    return this.positions.length > 0;
  }

  /**
   * Advances to a row: time in range is credited for the interval since the
   * previous row; fees are a model (pool fee × our share of the pool's volume
   * while in range, the row's volume split by pool share); then rebalances.
   */
  step(t: number, pstrUsd: number, solUsd: number, volumeUsd: number): void {
    const dt = this.lastT === null ? 0 : t - this.lastT;
    this.lastT = t;
    const { feeRate, volumeShare } = this.config.liquidity;
    let value = 0;
    for (const p of this.positions) {
      p.totalMs += dt;
      if (p.wasInRange) p.inRangeMs += dt;
      const quoteUsd = p.quote === 'SOL' ? solUsd : 1;
      const price = pstrUsd / quoteUsd;
      p.lastQuoteUsd = quoteUsd;
      p.lastPoolPrice = price;
      const within = inRange(p.range, price);
      if (within) p.feesUsd += feeRate * volumeShare * volumeUsd * p.share;
      p.wasInRange = within;
      const positionQuote = positionValue(p.L, p.range, price);
      value += positionQuote * quoteUsd + p.feesUsd;
      if (!mayRebalance(p.range.center, price, this.rebalance.threshold)) continue;
      const d = decideRebalance({ center: p.range.center, price, lastRebalanceAt: p.lastRebalanceAt, now: t }, this.rebalance);
      if (d.rebalance) {
        // Re-centering keeps the position's value at the current price.
        p.range = d.newRange;
        p.L = liquidityForValue(positionQuote, price, p.range);
        p.lastRebalanceAt = t;
        p.rebalances++;
        p.wasInRange = true;
      }
    }
    this.lastValueUsd = value;
  }

  /** Value of every position at the last row's prices, both sides, plus fees earned, in USD. */
  valueUsd(): number {
    return this.lastValueUsd;
  }

  report(): PoolReport[] {
    return this.positions.map((p) => ({
      pool: p.name,
      inRangeShare: p.totalMs > 0 ? p.inRangeMs / p.totalMs : 1,
      impermanentLoss: impermanentLoss(p.L, p.range, p.entry, p.lastPoolPrice),
      feesUsd: p.feesUsd,
      rebalances: p.rebalances,
    }));
  }
}

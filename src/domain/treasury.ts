/**
 * Treasury state (SPEC §3): value, market cap, reserve ratio, PUMP
 * concentration, intervention capacity, and the hourly accumulation rule.
 */
import type { Config } from '../config-schema.ts';
import { amount, amountForUsd, fromTokens, sub, toTokens, type TokenAmount } from './amount.ts';

export interface Holdings {
  readonly pump: TokenAmount<'PUMP'>;
  readonly usdc: TokenAmount<'USDC'>;
  readonly sol: TokenAmount<'SOL'>;
  /** PSTR bought back: retired from float, never counted as treasury value. */
  readonly pstrRetired: TokenAmount<'PSTR'>;
  /** Liquidity positions, both sides at consensus prices. */
  readonly lpValueUsd: number;
}

export interface MarketPrices {
  readonly pstr: number;
  readonly pump: number;
  readonly sol: number;
  /** USDC is valued at 1 unless an oracle says otherwise. */
  readonly usdc?: number;
}

export interface TreasuryState {
  readonly valueUsd: number;
  readonly pumpValueUsd: number;
  readonly usdcValueUsd: number;
  readonly solValueUsd: number;
  readonly lpValueUsd: number;
  readonly circulatingPstr: number;
  readonly marketCapUsd: number;
  /** Finite: capped at UNBOUNDED_RESERVE_RATIO (see there). */
  readonly reserveRatio: number;
  /** No PSTR float, or a ratio past the ceiling: RR reads as +∞. */
  readonly reserveRatioUnbounded: boolean;
  readonly pumpConcentration: number;
  readonly interventionCapacity: number;
}

/**
 * Our rule where SPEC.md is silent: with no PSTR float (circulating supply or
 * market cap 0) the reserve ratio is unbounded (+∞, "excellent" in the
 * README). Infinity cannot cross a workflow payload or a JSON column (it
 * becomes null), so the domain reports such a ratio, and any ratio above it,
 * as this finite ceiling and flags it `reserveRatioUnbounded`: every gate on
 * RR passes, capacity is 1, health is excellent, and the value survives
 * Temporal, the store and the metrics unchanged.
 */
export const UNBOUNDED_RESERVE_RATIO = 1e6;

/** A ratio at or above the ceiling is shown as unbounded (no float left to defend). */
export function isUnboundedReserveRatio(rr: number | null | undefined): boolean {
  return typeof rr === 'number' && rr >= UNBOUNDED_RESERVE_RATIO;
}

export interface CapacityParams {
  readonly minRrThreshold: number;
  readonly minReserveRatio: number;
}

/** interventionCapacity = clamp((RR − minRrThreshold) / (minReserveRatio − minRrThreshold), 0, 1). */
export function interventionCapacity(reserveRatio: number, p: CapacityParams): number {
  const raw = (reserveRatio - p.minRrThreshold) / (p.minReserveRatio - p.minRrThreshold);
  return Math.min(1, Math.max(0, raw));
}

/**
 * Circulating supply excludes PSTR held by the treasury: the configured
 * supply is the float before any buyback, and every PSTR bought back leaves it.
 */
export function circulatingSupply(configured: TokenAmount<'PSTR'>, retired: TokenAmount<'PSTR'>): TokenAmount<'PSTR'> {
  const left = sub(configured, retired);
  return left.raw < 0n ? amount('PSTR', 0n, configured.decimals) : left;
}

/** Whole-token quantities for valuation: converted once from the exact balances, reused while they do not change. */
export interface Quantities {
  readonly pump: number;
  readonly usdc: number;
  readonly sol: number;
  readonly circulatingPstr: number;
}

export function quantitiesOf(h: Omit<Holdings, 'lpValueUsd'>, configuredSupply: TokenAmount<'PSTR'>): Quantities {
  return {
    pump: toTokens(h.pump),
    usdc: toTokens(h.usdc),
    sol: toTokens(h.sol),
    circulatingPstr: toTokens(circulatingSupply(configuredSupply, h.pstrRetired)),
  };
}

export function treasuryState(h: Holdings, prices: MarketPrices, configuredSupply: TokenAmount<'PSTR'>, p: CapacityParams): TreasuryState {
  return stateOf(quantitiesOf(h, configuredSupply), h.lpValueUsd, prices, p);
}

export function stateOf(q: Quantities, lpValueUsd: number, prices: MarketPrices, p: CapacityParams): TreasuryState {
  const pumpValueUsd = q.pump * prices.pump;
  const usdcValueUsd = q.usdc * (prices.usdc ?? 1);
  const solValueUsd = q.sol * prices.sol;
  // Treasury value = PUMP·price + USDC + SOL·price + liquidity positions.
  const valueUsd = pumpValueUsd + usdcValueUsd + solValueUsd + lpValueUsd;
  const circulatingPstr = q.circulatingPstr;
  const marketCapUsd = prices.pstr * circulatingPstr;
  // reserveRatio = treasury value / PSTR market cap; no float means nothing to defend (unbounded, capped finite).
  const raw = marketCapUsd > 0 ? valueUsd / marketCapUsd : Number.POSITIVE_INFINITY;
  const reserveRatio = Math.min(raw, UNBOUNDED_RESERVE_RATIO);
  const pumpConcentration = valueUsd > 0 ? pumpValueUsd / valueUsd : 0;
  return {
    valueUsd,
    pumpValueUsd,
    usdcValueUsd,
    solValueUsd,
    lpValueUsd,
    circulatingPstr,
    marketCapUsd,
    reserveRatio,
    reserveRatioUnbounded: isUnboundedReserveRatio(reserveRatio),
    pumpConcentration,
    interventionCapacity: interventionCapacity(reserveRatio, p),
  };
}

/** Value of each asset class the treasury can hold, in the order PUMP, USDC, SOL, LP (for diversification). */
export function classValues(s: TreasuryState): number[] {
  return [s.pumpValueUsd, s.usdcValueUsd, s.solValueUsd, s.lpValueUsd];
}

/** dailyBudget = totalCapital × treasuryAllocation / accumulationPeriodDays. */
export function dailyBudgetUsd(strategy: Config['strategy']): number {
  return (strategy.totalCapital * strategy.treasuryAllocation) / strategy.accumulationPeriodDays;
}

/** Each hourly buy spends dailyBudget / 24; unspent budget does not roll over. */
export function hourlyBudgetUsd(strategy: Config['strategy']): number {
  return dailyBudgetUsd(strategy) / 24;
}

export type SkipReason = 'control-unknown' | 'paused' | 'emergency' | 'reserve-ratio' | 'usdc' | 'concentration';

export type AccumulationDecision =
  | { readonly buy: true; readonly usdcIn: TokenAmount<'USDC'>; readonly pumpOut: TokenAmount<'PUMP'>; readonly usd: number; readonly reason: string }
  | { readonly buy: false; readonly skip: SkipReason; readonly reason: string };

export interface AccumulationInput {
  readonly holdings: Holdings;
  readonly state: TreasuryState;
  readonly prices: MarketPrices;
  readonly paused: boolean;
  readonly emergencyStop: boolean;
  /**
   * Whether the pause/stop flags are known (the store or the monitor could
   * tell). Unknown fails closed: no buy. Absent: known (the backtest).
   */
  readonly controlKnown?: boolean;
  /** Why the flags are unknown, for the recorded reason. */
  readonly controlReason?: string | null;
}

/**
 * The hourly accumulation buy, or why it is skipped (SPEC §3). Fills at the
 * PUMP price, rounded down. Fails closed: unknown flags skip, and so does an
 * RR below minRrThreshold in this very observation (SPEC §4's emergency rule,
 * checked here too so a latch the monitor has not recorded yet still halts it).
 */
export function decideAccumulation(input: AccumulationInput, config: Pick<Config, 'strategy' | 'risk'>): AccumulationDecision {
  const usd = hourlyBudgetUsd(config.strategy);
  if (input.controlKnown === false) {
    return { buy: false, skip: 'control-unknown', reason: `pause/stop state unknown, skipped (fail closed)${input.controlReason ? `: ${input.controlReason}` : ''}` };
  }
  if (input.paused) return { buy: false, skip: 'paused', reason: 'monitor is paused' };
  if (input.emergencyStop) return { buy: false, skip: 'emergency', reason: 'emergency stop is latched' };
  const rr = input.state.reserveRatio;
  // Written so NaN skips too: a reserve ratio that cannot be compared is not "at or above".
  if (!(rr >= config.risk.minRrThreshold)) {
    return { buy: false, skip: 'reserve-ratio', reason: `reserve ratio ${rr.toFixed(4)} is below ${config.risk.minRrThreshold}: emergency rule, no buy` };
  }
  const usdcIn = fromTokens('USDC', usd, input.holdings.usdc.decimals);
  if (input.holdings.usdc.raw < usdcIn.raw) {
    return { buy: false, skip: 'usdc', reason: `USDC balance ${toTokens(input.holdings.usdc).toFixed(2)} is short of the hourly ${usd.toFixed(2)}` };
  }
  const { valueUsd, pumpValueUsd } = input.state;
  // A swap of USDC for PUMP at market keeps the total value: the concentration after is (PUMP + usd) / value.
  const after = valueUsd > 0 ? (pumpValueUsd + usd) / valueUsd : 1;
  if (after > config.risk.maxPumpConcentration) {
    return {
      buy: false,
      skip: 'concentration',
      reason: `buying would lift PUMP concentration to ${after.toFixed(4)}, above ${config.risk.maxPumpConcentration}`,
    };
  }
  const pumpOut = amountForUsd('PUMP', usd, input.prices.pump, input.holdings.pump.decimals);
  return { buy: true, usdcIn, pumpOut, usd, reason: `hourly budget ${usd.toFixed(2)} USD at PUMP ${input.prices.pump}` };
}

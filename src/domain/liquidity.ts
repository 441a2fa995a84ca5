/**
 * Concentrated-liquidity positions (SPEC §8), Uniswap-v3 math with float
 * liquidity. The pool price p is PSTR (base) priced in the quote token (SOL
 * or USDC). With a = √lower, b = √upper, s = √p a position of liquidity L holds
 *
 *   p ≤ lower:         base = L·(1/a − 1/b),  quote = 0            (all PSTR)
 *   lower < p < upper: base = L·(1/s − 1/b),  quote = L·(s − a)
 *   p ≥ upper:         base = 0,              quote = L·(b − a)    (all quote)
 *
 * The three cases agree at the edges, so value is continuous in p.
 */
import type { Config } from '../config-schema.ts';

export interface PriceRange {
  readonly lower: number;
  readonly upper: number;
  readonly center: number;
}

const HOUR_MS = 3_600_000;

function requirePositive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${field} must be a finite number > 0, got ${value}`);
}

function requireRange(r: PriceRange): void {
  requirePositive('range lower', r.lower);
  requirePositive('range upper', r.upper);
  if (!(r.lower < r.upper)) throw new RangeError(`range lower ${r.lower} must be below upper ${r.upper}`);
}

/** SPEC §8: a position's range is center × (1 ± width), width 0.10 by default. */
export function rangeAround(center: number, width: number): PriceRange {
  requirePositive('range center', center);
  if (!(width > 0 && width < 1)) throw new RangeError(`range width must be in (0, 1), got ${width}`);
  return { lower: center * (1 - width), upper: center * (1 + width), center };
}

/** SPEC §8: in range while the pool price is inside [lower, upper]. */
export function inRange(r: PriceRange, price: number): boolean {
  return r.lower <= price && price <= r.upper;
}

export function amountsAt(L: number, r: PriceRange, price: number): { base: number; quote: number } {
  if (!Number.isFinite(L) || L < 0) throw new RangeError(`liquidity must be a finite number ≥ 0, got ${L}`);
  requireRange(r);
  requirePositive('price', price);
  const a = Math.sqrt(r.lower);
  const b = Math.sqrt(r.upper);
  if (price <= r.lower) return { base: L * (1 / a - 1 / b), quote: 0 };
  if (price >= r.upper) return { base: 0, quote: L * (b - a) };
  const s = Math.sqrt(price);
  return { base: L * (1 / s - 1 / b), quote: L * (s - a) };
}

/** Value in quote units: base · price + quote. */
export function positionValue(L: number, r: PriceRange, price: number): number {
  const { base, quote } = amountsAt(L, r, price);
  return base * price + quote;
}

/** The L for which a position opened at `price` is worth `valueInQuote` (value is linear in L). */
export function liquidityForValue(valueInQuote: number, price: number, r: PriceRange): number {
  if (!Number.isFinite(valueInQuote) || valueInQuote < 0) {
    throw new RangeError(`position value must be a finite number ≥ 0, got ${valueInQuote}`);
  }
  return valueInQuote / positionValue(1, r, price);
}

/**
 * SPEC §8 "impermanent loss versus holding": value(LP) / value(holding the
 * entry amounts) − 1. For entry amounts taken from this position, concavity of
 * the LP value makes this ≤ 0 (0 at the entry price, up to float rounding).
 * An empty position has nothing to lose: 0.
 */
export function impermanentLoss(L: number, r: PriceRange, entry: { base: number; quote: number }, price: number): number {
  const held = entry.base * price + entry.quote;
  const lp = positionValue(L, r, price);
  if (held === 0 && lp === 0) return 0;
  if (!(held > 0)) throw new RangeError(`entry amounts must be worth > 0 at price ${price}, got base ${entry.base}, quote ${entry.quote}`);
  return lp / held - 1;
}

export interface RebalanceInput {
  readonly center: number;
  readonly price: number;
  readonly lastRebalanceAt: number | null;
  readonly now: number;
}

export type RebalanceDecision =
  | { rebalance: true; reason: string; newRange: PriceRange }
  | { rebalance: false; reason: string };

export interface RebalanceParams {
  readonly width: number;
  readonly threshold: number;
  readonly minIntervalHours: number;
}

/** |price − center| / center: how far the pool price has moved from the range's center. */
export function driftFromCenter(center: number, price: number): number {
  return Math.abs(price - center) / center;
}

/** Cheap pre-check for hot loops: only a drift beyond the threshold can make decideRebalance say yes. */
export function mayRebalance(center: number, price: number, threshold: number): boolean {
  return driftFromCenter(center, price) > threshold;
}

/** SPEC §8: re-center on the price when |price − center| / center > 0.15, at most once per day per pool. */
export function decideRebalance(input: RebalanceInput, params: RebalanceParams): RebalanceDecision {
  requirePositive('range center', input.center);
  requirePositive('price', input.price);
  const drift = driftFromCenter(input.center, input.price);
  const driftText = `price ${input.price} is ${pct(drift)} from center ${input.center}`;
  if (!mayRebalance(input.center, input.price, params.threshold)) {
    return { rebalance: false, reason: `${driftText}, within the ${pct(params.threshold)} threshold` };
  }
  if (input.lastRebalanceAt !== null) {
    const sinceHours = (input.now - input.lastRebalanceAt) / HOUR_MS;
    if (sinceHours < params.minIntervalHours) {
      return {
        rebalance: false,
        reason: `${driftText}, beyond ${pct(params.threshold)}, but the last rebalance was ${sinceHours.toFixed(1)} h ago (minimum ${params.minIntervalHours} h)`,
      };
    }
  }
  return {
    rebalance: true,
    reason: `${driftText}, beyond the ${pct(params.threshold)} threshold: re-centering on ${input.price}`,
    newRange: rangeAround(input.price, params.width),
  };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)} %`;
}

export interface PoolBudget {
  readonly name: string;
  readonly quote: 'SOL' | 'USDC';
  readonly usd: number;
}

/**
 * SPEC §8: each pool gets totalCapital × liquidityAllocation × its share
 * (SOL/PSTR 0.60, USDC/PSTR 0.40). With liquidity disabled there are no pools
 * to fund, so the list is empty rather than a budget nobody should spend.
 */
export function poolBudgetsUsd(config: Config): PoolBudget[] {
  if (!config.liquidity.enabled) return [];
  const liquidityCapital = config.strategy.totalCapital * config.strategy.liquidityAllocation;
  return config.liquidity.pools.map((p) => ({ name: p.name, quote: p.quote, usd: liquidityCapital * p.share }));
}

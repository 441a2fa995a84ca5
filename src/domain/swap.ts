/**
 * Swap arithmetic for SPEC §5 steps 5–6: the slippage guard against the
 * oracle-implied output, constant-product fills, slicing, and ROI tracking.
 * Amounts are base units (bigint); prices are USD floats.
 */
import { amountForUsd, toTokens, type TokenAmount } from './amount.ts';

/** Output the consensus prices imply for `pumpIn`: pumpIn × pumpPrice / pstrPrice, rounded down. */
export function impliedOutput(pumpIn: TokenAmount<'PUMP'>, pumpPrice: number, pstrPrice: number, pstrDecimals: number): TokenAmount<'PSTR'> {
  return amountForUsd('PSTR', toTokens(pumpIn) * pumpPrice, pstrPrice, pstrDecimals);
}

/** Slippage of a quote against the implied output: 1 − quoted / implied (negative when the quote is better). */
export function slippage(quoted: bigint, implied: bigint): number {
  if (implied <= 0n) return quoted > 0n ? -1 : 0;
  return 1 - Number(quoted) / Number(implied);
}

/** The guard: abort with nothing moved when the quote is worse than implied by more than maxSlippage. */
export function withinSlippage(quoted: bigint, implied: bigint, maxSlippage: number): boolean {
  // Exact: quoted ≥ implied × (1 − maxSlippage), with the bound quantised to 1e-9.
  const scale = 1_000_000_000n;
  const keep = scale - BigInt(Math.round(maxSlippage * 1e9));
  return quoted * scale >= implied * keep;
}

/** Constant-product (x·y = k, no fee) output for `amountIn`, rounded down: out = reserveOut·in / (reserveIn + in). */
export function constantProductOut(amountIn: bigint, reserveIn: bigint, reserveOut: bigint): bigint {
  if (amountIn <= 0n) return 0n;
  return (reserveOut * amountIn) / (reserveIn + amountIn);
}

/**
 * The largest input whose constant-product fill stays within `maxSlippage`
 * of the pool's spot price: in / (reserveIn + in) ≤ s  ⇔  in ≤ s·reserveIn / (1 − s).
 */
export function maxInputWithinSlippage(reserveIn: bigint, maxSlippage: number): bigint {
  if (maxSlippage <= 0) return 0n;
  if (maxSlippage >= 1) return reserveIn * 1_000_000n;
  const scale = 1_000_000_000n;
  const s = BigInt(Math.floor(maxSlippage * 1e9));
  return (reserveIn * s) / (scale - s);
}

/** Splits `total` into slices of at most `maxSlice`, in order; a non-positive cap yields no slices. */
export function planSlices(total: bigint, maxSlice: bigint): bigint[] {
  if (total <= 0n || maxSlice <= 0n) return [];
  const slices: bigint[] = [];
  for (let left = total; left > 0n; left -= left < maxSlice ? left : maxSlice) slices.push(left < maxSlice ? left : maxSlice);
  return slices;
}

/** ROI of a buyback at a tracking horizon: (PSTR bought × price then − USD spent) / USD spent. */
export function buybackRoi(pstrBought: TokenAmount<'PSTR'>, pstrPriceThen: number, usdSpent: number): number | null {
  if (!(usdSpent > 0)) return null;
  return (toTokens(pstrBought) * pstrPriceThen - usdSpent) / usdSpent;
}

/** The least output the slippage guard accepts: implied × (1 − maxSlippage), rounded up (the bound is never loosened). */
export function slippageFloor(implied: bigint, maxSlippage: number): bigint {
  const scale = 1_000_000_000n;
  const keep = scale - BigInt(Math.round(maxSlippage * 1e9));
  return (implied * keep + scale - 1n) / scale;
}

/**
 * The model pool of the backtest and the paper ledger: constant product with
 * `depthUsd` in total, depth/2 USD on each side at the current prices
 * (arbitrage re-centres it between swaps), reserves rounded down.
 */
export function poolReserves(depthUsd: number, pumpPrice: number, pstrPrice: number, pumpDecimals: number, pstrDecimals: number): { pump: bigint; pstr: bigint } {
  return { pump: amountForUsd('PUMP', depthUsd / 2, pumpPrice, pumpDecimals).raw, pstr: amountForUsd('PSTR', depthUsd / 2, pstrPrice, pstrDecimals).raw };
}

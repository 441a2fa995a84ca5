/**
 * The DEX source read straight from a Raydium CLMM pool on chain (config
 * `oracle.dex.kind: 'raydium-clmm'`): no warm-up after a restart, because the
 * pool keeps its own history.
 *
 *  - Price: the TWAP over `oracle.dex.twapWindowSeconds` from the pool's
 *    observation ring (tick cumulatives; src/domain/clmm.ts), with the same
 *    coverage rule and newest-observation age limit (`maxGapSeconds`) as the
 *    sampled source. Confidence as in dex-twap.ts: price × max(σ of the log
 *    price over the window, the fee-rate floor).
 *  - Volume (SPEC §1, "what the DEX source reports traded in the pool since
 *    the previous sample"): the change of the pool's cumulative swap counters
 *    on the quote (USDC) side since the read that ended at or before `fromMs`,
 *    in USD (USDC taken at 1 USD, as the Jupiter probe does). No such read yet
 *    (first cycle after a start): 0, not a guess. A counter going back is
 *    refused. Raydium removed these counters from the program in Apr 2026
 *    (raydium-clmm 5ec3081: the bytes became `padding5` and are no longer
 *    updated); a program at that version leaves them frozen, which would read
 *    as "no trades". So when the pool's sqrt price moved (only a swap moves
 *    it) but no counter did, the read is refused as stale rather than
 *    answering 0.
 *
 * Accounts are read with their owner (Chain.accountData has no owner, and the
 * owner check is what makes the bytes trustworthy): over a web3.js
 * Connection live, over LiteSVM in tests.
 */
import { PublicKey, type Connection } from '@solana/web3.js';
import { clmmTwap, tradedBetween, type PoolOrientation, type SwapCounters } from '../domain/clmm.ts';
import type { OracleReading } from '../domain/consensus.ts';
import type { TwapParams } from '../domain/twap.ts';
import type { OracleSource } from '../ports.ts';
import { decodeObservationState, decodePoolState, type PoolState, type RawAccount } from './raydium-clmm-layout.ts';
import { OracleFailure, ResilientRead, type ResilienceOptions } from './resilience.ts';

export type AccountFetcher = (address: string) => Promise<RawAccount | null>;

export function connectionAccounts(connection: Connection): AccountFetcher {
  return async (address) => {
    const info = await connection.getAccountInfo(new PublicKey(address));
    return info ? { owner: info.owner.toBase58(), data: new Uint8Array(info.data) } : null;
  };
}

export interface ClmmPool {
  /** The pool (PoolState) address. */
  pool: string;
  pstr: { mint: string; decimals: number };
  /** The other side, taken as USD (USDC). */
  quote: { mint: string; decimals: number };
}

export interface ClmmReaderOptions extends ClmmPool {
  accounts: AccountFetcher;
  resilience: ResilienceOptions;
  source?: string;
}

/** Reads the pool account and checks it is the configured PSTR/quote pair with the configured decimals. */
export async function readPool(accounts: AccountFetcher, p: ClmmPool, source: string): Promise<{ state: PoolState; orientation: PoolOrientation }> {
  const state = decodePoolState(source, p.pool, await accounts(p.pool));
  const bad = (detail: string) => new OracleFailure({ source, kind: 'malformed', detail: `PoolState account ${p.pool}: ${detail}` });
  const pstrIndex = state.tokenMint0 === p.pstr.mint ? 0 : state.tokenMint1 === p.pstr.mint ? 1 : null;
  const quoteMint = pstrIndex === 0 ? state.tokenMint1 : state.tokenMint0;
  if (pstrIndex === null || quoteMint !== p.quote.mint) {
    throw bad(`token_mint_0/token_mint_1 are ${state.tokenMint0}/${state.tokenMint1}, not the pair PSTR ${p.pstr.mint} / quote ${p.quote.mint}`);
  }
  const [pstrDecimals, quoteDecimals] = pstrIndex === 0 ? [state.mintDecimals0, state.mintDecimals1] : [state.mintDecimals1, state.mintDecimals0];
  if (pstrDecimals !== p.pstr.decimals || quoteDecimals !== p.quote.decimals) {
    throw bad(`mint_decimals_0/mint_decimals_1 are ${state.mintDecimals0}/${state.mintDecimals1}; config says PSTR ${p.pstr.decimals}, quote ${p.quote.decimals}`);
  }
  return { state, orientation: { decimals0: state.mintDecimals0, decimals1: state.mintDecimals1, baseIsToken0: pstrIndex === 0 } };
}

export interface RaydiumTwapOptions extends ClmmReaderOptions {
  params: TwapParams;
  /** Relative confidence floor (the pool fee rate), as in dex-twap.ts. */
  confidenceFloor: number;
  clock?: () => number;
}

/** The PSTR/USD TWAP of the pool, each read behind its own timeout, retries and breaker. */
export function raydiumTwapSource(o: RaydiumTwapOptions): OracleSource {
  const source = o.source ?? 'dex-twap';
  const clock = o.clock ?? Date.now;
  const read = async (): Promise<OracleReading> => {
    const { state, orientation } = await readPool(o.accounts, o, source);
    const obs = decodeObservationState(source, state.observationKey, await o.accounts(state.observationKey));
    if (obs.poolId !== o.pool) {
      throw new OracleFailure({ source, kind: 'malformed', detail: `ObservationState account ${state.observationKey}: pool_id ${obs.poolId} is not the pool ${o.pool}` });
    }
    if (!obs.initialized) throw new OracleFailure({ source, kind: 'stale', detail: `ObservationState account ${state.observationKey}: initialized = false (no swap has written an observation yet)` });
    const now = clock();
    const r = clmmTwap({ ring: obs.observations, newestIndex: obs.observationIndex, tickCurrent: state.tickCurrent, nowMs: now, params: o.params, orientation });
    if (!r.ok) {
      const kind = r.reason === 'out of order' ? 'malformed' : 'stale';
      throw new OracleFailure({ source, kind, detail: `ObservationState account ${state.observationKey}: observations ${r.reason}: ${r.detail}` });
    }
    return { source, price: r.price, confidence: r.price * Math.max(r.logStdDev, o.confidenceFloor), publishTime: now };
  };
  const resilient = new ResilientRead(source, read, o.resilience);
  return { name: source, read: () => resilient.call() };
}

interface Snapshot extends SwapCounters {
  at: number;
  sqrtPriceX64: bigint;
}

const KEPT_SNAPSHOTS = 32;

/** `MarketData.volumeUsd` over the pool's swap counters (see the header). */
export function raydiumVolume(o: ClmmReaderOptions): (fromMs: number, toMs: number) => Promise<number> {
  const source = o.source ?? 'dex-volume';
  const reader = new ResilientRead(source, () => readPool(o.accounts, o, source), o.resilience);
  let snapshots: Snapshot[] = [];
  return async (fromMs, toMs) => {
    const { state, orientation } = await reader.call();
    // The read that ended at or before fromMs: a read of a cycle that then failed (its sample never recorded) is skipped.
    const base = snapshots.filter((s) => s.at <= fromMs).at(-1);
    const now: Snapshot = { ...counters(state), at: toMs, sqrtPriceX64: state.sqrtPriceX64 };
    snapshots = [...snapshots.filter((s) => s.at < toMs), now].slice(-KEPT_SNAPSHOTS);
    if (!base) return 0;
    const traded = tradedBetween(base, now);
    if (!traded.ok) {
      snapshots = [now]; // the counters restarted: the next interval starts from here
      throw new OracleFailure({ source, kind: 'malformed', detail: `PoolState account ${o.pool}: ${snake(traded.field)} went back from ${base[traded.field]} to ${now[traded.field]}` });
    }
    if (traded.amount0 === 0n && traded.amount1 === 0n && base.sqrtPriceX64 !== now.sqrtPriceX64) {
      throw new OracleFailure({
        source, kind: 'stale',
        detail: `PoolState account ${o.pool}: sqrt_price_x64 moved (${base.sqrtPriceX64} → ${now.sqrtPriceX64}) but swap_in/out_amount_token_0/1 did not: the program no longer maintains them (raydium-clmm 5ec3081)`,
      });
    }
    const quoteUnits = orientation.baseIsToken0 ? traded.amount1 : traded.amount0;
    return Number(quoteUnits) / 10 ** o.quote.decimals;
  };
}

function counters(s: SwapCounters): SwapCounters {
  return { swapInAmountToken0: s.swapInAmountToken0, swapOutAmountToken1: s.swapOutAmountToken1, swapInAmountToken1: s.swapInAmountToken1, swapOutAmountToken0: s.swapOutAmountToken0 };
}

/** swapInAmountToken0 → swap_in_amount_token_0, the field's name in the Rust struct. */
function snake(field: string): string {
  return field.replace(/[A-Z0-9]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Decoders of the two Raydium CLMM accounts the DEX source reads, written
 * from the program's Rust structs (both `#[account(zero_copy(unsafe))]
 * #[repr(C, packed)]`: little-endian, no alignment padding, after Anchor's
 * 8-byte discriminator = sha256("account:<Name>")[0..8]).
 *
 * Verified against raydium-io/raydium-clmm:
 *   - programs/amm/src/states/pool.rs   at 27c92527f5d76b017d9ca76198ecaa7e07dc6b1a
 *     (the last commit with the swap counters) and at HEAD 03b44b7ff41014b3fc715d445ee05f08d3815a99
 *     (same offsets and size: 5ec3081, Apr 2026, renamed the four counters `padding5: [u128; 4]`
 *     and stopped updating them; see raydium-clmm.ts on how the volume reader notices);
 *   - programs/amm/src/states/oracle.rs at 03b44b7f (the layout since 5f96f58, Aug 2024:
 *     `recent_epoch`, and an Observation of { block_timestamp u32, tick_cumulative i64, padding [u64; 4] }).
 *
 * PoolState (1,544 bytes): bump 8, amm_config 9, owner 41, token_mint_0 73, token_mint_1 105,
 * token_vault_0 137, token_vault_1 169, observation_key 201, mint_decimals_0 233, mint_decimals_1 234,
 * tick_spacing 235, liquidity 237, sqrt_price_x64 253, tick_current 269, padding3/4 273/275,
 * fee_growth_global_0/1 277/293, protocol_fees_token_0/1 309/317, swap_in_amount_token_0 325,
 * swap_out_amount_token_1 341, swap_in_amount_token_1 357, swap_out_amount_token_0 373, status 389, …
 * ObservationState (4,483 bytes): initialized 8, recent_epoch 9, observation_index 17, pool_id 19,
 * observations 51 + 44·i (block_timestamp +0, tick_cumulative +4, padding +12) for i < 100, padding 4451.
 */
import { PublicKey } from '@solana/web3.js';
import type { Observation, SwapCounters } from '../domain/clmm.ts';
import { OracleFailure } from './resilience.ts';

export const RAYDIUM_CLMM_PROGRAM_ID = 'CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK';
export const POOL_STATE_DISCRIMINATOR = Uint8Array.of(247, 237, 227, 245, 215, 195, 222, 70);
export const OBSERVATION_STATE_DISCRIMINATOR = Uint8Array.of(122, 174, 197, 53, 129, 9, 165, 132);
export const POOL_STATE_LEN = 1544;
export const OBSERVATION_NUM = 100;
export const OBSERVATION_LEN = 44;
export const OBSERVATION_STATE_LEN = 8 + 1 + 8 + 2 + 32 + OBSERVATION_LEN * OBSERVATION_NUM + 32;

export const POOL_OFFSETS = {
  tokenMint0: 73, tokenMint1: 105, observationKey: 201, mintDecimals0: 233, mintDecimals1: 234,
  sqrtPriceX64: 253, tickCurrent: 269,
  swapInAmountToken0: 325, swapOutAmountToken1: 341, swapInAmountToken1: 357, swapOutAmountToken0: 373,
} as const;

export const OBSERVATION_OFFSETS = { initialized: 8, recentEpoch: 9, observationIndex: 17, poolId: 19, observations: 51 } as const;

/** An account as the chain returns it: the program that owns it and its data. */
export interface RawAccount {
  owner: string;
  data: Uint8Array;
}

export interface PoolState extends SwapCounters {
  tokenMint0: string;
  tokenMint1: string;
  observationKey: string;
  mintDecimals0: number;
  mintDecimals1: number;
  sqrtPriceX64: bigint;
  tickCurrent: number;
}

export interface ObservationState {
  initialized: boolean;
  recentEpoch: bigint;
  observationIndex: number;
  poolId: string;
  observations: Observation[];
}

/** Refuses an account that is missing, owned by another program, of another type or of another size; returns a view of its data. */
function checked(source: string, kind: string, address: string, account: RawAccount | null, discriminator: Uint8Array, len: number): DataView {
  const bad = (detail: string) => new OracleFailure({ source, kind: 'malformed', detail: `${kind} account ${address}: ${detail}` });
  if (account === null) throw new OracleFailure({ source, kind: 'unavailable', detail: `${kind} account ${address} does not exist` });
  if (account.owner !== RAYDIUM_CLMM_PROGRAM_ID) throw bad(`owner is ${account.owner}, not the Raydium CLMM program ${RAYDIUM_CLMM_PROGRAM_ID}`);
  const { data } = account;
  if (data.length < 8 || discriminator.some((b, i) => data[i] !== b)) throw bad(`discriminator ${hex(data.subarray(0, 8))} is not ${kind}'s ${hex(discriminator)}`);
  if (data.length !== len) throw bad(`data length ${data.length} is not ${kind}'s ${len} bytes`);
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

export function decodePoolState(source: string, address: string, account: RawAccount | null): PoolState {
  const v = checked(source, 'PoolState', address, account, POOL_STATE_DISCRIMINATOR, POOL_STATE_LEN);
  const o = POOL_OFFSETS;
  return {
    tokenMint0: pubkey(v, o.tokenMint0),
    tokenMint1: pubkey(v, o.tokenMint1),
    observationKey: pubkey(v, o.observationKey),
    mintDecimals0: v.getUint8(o.mintDecimals0),
    mintDecimals1: v.getUint8(o.mintDecimals1),
    sqrtPriceX64: u128(v, o.sqrtPriceX64),
    tickCurrent: v.getInt32(o.tickCurrent, true),
    swapInAmountToken0: u128(v, o.swapInAmountToken0),
    swapOutAmountToken1: u128(v, o.swapOutAmountToken1),
    swapInAmountToken1: u128(v, o.swapInAmountToken1),
    swapOutAmountToken0: u128(v, o.swapOutAmountToken0),
  };
}

export function decodeObservationState(source: string, address: string, account: RawAccount | null): ObservationState {
  const v = checked(source, 'ObservationState', address, account, OBSERVATION_STATE_DISCRIMINATOR, OBSERVATION_STATE_LEN);
  const o = OBSERVATION_OFFSETS;
  const observations: Observation[] = [];
  for (let i = 0; i < OBSERVATION_NUM; i++) {
    const at = o.observations + OBSERVATION_LEN * i;
    observations.push({ timestamp: v.getUint32(at, true), tickCumulative: v.getBigInt64(at + 4, true) });
  }
  const initialized = v.getUint8(o.initialized);
  const observationIndex = v.getUint16(o.observationIndex, true);
  if (initialized > 1 || observationIndex >= OBSERVATION_NUM) {
    const detail = initialized > 1 ? `initialized = ${initialized} is not a bool` : `observation_index = ${observationIndex} is outside the ring of ${OBSERVATION_NUM}`;
    throw new OracleFailure({ source, kind: 'malformed', detail: `ObservationState account ${address}: ${detail}` });
  }
  return { initialized: initialized === 1, recentEpoch: v.getBigUint64(o.recentEpoch, true), observationIndex, poolId: pubkey(v, o.poolId), observations };
}

function u128(v: DataView, at: number): bigint {
  return v.getBigUint64(at, true) | (v.getBigUint64(at + 8, true) << 64n);
}

function pubkey(v: DataView, at: number): string {
  return new PublicKey(new Uint8Array(v.buffer, v.byteOffset + at, 32)).toBase58();
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

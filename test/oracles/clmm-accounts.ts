/**
 * Test encoder of Raydium CLMM accounts, written from the Rust structs
 * (raydium-io/raydium-clmm programs/amm/src/states/pool.rs at 27c92527, the
 * last commit with the swap counters; oracle.rs at 03b44b7f), one field after
 * the other in declaration order, with no offset table: independent of the
 * decoder's offsets on purpose. Fields the decoder does not read are filled
 * with distinct non-zero bytes so a misplaced offset reads garbage.
 */
import { createHash } from 'node:crypto';
import { PublicKey } from '@solana/web3.js';

class Writer {
  private readonly parts: Uint8Array[] = [];
  private put(size: number, fill: (v: DataView) => void): this {
    const b = new Uint8Array(size);
    fill(new DataView(b.buffer));
    this.parts.push(b);
    return this;
  }
  bytes(b: Uint8Array): this { this.parts.push(Uint8Array.from(b)); return this; }
  u8(n: number): this { return this.put(1, (v) => v.setUint8(0, n)); }
  u16(n: number): this { return this.put(2, (v) => v.setUint16(0, n, true)); }
  u32(n: number): this { return this.put(4, (v) => v.setUint32(0, n, true)); }
  i32(n: number): this { return this.put(4, (v) => v.setInt32(0, n, true)); }
  u64(n: bigint): this { return this.put(8, (v) => v.setBigUint64(0, n, true)); }
  i64(n: bigint): this { return this.put(8, (v) => v.setBigInt64(0, n, true)); }
  u128(n: bigint): this { return this.u64(n & 0xffff_ffff_ffff_ffffn).u64(n >> 64n); }
  pubkey(k: PublicKey): this { return this.bytes(k.toBytes()); }
  junk(size: number, seed: number): this { return this.bytes(Uint8Array.from({ length: size }, (_, i) => ((seed * 31 + i * 7) % 251) + 1)); }
  done(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.parts) { out.set(p, at); at += p.length; }
    return out;
  }
}

export const anchorDiscriminator = (name: string) => new Uint8Array(createHash('sha256').update(`account:${name}`).digest().subarray(0, 8));
const junkKey = (seed: number) => new PublicKey(Uint8Array.from({ length: 32 }, (_, i) => (seed + i * 13) % 256));

export interface PoolFields {
  mint0: PublicKey;
  mint1: PublicKey;
  decimals0: number;
  decimals1: number;
  observationKey: PublicKey;
  sqrtPriceX64: bigint;
  tickCurrent: number;
  swapIn0: bigint;
  swapOut1: bigint;
  swapIn1: bigint;
  swapOut0: bigint;
}

export function encodePoolState(f: PoolFields): Uint8Array {
  const w = new Writer().bytes(anchorDiscriminator('PoolState'))
    .u8(254) // bump
    .pubkey(junkKey(1)).pubkey(junkKey(2)) // amm_config, owner
    .pubkey(f.mint0).pubkey(f.mint1)
    .pubkey(junkKey(3)).pubkey(junkKey(4)) // token_vault_0, token_vault_1
    .pubkey(f.observationKey)
    .u8(f.decimals0).u8(f.decimals1)
    .u16(60) // tick_spacing
    .u128(0xdead_beef_0123_4567_89ab_cdefn) // liquidity
    .u128(f.sqrtPriceX64)
    .i32(f.tickCurrent)
    .u16(0xaaaa).u16(0xbbbb) // padding3, padding4
    .u128((1n << 120n) + 7n).u128((1n << 121n) + 9n) // fee_growth_global_0_x64, _1_x64
    .u64(123_456n).u64(654_321n) // protocol_fees_token_0, _1
    .u128(f.swapIn0).u128(f.swapOut1).u128(f.swapIn1).u128(f.swapOut0)
    .u8(0).u8(0).junk(6, 5); // status, fee_on, padding [u8; 6]
  for (let r = 0; r < 3; r++) {
    // RewardInfo: reward_state, open_time, end_time, last_update_time, emissions_per_second_x64,
    // reward_total_emitted, reward_claimed, token_mint, token_vault, authority, reward_growth_global_x64
    w.u8(1).u64(1n).u64(2n).u64(3n).u128(4n).u64(5n).u64(6n).pubkey(junkKey(10 + r)).pubkey(junkKey(20 + r)).pubkey(junkKey(30 + r)).u128(7n);
  }
  w.junk(8 * 16, 40) // tick_array_bitmap [u64; 16]
    .junk(8 * 4, 41) // padding6 (was total_fees_*) [u64; 4]
    .u64(11n).u64(12n) // fund_fees_token_0, _1
    .u64(13n).u64(800n); // open_time, recent_epoch
  // DynamicFeeInfo: filter_period, decay_period, reduction_factor, dynamic_fee_control, max_volatility_accumulator,
  // tick_spacing_index_reference, volatility_reference, volatility_accumulator, last_update_timestamp, padding [u8; 46]
  w.u16(1).u16(2).u16(3).u32(4).u32(5).i32(-6).u32(7).u32(8).u64(9n).junk(46, 42);
  return w.junk(8 * 14, 43).junk(8 * 32, 44).done(); // padding1, padding2
}

export interface ObservationFields {
  initialized: boolean;
  observationIndex: number;
  poolId: PublicKey;
  /** Up to 100 slots in ring order; missing slots are never-written (zero). */
  slots: { timestamp: number; tickCumulative: bigint }[];
}

export function encodeObservationState(f: ObservationFields): Uint8Array {
  const w = new Writer().bytes(anchorDiscriminator('ObservationState'))
    .u8(f.initialized ? 1 : 0)
    .u64(812n) // recent_epoch
    .u16(f.observationIndex)
    .pubkey(f.poolId);
  for (let i = 0; i < 100; i++) {
    const s = f.slots[i] ?? { timestamp: 0, tickCumulative: 0n };
    w.u32(s.timestamp).i64(s.tickCumulative).junk(32, 50 + i); // block_timestamp, tick_cumulative, padding [u64; 4]
  }
  return w.junk(32, 99).done(); // padding [u64; 4]
}

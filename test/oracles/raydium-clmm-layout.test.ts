import { Keypair, type PublicKey } from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import {
  OBSERVATION_STATE_DISCRIMINATOR, OBSERVATION_STATE_LEN, POOL_STATE_DISCRIMINATOR, POOL_STATE_LEN, RAYDIUM_CLMM_PROGRAM_ID,
  decodeObservationState, decodePoolState,
} from '../../src/oracles/raydium-clmm-layout.ts';
import { anchorDiscriminator, encodeObservationState, encodePoolState } from './clmm-accounts.ts';

const owner = RAYDIUM_CLMM_PROGRAM_ID;
const [mint0, mint1, observationKey, poolId] = Array.from({ length: 4 }, () => Keypair.generate().publicKey) as [PublicKey, PublicKey, PublicKey, PublicKey];

describe('Raydium CLMM account layouts', () => {
  it('sizes: PoolState 1,544 bytes and ObservationState 4,483 bytes, as the field-by-field encoder builds them', () => {
    expect(POOL_STATE_LEN).toBe(1544);
    expect(OBSERVATION_STATE_LEN).toBe(8 + 1 + 8 + 2 + 32 + 44 * 100 + 32);
    expect(OBSERVATION_STATE_LEN).toBe(4483);
    const pool = encodePoolState({ mint0, mint1, decimals0: 6, decimals1: 9, observationKey, sqrtPriceX64: 1n, tickCurrent: 0, swapIn0: 0n, swapOut1: 0n, swapIn1: 0n, swapOut0: 0n });
    expect(pool.length).toBe(POOL_STATE_LEN);
    expect(encodeObservationState({ initialized: false, observationIndex: 0, poolId, slots: [] }).length).toBe(OBSERVATION_STATE_LEN);
  });

  it('discriminators are sha256("account:<Name>")[0..8]', () => {
    expect(POOL_STATE_DISCRIMINATOR).toEqual(anchorDiscriminator('PoolState'));
    expect(OBSERVATION_STATE_DISCRIMINATOR).toEqual(anchorDiscriminator('ObservationState'));
  });

  it('decodes every field it reads, with extreme values (u128 above 2^64, negative i32/i64, u32 above 2^31)', () => {
    const sqrt = (1n << 100n) + 12_345n;
    const data = encodePoolState({
      mint0, mint1, decimals0: 6, decimals1: 9, observationKey, sqrtPriceX64: sqrt, tickCurrent: -443_636,
      swapIn0: (1n << 127n) + 1n, swapOut1: (1n << 64n) + 2n, swapIn1: 3n, swapOut0: (1n << 128n) - 1n,
    });
    expect(decodePoolState('t', 'pool', { owner, data })).toEqual({
      tokenMint0: mint0.toBase58(), tokenMint1: mint1.toBase58(), observationKey: observationKey.toBase58(),
      mintDecimals0: 6, mintDecimals1: 9, sqrtPriceX64: sqrt, tickCurrent: -443_636,
      swapInAmountToken0: (1n << 127n) + 1n, swapOutAmountToken1: (1n << 64n) + 2n, swapInAmountToken1: 3n, swapOutAmountToken0: (1n << 128n) - 1n,
    });
    const slots = Array.from({ length: 100 }, (_, i) => ({ timestamp: 4_000_000_000 + i, tickCumulative: -(2n ** 62n) + BigInt(i) }));
    const obs = decodeObservationState('t', 'obs', { owner, data: encodeObservationState({ initialized: true, observationIndex: 99, poolId, slots }) });
    expect(obs).toMatchObject({ initialized: true, recentEpoch: 812n, observationIndex: 99, poolId: poolId.toBase58() });
    expect(obs.observations).toEqual(slots);
  });

  it('reads a sub-array view at its own offset (RPC buffers are often slices of a larger one)', () => {
    const data = encodeObservationState({ initialized: true, observationIndex: 3, poolId, slots: [{ timestamp: 9, tickCumulative: -5n }] });
    const padded = new Uint8Array(data.length + 7);
    padded.set(data, 7);
    expect(decodeObservationState('t', 'obs', { owner, data: padded.subarray(7) }).observations[0]).toEqual({ timestamp: 9, tickCumulative: -5n });
  });

  it('refuses a ring index outside the ring and a non-bool initialized', () => {
    const data = encodeObservationState({ initialized: true, observationIndex: 100, poolId, slots: [] });
    expect(() => decodeObservationState('t', 'obs', { owner, data })).toThrow(/observation_index = 100/);
    const bad = encodeObservationState({ initialized: true, observationIndex: 0, poolId, slots: [] });
    bad[8] = 2;
    expect(() => decodeObservationState('t', 'obs', { owner, data: bad })).toThrow(/initialized = 2/);
  });
});

import { Keypair, PublicKey, type Connection } from '@solana/web3.js';
import { LiteSVM } from 'litesvm';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config-schema.ts';
import { liveMarketData, liveOracleSources, unconfiguredSources, type OracleDeps } from '../../src/oracles/index.ts';
import { RAYDIUM_CLMM_PROGRAM_ID } from '../../src/oracles/raydium-clmm-layout.ts';
import { connectionAccounts, type AccountFetcher } from '../../src/oracles/raydium-clmm.ts';
import type { OracleSource } from '../../src/ports.ts';
import { encodeObservationState, encodePoolState, type PoolFields } from './clmm-accounts.ts';

type SvmAddress = Parameters<LiteSVM['setAccount']>[0]['address'];
const T = 1_750_000_000; // unix seconds
const CLMM = new PublicKey(RAYDIUM_CLMM_PROGRAM_ID);
const usdc = Keypair.generate().publicKey;
const pstr = Keypair.generate().publicKey;
const pool = Keypair.generate().publicKey;
const observation = Keypair.generate().publicKey;

// USDC is token0 (6 dp), PSTR token1 (9 dp): the pool's raw price is PSTR base units per USDC base unit, so PSTR's USD price is inverted.
// Tick 154,200 from T−2400 s, 154,300 from T−1200 s, 154,260 (current) from T−300 s.
const TICKS: [number, number][] = [[2400, 154_200], [1200, 154_300], [300, 154_260]];
const START_CUM = 987_654_321_000n;

function slotsFrom(steps: [number, number][]): { timestamp: number; tickCumulative: bigint }[] {
  let cum = START_CUM;
  return steps.map(([ago, tick], i) => {
    const slot = { timestamp: T - ago, tickCumulative: cum };
    const next = steps[i + 1];
    if (next) cum += BigInt(tick) * BigInt(ago - next[0]);
    return slot;
  });
}

const sqrtAt = (tick: number) => BigInt(Math.round(Math.sqrt(1.0001 ** tick) * 2 ** 40)) << 24n;
const basePool: PoolFields = {
  mint0: usdc, mint1: pstr, decimals0: 6, decimals1: 9, observationKey: observation,
  sqrtPriceX64: sqrtAt(154_260), tickCurrent: 154_260, swapIn0: 10n ** 12n, swapOut1: 10n ** 15n, swapIn1: 5n * 10n ** 14n, swapOut0: 4n * 10n ** 11n,
};

let svm: LiteSVM;
let now: number;
let fetches: number;
let failing: Error | null;
const accounts: AccountFetcher = async (address) => {
  fetches += 1;
  if (failing) throw failing;
  const acc = svm.getAccount(address as SvmAddress);
  return acc.exists ? { owner: acc.programAddress, data: acc.data } : null;
};
const deps = (): OracleDeps => ({ accounts, clock: () => now, resilience: { sleep: async () => undefined, random: () => 0 } });
const config = () => parseConfig({
  oracle: { dex: { kind: 'raydium-clmm', pool: pool.toBase58() } },
  tokens: { pstr: { mint: pstr.toBase58(), decimals: 9 }, usdc: { mint: usdc.toBase58(), decimals: 6 } },
});

function put(address: PublicKey, data: Uint8Array, owner = CLMM): void {
  svm.setAccount({ address: address.toBase58() as SvmAddress, data, executable: false, lamports: 10_000_000n as never, programAddress: owner.toBase58() as SvmAddress, space: BigInt(data.length) });
}
const putPool = (over: Partial<PoolFields> = {}) => put(pool, encodePoolState({ ...basePool, ...over }));
const putObservations = (steps = TICKS, over: { poolId?: PublicKey; index?: number } = {}) => {
  const slots = slotsFrom(steps);
  put(observation, encodeObservationState({ initialized: true, observationIndex: over.index ?? slots.length - 1, poolId: over.poolId ?? pool, slots }));
};
const volumeReader = () => {
  const market = liveMarketData(config(), deps());
  return (fromMs: number, toMs: number) => market.volumeUsd(fromMs, toMs);
};
const dexSource = (): OracleSource => liveOracleSources(config(), deps()).find((s) => s.name === 'dex-twap') as OracleSource;

beforeEach(() => {
  svm = new LiteSVM();
  now = T * 1000;
  fetches = 0;
  failing = null;
  putPool();
  putObservations();
});

describe('config: oracle.dex.kind', () => {
  it('defaults to the Jupiter probe; raydium-clmm also needs solana.rpcUrl (or injected accounts)', () => {
    expect(parseConfig({}).oracle.dex.kind).toBe('jupiter-probe');
    expect(() => parseConfig({ oracle: { dex: { kind: 'orca' } } })).toThrow();
    expect(unconfiguredSources(config()).find((u) => u.source === 'dex-twap')?.missing).toBe('solana.rpcUrl');
    expect(unconfiguredSources(config(), { accounts }).find((u) => u.source === 'dex-twap')).toBeUndefined();
    expect(liveOracleSources(config(), {}).map((s) => s.name)).toEqual([]); // no way to reach the chain: no source
  });
});

describe('Raydium CLMM DEX source over LiteSVM accounts', () => {
  it('answers the on-chain TWAP of PSTR in USD (hand-computed: mean tick 154,260, inverted, 10^(6−9))', async () => {
    // (600·154,200 + 900·154,300 + 300·154,260) / 1800 = 277,668,000 / 1800 = 154,260.
    const price = 1 / (1.0001 ** 154_260 * 10 ** (6 - 9));
    expect(price).toBeCloseTo(0.000_199_94, 8); // 1.0001^154,260 ≈ 5.0014e6 PSTR units per USDC unit
    // σ² of the tick = (600·60² + 900·40² + 300·0²) / 1800 = 2,000 → σ(log price) = √2000 · ln 1.0001 ≈ 0.00447 > the 0.0025 fee floor.
    const sigma = Math.sqrt(2000) * Math.log(1.0001);
    const r = await dexSource().read();
    expect(r.source).toBe('dex-twap');
    expect(r.price / price).toBeCloseTo(1, 12);
    expect(r.confidence / (price * sigma)).toBeCloseTo(1, 9);
    expect(r.publishTime).toBe(now);
    expect(fetches).toBe(2); // the pool, then its observation account
  });

  it('reports the USDC traded since the previous read as USD volume; the first read is 0', async () => {
    const volume = volumeReader();
    expect(await volume(now - 300_000, now)).toBe(0);
    const first = now;
    // 1,000 USDC in for PSTR out, then 500 USDC out for PSTR in; the price moved.
    putPool({ swapIn0: basePool.swapIn0 + 1_000_000_000n, swapOut1: basePool.swapOut1 + 5_000_000_000_000n, swapIn1: basePool.swapIn1 + 2_500_000_000_000n, swapOut0: basePool.swapOut0 + 500_000_000n, sqrtPriceX64: sqrtAt(154_270) });
    now += 300_000;
    expect(await volume(first + 50, now)).toBe(1500);
    // That cycle failed and was never recorded: the next cycle asks again from the same sample, and nothing is lost.
    putPool({ swapIn0: basePool.swapIn0 + 1_250_000_000n, swapOut1: basePool.swapOut1 + 5_000_000_000_000n, swapIn1: basePool.swapIn1 + 2_500_000_000_000n, swapOut0: basePool.swapOut0 + 500_000_000n, sqrtPriceX64: sqrtAt(154_275) });
    const second = now;
    now += 300_000;
    expect(await volume(first + 50, now)).toBe(1750);
    expect(await volume(second + 50, now)).toBe(250); // from the (unrecorded) read at `second`, had it been recorded
    expect(await volume(now + 50, now + 300_000)).toBe(0); // since the read at `now`: nothing traded
  });

  it('refuses a counter that goes back, naming it, and starts over from that read', async () => {
    const volume = volumeReader();
    expect(await volume(now - 300_000, now)).toBe(0);
    putPool({ swapIn0: basePool.swapIn0 - 1n });
    await expect(volume(now + 50, now + 300_000)).rejects.toMatchObject({ kind: 'malformed', message: expect.stringContaining('swap_in_amount_token_0 went back') as unknown });
    expect(await volume(now + 50, now + 600_000)).toBe(0);
  });

  it('refuses frozen counters (the program no longer updates them) instead of reporting no trades', async () => {
    const volume = volumeReader();
    expect(await volume(now - 300_000, now)).toBe(0);
    putPool({ sqrtPriceX64: sqrtAt(154_400), tickCurrent: 154_400 });
    await expect(volume(now + 50, now + 300_000)).rejects.toMatchObject({ kind: 'stale', message: expect.stringContaining('sqrt_price_x64 moved') as unknown });
  });

  it('refuses an account owned by another program, naming the account (and does not retry it)', async () => {
    putPool();
    put(pool, encodePoolState(basePool), Keypair.generate().publicKey);
    await expect(dexSource().read()).rejects.toMatchObject({ kind: 'malformed', message: expect.stringMatching(new RegExp(`PoolState account ${pool.toBase58()}: owner is`)) as unknown });
    expect(fetches).toBe(1);
  });

  it('refuses a wrong discriminator and truncated data', async () => {
    const data = encodePoolState(basePool);
    data[0] = (data[0] as number) ^ 0xff;
    put(pool, data);
    await expect(dexSource().read()).rejects.toMatchObject({ kind: 'malformed', message: expect.stringContaining('discriminator') as unknown });
    put(pool, encodePoolState(basePool).subarray(0, 1000));
    await expect(dexSource().read()).rejects.toMatchObject({ kind: 'malformed', message: expect.stringContaining('data length 1000 is not PoolState\'s 1544') as unknown });
    putPool();
    put(observation, encodeObservationState({ initialized: true, observationIndex: 2, poolId: pool, slots: slotsFrom(TICKS) }).subarray(0, 4400));
    await expect(dexSource().read()).rejects.toMatchObject({ kind: 'malformed', message: expect.stringContaining(`ObservationState account ${observation.toBase58()}: data length 4400`) as unknown });
  });

  it('refuses an observation account of another pool, and a pool of another pair or other decimals', async () => {
    putObservations(TICKS, { poolId: Keypair.generate().publicKey });
    await expect(dexSource().read()).rejects.toMatchObject({ kind: 'malformed', message: expect.stringContaining('pool_id') as unknown });
    putObservations();
    putPool({ mint0: Keypair.generate().publicKey });
    await expect(dexSource().read()).rejects.toMatchObject({ kind: 'malformed', message: expect.stringContaining('token_mint_0/token_mint_1') as unknown });
    putPool({ decimals1: 6 });
    await expect(dexSource().read()).rejects.toMatchObject({ kind: 'malformed', message: expect.stringContaining('mint_decimals_0/mint_decimals_1 are 6/6') as unknown });
  });

  it('refuses a stale newest observation and too little history, as stale', async () => {
    now = (T + 601) * 1000; // newest observation (T−300 s) is now 901 s old; limit 900 s
    await expect(dexSource().read()).rejects.toMatchObject({ kind: 'stale', message: expect.stringContaining('newest observation is 901 s old') as unknown });
    now = T * 1000;
    putObservations([[900, 154_200], [300, 154_260]]);
    await expect(dexSource().read()).rejects.toMatchObject({ kind: 'stale', message: expect.stringContaining('insufficient coverage: observations cover 50 %') as unknown });
  });

  it('retries a failing RPC within its budget and reports it as unavailable', async () => {
    failing = new Error('fetch failed: connection refused');
    await expect(dexSource().read()).rejects.toMatchObject({ kind: 'unavailable' });
    expect(fetches).toBe(3); // one attempt and the 2 default retries
  });
});

describe('connectionAccounts', () => {
  it('returns the owner and data web3.js gives for the address, null for a missing account', async () => {
    const asked: string[] = [];
    const connection = {
      getAccountInfo: async (k: PublicKey) => {
        asked.push(k.toBase58());
        return k.equals(pool) ? { owner: CLMM, data: Buffer.from([1, 2, 3]), executable: false, lamports: 1 } : null;
      },
    } as unknown as Connection;
    const fetch = connectionAccounts(connection);
    expect(await fetch(pool.toBase58())).toEqual({ owner: RAYDIUM_CLMM_PROGRAM_ID, data: Uint8Array.from([1, 2, 3]) });
    expect(await fetch(observation.toBase58())).toBeNull();
    expect(asked).toEqual([pool.toBase58(), observation.toBase58()]);
  });
});

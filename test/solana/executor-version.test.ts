/**
 * The executor bounds a trade by the config version the workflow acts under
 * (issue #10 item 6): a request's maxSlippageBps, not the limit the worker
 * built the treasury with from its own file. On LiteSVM with the real token
 * program and a local Jupiter, as executor.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TreasuryStore } from '../../src/db/store.ts';
import { SolanaTreasury } from '../../src/solana/executor.ts';
import { jupiterClient } from '../../src/solana/jupiter.ts';
import { DECIMALS, UNIT, fakeJupiter, makeWorld, storeWithIntervention } from './world.ts';
import type { FakeJupiter, World } from './world.ts';

const ID = 'intervention/pstr-main/1';

let world: World;
let jup: FakeJupiter;
let store: TreasuryStore;

beforeEach(async () => {
  world = makeWorld();
  jup = await fakeJupiter(world);
  store = await storeWithIntervention(ID);
});

afterEach(async () => {
  await jup.close();
  await store.close();
});

/** A treasury built as a worker builds it from a file whose risk.maxSlippage is 2 %. */
function fileTreasury(): SolanaTreasury {
  const spec = (mint: typeof world.mints.pump) => ({ mint, decimals: DECIMALS });
  return new SolanaTreasury({
    treasuryId: 'pstr-main', store, chain: world.chain, jupiter: jupiterClient({ baseUrl: jup.baseUrl }), payer: world.treasury, cosigners: [world.pool],
    tokens: { pump: spec(world.mints.pump), pstr: spec(world.mints.pstr), usdc: spec(world.mints.usdc) },
    maxSlippageBps: 200, priorityFee: { percentile: 75, maxMicroLamports: 200_000 },
    pollIntervalMs: 1, resendIntervalMs: 1, confirmTimeoutMs: 1_000,
    sleep: async () => world.chain.advanceSlots(10),
  });
}

describe('SolanaTreasury under the current config version', () => {
  it("asks Jupiter for the version's slippage on a swap, not the worker file's", async () => {
    // Quote 100 PSTR for 1,000 PUMP; a floor of 95 is met at either limit, so only the limit decides what is asked.
    const r = await fileTreasury().swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 95n * UNIT, maxSlippageBps: 50 });
    expect(r.status).toBe('confirmed');
    expect(jup.quotes.map((q) => q.slippageBps)).toEqual([50]);
  });

  it("keeps the treasury's own limit for a request that carries none (workflows that predate config versions)", async () => {
    await fileTreasury().swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 95n * UNIT });
    expect(jup.quotes.map((q) => q.slippageBps)).toEqual([200]);
  });

  it("asks for the version's slippage on an accumulation buy", async () => {
    jup.rate = { num: 50n, den: 1n }; // 1 USDC → 50 PUMP
    const r = await fileTreasury().accumulate({ key: 'accumulation/pstr-main/2025-01-01T10', usdcIn: 100n * UNIT, minPumpOut: 4_900n * UNIT, maxSlippageBps: 30 });
    expect(r).toMatchObject({ applied: true });
    expect(jup.quotes.map((q) => q.slippageBps)).toEqual([30]);
  });

  it('refuses a request whose limit is no basis-point count, naming the value, with nothing asked', async () => {
    await expect(fileTreasury().swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 95n * UNIT, maxSlippageBps: 0.5 }))
      .rejects.toThrow(/swap: maxSlippageBps must be an integer in \[0, 10000\], got 0\.5/);
    expect(jup.quotes).toEqual([]);
  });
});

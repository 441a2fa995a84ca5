import { ComputeBudgetProgram, VersionedTransaction } from '@solana/web3.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TreasuryStore } from '../../src/db/store.ts';
import type { Chain } from '../../src/solana/chain.ts';
import { SolanaTreasury, attemptsOf } from '../../src/solana/executor.ts';
import type { SolanaTreasuryOptions } from '../../src/solana/executor.ts';
import { jupiterClient } from '../../src/solana/jupiter.ts';
import { spyChain } from './litesvm-chain.ts';
import type { Spy } from './litesvm-chain.ts';
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

/** A treasury over `chain` whose every poll lets `slotsPerPoll` slots pass. */
function treasury(chain: Chain, extra: Partial<SolanaTreasuryOptions> & { slotsPerPoll?: number } = {}): SolanaTreasury {
  const { slotsPerPoll = 10, ...rest } = extra;
  const spec = (mint: typeof world.mints.pump) => ({ mint, decimals: DECIMALS });
  return new SolanaTreasury({
    treasuryId: 'pstr-main', store, chain, jupiter: jupiterClient({ baseUrl: jup.baseUrl }), payer: world.treasury, cosigners: [world.pool],
    tokens: { pump: spec(world.mints.pump), pstr: spec(world.mints.pstr), usdc: spec(world.mints.usdc) },
    maxSlippageBps: 200, priorityFee: { percentile: 75, maxMicroLamports: 200_000 },
    pollIntervalMs: 1, resendIntervalMs: 1, confirmTimeoutMs: 1_000,
    sleep: async () => world.chain.advanceSlots(slotsPerPoll),
    ...rest,
  });
}

const spy = (extra: Partial<Spy> = {}): Spy => ({ sends: [], ...extra });
const pumpOf = () => world.balance(world.treasury.publicKey, world.mints.pump);
const pstrOf = () => world.balance(world.treasury.publicKey, world.mints.pstr);

describe('SolanaTreasury.swap on LiteSVM', () => {
  it('swaps PUMP for PSTR atomically and takes the realized output from pre/post balances, not the quote', async () => {
    jup.fill = (quoted) => quoted - quoted / 200n; // the pool pays 0.5 % less than quoted
    const s = spy();
    const t = treasury(spyChain(world.chain, s));
    const pumpBefore = await pumpOf();
    const poolPumpBefore = await world.balance(world.pool.publicKey, world.mints.pump);

    const r = await t.swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 95n * UNIT });

    const quoted = 100n * UNIT;
    const filled = quoted - quoted / 200n;
    expect(r).toMatchObject({ status: 'confirmed', pumpIn: 1_000n * UNIT, pstrOut: filled, alreadyDone: false });
    expect(await pumpOf()).toBe(pumpBefore - 1_000n * UNIT);
    expect(await pstrOf()).toBe(filled);
    expect(await world.balance(world.pool.publicKey, world.mints.pump)).toBe(poolPumpBefore + 1_000n * UNIT);
    const row = await store.swap(ID, 0);
    expect(row).toMatchObject({ status: 'confirmed', pstrOut: filled, signature: r.reference });
    const realized = (row?.details as { realized: { slippageVsQuote: number; price: number } }).realized;
    expect(realized.slippageVsQuote).toBeCloseTo(0.005, 9);
    expect(realized.price).toBeCloseTo(1_000 / (Number(filled) / 1e6), 9);
    expect(s.sends).toEqual([r.reference]);
  });

  it('pays the capped percentile of recent priority fees and drops the compute-unit price Jupiter sent', async () => {
    world.chain.fees = [50, 100, 5_000, 300_000];
    const t = treasury(world.chain);
    await t.swap({ interventionId: ID, slice: 0, pumpIn: 10n * UNIT, minPstrOut: 0n });
    const [attempt] = attemptsOf({ status: 'confirmed', amountIn: 0n, amountOut: 0n, signature: null, details: (await store.swap(ID, 0))?.details as Record<string, unknown> });
    const tx = VersionedTransaction.deserialize(Buffer.from(attempt?.tx ?? '', 'base64'));
    const budget = ComputeBudgetProgram.programId.toBase58();
    const prices = tx.message.compiledInstructions
      .filter((i) => tx.message.staticAccountKeys[i.programIdIndex]?.toBase58() === budget && i.data[0] === 3)
      .map((i) => Buffer.from(i.data).readBigUInt64LE(1));
    // Nearest rank 75 % of 4 samples is the 3rd smallest: 5,000, under the 200,000 cap.
    expect(prices).toEqual([5_000n]);
    expect(attempt?.priorityFeeMicroLamports).toBe(5_000);

    world.chain.fees = [900_000, 1_000_000];
    await t.swap({ interventionId: ID, slice: 1, pumpIn: 10n * UNIT, minPstrOut: 0n });
    const second = attemptsOf({ status: 'confirmed', amountIn: 0n, amountOut: 0n, signature: null, details: (await store.swap(ID, 1))?.details as Record<string, unknown> });
    expect(second[0]?.priorityFeeMicroLamports).toBe(200_000);
  });

  it('refuses a quote below the floor with nothing sent and nothing moved', async () => {
    const s = spy();
    const t = treasury(spyChain(world.chain, s));
    const before = await pumpOf();
    // 1,000 PUMP quote 100 PSTR; the consensus floor asks for 101.
    const r = await t.swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 101n * UNIT });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/below the slippage floor.*nothing sent/);
    expect(r.alreadyDone).toBe(false);
    expect(s.sends).toEqual([]);
    expect(jup.swapInstructionCalls).toBe(0);
    expect(await pumpOf()).toBe(before);
    expect(await store.swap(ID, 0)).toMatchObject({ status: 'failed', pstrOut: 0n });
    // A retry of the refused slice stays refused: it never trades later at another price.
    const again = await t.swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 101n * UNIT });
    expect(again).toMatchObject({ status: 'failed', alreadyDone: true });
    expect(jup.quotes).toHaveLength(1);
  });

  it("narrows Jupiter's slippage so its on-chain minimum stays at or above the floor", async () => {
    const t = treasury(world.chain);
    // Quote 100 PSTR; at 200 bps Jupiter's minimum would be 98, below the 99.5 floor: re-quote at 50 bps → minimum 99.5.
    await t.swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 99_500_000n });
    expect(jup.quotes.map((q) => q.slippageBps)).toEqual([200, 50]);
    const [attempt] = attemptsOf({ status: 'confirmed', amountIn: 0n, amountOut: 0n, signature: null, details: (await store.swap(ID, 0))?.details as Record<string, unknown> });
    expect(BigInt(attempt?.minOut ?? '0')).toBe(99_500_000n);
  });

  it('records a transaction that fails on chain as failed, with nothing moved', async () => {
    jup.fill = () => 20_000_000n * UNIT; // more PSTR than the pool holds: the pool's leg fails, so the whole transaction does
    const s = spy();
    const t = treasury(spyChain(world.chain, s));
    const before = await pumpOf();
    const r = await t.swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 0n });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/failed on chain: .*InstructionError/);
    expect(r.pstrOut).toBe(0n);
    expect(await pumpOf()).toBe(before);
    expect(await pstrOf()).toBe(0n);
    expect(await store.swap(ID, 0)).toMatchObject({ status: 'failed', signature: r.reference });
    const retry = await t.swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 0n });
    expect(retry).toMatchObject({ status: 'failed', alreadyDone: true });
    expect(s.sends).toHaveLength(1);
  });

  it('after a crash between send and record, the retry finds the signature landed and sends nothing', async () => {
    const crashed = treasury(spyChain(world.chain, spy({ crashAfterSend: true })));
    const req = { interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 0n };
    await expect(crashed.swap(req)).rejects.toThrow(/crashed/);
    const stored = await store.swap(ID, 0);
    expect(stored?.status).toBe('prepared'); // the signed bytes were recorded, the send never was
    expect(stored?.signature).toMatch(/^[1-9A-HJ-NP-Za-km-z]{64,88}$/);

    const s = spy();
    const r = await treasury(spyChain(world.chain, s)).swap(req);
    expect(r).toMatchObject({ status: 'confirmed', alreadyDone: true, reference: stored?.signature, pstrOut: 100n * UNIT });
    expect(s.sends).toEqual([]);
    expect(await pumpOf()).toBe(999_000n * UNIT);
  });

  it('when the RPC drops mid-confirmation, the retry resolves the swap from the chain', async () => {
    const flaky = spy({ statusFails: (call) => call >= 3 });
    const req = { interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 0n };
    await expect(treasury(spyChain(world.chain, flaky)).swap(req)).rejects.toThrow(/connection reset/);
    expect(flaky.sends).toHaveLength(1);
    expect((await store.swap(ID, 0))?.status).toBe('sent');

    const s = spy();
    const r = await treasury(spyChain(world.chain, s)).swap(req);
    expect(r).toMatchObject({ status: 'confirmed', alreadyDone: true, pstrOut: 100n * UNIT });
    expect(s.sends).toEqual([]);
    expect(await pumpOf()).toBe(999_000n * UNIT);
  });

  it('re-sends the same bytes while the blockhash is valid', async () => {
    const s = spy({ drop: (_sig, nth) => nth === 1 }); // the first send is lost on the way
    const r = await treasury(spyChain(world.chain, s)).swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 0n });
    expect(r.status).toBe('confirmed');
    expect(s.sends).toEqual([r.reference, r.reference]);
    expect(attemptsOf({ status: 'confirmed', amountIn: 0n, amountOut: 0n, signature: null, details: (await store.swap(ID, 0))?.details as Record<string, unknown> })).toHaveLength(1);
  });

  it('builds a new transaction once, only after the blockhash expired with the signature unknown', async () => {
    let first: string | undefined;
    const s = spy({ drop: (sig) => (first ??= sig) === sig }); // every send of the first transaction is lost
    const r = await treasury(spyChain(world.chain, s), { slotsPerPoll: 40 }).swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 0n });

    expect(r.status).toBe('confirmed');
    const attempts = attemptsOf({ status: 'confirmed', amountIn: 0n, amountOut: 0n, signature: null, details: (await store.swap(ID, 0))?.details as Record<string, unknown> });
    expect(attempts.map((a) => a.signature)).toEqual([first, r.reference]);
    const [old, fresh] = attempts;
    expect(old?.lifetime.kind === 'blockhash' && fresh?.lifetime.kind === 'blockhash' && old.lifetime.blockhash !== fresh.lifetime.blockhash).toBe(true);
    expect(await world.chain.signatureStatus(first as string)).toBeNull();
    // Rebuilt only after expiry: the height when the new one was built was past the old one's lastValidBlockHeight.
    expect(fresh?.lifetime.kind === 'blockhash' && old?.lifetime.kind === 'blockhash' && fresh.lifetime.lastValidBlockHeight - 150 > old.lifetime.lastValidBlockHeight).toBe(true);
    expect(jup.quotes).toHaveLength(2);
    expect(await pumpOf()).toBe(999_000n * UNIT);
    // The old bytes can no longer land, whoever re-sends them.
    await world.chain.sendRawTransaction(Buffer.from(old?.tx ?? '', 'base64'));
    expect(await world.chain.signatureStatus(first as string)).toBeNull();
  });

  it('ends failed with nothing moved when every transaction expired unseen, up to maxAttempts', async () => {
    const s = spy({ drop: () => true });
    const r = await treasury(spyChain(world.chain, s), { slotsPerPoll: 40, maxAttempts: 2 }).swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 0n });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/2 transaction\(s\) expired without landing.*nothing moved/);
    expect(new Set(s.sends).size).toBe(2);
    expect(await pumpOf()).toBe(1_000_000n * UNIT);
  });

  it('two racing calls for one slice send one transaction between them', async () => {
    const a = spy();
    const b = spy();
    const req = { interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 0n };
    const [ra, rb] = await Promise.all([treasury(spyChain(world.chain, a)).swap(req), treasury(spyChain(world.chain, b)).swap(req)]);
    expect(ra.reference).toBe(rb.reference);
    expect(new Set([...a.sends, ...b.sends])).toEqual(new Set([ra.reference]));
    expect(await pumpOf()).toBe(999_000n * UNIT);
    expect(await pstrOf()).toBe(100n * UNIT);
  });

  it('executes the slices of a split deployment each once, and a retried slice moves nothing', async () => {
    // The activity records each slice before calling the port (activities/intervention.ts): the executor adopts that row.
    const slices = [400n * UNIT, 400n * UNIT, 200n * UNIT];
    const s = spy();
    const t = treasury(spyChain(world.chain, s));
    for (const [slice, pumpIn] of slices.entries()) {
      await store.recordSwap({
        interventionId: ID, slice, treasuryId: 'pstr-main', at: 0, status: 'prepared', pumpIn, pstrOut: null, signature: null,
        details: { minPstrOut: '0', impliedPstrOut: (pumpIn / 10n + pumpIn / 100n).toString() }, updatedAt: 0,
      });
      expect(await t.swap({ interventionId: ID, slice, pumpIn, minPstrOut: 0n })).toMatchObject({ status: 'confirmed', pstrOut: pumpIn / 10n, alreadyDone: false });
    }
    const retry = await t.swap({ interventionId: ID, slice: 1, pumpIn: 400n * UNIT, minPstrOut: 0n });
    expect(retry).toMatchObject({ status: 'confirmed', alreadyDone: true, pstrOut: 40n * UNIT });
    expect(new Set(s.sends).size).toBe(3); // equal slices in one blockhash still differ: the memo names the slice
    expect(await pumpOf()).toBe(999_000n * UNIT);
    expect(await pstrOf()).toBe(100n * UNIT);
    const details = (await store.swap(ID, 2))?.details as { impliedPstrOut: string; realized: { slippageVsImplied: number } };
    expect(details.impliedPstrOut).toBe('22000000'); // kept from the activity's row
    expect(details.realized.slippageVsImplied).toBeCloseTo(1 - 20 / 22, 12);
  });

  it('refuses a retry whose amount differs from the recorded slice', async () => {
    const t = treasury(world.chain);
    await t.swap({ interventionId: ID, slice: 0, pumpIn: 10n * UNIT, minPstrOut: 0n });
    await expect(t.swap({ interventionId: ID, slice: 0, pumpIn: 11n * UNIT, minPstrOut: 0n })).rejects.toThrow(/recorded pumpIn 10000000 differs from the requested 11000000/);
  });
});

describe('SolanaTreasury balances, quote and accumulation', () => {
  it('reads balances from the token accounts and SOL', async () => {
    const t = treasury(world.chain);
    const b = await t.balances();
    expect(b).toMatchObject({ pump: 1_000_000n * UNIT, usdc: 100_000n * UNIT, pstrRetired: 0n, lpValueUsd: 0 });
    expect(b.sol).toBe(await world.chain.lamports(world.treasury.publicKey));
  });

  it('quotes PUMP → PSTR without moving anything', async () => {
    const t = treasury(world.chain);
    expect(await t.quote(1_000n * UNIT)).toBe(100n * UNIT);
    expect(await pumpOf()).toBe(1_000_000n * UNIT);
  });

  it('buys PUMP with USDC at most once per key', async () => {
    jup.rate = { num: 50n, den: 1n }; // 1 USDC → 50 PUMP
    const s = spy();
    const t = treasury(spyChain(world.chain, s));
    const req = { key: 'accumulation/pstr-main/2025-01-01T10', usdcIn: 100n * UNIT, minPumpOut: 4_900n * UNIT };
    expect(await t.accumulate(req)).toMatchObject({ applied: true, pumpOut: 5_000n * UNIT, usdcIn: 100n * UNIT, alreadyDone: false });
    const again = await treasury(spyChain(world.chain, s)).accumulate(req);
    expect(again).toMatchObject({ applied: true, pumpOut: 5_000n * UNIT, alreadyDone: true });
    expect(s.sends).toHaveLength(1);
    expect(await world.balance(world.treasury.publicKey, world.mints.usdc)).toBe(99_900n * UNIT);
    expect(await pumpOf()).toBe(1_005_000n * UNIT);
  });
});

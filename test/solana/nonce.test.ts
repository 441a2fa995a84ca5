import { createTransferCheckedInstruction } from '@solana/spl-token';
import { ComputeBudgetProgram, Keypair, NONCE_ACCOUNT_LENGTH, SystemProgram } from '@solana/web3.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TreasuryStore } from '../../src/db/store.ts';
import { SolanaTreasury, attemptsOf } from '../../src/solana/executor.ts';
import type { SolanaTreasuryOptions } from '../../src/solana/executor.ts';
import { jupiterClient } from '../../src/solana/jupiter.ts';
import { buildNonceTransaction, createNonceAccountInstructions, readNonce, signWith } from '../../src/solana/nonce.ts';
import { NeedsReconciliationError } from '../../src/solana/nonce-proof.ts';
import { classifySwapError } from '../../src/activities/intervention.ts';
import { spyChain } from './litesvm-chain.ts';
import type { Spy } from './litesvm-chain.ts';
import { DECIMALS, UNIT, fakeJupiter, makeWorld, sendNow, storeWithIntervention } from './world.ts';
import type { FakeJupiter, World } from './world.ts';

const ID = 'intervention/pstr-main/7';
let world: World;
let jup: FakeJupiter;
let store: TreasuryStore;
let nonceAccount: Keypair;

beforeEach(async () => {
  world = makeWorld();
  jup = await fakeJupiter(world);
  store = await storeWithIntervention(ID);
  nonceAccount = Keypair.generate();
  const lamports = Number(world.svm.minimumBalanceForRentExemption(BigInt(NONCE_ACCOUNT_LENGTH)));
  sendNow(world.svm, world.treasury, createNonceAccountInstructions({ payer: world.treasury.publicKey, nonceAccount: nonceAccount.publicKey, authority: world.treasury.publicKey, lamports }), [nonceAccount]);
  // A nonce can only be advanced once the blockhash it was derived from is no longer the latest.
  world.svm.expireBlockhash();
});
afterEach(async () => {
  await jup.close();
  await store.close();
});

const pumpOf = () => world.balance(world.treasury.publicKey, world.mints.pump);

describe('durable-nonce transactions', () => {
  it('land at most once across two differently-signed variants over the same nonce', async () => {
    const nonce = await readNonce(world.chain, nonceAccount.publicKey);
    const leg = createTransferCheckedInstruction(
      world.ata(world.treasury.publicKey, world.mints.pump), world.mints.pump, world.ata(world.pool.publicKey, world.mints.pump), world.treasury.publicKey, 7n * UNIT, DECIMALS,
    );
    const variant = (microLamports: number) => signWith(buildNonceTransaction({
      payer: world.treasury.publicKey, nonce, instructions: [ComputeBudgetProgram.setComputeUnitPrice({ microLamports }), leg],
    }), [world.treasury]);
    const a = variant(1);
    const b = variant(2);
    const sigA = await world.chain.sendRawTransaction(a.serialize());
    const sigB = await world.chain.sendRawTransaction(b.serialize());

    expect(sigA).not.toBe(sigB);
    expect(await world.chain.signatureStatus(sigA)).toMatchObject({ err: null });
    expect(await world.chain.signatureStatus(sigB)).toBeNull();
    expect(await pumpOf()).toBe(1_000_000n * UNIT - 7n * UNIT);
    expect((await readNonce(world.chain, nonceAccount.publicKey)).nonce).not.toBe(nonce.nonce);
  });

  it('puts nonceAdvance first', () => {
    const tx = buildNonceTransaction({ payer: world.treasury.publicKey, nonce: { account: nonceAccount.publicKey, nonce: world.svm.latestBlockhash(), authority: world.treasury.publicKey }, instructions: [] });
    const first = tx.message.compiledInstructions[0];
    expect(tx.message.staticAccountKeys[first?.programIdIndex ?? -1]?.equals(SystemProgram.programId)).toBe(true);
    expect(Buffer.from(first?.data ?? []).readUInt32LE(0)).toBe(4); // SystemInstruction::AdvanceNonceAccount
  });

  function treasury(spy: Spy, extra: Partial<SolanaTreasuryOptions> = {}): SolanaTreasury {
    const spec = (mint: typeof world.mints.pump) => ({ mint, decimals: DECIMALS });
    return new SolanaTreasury({
      treasuryId: 'pstr-main', store, chain: spyChain(world.chain, spy), jupiter: jupiterClient({ baseUrl: jup.baseUrl }), payer: world.treasury, cosigners: [world.pool],
      tokens: { pump: spec(world.mints.pump), pstr: spec(world.mints.pstr), usdc: spec(world.mints.usdc) }, maxSlippageBps: 200,
      priorityFee: { percentile: 75, maxMicroLamports: 200_000 },
      durableNonce: { authority: world.treasury, accounts: { intervention: nonceAccount.publicKey } },
      pollIntervalMs: 1, resendIntervalMs: 1, confirmTimeoutMs: 5, sleep: async () => world.chain.advanceSlots(100),
      ...extra,
    });
  }
  const req = { interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 0n };

  it('re-sends the same bytes after a wait far longer than a blockhash lives', async () => {
    await expect(treasury({ sends: [], drop: () => true }).swap(req)).rejects.toThrow(/still unconfirmed after 5 polls/);
    world.chain.advanceSlots(10_000);
    world.svm.expireBlockhash();

    const s: Spy = { sends: [] };
    const r = await treasury(s).swap(req);
    expect(r.status).toBe('confirmed');
    const attempts = attemptsOf({ status: 'confirmed', amountIn: 0n, amountOut: 0n, signature: null, details: (await store.swap(ID, 0))?.details as Record<string, unknown> });
    expect(attempts).toHaveLength(1);
    expect(attempts[0]?.lifetime.kind).toBe('nonce');
    expect(s.sends).toEqual([r.reference]);
    expect(await pumpOf()).toBe(999_000n * UNIT);
  });

  const recordOf = async () => {
    const row = await store.swap(ID, 0);
    return { status: row?.status, details: row?.details as Record<string, unknown> };
  };
  const attemptsNow = async () => attemptsOf({ status: 'sent', amountIn: 0n, amountOut: 0n, signature: null, details: (await recordOf()).details });
  // Blocks go by while it waits (a nonce derived from the current blockhash cannot be advanced again until the next one).
  const blocksPass = async () => {
    world.chain.advanceSlots(100);
    world.svm.expireBlockhash();
  };

  it('rebuilds once a finalized transaction not in the record is proven to have consumed the nonce, and the old signature is unknown', async () => {
    await expect(treasury({ sends: [], drop: () => true }).swap(req)).rejects.toThrow(/still unconfirmed/);
    // Another transaction over the same nonce value lands (through the chain, so the address index has it).
    world.svm.expireBlockhash();
    const other = signWith(buildNonceTransaction({ payer: world.treasury.publicKey, nonce: await readNonce(world.chain, nonceAccount.publicKey), instructions: [] }), [world.treasury]);
    const otherSig = await world.chain.sendRawTransaction(other.serialize());
    expect(await world.chain.signatureStatus(otherSig)).toMatchObject({ err: null });

    const r = await treasury({ sends: [] }, { sleep: blocksPass }).swap(req);
    expect(r.status).toBe('confirmed');
    const attempts = await attemptsNow();
    expect(attempts).toHaveLength(2);
    expect(attempts[0]?.lifetime.kind === 'nonce' && attempts[1]?.lifetime.kind === 'nonce' && attempts[0].lifetime.nonce !== attempts[1].lifetime.nonce).toBe(true);
    expect(await world.chain.signatureStatus(attempts[0]?.signature ?? '')).toBeNull();
    expect(await pumpOf()).toBe(999_000n * UNIT);
  });

  it('stops at needs-reconciliation, sending and rebuilding nothing, when no finalized transaction over the moved nonce can be found', async () => {
    await expect(treasury({ sends: [], drop: () => true }).swap(req)).rejects.toThrow(/still unconfirmed/);
    // The nonce moves by a transaction the chain's index never shows.
    world.svm.expireBlockhash();
    sendNow(world.svm, world.treasury, [SystemProgram.nonceAdvance({ noncePubkey: nonceAccount.publicKey, authorizedPubkey: world.treasury.publicKey })]);

    const s: Spy = { sends: [] };
    const err = await treasury(s, { sleep: blocksPass }).swap(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NeedsReconciliationError);
    // The swap activity turns it into a non-retryable failure the intervention alerts on (swap-failed, critical).
    expect(classifySwapError(err)).toMatchObject({ type: 'NeedsReconciliation', nonRetryable: true });
    expect(s.sends).toEqual([]);
    expect(await attemptsNow()).toHaveLength(1);
    const rec = await recordOf();
    expect(rec.status).toBe('sent'); // not final: a later reconciliation, not a retry, decides
    expect(rec.details.needsReconciliation).toMatchObject({ nonceAccount: nonceAccount.publicKey.toBase58() });
    expect(await pumpOf()).toBe(1_000_000n * UNIT);
  });

  it('with a lagging signature index, never rebuilds over its own landed transaction: needs-reconciliation, then settles once the index catches up', async () => {
    // The first attempt lands, and the worker dies before it learns so.
    await expect(treasury({ sends: [], crashAfterSend: true }).swap(req)).rejects.toThrow(/crashed/);
    const [landed] = await attemptsNow();
    const sig = landed?.signature ?? '';
    expect(await pumpOf()).toBe(999_000n * UNIT);
    // Neither the status index nor the address index knows it yet.
    world.chain.unknownStatus.add(sig);
    world.chain.unindexed.add(sig);

    const s: Spy = { sends: [] };
    await expect(treasury(s, { sleep: blocksPass }).swap(req)).rejects.toThrow(/needs-reconciliation/);
    expect(s.sends).toEqual([]);
    expect(await attemptsNow()).toHaveLength(1);
    expect(await pumpOf()).toBe(999_000n * UNIT);

    world.chain.unknownStatus.clear();
    world.chain.unindexed.clear();
    const r = await treasury(s, { sleep: blocksPass }).swap(req);
    expect(r).toMatchObject({ status: 'confirmed', reference: sig, alreadyDone: true });
    expect(s.sends).toEqual([]);
    expect(await pumpOf()).toBe(999_000n * UNIT);
  });

  it('settles from its own transaction found in the nonce account\'s finalized history while the status index still lags', async () => {
    await expect(treasury({ sends: [], crashAfterSend: true }).swap(req)).rejects.toThrow(/crashed/);
    const [landed] = await attemptsNow();
    world.chain.unknownStatus.add(landed?.signature ?? '');

    const s: Spy = { sends: [] };
    const r = await treasury(s, { sleep: blocksPass }).swap(req);
    expect(r).toMatchObject({ status: 'confirmed', reference: landed?.signature, pstrOut: 100n * UNIT });
    expect(s.sends).toEqual([]);
    expect(await attemptsNow()).toHaveLength(1);
    expect(await pumpOf()).toBe(999_000n * UNIT);
  });

  it('uses each money path\'s own nonce account and refuses one account for two paths', async () => {
    expect(() => treasury({ sends: [] }, { durableNonce: { authority: world.treasury, accounts: { intervention: nonceAccount.publicKey, accumulation: nonceAccount.publicKey } } }))
      .toThrow(/both the intervention and the accumulation path/);
    jup.rate = { num: 50n, den: 1n };
    const t = treasury({ sends: [] });
    const buy = await t.accumulate({ key: 'accumulation/pstr-main/2025-01-01T10', usdcIn: 10n * UNIT, minPumpOut: 0n });
    expect(buy.applied).toBe(true);
    // Accumulation has no nonce account configured here: a blockhash transaction, and the intervention nonce untouched.
    const row = await store.moneyRecord('pstr-main', 'accumulation', 'accumulation/pstr-main/2025-01-01T10');
    expect(attemptsOf({ status: 'confirmed', amountIn: 0n, amountOut: 0n, signature: null, details: row?.details as Record<string, unknown> })[0]?.lifetime.kind).toBe('blockhash');
    const swap = await t.swap(req);
    expect(swap.status).toBe('confirmed');
    expect((await attemptsNow())[0]?.lifetime).toMatchObject({ kind: 'nonce', account: nonceAccount.publicKey.toBase58() });
  });
});

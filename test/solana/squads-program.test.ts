/**
 * Propose-only mode against the REAL Squads v4 program (not the SDK's
 * account encodings on a fake chain): LiteSVM runs the program binary, the
 * real SPL Token and ATA programs, and the agent's own code
 * (src/solana/squads.ts, squads-treasury.ts) proposes the swap. The members
 * approve and execute with the Squads SDK's instructions, exactly as a
 * member's wallet would.
 *
 * The program binary is not in the repository (see
 * test/fixtures/programs/README.md): point SQUADS_PROGRAM_SO at a copy of the
 * mainnet build, pinned below by SHA-256. Without it the suite is skipped.
 *
 * The swap inside the vault transaction is a fake pool's atomic two-leg swap
 * where the vault is the only signer, as in a real Jupiter route: the vault
 * sends PUMP to the pool, and pulls the PSTR back from the pool's account,
 * on which the pool has made the vault a delegate. (test/solana/world.ts's
 * pool signs its own leg, which a vault transaction cannot carry.)
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as multisig from '@sqds/multisig';
import { PublicKey } from '@solana/web3.js';
import type { Keypair } from '@solana/web3.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TreasuryStore } from '../../src/db/store.ts';
import { SquadsTreasury, proposalAttemptsOf } from '../../src/solana/squads-treasury.ts';
import { proposalStatus, waitForProposal } from '../../src/solana/squads.ts';
import { spyChain } from './litesvm-chain.ts';
import type { Spy } from './litesvm-chain.ts';
import {
  FILLED, ID, Multisig, Proposal, SKIP_REASON, SO, SO_SHA256, VaultTransaction, addr, aliceTakesIndex1, executeVault, poolJupiter, request, squadsWorld, voteOn,
} from './squads-world.ts';
import type { SquadsWorld } from './squads-world.ts';
import { DECIMALS, UNIT, storeWithIntervention } from './world.ts';

if (SKIP_REASON !== null) console.warn(`test/solana/squads-program.test.ts skipped: ${SKIP_REASON} (see test/fixtures/programs/README.md)`);

describe.skipIf(SKIP_REASON !== null)('propose-only against the real Squads v4 program', () => {
  let w: SquadsWorld;
  let store: TreasuryStore;
  let jup: ReturnType<typeof poolJupiter>;
  let spy: Spy;

  beforeEach(async () => {
    const so = SO as string;
    expect(createHash('sha256').update(readFileSync(so)).digest('hex'), `${so} is not the pinned Squads v4 build`).toBe(SO_SHA256);
    w = squadsWorld(so);
    store = await storeWithIntervention(ID);
    jup = poolJupiter(w);
    spy = { sends: [] };
  });

  afterEach(async () => {
    await store.close();
  });

  const treasury = () => new SquadsTreasury({
    treasuryId: 'pstr-main', store, chain: spyChain(w.chain, spy), jupiter: jup.client, member: w.agent, multisig: w.multisigPda, vaultIndex: 0,
    tokens: { pump: { mint: w.mints.pump, decimals: DECIMALS }, pstr: { mint: w.mints.pstr, decimals: DECIMALS }, usdc: { mint: w.mints.usdc, decimals: DECIMALS } },
    maxSlippageBps: 200, priorityFee: { percentile: 75, maxMicroLamports: 200_000 },
  });
  /** A program-owned account as LiteSVM holds it; throws when it does not exist. */
  const account = (key: PublicKey) => {
    const acc = w.svm.getAccount(addr(key));
    if (!acc.exists) throw new Error(`account ${key.toBase58()} does not exist`);
    return { owner: acc.programAddress as string, data: Buffer.from(acc.data) };
  };
  const readMultisig = () => Multisig.deserialize(account(w.multisigPda).data)[0];
  const balances = async () => ({
    vaultPump: await w.balance(w.vault, w.mints.pump), vaultPstr: await w.balance(w.vault, w.mints.pstr),
    poolPump: await w.balance(w.pool.publicKey, w.mints.pump), poolPstr: await w.balance(w.pool.publicKey, w.mints.pstr),
  });
  const vote = (member: Keypair, transactionIndex: bigint, how: 'approve' | 'reject') => voteOn(w, member, transactionIndex, how);
  const execute = (member: Keypair, transactionIndex: bigint) => executeVault(w, member, transactionIndex);

  it('the program accepts the agent’s vault transaction + proposal; two members approve, one executes; the swap moves once and the treasury reports it', async () => {
    expect(readMultisig().transactionIndex.toString()).toBe('0');
    const before = await balances();
    const t = treasury();

    const proposed = await t.swap(request);
    const [proposalPda] = multisig.getProposalPda({ multisigPda: w.multisigPda, transactionIndex: 1n });
    const [transactionPda] = multisig.getTransactionPda({ multisigPda: w.multisigPda, index: 1n });
    expect(proposed).toEqual({ status: 'pending', pumpIn: 1_000n * UNIT, pstrOut: 0n, reference: proposalPda.toBase58(), alreadyDone: false });
    expect(jup.calls.users).toEqual([w.vault.toBase58()]);
    // The agent's one transaction landed without error: the real program took both instructions.
    expect(spy.sends).toHaveLength(1);
    expect(await w.chain.signatureStatus(spy.sends[0] as string)).toMatchObject({ err: null });
    expect(readMultisig().transactionIndex.toString()).toBe('1');
    const txAccount = account(transactionPda);
    expect(txAccount.owner).toBe(multisig.PROGRAM_ID.toBase58());
    const [vaultTx] = VaultTransaction.deserialize(txAccount.data);
    expect(vaultTx.creator.equals(w.agent.publicKey)).toBe(true);
    expect(vaultTx.index.toString()).toBe('1');
    expect(vaultTx.vaultIndex).toBe(0);
    expect(vaultTx.message.accountKeys[0]?.equals(w.vault)).toBe(true);
    expect(vaultTx.message.instructions).toHaveLength(3); // ATA setup, PUMP leg, PSTR leg; no compute budget
    const [proposal] = Proposal.deserialize(account(proposalPda).data);
    expect(proposal.status.__kind).toBe('Active');
    expect(proposal.transactionIndex.toString()).toBe('1');
    expect(await balances()).toEqual(before); // proposing moves nothing

    // Not executable before the threshold is met.
    expect((await execute(w.alice, 1n))?.logs.join('\n')).toMatch(/InvalidProposalStatus/);
    expect(vote(w.alice, 1n, 'approve')).toBeNull();
    expect(await t.swap(request)).toMatchObject({ status: 'pending', reference: proposalPda.toBase58() });
    expect(vote(w.bob, 1n, 'approve')).toBeNull();
    expect(await proposalStatus(w.chain, w.multisigPda, 1n)).toBe('Approved');
    expect(await t.swap(request)).toMatchObject({ status: 'pending', pstrOut: 0n });
    expect(await balances()).toEqual(before);

    expect(await execute(w.bob, 1n)).toBeNull();
    expect(await proposalStatus(w.chain, w.multisigPda, 1n)).toBe('Executed');
    const after = await balances();
    expect(after).toEqual({
      vaultPump: before.vaultPump - 1_000n * UNIT, vaultPstr: before.vaultPstr + FILLED,
      poolPump: before.poolPump + 1_000n * UNIT, poolPstr: before.poolPstr - FILLED,
    });
    expect(await waitForProposal(w.chain, w.multisigPda, 1n, { sleep: async () => {}, pollIntervalMs: 0, maxPolls: 1 })).toBe('Executed');

    const confirmed = await t.swap(request);
    expect(confirmed).toEqual({ status: 'confirmed', pumpIn: 1_000n * UNIT, pstrOut: FILLED, reference: proposalPda.toBase58(), alreadyDone: false });
    const row = await store.swap(ID, 0);
    expect(row).toMatchObject({ status: 'confirmed', pstrOut: FILLED });
    expect((row?.details as Record<string, unknown> | undefined)?.realized).toMatchObject({
      proposal: proposalPda.toBase58(), transactionIndex: '1', amountIn: (1_000n * UNIT).toString(), amountOut: FILLED.toString(),
      quotedOut: (100n * UNIT).toString(), minOut: (98n * UNIT).toString(),
    });

    // A second execute (fresh blockhash, so not a duplicate signature) is refused by the program, and nothing moves again.
    w.svm.expireBlockhash();
    const again = await execute(w.alice, 1n);
    expect(again?.err).toBe('InstructionError(1, Custom(6008))');
    expect(again?.logs.join('\n')).toMatch(/Error Code: InvalidProposalStatus/);
    expect(await balances()).toEqual(after);
    expect(await t.swap(request)).toMatchObject({ status: 'confirmed', pstrOut: FILLED, alreadyDone: true });
    expect(spy.sends).toHaveLength(1);
    expect(jup.calls.quotes).toBe(1);
  });

  it('a proposal the members reject settles the slice failed, with nothing moved', async () => {
    const before = await balances();
    const t = treasury();
    const proposed = await t.swap(request);
    expect(proposed.status).toBe('pending');
    // 2-of-3 with two voters: one rejection already makes approval impossible.
    expect(vote(w.alice, 1n, 'reject')).toBeNull();
    expect(await proposalStatus(w.chain, w.multisigPda, 1n)).toBe('Rejected');
    expect((await execute(w.bob, 1n))?.logs.join('\n')).toMatch(/InvalidProposalStatus/);

    const r = await t.swap(request);
    expect(r).toMatchObject({ status: 'failed', pumpIn: 1_000n * UNIT, pstrOut: 0n, reference: proposed.reference, alreadyDone: false });
    expect(r.error).toMatch(/rejected by the multisig; nothing moved/);
    expect(await balances()).toEqual(before);
  });

  it('when another member takes the transaction index first, the program refuses the agent’s bytes and the agent proposes again at the next index', async () => {
    const before = await balances();
    spy.drop = () => spy.sends.length === 1; // the very first send is lost on the way
    const t = treasury();
    expect((await t.swap(request)).status).toBe('pending');
    expect(readMultisig().transactionIndex.toString()).toBe('0');

    // Alice creates vault transaction #1 herself.
    expect(aliceTakesIndex1(w)).toBeNull();

    // The retry re-sends the recorded bytes (still within their blockhash); the program rejects them: index 1 is taken,
    // so the agent's transaction PDA for #1 no longer matches the seeds the program derives (#2): Anchor's ConstraintSeeds, 2006.
    expect((await t.swap(request)).status).toBe('pending');
    const first = spy.sends[0] as string;
    expect((await w.chain.signatureStatus(first))?.err).toBe('InstructionError(1, Custom(2006))');
    // Seeing that failure, the agent builds a new proposal at index 2, which lands.
    const [proposal2] = multisig.getProposalPda({ multisigPda: w.multisigPda, transactionIndex: 2n });
    const r = await t.swap(request);
    expect(r).toMatchObject({ status: 'pending', reference: proposal2.toBase58() });
    const attempts = proposalAttemptsOf({ status: 'sent', amountIn: 0n, amountOut: null, signature: null, details: (await store.swap(ID, 0))?.details as Record<string, unknown> });
    expect(attempts.map((a) => a.transactionIndex)).toEqual(['1', '2']);
    expect(await w.chain.signatureStatus(attempts[1]?.signature as string)).toMatchObject({ err: null });
    expect(await proposalStatus(w.chain, w.multisigPda, 2n)).toBe('Active');

    expect(vote(w.alice, 2n, 'approve')).toBeNull();
    expect(vote(w.bob, 2n, 'approve')).toBeNull();
    expect(await execute(w.alice, 2n)).toBeNull();
    expect(await t.swap(request)).toMatchObject({ status: 'confirmed', pumpIn: 1_000n * UNIT, pstrOut: FILLED, reference: proposal2.toBase58() });
    expect(await balances()).toMatchObject({ vaultPump: before.vaultPump - 1_000n * UNIT, vaultPstr: before.vaultPstr + FILLED });
  });


  describe('a route too big for one transaction, through a transaction buffer', () => {
    const PADDING = 24; // 24 × 100-byte memos: a ~2.7 KB vault message
    const attemptsNow = async () => proposalAttemptsOf({ status: 'sent', amountIn: 0n, amountOut: null, signature: null, details: (await store.swap(ID, 0))?.details as Record<string, unknown> });

    /** Approves with alice and bob, executes with bob; checks the swap moved exactly once and the slice confirms. */
    const approveExecuteConfirm = async (t: SquadsTreasury, before: Awaited<ReturnType<typeof balances>>) => {
      const [proposalPda] = multisig.getProposalPda({ multisigPda: w.multisigPda, transactionIndex: 1n });
      expect(vote(w.alice, 1n, 'approve')).toBeNull();
      expect(vote(w.bob, 1n, 'approve')).toBeNull();
      expect(await execute(w.bob, 1n)).toBeNull();
      const after = await balances();
      expect(after).toEqual({ vaultPump: before.vaultPump - 1_000n * UNIT, vaultPstr: before.vaultPstr + FILLED, poolPump: before.poolPump + 1_000n * UNIT, poolPstr: before.poolPstr - FILLED });
      expect(await t.swap(request)).toEqual({ status: 'confirmed', pumpIn: 1_000n * UNIT, pstrOut: FILLED, reference: proposalPda.toBase58(), alreadyDone: false });
      w.svm.expireBlockhash();
      expect((await execute(w.alice, 1n))?.logs.join('\n')).toMatch(/InvalidProposalStatus/);
      expect(await balances()).toEqual(after);
      expect(readMultisig().transactionIndex.toString()).toBe('1'); // one vault transaction, ever
    };

    /** The buffer steps were contiguous chunks covering the message once, then the final create-from-buffer. */
    const expectCleanUpload = (steps: { kind: string; from: number; to: number; tx: string }[], size: number) => {
      const uploads = steps.filter((s) => s.kind === 'create' || s.kind === 'extend');
      expect(uploads.map((s) => s.from)).toEqual([0, ...uploads.slice(0, -1).map((s) => s.to)]);
      expect(uploads.at(-1)?.to).toBe(size);
      expect(steps.at(-1)?.kind).toBe('final');
      for (const s of steps) expect(Buffer.from(s.tx, 'base64').length).toBeLessThanOrEqual(1232);
    };

    const checkVaultTransaction = () => {
      const [transactionPda] = multisig.getTransactionPda({ multisigPda: w.multisigPda, index: 1n });
      const [vaultTx] = VaultTransaction.deserialize(account(transactionPda).data);
      expect(vaultTx.creator.equals(w.agent.publicKey)).toBe(true);
      expect(vaultTx.message.instructions).toHaveLength(3 + PADDING);
      const memoTexts = vaultTx.message.instructions.slice(3).map((i) => Buffer.from(i.data).toString().slice(0, 13));
      expect(memoTexts).toEqual(Array.from({ length: PADDING }, (_, i) => `route leg ${String(i).padStart(3, '0')}`));
    };

    it('is proposed through the buffer by the real program, approved, executed, and moves the balances exactly once', async () => {
      jup = poolJupiter(w, PADDING);
      const before = await balances();
      const t = treasury();
      const [proposalPda] = multisig.getProposalPda({ multisigPda: w.multisigPda, transactionIndex: 1n });
      expect(await t.swap(request)).toEqual({ status: 'pending', pumpIn: 1_000n * UNIT, pstrOut: 0n, reference: proposalPda.toBase58(), alreadyDone: false });
      const [a] = await attemptsNow();
      const b = a?.buffer;
      if (!b || !a) throw new Error('expected a buffer attempt');
      expect(b.size).toBeGreaterThan(1232);
      expectCleanUpload(b.steps, b.size);
      expect(a.signature).toBe(b.steps.at(-1)?.signature);
      expect(spy.sends).toEqual(b.steps.map((s) => s.signature));
      for (const s of b.steps) expect(await w.chain.signatureStatus(s.signature)).toMatchObject({ err: null });
      console.info(`buffer path: vault message ${b.size} bytes; step transactions ${b.steps.map((s) => `${s.kind} ${Buffer.from(s.tx, 'base64').length}`).join(', ')} bytes`);
      expect(w.svm.getAccount(addr(new PublicKey(b.address))).exists).toBe(false); // the program closed the buffer into the vault transaction
      checkVaultTransaction();
      expect(await proposalStatus(w.chain, w.multisigPda, 1n)).toBe('Active');
      expect(await balances()).toEqual(before);
      await approveExecuteConfirm(t, before);
      expect(await t.swap(request)).toMatchObject({ status: 'confirmed', alreadyDone: true });
      expect(spy.sends).toHaveLength(b.steps.length);
    });

    it('after a crash right after the first extend was sent, a retry reads the buffer on chain and continues: no chunk twice, one proposal', async () => {
      jup = poolJupiter(w, PADDING);
      const before = await balances();
      spy.drop = () => {
        spy.crashAfterSend = spy.sends.length === 2; // create, then the first extend: delivered, then the worker dies
        return false;
      };
      await expect(treasury().swap(request)).rejects.toThrow(/crashed/);
      spy.drop = undefined;
      spy.crashAfterSend = false;
      const [crashed] = await attemptsNow();
      expect(crashed?.buffer?.steps.map((s) => s.kind)).toEqual(['create', 'extend']);
      const onChain = account(new PublicKey(crashed?.buffer?.address as string)).data;
      const [buf] = multisig.accounts.TransactionBuffer.deserialize(onChain);
      expect(buf.buffer.length).toBe(crashed?.buffer?.steps[1]?.to);

      const t = treasury(); // a fresh worker
      const r = await t.swap(request);
      expect(r.status).toBe('pending');
      const [a] = await attemptsNow();
      const b = a?.buffer;
      if (!b) throw new Error('expected a buffer attempt');
      expectCleanUpload(b.steps, b.size);
      expect(spy.sends).toEqual(b.steps.map((s) => s.signature)); // nothing re-sent: the landed extend was read back from the chain
      checkVaultTransaction();
      await approveExecuteConfirm(t, before);
    });

    it('an extend lost on the way is re-sent as the same bytes, then rebuilt for the same chunk only after its blockhash expired', async () => {
      jup = poolJupiter(w, PADDING);
      const before = await balances();
      spy.drop = () => spy.sends.length === 2 || spy.sends.length === 3; // the first extend, and its re-send, never arrive
      const t = treasury();
      expect((await t.swap(request)).status).toBe('pending');
      expect((await t.swap(request)).status).toBe('pending');
      expect(spy.sends[2]).toBe(spy.sends[1]); // the same signature: the same bytes
      spy.drop = undefined;
      w.chain.advanceSlots(151);
      expect((await t.swap(request)).status).toBe('pending');
      const [a] = await attemptsNow();
      const b = a?.buffer;
      if (!b) throw new Error('expected a buffer attempt');
      expect(b.steps.map((s) => `${s.kind} ${s.from}`).slice(0, 3)).toEqual(['create 0', `extend ${b.steps[0]?.to}`, `extend ${b.steps[0]?.to}`]);
      expectCleanUpload([b.steps[0], ...b.steps.slice(2)] as typeof b.steps, b.size);
      checkVaultTransaction();
      await approveExecuteConfirm(t, before);
    });

    it('when another member takes the index mid-upload, the program closes the agent’s buffer and the slice is proposed at #2 through a new one', async () => {
      jup = poolJupiter(w, PADDING);
      const before = await balances();
      spy.drop = () => {
        if (spy.sends.length !== 3) return false;
        // Just before the agent's second extend, alice creates vault transaction #1.
        expect(aliceTakesIndex1(w)).toBeNull();
        return false;
      };
      const t = treasury();
      const [proposal2] = multisig.getProposalPda({ multisigPda: w.multisigPda, transactionIndex: 2n });
      expect(await t.swap(request)).toMatchObject({ status: 'pending', reference: proposal2.toBase58() });
      const [first, second] = await attemptsNow();
      const closeStep = first?.buffer?.steps.at(-1);
      expect(closeStep?.kind).toBe('close');
      expect(await w.chain.signatureStatus(closeStep?.signature as string)).toMatchObject({ err: null }); // the real program took the close
      expect(w.svm.getAccount(addr(new PublicKey(first?.buffer?.address as string))).exists).toBe(false);
      expect(first?.buffer?.abandoned).toMatch(/index was taken/);
      expect(second?.transactionIndex).toBe('2');
      expectCleanUpload(second?.buffer?.steps ?? [], second?.buffer?.size ?? -1);
      expect(await proposalStatus(w.chain, w.multisigPda, 2n)).toBe('Active');
      expect(vote(w.alice, 2n, 'approve')).toBeNull();
      expect(vote(w.bob, 2n, 'approve')).toBeNull();
      expect(await execute(w.bob, 2n)).toBeNull();
      expect(await t.swap(request)).toMatchObject({ status: 'confirmed', pumpIn: 1_000n * UNIT, pstrOut: FILLED, reference: proposal2.toBase58() });
      expect(await balances()).toMatchObject({ vaultPump: before.vaultPump - 1_000n * UNIT, vaultPstr: before.vaultPstr + FILLED });
    });
  });
});

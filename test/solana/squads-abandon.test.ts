/**
 * Propose-only when the members do not decide in time, on the REAL Squads v4
 * program in LiteSVM (skipped without SQUADS_PROGRAM_SO, see
 * test/fixtures/programs/README.md). The agent's own activities run over it:
 * executeSwap proposes, awaitProposal waits until the approval deadline,
 * abandonProposal votes against the proposal with the agent's key, and
 * gateContext is what the next intervention's gates read. What must hold:
 * a proposal the agent gave up on either cannot execute any more (the
 * program refuses the members' execute) or keeps the next intervention
 * blocked, named, until the chain shows it dead or executed; and a late
 * execution is settled with the amounts of the execute transaction itself.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as multisig from '@sqds/multisig';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/deps.ts';
import { interventionActivities } from '../../src/activities/intervention.ts';
import type { GateContextResult, WireSwapRequest } from '../../src/activities/intervention.ts';
import type { TreasuryStore } from '../../src/db/store.ts';
import { evaluateGates, interventionParams } from '../../src/domain/intervention.ts';
import { demoConfig } from '../../src/runtime/demo.ts';
import { SquadsTreasury } from '../../src/solana/squads-treasury.ts';
import { proposalStatus } from '../../src/solana/squads.ts';
import type { MonitorStatus } from '../../src/workflows/contract.ts';
import { FILLED, ID, SKIP_REASON, SO, SO_SHA256, executeVault, poolJupiter, squadsWorld, voteOn } from './squads-world.ts';
import type { SquadsWorld, SquadsWorldOptions } from './squads-world.ts';
import { DECIMALS, UNIT, storeWithIntervention } from './world.ts';

if (SKIP_REASON !== null) console.warn(`test/solana/squads-abandon.test.ts skipped: ${SKIP_REASON} (see test/fixtures/programs/README.md)`);

const TREASURY = 'pstr-main';
/** The intervention that comes after the one whose proposal was abandoned. */
const NEXT = 'intervention/pstr-main/8';
const wireRequest: WireSwapRequest = { treasuryId: TREASURY, interventionId: ID, slice: 0, pumpIn: (1_000n * UNIT).toString(), minPstrOut: (95n * UNIT).toString(), impliedPstrOut: (100n * UNIT).toString() };

/** A running, unpaused monitor: the gates' pause and stop read neutral, so only the proposals decide. */
const running: MonitorStatus = {
  treasuryId: TREASURY, mode: 'mainnet', paused: false, emergencyStop: false, cycles: 3, lastCycle: null, pendingInterventions: [], interventionCount: 7,
  lastExecutedSwapAt: null, noValidPriceStreak: 0, recentOperatorEvents: [], undeliveredCritical: { count: 0, oldest: null }, cycleIntervalSeconds: 300,
};

describe.skipIf(SKIP_REASON !== null)('a multisig proposal the intervention gives up on, on the real Squads v4 program', () => {
  let w: SquadsWorld;
  let store: TreasuryStore;
  let acts: ReturnType<typeof interventionActivities>;

  const setUp = async (opts: SquadsWorldOptions, voteOnAbandon?: boolean) => {
    const so = SO as string;
    expect(createHash('sha256').update(readFileSync(so)).digest('hex'), `${so} is not the pinned Squads v4 build`).toBe(SO_SHA256);
    w = squadsWorld(so, opts);
    store = await storeWithIntervention(ID, TREASURY);
    const treasury = new SquadsTreasury({
      treasuryId: TREASURY, store, chain: w.chain, jupiter: poolJupiter(w).client, member: w.agent, multisig: w.multisigPda, vaultIndex: 0,
      tokens: { pump: { mint: w.mints.pump, decimals: DECIMALS }, pstr: { mint: w.mints.pstr, decimals: DECIMALS }, usdc: { mint: w.mints.usdc, decimals: DECIMALS } },
      maxSlippageBps: 200, priorityFee: { percentile: 75, maxMicroLamports: 200_000 }, ...(voteOnAbandon !== undefined && { voteOnAbandon }),
    });
    const deps: ActivityDeps = {
      config: { ...demoConfig(), treasuryId: TREASURY }, store, sources: [], liquidity: null, market: undefined as never, treasury,
      monitorStatus: () => Promise.resolve(running), workflowState: () => Promise.resolve(null), logger: pino({ level: 'silent' }), proposalPollMs: 1,
    };
    acts = interventionActivities(deps);
  };

  beforeEach(() => {
    store = undefined as never;
  });
  afterEach(async () => {
    await store?.close();
  });

  const proposal = () => multisig.getProposalPda({ multisigPda: w.multisigPda, transactionIndex: 1n })[0].toBase58();
  const vault = async () => ({ pump: await w.balance(w.vault, w.mints.pump), pstr: await w.balance(w.vault, w.mints.pstr) });

  /** Proposes the slice, then waits in awaitProposal until its approval deadline passes (the activity's clock starts at the deadline). */
  const proposeAndTimeOut = async () => {
    expect(await acts.executeSwap(wireRequest)).toMatchObject({ status: 'pending', reference: proposal() });
    const env = new MockActivityEnvironment({ currentAttemptScheduledTimestampMs: 1_000 });
    const waited = await env.run((i: { request: WireSwapRequest; deadline: number }) => acts.awaitProposal(i), { request: wireRequest, deadline: 1_000 });
    expect(waited).toMatchObject({ ended: 'deadline', polls: 1, result: { status: 'pending', reference: proposal() } });
    return acts.abandonProposal({ interventionId: ID, slice: 0, why: 'the multisig did not decide within 24 h' });
  };

  /** What the next intervention's gates say about proposals in flight (the workflow's own call, evaluated the workflow's way). */
  const nextGate = async () => {
    const ctx: GateContextResult = await acts.gateContext({ treasuryId: TREASURY, excludeId: NEXT });
    const gates = evaluateGates({
      now: Date.now(), paused: ctx.paused, emergencyStop: ctx.emergencyStop, lastExecutedSwapAt: ctx.lastExecutedSwapAt, interventionStarts: ctx.interventionStarts,
      inFlight: ctx.inFlight.length > 0, ...(ctx.liveProposals && { liveProposals: ctx.liveProposals }), reserveRatio: 10,
    }, interventionParams(demoConfig()));
    const byName = Object.fromEntries(gates.map((g) => [g.gate, g]));
    return { ctx, inFlight: byName['none-in-flight'], cooldown: byName.cooldown };
  };

  it('is rejected by the agent’s own vote when that reaches the cutoff, after which the program refuses to approve or execute it and nothing moves', async () => {
    // Two voters (the agent and alice), threshold 2: one rejection makes approval impossible.
    await setUp({ agentVotes: true, bobVotes: false });
    const before = await vault();

    const out = await proposeAndTimeOut();
    expect(out).toMatchObject({ proposal: proposal(), transactionIndex: '1', action: 'rejected', settled: true, state: 'Rejected' });
    expect(await proposalStatus(w.chain, w.multisigPda, 1n)).toBe('Rejected');
    expect(await store.swap(ID, 0)).toMatchObject({ status: 'failed', pstrOut: 0n });

    // The members try anyway: the program refuses both the approval and the execute.
    expect(voteOn(w, w.alice, 1n, 'approve')?.logs.join('\n')).toMatch(/InvalidProposalStatus/);
    const refused = await executeVault(w, w.bob, 1n);
    expect(refused?.logs.join('\n')).toMatch(/Error Code: InvalidProposalStatus/);
    expect(await vault()).toEqual(before);

    const next = await nextGate();
    expect(next.ctx.liveProposals).toEqual([]);
    expect(next.inFlight).toMatchObject({ passed: true, reason: 'none in flight' });
  });

  it('keeps the next intervention blocked, naming the proposal, while the agent’s rejection alone is not enough; once alice completes it, it cannot execute and the next may start', async () => {
    // Three voters, threshold 2: a Rejected proposal needs two rejections, the agent's is one.
    await setUp({ agentVotes: true });
    const before = await vault();

    const out = await proposeAndTimeOut();
    expect(out).toMatchObject({ proposal: proposal(), action: 'rejected', settled: false, state: 'Active' });
    expect(out?.membersMust).toMatch(/1 more rejection\(s\) make it Rejected \(cutoff 2, 1 so far\)/);
    expect(await store.swap(ID, 0)).toMatchObject({ status: 'sent' });

    const blocked = await nextGate();
    expect(blocked.inFlight?.passed).toBe(false);
    expect(blocked.inFlight?.reason).toContain(`proposal ${proposal()} (#1, Active) of ${ID} slice 0`);

    expect(voteOn(w, w.alice, 1n, 'reject')).toBeNull();
    expect(await proposalStatus(w.chain, w.multisigPda, 1n)).toBe('Rejected');
    const freed = await nextGate();
    expect(freed.ctx.liveProposals).toEqual([]);
    expect(freed.inFlight).toMatchObject({ passed: true });
    expect(await store.swap(ID, 0)).toMatchObject({ status: 'failed', pstrOut: 0n });
    expect((await executeVault(w, w.bob, 1n))?.logs.join('\n')).toMatch(/InvalidProposalStatus/);
    expect(await vault()).toEqual(before);
  });

  it('casts a cancel on an approved but unexecuted proposal, stays blocked until the threshold of cancellations, then the program refuses its execute', async () => {
    await setUp({ agentVotes: true });
    const before = await vault();
    expect(await acts.executeSwap(wireRequest)).toMatchObject({ status: 'pending' });
    // Approved in time, but no member executed it before the deadline.
    expect(voteOn(w, w.alice, 1n, 'approve')).toBeNull();
    expect(voteOn(w, w.bob, 1n, 'approve')).toBeNull();
    expect(await proposalStatus(w.chain, w.multisigPda, 1n)).toBe('Approved');

    const out = await acts.abandonProposal({ interventionId: ID, slice: 0, why: 'the multisig did not execute within 24 h' });
    expect(out).toMatchObject({ action: 'cancelled', settled: false, state: 'Approved' });
    expect(out?.membersMust).toMatch(/1 more cancellation\(s\) make it Cancelled \(threshold 2, 1 so far\)/);
    expect((await nextGate()).inFlight?.reason).toContain(`proposal ${proposal()} (#1, Approved)`);

    expect(voteOn(w, w.alice, 1n, 'cancel')).toBeNull();
    expect(await proposalStatus(w.chain, w.multisigPda, 1n)).toBe('Cancelled');
    expect((await executeVault(w, w.bob, 1n))?.logs.join('\n')).toMatch(/InvalidProposalStatus/);
    expect((await nextGate()).inFlight).toMatchObject({ passed: true });
    expect(await vault()).toEqual(before);
  });

  it('with an Initiate-only key it votes nothing and says so; the proposal blocks the next intervention until the members execute it late, which is settled with that transaction’s own amounts and dates the cooldown', async () => {
    await setUp({});
    const before = await vault();
    const out = await proposeAndTimeOut();
    expect(out).toMatchObject({ action: 'none', signature: null, settled: false, state: 'Active' });
    expect(out?.because).toMatch(/no Vote permission/);
    expect((await nextGate()).inFlight?.passed).toBe(false);

    expect(voteOn(w, w.alice, 1n, 'approve')).toBeNull();
    expect(voteOn(w, w.bob, 1n, 'approve')).toBeNull();
    expect(await executeVault(w, w.bob, 1n)).toBeNull();
    // An unrelated movement into the vault after the execute: vault deltas would now say 4,000 PUMP less spent.
    w.mintTo(w.vault, w.mints.pump, 5_000n * UNIT);
    w.mintTo(w.vault, w.mints.pstr, 7n * UNIT);

    const next = await nextGate();
    expect(next.ctx.liveProposals).toEqual([]);
    expect(next.inFlight).toMatchObject({ passed: true });
    expect(next.cooldown?.passed).toBe(false);
    const row = await store.swap(ID, 0);
    expect(row).toMatchObject({ status: 'confirmed', pstrOut: FILLED });
    expect((row?.details as { realized?: Record<string, unknown> }).realized).toMatchObject({ amountIn: (1_000n * UNIT).toString(), amountOut: FILLED.toString() });
    expect(await vault()).toEqual({ pump: before.pump - 1_000n * UNIT + 5_000n * UNIT, pstr: before.pstr + FILLED + 7n * UNIT });
  });

  it('casts no vote when the treasury turned voting on abandon off (solana.multisig.voteOnAbandon: false), though its key may vote', async () => {
    await setUp({ agentVotes: true, bobVotes: false }, false);
    const out = await proposeAndTimeOut();
    expect(out).toMatchObject({ action: 'none', signature: null, settled: false, state: 'Active', because: 'voting on abandon is turned off for this treasury' });
    expect(await proposalStatus(w.chain, w.multisigPda, 1n)).toBe('Active');
    expect((await nextGate()).inFlight?.passed).toBe(false);
  });
});

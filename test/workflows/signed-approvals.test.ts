/**
 * Issue #11: an approval is a signature by a configured operator's key over
 * the plan the intervention published after sizing. Real time-skipping
 * server, real worker, paper world on a real SQLite file; the operators have
 * ed25519 keys (intervention.operatorKeys). Each bad decision is refused by
 * the Update's validator with its reason and, sent as a signal, recorded in
 * approvals.refused; the good one counts, its replay does not, and the swap
 * then runs within the approved plan's minimum.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { planMessage, publicKeyOf, signMessage, type InterventionPlan } from '../../src/domain/operator-message.ts';
import {
  approveSignal, approveUpdate, interventionStateQuery, interventionWorkflowId, monitorWorkflowId, planQuery, rejectUpdate,
} from '../../src/workflows/contract.ts';
import { strategyMonitor, type intervention } from '../../src/workflows/index.ts';
import { freshEnv, harness, MINUTE, sharedEnv, testConfig } from './harness.ts';

beforeEach(async () => {
  await freshEnv();
}, 60_000);

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

const ALICE = new Uint8Array(32).fill(11);
const BOB = new Uint8Array(32).fill(12);
const MALLORY = new Uint8Array(32).fill(13);
const keys = { alice: publicKeyOf(ALICE), bob: publicKeyOf(BOB) };

/** The reason an Update was refused with (its validator's failure), or 'accepted'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? err.message;
    throw err;
  }
}

describe('an intervention with operator keys configured', () => {
  it('counts only a signature by a configured operator over its current plan, once', async () => {
    const h = await harness(testConfig({ intervention: { operatorKeys: keys, trackHorizonsHours: [1] } }), { drawdownInMinutes: 10 });
    const id = interventionWorkflowId(h.treasuryId, 1);
    try {
      await h.run(async () => {
        const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
        try {
          await h.env.sleep(20 * MINUTE);
          const iv = h.env.client.workflow.getHandle<typeof intervention>(id);
          const view = await iv.query(planQuery);
          expect(view).toMatchObject({ signing: true, stage: 'timelock', approvals: 0, approvalsRequired: 1 });
          const plan = view.plan as InterventionPlan;
          expect(plan).toMatchObject({ treasuryId: h.treasuryId, interventionId: id, revision: 1 });
          expect(BigInt(plan.pumpIn)).toBeGreaterThan(0n);
          expect(BigInt(plan.minPstrOut)).toBeGreaterThan(0n);

          const approve = (payload: unknown) => outcome(iv.executeUpdate(approveUpdate, { args: [payload as never] }));
          expect(await approve({ operator: 'alice' })).toMatch(/^approve refused: unsigned: signature is missing/);
          expect(await approve({ operator: 'alice', ...signMessage(planMessage(plan, 'approve', 'alice'), MALLORY) })).toMatch(/^approve refused: signature: not a valid signature of this message by alice's key/);
          expect(await approve(signMessage(planMessage({ ...plan, pumpIn: (BigInt(plan.pumpIn) * 2n).toString() }, 'approve', 'alice'), ALICE))).toMatch(/^approve refused: pumpIn: signed "\d+", the current plan has "\d+"/);
          expect(await approve(signMessage(planMessage({ ...plan, revision: 2 }, 'approve', 'alice'), ALICE))).toMatch(/^approve refused: plan: signed "2", the current plan has "1"/);
          expect(await approve(signMessage(planMessage({ ...plan, expiresAt: plan.expiresAt + MINUTE }, 'approve', 'alice'), ALICE))).toMatch(/^approve refused: expires: signed/);
          expect(await approve(signMessage(planMessage(plan, 'approve', 'carol'), MALLORY))).toMatch(/^approve refused: operator: "carol" is not a configured operator with a key/);
          expect(await outcome(iv.executeUpdate(rejectUpdate, { args: [signMessage(planMessage(plan, 'approve', 'bob'), BOB) as never] }))).toMatch(/^reject refused: action: the message is signed for "approve"/);
          // Nothing refused so far entered the state: validators refuse before history.
          expect((await iv.query(interventionStateQuery)).approvals).toMatchObject({ approvals: [], rejection: null, refused: [] });

          const good = signMessage(planMessage(plan, 'approve', 'alice', 'checked the pool'), ALICE);
          expect(await approve(good)).toBe('accepted');
          expect(await approve(good)).toMatch(/^approve refused: signature: this signed message was already used \(replayed\)/);
          // The same replay and an unsigned name as signals: recorded, not counted.
          await iv.signal(approveSignal, good as never);
          await iv.signal(approveSignal, { operator: 'bob' });
          const st = await iv.query(interventionStateQuery);
          expect(st.approvals.approvals).toEqual([expect.objectContaining({ operator: 'alice', reason: 'checked the pool', signature: good.signature, plan: 1 })]);
          expect(st.approvals.refused.map((r) => r.why)).toEqual([
            'signature: this signed message was already used (replayed)',
            expect.stringMatching(/^unsigned: signature is missing/) as unknown,
          ]);

          const end = await iv.result();
          expect(end.status).toBe('executed');
          const swaps = await h.world.ledger.swapCount();
          expect(swaps).toBeGreaterThan(0);
          // What was bought stays at or above the approved plan's minimum for what was spent.
          const spent = BigInt(end.result?.pumpSpent ?? '0');
          expect(BigInt(end.result?.pstrBought ?? '0') * BigInt(plan.pumpIn)).toBeGreaterThanOrEqual(BigInt(plan.minPstrOut) * spent);
        } finally {
          await monitor.terminate().catch(() => undefined);
          await h.env.client.workflow.getHandle(id).terminate().catch(() => undefined);
        }
      });
    } finally {
      await h.close();
    }
  }, 240_000);
});

/**
 * Issue #11: with operator keys configured, the monitor takes pause, resume,
 * emergency stop, a config change and a cancel only when signed by the named
 * operator's key, for this action on this treasury, unexpired and new. Real
 * time-skipping server, real worker, paper world on a real SQLite file. The
 * monitor continues as new after three cycles here, so "a replay is refused"
 * is checked across continue-as-new. The actions are sent between two
 * continue-as-new: the Java time-skipping server loses a query that reaches a
 * run as it continues as new and then stops its clock (the dev server does
 * not). Refused Updates come last: one stops the time-skipping clock too
 * (test/workflows/monitor-update.test.ts).
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { actionMessage, publicKeyOf, signMessage, type ActionClaim } from '../../src/domain/operator-message.ts';
import { canonicalJson } from '../../src/domain/operators.ts';
import {
  configQuery, emergencyStopSignal, emergencyStopUpdate, monitorWorkflowId, pauseSignal, pauseUpdate, resumeUpdate, statusQuery, updateConfigUpdate,
} from '../../src/workflows/contract.ts';
import { strategyMonitor } from '../../src/workflows/index.ts';
import { freshEnv, harness, MINUTE, sharedEnv, testConfig } from './harness.ts';

beforeEach(async () => {
  await freshEnv();
}, 60_000);

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

const ALICE = new Uint8Array(32).fill(21);
const BOB = new Uint8Array(32).fill(22);
const MALLORY = new Uint8Array(32).fill(23);
const keys = { alice: publicKeyOf(ALICE), bob: publicKeyOf(BOB) };

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? err.message;
    throw err;
  }
}

describe('a monitor with operator keys configured', () => {
  it('takes each signed action once, refuses every other, and remembers used signatures across continue-as-new', async () => {
    const h = await harness(testConfig({ intervention: { operatorKeys: keys } }));
    await h.run(async () => {
      const monitor = await h.env.client.workflow.start(strategyMonitor, {
        taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config, cyclesPerRun: 3 }],
      });
      // A first cycle measures RR, which a resume out of the emergency stop needs;
      // the second is at 5 minutes, the config change's wake-up the third.
      await h.env.sleep(6 * MINUTE);
      let nonce = 0;
      const now = await h.env.currentTimeMs();
      const claim = (action: ActionClaim['action'], over: Partial<ActionClaim> = {}): ActionClaim => ({
        action, treasuryId: h.treasuryId, operator: 'alice', expiresAt: now + 30 * MINUTE, nonce: String(++nonce), ...over,
      });
      const signed = (c: ActionClaim, seed = ALICE) => signMessage(actionMessage(c), seed);

      const pause = signed(claim('pause', { reason: 'maintenance' }));
      expect(await outcome(monitor.executeUpdate(pauseUpdate, { args: [pause as never] }))).toBe('accepted');
      expect((await monitor.query(statusQuery)).paused).toBe(true);
      const patch = { monitor: { cycleIntervalSeconds: 600 } };
      const change = { ...signed(claim('updateConfig', { patch: canonicalJson(patch), operator: 'bob' }), BOB), patch };
      expect(await outcome(monitor.executeUpdate(updateConfigUpdate, { args: [change as never] }))).toBe('accepted');
      expect((await monitor.query(configQuery)).monitor.cycleIntervalSeconds).toBe(600);
      const stop = signed(claim('emergencyStop'));
      await monitor.signal(emergencyStopSignal, stop as never);
      const resumed = await monitor.executeUpdate(resumeUpdate, { args: [signed(claim('resume')) as never] });
      expect(resumed).toMatchObject({ accepted: true, detail: expect.stringMatching(/^resumed; emergency stop lifted/) as unknown });
      const status = await monitor.query(statusQuery);
      expect(status).toMatchObject({ paused: false, emergencyStop: false });
      expect(status.signing).toMatch(/^signed: every operator message must carry a signature/);
      expect(status.recentOperatorEvents.filter((e) => e.accepted).map((e) => [e.action, e.by])).toEqual([
        ['pause', 'alice'], ['updateConfig', 'bob'], ['emergencyStop', 'alice'], ['resume', 'alice'],
      ]);

      // Continue-as-new after the third cycle (16 minutes): the replayed pause is refused by the next run too.
      const runBefore = (await monitor.describe()).runId;
      await h.env.sleep(25 * MINUTE);
      expect((await monitor.describe()).runId).not.toBe(runBefore);
      await monitor.signal(pauseSignal, pause as never);
      await h.env.sleep(MINUTE);
      const afterReplay = await monitor.query(statusQuery);
      expect(afterReplay.paused).toBe(false);
      expect(afterReplay.recentOperatorEvents.at(-1)).toMatchObject({ action: 'pause', accepted: false, detail: 'pause refused: signature: this signed message was already used (replayed)' });

      // Refused by the validators, with the reason, before history.
      const refused = outcome;
      expect(await refused(monitor.executeUpdate(pauseUpdate, { args: [pause as never] }))).toBe('pause refused: signature: this signed message was already used (replayed)');
      expect(await refused(monitor.executeUpdate(pauseUpdate, { args: [{ by: 'alice' }] }))).toMatch(/^pause refused: unsigned: signature is missing/);
      expect(await refused(monitor.executeUpdate(pauseUpdate, { args: [signed(claim('pause'), MALLORY) as never] }))).toMatch(/^pause refused: signature: not a valid signature of this message by alice's key/);
      expect(await refused(monitor.executeUpdate(pauseUpdate, { args: [signed(claim('pause', { treasuryId: 'other' })) as never] }))).toMatch(/^pause refused: treasury: signed for "other"/);
      expect(await refused(monitor.executeUpdate(emergencyStopUpdate, { args: [signed(claim('pause')) as never] }))).toMatch(/^emergencyStop refused: action: the message is signed for "pause", not "emergencyStop"/);
      expect(await refused(monitor.executeUpdate(pauseUpdate, { args: [signed(claim('pause', { expiresAt: now })) as never] }))).toMatch(/^pause refused: expires: the message expired/);
      expect(await refused(monitor.executeUpdate(pauseUpdate, { args: [signed(claim('pause', { expiresAt: now + 3 * 60 * MINUTE })) as never] }))).toMatch(/^pause refused: expires: .* is more than 60 minutes away/);
      const loosened = { ...change, patch: { monitor: { cycleIntervalSeconds: 5 } } };
      expect(await refused(monitor.executeUpdate(updateConfigUpdate, { args: [loosened as never] }))).toMatch(/^updateConfig refused: patch: the signed patch differs/);
      expect(await refused(monitor.executeUpdate(pauseUpdate, { args: [{ ...signed(claim('pause')), by: 'bob' }] }))).toMatch(/^pause refused: operator: the payload says "bob" but the signed message says "alice"/);
      const final = await monitor.query(statusQuery);
      expect(final.paused).toBe(false);
      expect((await monitor.query(configQuery)).monitor.cycleIntervalSeconds).toBe(600);
      await monitor.terminate();
    });
    await h.close();
  }, 180_000);
});

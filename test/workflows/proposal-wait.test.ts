/**
 * Propose-only: the wait for the multisig is one heartbeating activity, so
 * the intervention's history does not grow with the polls it waits through (the old
 * minute-poll cost ~11 events a minute, ≈ 15,800 per slice per day). Real
 * time-skipping server, real worker, paper world on a real SQLite file; the
 * treasury answers every swap "pending: proposed to the multisig", as a
 * multisig whose members never vote would.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import type { ActivityDeps } from '../../src/activities/index.ts';
import type { AbandonOutcome, LiveProposal, SwapRequest, SwapResult } from '../../src/ports.ts';
import { interventionWorkflowId, monitorWorkflowId, statusQuery } from '../../src/workflows/contract.ts';
import { strategyMonitor, type intervention } from '../../src/workflows/index.ts';
import { HOUR, MINUTE, freshEnv, harness, sharedEnv, testConfig, type Harness } from './harness.ts';

beforeEach(async () => {
  await freshEnv();
}, 60_000);

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

const PROPOSAL = 'Prop1111111111111111111111111111111111111111';

/** `target` with some methods replaced (the rest bound, so the class's own state keeps working). */
function overriding<T extends object>(target: T, over: Record<string, unknown>): T {
  return new Proxy(target, {
    get(t, p) {
      if (typeof p === 'string' && p in over) return over[p];
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** A multisig whose members never vote: every swap stays proposed; giving up is recorded. */
function undecidedMultisig() {
  const seen = { swaps: 0, abandoned: [] as string[] };
  const over = {
    swap: async (req: SwapRequest): Promise<SwapResult> => {
      seen.swaps += 1;
      return { status: 'pending', pumpIn: req.pumpIn, pstrOut: 0n, reference: PROPOSAL, alreadyDone: seen.swaps > 1 };
    },
    liveProposals: async (): Promise<LiveProposal[]> => [],
    abandonProposal: async (_key: unknown, why: string): Promise<AbandonOutcome> => {
      seen.abandoned.push(why);
      return { proposal: PROPOSAL, transactionIndex: '1', state: 'Active', action: 'none', signature: null, settled: false, because: 'test key', membersMust: 'reject it' };
    },
  };
  return { seen, wrap: (d: ActivityDeps): ActivityDeps => ({ ...d, proposalPollMs: 200, treasury: overriding(d.treasury, over) }) };
}

/** The history's event count and how many of its activities were awaitProposal. */
async function historyOf(iv: WorkflowHandle<typeof intervention>) {
  const events = (await iv.fetchHistory()).events ?? [];
  const waits = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitProposal').length;
  const timers = events.filter((e) => e.timerStartedEventAttributes).length;
  return { count: events.length, waits, timers };
}

async function untilWaiting(h: Harness, iv: WorkflowHandle<typeof intervention>) {
  await h.env.sleep(55 * MINUTE);
  for (let i = 0; i < 360; i++) {
    const now = await historyOf(iv).catch(() => null);
    if (now && now.waits > 0) return now;
    await h.env.sleep(10_000);
  }
  throw new Error(`${iv.workflowId} never started waiting on its proposal`);
}

describe('an intervention waiting on a multisig proposal', () => {
  it('keeps the same history size after 5 polls of its proposal as after 40: one wait activity, no timer per poll', async () => {
    const m = undecidedMultisig();
    // No operator timelock, one slice: the intervention proposes at once and waits up to the 24 h approval timeout.
    const h = await harness(testConfig({ monitor: { cycleIntervalSeconds: 3600 }, intervention: { timelockThresholdUsd: 1e12, trackHorizonsHours: [1] } }), {
      drawdownInMinutes: 10, depth: 0.18, holdMinutes: 3000, wrapDeps: m.wrap,
    });
    try {
      await h.run(async () => {
        const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
        const iv = h.env.client.workflow.getHandle<typeof intervention>(interventionWorkflowId(h.treasuryId, 1));
        try {
          const waiting = await untilWaiting(h, iv);
          // The server holds its clock while an activity runs, so the wait is measured in polls (each one a swap re-read).
          const afterPolls = async (n: number) => {
            while (m.seen.swaps < n) await new Promise((r) => setTimeout(r, 50));
            return historyOf(iv);
          };
          const after5 = await afterPolls(5);
          const after40 = await afterPolls(40);
          expect((await iv.describe()).status.name).toBe('RUNNING');
          expect(m.seen.abandoned).toEqual([]);
          // The minute-poll added a timer and an activity (≈ 11 events) per poll: 35 more polls would be ≈ 385 more events.
          expect(after40).toEqual({ count: after5.count, waits: 1, timers: 0 });
          expect(after5.count - waiting.count).toBeLessThanOrEqual(2);
        } finally {
          await iv.terminate().catch(() => undefined);
          await monitor.terminate().catch(() => undefined);
        }
      });
    } finally {
      await h.close();
    }
  }, 240_000);
});

describe('the monitor, while a multisig proposal of an earlier intervention can still execute', () => {
  it('starts no intervention at a trigger, naming the proposal in the cycle decision, and starts one once the chain shows it dead', async () => {
    const live = { proposals: [{ interventionId: 'intervention/earlier/1', slice: 0, proposal: PROPOSAL, transactionIndex: '7', state: 'Approved' }] as LiveProposal[] };
    const wrap = (d: ActivityDeps): ActivityDeps => ({ ...d, treasury: overriding(d.treasury, { liveProposals: async () => live.proposals }) });
    const h = await harness(testConfig({ monitor: { cycleIntervalSeconds: 3600 }, intervention: { timelockThresholdUsd: 1e12, trackHorizonsHours: [1] } }), {
      drawdownInMinutes: 10, depth: 0.18, holdMinutes: 3000, wrapDeps: wrap,
    });
    try {
      await h.run(async () => {
        const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
        try {
          await h.env.sleep(150 * MINUTE); // the hour-1 and hour-2 cycles are at the trigger
          const blocked = await monitor.query(statusQuery);
          expect(blocked.interventionCount).toBe(0);
          expect(blocked.lastCycle?.decision).toMatch(/blocked: .*none-in-flight/);
          expect(blocked.lastCycle?.decision).toContain(`proposal ${PROPOSAL} (#7, Approved) of intervention/earlier/1 slice 0`);
          live.proposals = []; // rejected on chain: nothing of it can execute any more
          await h.env.sleep(HOUR);
          expect((await monitor.query(statusQuery)).interventionCount).toBe(1);
        } finally {
          await monitor.terminate().catch(() => undefined);
          await h.env.client.workflow.getHandle(interventionWorkflowId(h.treasuryId, 1)).terminate().catch(() => undefined);
        }
      });
    } finally {
      await h.close();
    }
  }, 240_000);
});

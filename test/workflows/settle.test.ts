/**
 * Interventions that always settle: a store that refuses the step records or
 * the final save, and a swap slice with a deterministic error, still end with a
 * status, free the monitor and leave books the reconciler can close and check.
 * Real time-skipping server, real worker, paper world on a real SQLite file;
 * the failures are injected at the ports (the store, the treasury).
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import type { ActivityDeps } from '../../src/activities/index.ts';
import { reconciler, strategyMonitor, type intervention } from '../../src/workflows/index.ts';
import { interventionWorkflowId, monitorWorkflowId, statusQuery } from '../../src/workflows/contract.ts';
import type { ConfigInput } from '../../src/config.ts';
import { MINUTE, freshEnv, harness, interventionEnd, sharedEnv, testConfig, type Harness } from './harness.ts';

// A server per test: an intervention that ends aborted right after starting its alert's delivery can leave the
// time-skipping server's clock locked (the workflows are all closed; only real time passes after it).
beforeEach(async () => {
  await freshEnv();
}, 60_000);

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

/** `target` with `method` rejecting while `when()` holds (bound, so the class's own state keeps working). */
function refusing<T extends object>(target: T, method: keyof T, when: () => boolean, error: () => Error): T {
  return new Proxy(target, {
    get(t, p) {
      const v: unknown = Reflect.get(t, p, t);
      if (p === method && when()) return () => Promise.reject(error());
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

const locked = () => new Error('SQLITE_BUSY: database is locked');
// No timelock and one ROI horizon: an intervention runs at the hour-1 cycle and its workflow ends an hour after its swap.
const QUICK: ConfigInput = { monitor: { cycleIntervalSeconds: 3600 }, intervention: { timelockThresholdUsd: 1e12, trackHorizonsHours: [1] } };

async function withMonitor(h: Harness, body: (monitor: WorkflowHandle<typeof strategyMonitor>, iv: WorkflowHandle<typeof intervention>) => Promise<void>): Promise<void> {
  try {
    await h.run(async () => {
      const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
      try {
        await body(monitor, h.env.client.workflow.getHandle<typeof intervention>(interventionWorkflowId(h.treasuryId, 1)));
      } finally {
        await monitor.terminate().catch(() => undefined);
        for (let n = 1; n <= 3; n++) await h.env.client.workflow.getHandle(interventionWorkflowId(h.treasuryId, n)).terminate().catch(() => undefined);
      }
    });
  } finally {
    await h.close();
  }
}

/**
 * Runs the reconciler as its Schedule would, and waits for it in real time: awaiting its result directly would let
 * the server skip time, and the monitor's hourly timers with it.
 */
const runReconciler = async (h: Harness, n = 1) => {
  const handle = await h.env.client.workflow.start(reconciler, { taskQueue: h.taskQueue, workflowId: `reconcile/${h.treasuryId}/test-${n}`, args: [{ config: h.config }] });
  for (let i = 0; i < 600 && (await handle.describe()).status.name === 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 100));
  return handle.result();
};

describe('an intervention whose store fails', () => {
  it('still swaps, settles with the monitor and completes when every step record fails after its retries, and says so in a critical alert', async () => {
    const h = await harness(testConfig(QUICK), {
      drawdownInMinutes: 10, depth: 0.18, holdMinutes: 600,
      wrapDeps: (d: ActivityDeps) => ({ ...d, store: refusing(d.store, 'recordInterventionStep', () => true, locked) }),
    });
    const id = interventionWorkflowId(h.treasuryId, 1);
    await withMonitor(h, async (monitor, iv) => {
      const st = await interventionEnd(h, iv);
      expect(st).toMatchObject({ status: 'executed', stage: 'done' });
      // The steps are in the workflow's state (and history) even though the store took none.
      expect(st.steps.map((s) => s.step)).toEqual(['validate', 'assess', 'size', 'swap:0', 'track:1h']);
      expect(await h.world.store.interventionSteps(id)).toEqual([]);
      expect((await iv.describe()).status.name).toBe('COMPLETED');
      expect((await monitor.query(statusQuery)).pendingInterventions).toEqual([]);
      expect(await h.world.store.intervention(id)).toMatchObject({ status: 'executed' });
      expect(await h.world.ledger.swapCount()).toBe(1);
      const critical = await h.world.store.alerts(h.treasuryId, { level: 'critical' });
      expect(critical.find((a) => a.kind === 'system-failure')?.message).toMatch(new RegExp(`^intervention ${id} record failed: 4 step\\(s\\) not recorded`));
    });
  }, 180_000);

  it('settles with the monitor when its final save fails; the reconciler then closes the row from the workflow\'s own result', async () => {
    let saves = 0;
    let storeDown = true;
    const h = await harness(testConfig({ ...QUICK, paper: { poolDepthUsd: 1 } }), {
      drawdownInMinutes: 10, depth: 0.18, holdMinutes: 600,
      // The first two saves (the row at the start and after Size) go through; the final one is refused, after its retries, until the store is back.
      wrapDeps: (d: ActivityDeps) => ({ ...d, store: refusing(d.store, 'upsertIntervention', () => storeDown && ++saves > 2, locked) }),
    });
    const id = interventionWorkflowId(h.treasuryId, 1);
    await withMonitor(h, async (monitor, iv) => {
      // A one-dollar pool: every slice is quoted below the floor, so it ends aborted with nothing moved.
      const st = await interventionEnd(h, iv);
      expect(st).toMatchObject({ status: 'aborted', reason: 'no slice could be filled within the 0.02 slippage bound; nothing moved' });
      expect((await monitor.query(statusQuery)).pendingInterventions).toEqual([]);
      expect(await h.world.store.intervention(id)).toMatchObject({ status: 'running' });
      const critical = await h.world.store.alerts(h.treasuryId, { level: 'critical' });
      expect(critical.find((a) => a.kind === 'system-failure')?.message).toMatch(/end \(aborted\) not saved: upsertIntervention: SQLITE_BUSY/);

      storeDown = false;
      const r = await runReconciler(h);
      expect(r.closed).toEqual([{ id, status: 'aborted', reason: st.reason }]);
      expect(await h.world.store.intervention(id)).toMatchObject({ status: 'aborted', reason: st.reason });
      expect(r.books).toMatchObject({ findings: [], settled: 'compared' });
    });
  }, 180_000);
});

describe('a swap slice with a deterministic error', () => {
  it('is not retried, raises a critical alert saying what moved and what did not, and the intervention settles aborted', async () => {
    let calls = 0;
    const h = await harness(testConfig(QUICK), {
      drawdownInMinutes: 10, depth: 0.18, holdMinutes: 600,
      wrapDeps: (d: ActivityDeps) => ({
        ...d,
        treasury: refusing(d.treasury, 'swap', () => ++calls > 0, () => new RangeError('swap: minPstrOut must be a bigint ≥ 0, got -1')),
      }),
    });
    const id = interventionWorkflowId(h.treasuryId, 1);
    await withMonitor(h, async (monitor, iv) => {
      const st = await interventionEnd(h, iv);
      expect(calls).toBe(1);
      expect(st.status).toBe('aborted');
      expect(st.reason).toMatch(/^slice 0 could not run: executeSwap: swap: minPstrOut must be a bigint ≥ 0, got -1; nothing moved; [\d.]+ PUMP unfilled$/);
      expect((await iv.describe()).status.name).toBe('COMPLETED');
      expect((await monitor.query(statusQuery)).pendingInterventions).toEqual([]);
      expect(await h.world.ledger.swapCount()).toBe(0);
      const alert = (await h.world.store.alerts(h.treasuryId, { level: 'critical' })).find((a) => a.kind === 'swap-failed');
      expect(alert?.message).toMatch(new RegExp(`^Swap for intervention ${id} stopped: slice 0 could not run \\(executeSwap: swap: minPstrOut .*\\)\\. Before it: nothing moved; [\\d.]+ PUMP unfilled\\.`));
      expect(await h.world.store.intervention(id)).toMatchObject({ status: 'aborted', pstrBought: null });
      // The slice's record stays 'prepared'; the ledger shows nothing moved, so the books agree.
      expect((await h.world.store.swaps(id)).map((s) => s.status)).toEqual(['prepared']);
      expect((await runReconciler(h)).books?.findings).toEqual([]);
    });
  }, 180_000);
});

describe('the reconciler', () => {
  it('closes the row of an intervention terminated in its timelock, and finds the books in agreement', async () => {
    // Tier 1 (≈ 20k USD) is above the default 10k timelock threshold: the first intervention waits for approvals.
    const h = await harness(testConfig({ monitor: { cycleIntervalSeconds: 3600 }, intervention: { trackHorizonsHours: [1] } }), { drawdownInMinutes: 10, depth: 0.18, holdMinutes: 600 });
    const id = interventionWorkflowId(h.treasuryId, 1);
    await withMonitor(h, async (_monitor, iv) => {
      await h.env.sleep(90 * MINUTE);
      expect((await h.world.store.intervention(id))?.status).toBe('running');
      await iv.terminate('test: lost mid-way');
      const r = await runReconciler(h);
      expect(r.closed).toEqual([{ id, status: 'aborted', reason: 'closed by the reconciler: workflow TERMINATED' }]);
      expect(await h.world.store.intervention(id)).toMatchObject({ status: 'aborted', reason: 'closed by the reconciler: workflow TERMINATED' });
      expect(r.books).toMatchObject({ findings: [], settled: 'compared' });
      // A second run has nothing to close.
      expect((await runReconciler(h, 2)).closed).toEqual([]);
      expect((await h.world.store.alerts(h.treasuryId, { level: 'critical' })).map((a) => a.kind)).not.toContain('books-mismatch');
    });
  }, 180_000);

  it('raises a critical alert when a swap record and the ledger disagree', async () => {
    const h = await harness(testConfig(QUICK), { drawdownInMinutes: 10, depth: 0.18, holdMinutes: 600 });
    const id = interventionWorkflowId(h.treasuryId, 1);
    await withMonitor(h, async (_monitor, iv) => {
      expect((await interventionEnd(h, iv)).status).toBe('executed');
      const swap = await h.world.store.swap(id, 0);
      await h.world.store.updateSwap(id, 0, { status: 'confirmed', updatedAt: (swap?.updatedAt ?? 0) + 1, pstrOut: 1n });
      const r = await runReconciler(h);
      expect(r.books?.findings).toEqual([
        `${id} (executed) records ${swap?.pstrOut} PSTR bought, its confirmed swap records sum to 1`,
        `${id} slice 0: record says ${swap?.pumpIn} PUMP → 1 PSTR, the ledger ${swap?.pumpIn} PUMP → ${swap?.pstrOut} PSTR`,
      ]);
      const alert = (await h.world.store.alerts(h.treasuryId, { level: 'critical' })).find((a) => a.kind === 'books-mismatch');
      expect(alert?.message).toMatch(new RegExp(`^Reconciliation of ${h.treasuryId} found 2 mismatch\\(es\\)`));
    });
  }, 180_000);
});


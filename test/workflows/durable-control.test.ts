/**
 * The monitor's safety state in the store, on the time-skipping server: a
 * store that cannot be read at start makes the monitor count as paused
 * (no intervention) until it can; a save that fails holds the next
 * intervention until it is saved; and continue-as-new loads it again.
 * The store's failures are real rejections of the real store's calls.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/index.ts';
import { strategyMonitor } from '../../src/workflows/index.ts';
import { emergencyStopSignal, interventionWorkflowId, monitorWorkflowId, statusQuery } from '../../src/workflows/contract.ts';
import { MINUTE, harness, sharedEnv, testConfig, type Harness } from './harness.ts';

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

/** Which store calls refuse, as a locked database would. */
const down = { controlState: false, saveControlState: false };

function flakyStore(deps: ActivityDeps): ActivityDeps {
  const store = new Proxy(deps.store, {
    get(target, prop, receiver) {
      if ((prop === 'controlState' || prop === 'saveControlState') && down[prop]) return () => Promise.reject(new Error('database is locked'));
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { ...deps, store };
}

async function withMonitor(body: (h: Harness, monitor: WorkflowHandle<typeof strategyMonitor>) => Promise<void>, cyclesPerRun?: number): Promise<void> {
  const h = await harness(testConfig({}), { drawdownInMinutes: 10, wrapDeps: flakyStore });
  try {
    await h.run(async () => {
      const monitor = await h.env.client.workflow.start(strategyMonitor, {
        taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config, ...(cyclesPerRun ? { cyclesPerRun } : {}) }],
      });
      try {
        await body(h, monitor);
      } finally {
        down.controlState = false;
        down.saveControlState = false;
        const count = (await monitor.query(statusQuery)).interventionCount;
        await monitor.terminate();
        for (let n = 1; n <= count; n++) await h.env.client.workflow.getHandle(interventionWorkflowId(h.treasuryId, n)).terminate().catch(() => undefined);
      }
    });
  } finally {
    await h.close();
  }
}

describe('the monitor and its safety state in the store', () => {
  it('counts as paused while the store cannot be read at start, starts no intervention, and intervenes once it has loaded', async () => {
    down.controlState = true;
    await withMonitor(async (h, monitor) => {
      await h.env.sleep(30 * MINUTE);
      const s = await monitor.query(statusQuery);
      expect(s.control).toMatchObject({ loaded: false });
      expect(s.control?.problem).toMatch(/^safety state not loaded: database is locked/);
      expect(s.interventionCount).toBe(0);
      expect(s.lastCycle?.decision).toMatch(/not-paused/);
      expect(s.cycles).toBeGreaterThanOrEqual(3);
      expect(await h.world.store.controlState(h.treasuryId)).toBeUndefined();

      down.controlState = false;
      await h.env.sleep(15 * MINUTE);
      const after = await monitor.query(statusQuery);
      expect(after.control).toMatchObject({ loaded: true, problem: null });
      expect(after.pendingInterventions).toEqual([interventionWorkflowId(h.treasuryId, 1)]);
      expect(await h.world.store.controlState(h.treasuryId)).toMatchObject({ nextSeq: 2, interventionStarts: [expect.any(Number)] });
    });
  }, 120_000);

  it('starts no intervention while its sequence number cannot be saved, and starts it once the save goes through', async () => {
    await withMonitor(async (h, monitor) => {
      await h.env.sleep(5 * MINUTE);
      expect((await monitor.query(statusQuery)).control).toMatchObject({ loaded: true, unsaved: false });
      down.saveControlState = true;
      await h.env.sleep(25 * MINUTE);
      const s = await monitor.query(statusQuery);
      expect(s.interventionCount).toBe(0);
      expect(s.lastCycle?.decision).toMatch(/not started: safety state not saved: database is locked/);
      expect((await monitor.describe()).status.name).toBe('RUNNING');

      down.saveControlState = false;
      await h.env.sleep(10 * MINUTE);
      const after = await monitor.query(statusQuery);
      expect(after.pendingInterventions).toEqual([interventionWorkflowId(h.treasuryId, 1)]);
      expect((await h.world.store.controlState(h.treasuryId))?.nextSeq).toBe(2);
    });
  }, 120_000);

  it('loads the latch again after continue-as-new, and keeps who set it', async () => {
    await withMonitor(async (h, monitor) => {
      await h.env.sleep(5 * MINUTE);
      const firstRun = (await monitor.describe()).runId;
      await monitor.signal(emergencyStopSignal, { by: 'alice', reason: 'drill' });
      await h.env.sleep(30 * MINUTE);
      expect((await monitor.describe()).runId).not.toBe(firstRun);
      const s = await monitor.query(statusQuery);
      expect(s).toMatchObject({ emergencyStop: true, interventionCount: 0 });
      expect(s.control).toMatchObject({ loaded: true, record: { emergencyStop: true, latchedBy: 'alice', latchReason: 'drill' } });
      expect(await h.world.store.controlState(h.treasuryId)).toMatchObject({ emergencyStop: true, latchedBy: 'alice' });
    }, 2);
  }, 120_000);
});

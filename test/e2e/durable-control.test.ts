/**
 * The safety state outlives the monitor workflow, on the real `temporal` dev
 * server: a worker over a paper world in this process, a monitor cycling
 * every second into a 17 % drawdown. The monitor is terminated (and reset
 * with the `temporal` CLI) the way an operator would, and a fresh one
 * started with ensureMonitor (what `npm start` does) must keep the
 * operator's emergency stop and continue the intervention sequence.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { ensureMonitor, ensureMonitorDetailed } from '../../src/runtime/ensure.ts';
import type { PaperWorld } from '../../src/runtime/paper-world.ts';
import {
  emergencyStopSignal, interventionStateQuery, interventionWorkflowId, monitorWorkflowId, rejectSignal, statusQuery, type MonitorStatus,
} from '../../src/workflows/contract.ts';
import { waitFor } from './fixtures/e2e.ts';
import { startPaperRig, type PaperRig } from './fixtures/paper-rig.ts';

const TREASURY = 'durable';
const MONITOR = monitorWorkflowId(TREASURY);
const IV1 = interventionWorkflowId(TREASURY, 1);
const IV2 = interventionWorkflowId(TREASURY, 2);

describe('the safety state on the dev server, across a terminated and a reset monitor', () => {
  let rig: PaperRig;
  let world: PaperWorld;
  let client: Client;

  const config = parseConfig({
    treasuryId: TREASURY,
    monitor: { cycleIntervalSeconds: 1 },
    intervention: { operators: ['alice'], timelockMinutes: 0.05 },
    risk: { maxDailyInterventions: 5 },
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
    liquidity: { enabled: false },
    paper: { drawdown: { startInSeconds: 0, depth: 0.17, rampSeconds: 1 } },
  });

  const status = () => client.workflow.getHandle(MONITOR).query(statusQuery);
  const runId = async () => (await client.workflow.getHandle(MONITOR).describe()).runId;

  /** Terminates the current monitor run and starts a fresh one the way `npm start` does. */
  async function terminateAndStartFresh(): Promise<void> {
    const before = await runId();
    await client.workflow.getHandle(MONITOR).terminate('test: the monitor is gone');
    expect(await ensureMonitor(client, config)).toBe('started');
    expect(await runId()).not.toBe(before);
  }

  beforeAll(async () => {
    rig = await startPaperRig(config, { prefix: 'pstr-durable' });
    ({ world, client } = rig);
  }, 60_000);

  afterAll(async () => {
    await rig?.stop();
  }, 30_000);

  it('continues the intervention sequence after the monitor is terminated with intervention 1 in flight: the next one is number 2', async () => {
    expect(await ensureMonitor(client, config)).toBe('started');
    await waitFor('intervention 1 in flight', async () => (await status()).pendingInterventions.includes(IV1), { timeoutMs: 30_000 });

    await terminateAndStartFresh();
    // The fresh monitor knows intervention 1 is still running, so it neither starts another nor reuses its id.
    const fresh = await waitFor('the fresh monitor with its safety state loaded', async () => {
      const s = await status();
      return s.control?.loaded && s.cycles >= 2 ? s : undefined;
    }, { timeoutMs: 30_000 });
    expect(fresh.pendingInterventions).toEqual([IV1]);
    expect(fresh.interventionCount).toBe(1);

    const iv1 = client.workflow.getHandle(IV1);
    await waitFor('intervention 1 in its timelock', async () => (await iv1.query(interventionStateQuery)).stage === 'timelock', { timeoutMs: 30_000 });
    await iv1.signal(rejectSignal, { operator: 'alice', reason: 'test: make room for the next' });
    await waitFor('intervention 1 rejected', async () => (await iv1.query(interventionStateQuery)).status === 'rejected', { timeoutMs: 30_000 });

    const next = await waitFor('intervention 2', async () => {
      const s = await status();
      return s.pendingInterventions.includes(IV2) ? s : undefined;
    }, { timeoutMs: 30_000 });
    expect(next.interventionCount).toBe(2);
    const iv2 = await client.workflow.getHandle(IV2).describe();
    expect(iv2.status.name).toBe('RUNNING');
    // The monitor did not fail on an "already started" collision: it is still the same, running run.
    expect((await client.workflow.getHandle(MONITOR).describe()).status.name).toBe('RUNNING');
    expect((await world.store.controlState(TREASURY))?.nextSeq).toBe(3);
    await client.workflow.getHandle(IV2).signal(rejectSignal, { operator: 'alice', reason: 'test: done with it' });
  }, 120_000);

  it("keeps an operator's emergency stop, with who and why, through a termination and a fresh start, and through `temporal workflow reset`", async () => {
    // Runs on its own too: a monitor for this treasury is running (or started now).
    await ensureMonitor(client, config);
    const monitor = client.workflow.getHandle(MONITOR);
    await monitor.signal(emergencyStopSignal, { by: 'alice', reason: 'test: exploit suspected' });
    await waitFor('the latch in the store', async () => (await world.store.controlState(TREASURY))?.emergencyStop, { timeoutMs: 20_000 });
    expect(await world.store.controlState(TREASURY)).toMatchObject({ latchedBy: 'alice', latchReason: 'test: exploit suspected' });

    await terminateAndStartFresh();
    const latchedKept = (s: MonitorStatus) => s.emergencyStop && s.control?.loaded === true && s.control.record?.latchedBy === 'alice';
    const fresh = await waitFor('the fresh monitor latched', async () => {
      const s = await status();
      return latchedKept(s) && s.cycles >= 2 ? s : undefined;
    }, { timeoutMs: 30_000 });
    expect(fresh.control?.record).toMatchObject({ emergencyStop: true, latchedBy: 'alice', latchReason: 'test: exploit suspected' });
    // Nothing the fresh monitor did forgot it: no operator event on this run, and still latched in the store.
    expect(fresh.recentOperatorEvents).toEqual([]);
    expect((await world.store.controlState(TREASURY))?.emergencyStop).toBe(true);

    const beforeReset = await runId();
    const reset = await rig.temporal(['workflow', 'reset', '--workflow-id', MONITOR, '--type', 'FirstWorkflowTask', '--reason', 'test: reset the monitor']);
    expect(reset.code, `${reset.stdout}${reset.stderr}`).toBe(0);
    await waitFor('a new run after the reset', async () => (await runId()) !== beforeReset, { timeoutMs: 20_000 });
    const afterReset = await waitFor('the reset monitor latched', async () => {
      const s = await status();
      return latchedKept(s) && s.cycles >= 2 ? s : undefined;
    }, { timeoutMs: 30_000 });
    expect(afterReset.control?.record).toMatchObject({ latchedBy: 'alice', latchReason: 'test: exploit suspected' });
    expect(afterReset.lastCycle?.startedIntervention ?? null).toBeNull();
    expect((await world.store.controlState(TREASURY))?.emergencyStop).toBe(true);

    // And `npm start` against the running, latched monitor keeps it: same config, nothing to report.
    expect(await ensureMonitorDetailed(client, config)).toEqual({ outcome: 'running', configDrift: [], note: null });
    const drifted = await ensureMonitorDetailed(client, parseConfig({ ...config, monitor: { cycleIntervalSeconds: 5 } }));
    expect(drifted.configDrift).toEqual(['monitor']);
    expect(drifted.note).toMatch(/running monitor keeps its configuration/);
  }, 120_000);
});

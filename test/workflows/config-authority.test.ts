/**
 * One config authority (issue #10 item 6) on the time-skipping server: the
 * monitor writes its configuration to the store as versions (the input as
 * version 1, every accepted change the next one, nothing for a refusal); a
 * restarted or continued-as-new monitor runs under the store's current
 * version, not its stale input; and a change through the monitor (an
 * operator's or a passed proposal's) reaches the scheduled jobs, whose
 * records name the version they acted under.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { governanceProposal, strategyMonitor } from '../../src/workflows/index.ts';
import {
  configVersionQuery, interventionWorkflowId, monitorWorkflowId, proposalWorkflowId, statusQuery, tallyQuery, updateConfigSignal, updateConfigUpdate, voteSignal, type ProposalInput,
} from '../../src/workflows/contract.ts';
import { HOUR, MINUTE, freshEnv, harness, sharedEnv, testConfig, type Harness } from './harness.ts';

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

const versionsOf = async (h: Harness) => (await h.world.store.configVersions(h.treasuryId)).map((v) => [v.version, v.source, v.by]);

/** The record a scheduled job wrote for its run (monitoring_logs, keyed `<job>/<hour>`). */
async function jobRecord(h: Harness, job: string): Promise<Record<string, unknown>> {
  const rows = await h.world.store.monitoringLogs(h.treasuryId, 0, Number.MAX_SAFE_INTEGER);
  const mine = rows.filter((r) => r.cycleId.startsWith(`${job}/`));
  expect(mine.length).toBeGreaterThan(0);
  return mine.at(-1)?.data as Record<string, unknown>;
}

let runs = 0;
/** Runs a scheduled job the way its schedule does since config versions: with the treasury only. */
function runJob(h: Harness, workflowType: string): Promise<unknown> {
  runs += 1;
  return h.env.client.workflow.execute(workflowType, { taskQueue: h.taskQueue, workflowId: `${workflowType}/${h.treasuryId}/${runs}`, args: [{ treasuryId: h.treasuryId }] });
}

async function withHarness(h: Harness, body: () => Promise<void>): Promise<void> {
  try {
    await h.run(body);
  } finally {
    await h.close();
  }
}

describe('the running configuration, versioned in the store', () => {
  // First: its 97 hours are skipped while no earlier test's abandoned children hold the server's clock (harness.ts freshEnv).
  it('writes a passed proposal\'s change as a version whose source names the proposal, and the risk job then acts under it', async () => {
    // Voting power √liquid + 1.5·√staked: alice 1750, bob ≈ 632, carol 450.
    const holders = [
      { name: 'alice', liquid: 1_000_000, staked: 250_000 },
      { name: 'bob', liquid: 400_000, staked: 0 },
      { name: 'carol', liquid: 90_000, staked: 10_000 },
    ];
    const h = await harness(testConfig({ monitor: { cycleIntervalSeconds: 6 * 3600 }, governance: { holders } }));
    await withHarness(h, async () => {
      const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
      const input: ProposalInput = {
        seq: 7000 * process.pid + 1, treasuryId: h.treasuryId, kind: 'parameterAdjustment', description: 'shorter cooldown',
        change: { action: 'updateConfig', patch: { strategy: { cooldownHours: 24 } } }, proposer: 'alice', config: h.config.governance, createdAt: await h.env.currentTimeMs(),
      };
      const p = await h.env.client.workflow.start(governanceProposal, { taskQueue: h.taskQueue, workflowId: proposalWorkflowId(input.seq), args: [input] });
      await p.signal(voteSignal, { voter: 'bob', choice: 'yes' });
      await p.signal(voteSignal, { voter: 'carol', choice: 'yes' });
      await h.env.sleep(97 * HOUR);
      const t = await p.query(tallyQuery);
      expect(t.status).toBe('executed');
      const versions = await h.world.store.configVersions(h.treasuryId);
      expect(versions.map((v) => [v.version, v.source])).toEqual([[1, 'file'], [2, `governance ${t.id}`]]);
      expect(versions[1]?.config).toMatchObject({ strategy: { cooldownHours: 24 } });
      expect(await monitor.query(configVersionQuery)).toMatchObject({ version: 2, config: { strategy: { cooldownHours: 24 } } });

      await runJob(h, 'riskAssessmentJob');
      expect(await jobRecord(h, 'risk')).toMatchObject({ configVersion: 2 });
      await p.terminate().catch(() => undefined);
      await monitor.terminate();
    });
  }, 120_000);

  it('writes the input as version 1, an accepted change as version 2 naming its operator, and nothing for a refused one; the cycle records name the version', async () => {
    // The proposal's abandoned alert children can hold the shared server's clock: a server of its own from here on.
    await freshEnv();
    const h = await harness(testConfig());
    await withHarness(h, async () => {
      const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
      await h.env.sleep(6 * MINUTE);
      expect(await versionsOf(h)).toEqual([[1, 'file', null]]);
      expect((await h.world.store.currentConfigVersion(h.treasuryId))?.config).toEqual(h.config);

      const cfg = await monitor.executeUpdate(updateConfigUpdate, { args: [{ patch: { risk: { maxSlippage: 0.01 } }, by: 'alice' }] });
      expect(cfg.risk.maxSlippage).toBe(0.01);
      // Refused by the key classes (looser), recorded as refused: no version.
      await monitor.signal(updateConfigSignal, { patch: { risk: { maxDeployment: 0.5 } }, by: 'bob' });
      await h.env.sleep(6 * MINUTE);
      const events = (await monitor.query(statusQuery)).recentOperatorEvents.filter((e) => e.action === 'updateConfig');
      expect(events.map((e) => [e.by, e.accepted])).toEqual([['alice', true], ['bob', false]]);
      expect(await versionsOf(h)).toEqual([[1, 'file', null], [2, 'operator', 'alice']]);
      const v2 = await h.world.store.configVersion(h.treasuryId, 2);
      expect(v2?.config).toMatchObject({ risk: { maxSlippage: 0.01, maxDeployment: 0.4 } });
      expect(await monitor.query(configVersionQuery)).toMatchObject({ version: 2, config: { risk: { maxSlippage: 0.01 } } });
      expect((await monitor.query(statusQuery)).configAuthority).toEqual({ version: 2, loaded: true, unsaved: 0, problem: null });

      const cycles = (await h.world.store.monitoringLogs(h.treasuryId, 0, Number.MAX_SAFE_INTEGER)).map((r) => (r.data as { configVersion?: number }).configVersion);
      expect(cycles[0]).toBe(1);
      expect(cycles.at(-1)).toBe(2);
      await monitor.terminate();
    });
  }, 120_000);

  it('runs a restarted monitor, and each run after continue-as-new, under the store\'s current version rather than its stale input', async () => {
    const h = await harness(testConfig());
    await withHarness(h, async () => {
      const first = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
      await h.env.sleep(6 * MINUTE);
      await first.executeUpdate(updateConfigUpdate, { args: [{ patch: { risk: { maxSlippage: 0.01 } }, by: 'alice' }] });
      await h.env.sleep(MINUTE);
      expect(await versionsOf(h)).toEqual([[1, 'file', null], [2, 'operator', 'alice']]);
      await first.terminate();

      // Started again with the file's copy (maxSlippage 0.02), continuing as new every 2 cycles.
      const again: WorkflowHandle<typeof strategyMonitor> = await h.env.client.workflow.start(strategyMonitor, {
        taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config, cyclesPerRun: 2 }],
      });
      await h.env.sleep(6 * MINUTE);
      const runId = (await again.describe()).runId;
      expect(await again.query(configVersionQuery)).toMatchObject({ version: 2, config: { risk: { maxSlippage: 0.01 } } });
      await h.env.sleep(30 * MINUTE);
      expect((await again.describe()).runId).not.toBe(runId);
      expect(await again.query(configVersionQuery)).toMatchObject({ version: 2, config: { risk: { maxSlippage: 0.01 } } });
      // Loading wrote nothing: the store's version is the one it runs under.
      expect(await versionsOf(h)).toEqual([[1, 'file', null], [2, 'operator', 'alice']]);
      await again.terminate();
    });
  }, 120_000);

  it('reaches the accumulation and risk jobs: a change through the monitor is the version they act under, and their records name it', async () => {
    const h = await harness(testConfig());
    await withHarness(h, async () => {
      const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
      await h.env.sleep(6 * MINUTE);
      await runJob(h, 'accumulationJob');
      const before = await jobRecord(h, 'accumulation');
      expect(before).toMatchObject({ bought: true, configVersion: 1, maxSlippage: 0.02 });

      await monitor.executeUpdate(updateConfigUpdate, { args: [{ patch: { risk: { maxSlippage: 0.01 } }, by: 'alice' }] });
      await h.env.sleep(HOUR);
      await runJob(h, 'accumulationJob');
      const after = await jobRecord(h, 'accumulation');
      expect(after).toMatchObject({ bought: true, configVersion: 2, maxSlippage: 0.01 });

      await runJob(h, 'riskAssessmentJob');
      expect(await jobRecord(h, 'risk')).toMatchObject({ configVersion: 2 });
      await monitor.terminate();
    });
  }, 120_000);

  it('starts an intervention under the current version: its record and its swap slices name that version and its limit', async () => {
    // Its own server: an earlier test's leftover workflows would hold the shared server's clock (harness.ts freshEnv).
    await freshEnv();
    // Below the timelock and on a deep pool (as halts.test.ts), so that its slices execute without approvals.
    const h = await harness(testConfig({ intervention: { timelockThresholdUsd: 1e12 }, paper: { poolDepthUsd: 400_000 } }), { drawdownInMinutes: 10, depth: 0.18, holdMinutes: 600 });
    await withHarness(h, async () => {
      const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
      await h.env.sleep(6 * MINUTE);
      await monitor.executeUpdate(updateConfigUpdate, { args: [{ patch: { risk: { maxSlippage: 0.015 } }, by: 'alice' }] });
      await h.env.sleep(30 * MINUTE);
      const id = interventionWorkflowId(h.treasuryId, 1);
      expect((await monitor.query(statusQuery)).interventionCount).toBeGreaterThanOrEqual(1);
      const row = await h.world.store.intervention(id);
      expect(row?.configVersion).toBe(2);
      // Its swap slices were executed under the version's limit (1.5 %), and their records say so.
      await h.env.sleep(30 * MINUTE);
      const swaps = await h.world.store.swaps(id);
      expect(swaps.length).toBeGreaterThan(0);
      for (const w of swaps) expect(w.details).toMatchObject({ configVersion: 2, maxSlippageBps: 150 });
      await monitor.terminate();
      for (let n = 1; n <= 3; n++) await h.env.client.workflow.getHandle(interventionWorkflowId(h.treasuryId, n)).terminate().catch(() => undefined);
    });
  }, 120_000);
});

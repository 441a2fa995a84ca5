/**
 * Limits under governance on a real time-skipping server: the monitor judges every updateConfig by key class and
 * origin, and a proposal ends `executed` only when the monitor accepted its change (`failed` with its reason else).
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProposalKind } from '../../src/config.ts';
import { governanceProposal, strategyMonitor } from '../../src/workflows/index.ts';
import {
  configQuery, monitorWorkflowId, proposalWorkflowId, statusQuery, tallyQuery, updateConfigSignal, voteSignal,
  type OperatorEvent, type ProposalChange, type ProposalInput, type ProposalTally,
} from '../../src/workflows/contract.ts';
import { HOUR, freshEnv, harness, sharedEnv, testConfig, type Harness } from './harness.ts';

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

const holders = [
  { name: 'alice', liquid: 1_000_000, staked: 250_000 },
  { name: 'bob', liquid: 400_000, staked: 0 },
];
/** Short periods so a proposal passes within hours of skipped time; alice alone carries every threshold. */
const governance = { holders, votingPeriodHours: 1, emergencyVotingPeriodHours: 1, executionDelayHours: 1, deadlineWarningHours: 0.5 };

let seq = 0;

async function withMonitor(body: (h: Harness, monitor: WorkflowHandle<typeof strategyMonitor>) => Promise<void>): Promise<void> {
  const h = await harness(testConfig({ monitor: { cycleIntervalSeconds: 6 * 3600 }, governance }));
  try {
    await h.run(async () => {
      await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
      // Not bound to the first run: the monitor continues as new.
      const monitor = h.env.client.workflow.getHandle<typeof strategyMonitor>(monitorWorkflowId(h.treasuryId));
      try {
        await body(h, monitor);
      } finally {
        await monitor.terminate();
      }
    });
  } finally {
    await h.close();
  }
}

async function startProposal(h: Harness, kind: ProposalKind, change: ProposalChange, config = h.config.governance): Promise<WorkflowHandle<typeof governanceProposal>> {
  seq += 1;
  const input: ProposalInput = {
    seq: 1000 * process.pid + 500 + seq, treasuryId: h.treasuryId, kind, description: `${kind} ${change.action}`, change, proposer: 'alice',
    config, createdAt: await h.env.currentTimeMs(),
  };
  return h.env.client.workflow.start(governanceProposal, { taskQueue: h.taskQueue, workflowId: proposalWorkflowId(input.seq), args: [input] });
}

/** The monitor's operator events once it has recorded `n` of them (it takes signals on its next workflow task). */
async function eventsAfter(monitor: WorkflowHandle<typeof strategyMonitor>, n: number): Promise<OperatorEvent[]> {
  for (let i = 0; i < 200; i++) {
    const events = (await monitor.query(statusQuery)).recentOperatorEvents;
    if (events.length >= n) return events;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the monitor never recorded ${n} operator events`);
}

describe('an operator\'s updateConfig signal', () => {
  it('applies operational and stricter changes, and refuses looser, governed and identity changes, recording each with the key, class and values', async () => {
    await withMonitor(async (_h, monitor) => {
      const send = (patch: Record<string, unknown>, by = 'alice') => monitor.signal(updateConfigSignal, { patch, by });
      await send({ monitor: { cycleIntervalSeconds: 7200 } });
      await send({ risk: { maxSlippage: 0.01 }, strategy: { cooldownHours: 72 } });
      await send({ risk: { maxSlippage: 0.02 } });
      await send({ risk: { maxDeployment: 1 } });
      await send({ strategy: { cooldownHours: 0 } });
      await send({ strategy: { tiers: [{ drawdown: 0.15, fraction: 1 }] } });
      await send({ intervention: { operators: ['alice', 'bob', 'mallory'] } }, 'bob');
      await send({ treasuryId: 'renamed' });
      const events = (await eventsAfter(monitor, 8)).filter((e) => e.action === 'updateConfig');
      expect(events.map((e) => e.accepted)).toEqual([true, true, false, false, false, false, false, false]);
      expect(events[0]?.detail).toBe('applied: monitor.cycleIntervalSeconds 21600 → 7200');
      expect(events[1]?.detail).toBe('applied: risk.maxSlippage 0.02 → 0.01, strategy.cooldownHours 48 → 72');
      expect(events[2]?.detail).toMatch(/^refused: risk\.maxSlippage \(tightening\) 0\.01 → 0\.02: looser; an operator may only make it stricter \(lower\)/);
      expect(events[3]?.detail).toMatch(/risk\.maxDeployment = 1: at most 0\.5 \(the hard ceiling\)/);
      expect(events[4]?.detail).toMatch(/strategy\.cooldownHours = 0: at least 1 h \(the hard floor\)/);
      expect(events[5]?.detail).toMatch(/strategy\.tiers\.0\.fraction = 1: at most 0\.5/);
      expect(events[6]?.detail).toMatch(/intervention\.operators \(governed\) .*only a passed Protocol Upgrade proposal may change it, not an operator/);
      expect(events[7]?.detail).toMatch(/treasuryId \(immutable\) .* never changes/);
      const config = await monitor.query(configQuery);
      expect(config.monitor.cycleIntervalSeconds).toBe(7200);
      expect(config.risk).toMatchObject({ maxSlippage: 0.01, maxDeployment: 0.4 });
      expect(config.strategy.cooldownHours).toBe(72);
      expect(config.intervention.operators).toEqual(['alice', 'bob']);
      expect((await monitor.query(statusQuery)).treasuryId).toBe(config.treasuryId);
    });
  }, 120_000);
});

describe('a proposal\'s change', () => {
  const actions: ProposalChange[] = [
    { action: 'updateConfig', patch: { monitor: { cycleIntervalSeconds: 120 } } },
    { action: 'pause' },
    { action: 'resume' },
    { action: 'cancelIntervention', interventionId: 'intervention/x/1' },
  ];
  const kinds: ProposalKind[] = ['parameterAdjustment', 'treasuryStrategy', 'protocolUpgrade', 'emergencyAction'];

  it('is refused at the start when its kind may not carry it (a Parameter Adjustment may not pause or lift a stop), naming the field, with no vote', async () => {
    await withMonitor(async (h) => {
      const outcomes: Record<string, string> = {};
      const refusal = async (kind: ProposalKind, change: ProposalChange) => {
        const p = await startProposal(h, kind, change);
        const failure = await p.result().then(() => null, (err: unknown) => err);
        await p.terminate().catch(() => undefined);
        return failure instanceof WorkflowFailedError ? failure.cause?.message ?? 'failed' : 'started';
      };
      for (const kind of kinds) {
        for (const change of actions) {
          const mayCarry = kind === 'emergencyAction' ? change.action !== 'updateConfig' : change.action === 'updateConfig';
          if (!mayCarry) outcomes[`${kind} ${change.action}`] = await refusal(kind, change);
        }
      }
      expect(Object.keys(outcomes)).toHaveLength(10);
      for (const [combo, why] of Object.entries(outcomes)) expect(why, combo).toMatch(/^governanceProposal input refused: change\.action: an? .* proposal may not /);
      expect(outcomes['parameterAdjustment pause']).toBe('governanceProposal input refused: change.action: a parameterAdjustment proposal may not pause');
      expect(outcomes['parameterAdjustment resume']).toMatch(/may not resume/);
      expect(await refusal('treasuryStrategy', { action: 'updateConfig', patch: { treasuryId: 'renamed' } })).toBe(
        `governanceProposal input refused: change.patch.treasuryId: treasuryId never changes (${h.treasuryId} → "renamed")`,
      );
      expect(await refusal('parameterAdjustment', { action: 'updateConfig', patch: { intervention: { operators: ['alice', 'mallory'] } } })).toBe(
        'governanceProposal input refused: change.patch.intervention.operators: intervention.operators is governed by Protocol Upgrade proposals, not Parameter Adjustment',
      );
      expect(await refusal('protocolUpgrade', { action: 'updateConfig', patch: { mode: 'mainnet' } })).toMatch(/change\.patch\.mode: mode is fixed on a running monitor/);
    });
  }, 120_000);

  it('is executed only when the monitor accepted it, and failed with the monitor\'s reason when it refused, changing nothing', async () => {
    // Awaiting the refused proposals' results above leaves this server's clock locked (see freshEnv).
    await freshEnv();
    await withMonitor(async (h, monitor) => {
      const cases: [ProposalKind, ProposalChange][] = [
        ['parameterAdjustment', { action: 'updateConfig', patch: { risk: { maxSlippage: 0.04 } } }],
        ['treasuryStrategy', { action: 'updateConfig', patch: { risk: { maxDeployment: 0.45 } } }],
        ['protocolUpgrade', { action: 'updateConfig', patch: { intervention: { operators: ['alice', 'bob', 'carol'] } } }],
        ['treasuryStrategy', { action: 'updateConfig', patch: { strategy: { tiers: [{ drawdown: 0.25, fraction: 0.3 }, { drawdown: 0.15, fraction: 0.1 }] } } }],
        ['emergencyAction', { action: 'cancelIntervention', interventionId: `intervention/${h.treasuryId}/99` }],
        ['emergencyAction', { action: 'pause' }],
      ];
      const proposals = await Promise.all(cases.map(([kind, change]) => startProposal(h, kind, change)));
      for (const p of proposals) await p.signal(voteSignal, { voter: 'alice', choice: 'yes' });
      await h.env.sleep(3 * HOUR);
      // Queried, not awaited with result(): awaiting lets the time-skipping server run the clock ahead.
      const tallies: ProposalTally[] = await Promise.all(proposals.map((p) => p.query(tallyQuery)));
      expect(tallies.map((t) => t.status)).toEqual(['executed', 'failed', 'executed', 'executed', 'failed', 'executed']);
      expect(tallies[0]?.outcome).toBe('passed and applied: updateConfig: applied: risk.maxSlippage 0.02 → 0.04');
      expect(tallies[1]?.outcome).toMatch(/^passed but refused by the monitor: refused: risk\.maxDeployment \(tightening\) 0\.4 → 0\.45: looser; a Treasury Strategy proposal may only make it stricter \(lower\); loosening it takes a passed Parameter Adjustment proposal/);
      expect(tallies[1]?.applied).toMatchObject({ accepted: false });
      expect(tallies[4]?.outcome).toMatch(/passed but refused by the monitor: refused: .*\/99 is not an intervention of .* in flight/);
      const config = await monitor.query(configQuery);
      expect(config.risk).toMatchObject({ maxSlippage: 0.04, maxDeployment: 0.4 });
      expect(config.intervention.operators).toEqual(['alice', 'bob', 'carol']);
      expect(config.strategy.tiers).toHaveLength(2);
      expect((await monitor.query(statusQuery)).paused).toBe(true);
      // The store says the same as the workflows: the refused one is failed, never executed.
      expect((await h.world.store.proposal(tallies[1]?.id ?? ''))?.status).toBe('failed');
    });
  }, 120_000);

  it('fails when it passed only by the lower thresholds its starter put in its input, not by the monitor\'s', async () => {
    await withMonitor(async (h, monitor) => {
      const own = h.config.governance;
      const lenient = { ...own, thresholds: { ...own.thresholds, parameterAdjustment: { quorum: 0.01, approval: 0.2 } } };
      const p = await startProposal(h, 'parameterAdjustment', { action: 'updateConfig', patch: { risk: { maxSlippage: 0.05 } } }, lenient);
      // bob yes, alice no: approval 632 / 2382 ≈ 26.5 %: enough for 20 %, not for the monitor's 51 %.
      await p.signal(voteSignal, { voter: 'bob', choice: 'yes' });
      await p.signal(voteSignal, { voter: 'alice', choice: 'no' });
      await h.env.sleep(3 * HOUR);
      const t = await p.query(tallyQuery);
      expect(t.status).toBe('failed');
      expect(t.outcome).toMatch(/^passed but refused by the monitor: refused: proposal .* does not pass this monitor's thresholds: quorum 100\.00 % \(needs 10 %\), approval 26\.\d+ % \(needs 51 %\)/);
      expect((await monitor.query(configQuery)).risk.maxSlippage).toBe(0.02);
    });
  }, 120_000);

  it('is refused when a message claims it during its execution delay, and applied once the delay is over', async () => {
    await withMonitor(async (h, monitor) => {
      const change: ProposalChange = { action: 'updateConfig', patch: { risk: { maxSlippage: 0.03 } } };
      const p = await startProposal(h, 'parameterAdjustment', change);
      await p.signal(voteSignal, { voter: 'alice', choice: 'yes' });
      await h.env.sleep(1.5 * HOUR);
      expect((await p.query(tallyQuery)).status).toBe('passed-waiting');
      await monitor.signal(updateConfigSignal, { patch: { risk: { maxSlippage: 0.03 } }, by: 'mallory', proposalId: p.workflowId });
      const [forged] = await eventsAfter(monitor, 1);
      expect(forged?.accepted).toBe(false);
      expect(forged?.detail).toMatch(new RegExp(`^refused: proposal ${p.workflowId} may apply from .* \\(its execution delay after the vote\\)$`));
      expect((await monitor.query(configQuery)).risk.maxSlippage).toBe(0.02);
      await h.env.sleep(HOUR);
      expect((await p.query(tallyQuery)).status).toBe('executed');
      expect((await monitor.query(configQuery)).risk.maxSlippage).toBe(0.03);
    });
  }, 120_000);
});

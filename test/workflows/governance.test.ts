/** Governance proposals on a real time-skipping server: voting period, execution delay, and the change applied to the monitor. */
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProposalKind } from '../../src/config.ts';
import type { governanceProposal } from '../../src/workflows/index.ts';
import { configQuery, monitorWorkflowId, statusQuery, tallyQuery, voteSignal, type ProposalChange } from '../../src/workflows/contract.ts';
import { proposalStarter, withGovernedMonitor } from './governance-rig.ts';
import { HOUR, sharedEnv, type Harness } from './harness.ts';

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

// Voting power √liquid + 1.5·√staked: alice 1000 + 750 = 1750, bob √400,000 ≈ 632.46, carol 300 + 150 = 450; total ≈ 2832.46.
const holders = [
  { name: 'alice', liquid: 1_000_000, staked: 250_000 },
  { name: 'bob', liquid: 400_000, staked: 0 },
  { name: 'carol', liquid: 90_000, staked: 10_000 },
];

const startProposal = proposalStarter(0);

/** A monitor and one proposal of `kind` carrying `change`; the proposal is terminated after `body` if still open. */
async function withProposal(kind: ProposalKind, change: ProposalChange, body: (h: Harness, p: WorkflowHandle<typeof governanceProposal>) => Promise<void>) {
  await withGovernedMonitor({ governance: { holders } }, async (h) => {
    const p = await startProposal(h, kind, change);
    try {
      await body(h, p);
    } finally {
      await p.terminate().catch(() => undefined);
    }
  });
}

describe('GovernanceProposal', () => {
  it('applies a passed parameter adjustment only after the 72 h vote and the 24 h execution delay; a later vote replaces the earlier', async () => {
    await withProposal('parameterAdjustment', { action: 'updateConfig', patch: { strategy: { cooldownHours: 24 } } }, async (h, p) => {
      await p.signal(voteSignal, { voter: 'bob', choice: 'no' });
      await p.signal(voteSignal, { voter: 'mallory', choice: 'yes' });
      await h.env.sleep(HOUR);
      await p.signal(voteSignal, { voter: 'bob', choice: 'yes' });
      await p.signal(voteSignal, { voter: 'carol', choice: 'abstain' });
      await h.env.sleep(HOUR);
      let t = await p.query(tallyQuery);
      expect(t.votes).toEqual({ bob: 'yes', carol: 'abstain' });
      expect(t.refused).toEqual([expect.objectContaining({ voter: 'mallory' })]);
      // (632.46 + 450) / 2832.46 ≈ 38 % quorum, approval 100 %.
      expect(t.tally.quorum).toBeCloseTo(1082.456 / 2832.456, 4);
      await h.env.sleep(69 * HOUR); // hour 71: still voting
      expect((await p.query(tallyQuery)).status).toBe('voting');
      await h.env.sleep(2 * HOUR); // hour 73: passed, waiting out the execution delay
      t = await p.query(tallyQuery);
      expect(t.status).toBe('passed-waiting');
      const monitor = h.env.client.workflow.getHandle(monitorWorkflowId(h.treasuryId));
      await h.env.sleep(22 * HOUR); // hour 95
      expect((await monitor.query(configQuery)).strategy.cooldownHours).toBe(48);
      await h.env.sleep(2 * HOUR); // hour 97
      expect((await p.query(tallyQuery)).status).toBe('executed');
      expect((await monitor.query(configQuery)).strategy.cooldownHours).toBe(24);
      expect((await h.world.store.votes(t.id)).map((v) => [v.voter, v.choice])).toEqual(
        expect.arrayContaining([['bob', 'yes'], ['carol', 'abstain']]),
      );
    });
  }, 120_000);

  it('lets an Emergency Action pause the monitor at the end of its 24 h vote, with no execution delay', async () => {
    await withProposal('emergencyAction', { action: 'pause' }, async (h, p) => {
      await p.signal(voteSignal, { voter: 'alice', choice: 'yes' });
      await h.env.sleep(23 * HOUR);
      const monitor = h.env.client.workflow.getHandle(monitorWorkflowId(h.treasuryId));
      expect((await monitor.query(statusQuery)).paused).toBe(false);
      await h.env.sleep(2 * HOUR);
      expect((await p.query(tallyQuery)).status).toBe('executed');
      expect((await monitor.query(statusQuery)).paused).toBe(true);
      expect((await h.world.store.alerts(h.treasuryId, { level: 'governance' })).map((a) => a.kind)).toEqual(expect.arrayContaining(['proposal-needs-votes', 'voting-deadline']));
    });
  }, 120_000);

  it('rejects a proposal below its quorum and changes nothing', async () => {
    // Protocol Upgrade needs 20 % quorum: carol alone casts 450 / 2832 ≈ 15.9 %.
    await withProposal('protocolUpgrade', { action: 'updateConfig', patch: { risk: { maxSlippage: 0.01 } } }, async (h, p) => {
      await p.signal(voteSignal, { voter: 'carol', choice: 'yes' });
      await h.env.sleep(73 * HOUR);
      const t = await p.query(tallyQuery);
      expect(t.status).toBe('rejected');
      expect(t.outcome).toMatch(/quorum 15\.89 % \(needs 20 %\)/);
      expect((await h.env.client.workflow.getHandle(monitorWorkflowId(h.treasuryId)).query(configQuery)).risk.maxSlippage).toBe(0.02);
    });
  }, 120_000);
});

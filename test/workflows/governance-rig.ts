/**
 * What the governance tests share: a monitor on the time-skipping server that
 * proposals can change, and a proposal started the way the client starts one.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { ProposalKind } from '../../src/config.ts';
import { governanceProposal, strategyMonitor } from '../../src/workflows/index.ts';
import { monitorWorkflowId, proposalWorkflowId, type ProposalChange, type ProposalInput } from '../../src/workflows/contract.ts';
import { harness, testConfig, type Harness } from './harness.ts';

type Overrides = Parameters<typeof testConfig>[0];

/**
 * Runs `body` with a monitor that cycles every six hours (so proposals, not
 * cycles, are what moves), then terminates it and closes the harness.
 */
export async function withGovernedMonitor(overrides: Overrides, body: (h: Harness, monitor: WorkflowHandle<typeof strategyMonitor>) => Promise<void>): Promise<void> {
  const h = await harness(testConfig({ monitor: { cycleIntervalSeconds: 6 * 3600 }, ...overrides }));
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

/**
 * A proposal starter whose sequence numbers start at `base` (distinct per test
 * file: files share one server) and never repeat within the process.
 */
export function proposalStarter(base: number) {
  let seq = 0;
  return async (h: Harness, kind: ProposalKind, change: ProposalChange, config: Harness['config']['governance'] = h.config.governance): Promise<WorkflowHandle<typeof governanceProposal>> => {
    seq += 1;
    const input: ProposalInput = {
      seq: 1000 * process.pid + base + seq, treasuryId: h.treasuryId, kind, description: `${kind} ${change.action}`, change, proposer: 'alice',
      config, createdAt: await h.env.currentTimeMs(),
    };
    return h.env.client.workflow.start(governanceProposal, { taskQueue: h.taskQueue, workflowId: proposalWorkflowId(input.seq), args: [input] });
  };
}

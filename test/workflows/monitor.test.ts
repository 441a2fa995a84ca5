import { afterAll, describe, expect, it } from 'vitest';
import { strategyMonitor, intervention } from '../../src/workflows/index.ts';
import { TASK_QUEUE, approveSignal, interventionStateQuery, monitorWorkflowId, statusQuery } from '../../src/workflows/contract.ts';
import { HOUR, MINUTE, harness, sharedEnv, testConfig } from './harness.ts';

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

describe('StrategyMonitor on a time-skipping server', () => {
  it('runs cycles, starts a timelocked intervention at a 17 % drawdown, and swaps once approved after 60 minutes', async () => {
    const h = await harness(testConfig(), { drawdownInMinutes: 10 });
    const { env } = h;
    await h.run(async () => {
      const monitor = await env.client.workflow.start(strategyMonitor, { taskQueue: TASK_QUEUE, workflowId: monitorWorkflowId('test'), args: [{ config: h.config }] });
      await env.sleep(20 * MINUTE);
      const status = await monitor.query(statusQuery);
      expect(status.cycles).toBeGreaterThanOrEqual(4);
      expect(status.pendingInterventions).toEqual(['intervention/test/1']);
      const iv = env.client.workflow.getHandle<typeof intervention>('intervention/test/1');
      let st = await iv.query(interventionStateQuery);
      expect(st.stage).toBe('timelock');
      expect(st.tier).toBe(1);
      await iv.signal(approveSignal, { operator: 'mallory' });
      await iv.signal(approveSignal, { operator: 'alice', reason: 'looks right' });
      await env.sleep(20 * MINUTE);
      st = await iv.query(interventionStateQuery);
      expect(st.stage).toBe('timelock');
      expect(st.approvals.refused[0]?.why).toMatch(/mallory/);
      await env.sleep(40 * MINUTE);
      st = await iv.query(interventionStateQuery);
      expect(st.status).toBe('executed');
      expect(h.world.ledger.swapCount()).toBe(1);
      await monitor.terminate();
    });
    await h.close();
  }, 120_000);
});

/**
 * A refused update on the time-skipping test server leaves its clock unable to
 * skip for later tests on the same server (seen with the Java test server
 * 1.40), so this case has a server of its own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { strategyMonitor } from '../../src/workflows/index.ts';
import { configQuery, monitorWorkflowId, updateConfigUpdate } from '../../src/workflows/contract.ts';
import { MINUTE, harness, sharedEnv, testConfig } from './harness.ts';

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

describe('updateConfig', () => {
  it('refuses an invalid config update as a whole, naming the key, and keeps running', async () => {
    const h = await harness(testConfig());
    await h.run(async () => {
      const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
      await h.env.sleep(6 * MINUTE);
      const refused = await monitor.executeUpdate(updateConfigUpdate, { args: [{ patch: { risk: { maxSlippage: 'lots' } }, by: 'alice' }] }).then(() => null, (err: Error) => err);
      expect(refused?.message).toBe('Workflow Update failed');
      expect((refused?.cause as Error | undefined)?.message).toMatch(/risk\.maxSlippage = "lots"/);
      expect((await monitor.query(configQuery)).risk.maxSlippage).toBe(0.02);
      const cfg = await monitor.executeUpdate(updateConfigUpdate, { args: [{ patch: { risk: { maxSlippage: 0.01 } }, by: 'bob' }] });
      expect(cfg.risk.maxSlippage).toBe(0.01);
      await monitor.terminate();
    });
    await h.close();
  }, 120_000);
});

/**
 * A refused update on the time-skipping test server leaves its clock unable to
 * skip for later tests on the same server (seen with the Java test server
 * 1.40), so this case has a server of its own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { strategyMonitor } from '../../src/workflows/index.ts';
import { configQuery, monitorWorkflowId, statusQuery, updateConfigUpdate } from '../../src/workflows/contract.ts';
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

  it('refuses the issue\'s rows from an operator, naming the key and the rule: ceilings before history, key classes recorded; nothing changes', async () => {
    const h = await harness(testConfig());
    await h.run(async () => {
      const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
      const refusal = (patch: Record<string, unknown>) =>
        monitor.executeUpdate(updateConfigUpdate, { args: [{ patch, by: 'alice' }] }).then(() => 'applied', (err: Error) => (err.cause as Error | undefined)?.message ?? err.message);
      expect(await refusal({ risk: { maxDeployment: 1 } })).toMatch(/risk\.maxDeployment = 1: at most 0\.5 \(the hard ceiling\)/);
      expect(await refusal({ risk: { maxSlippage: 1 } })).toMatch(/risk\.maxSlippage = 1: at most 0\.05/);
      expect(await refusal({ strategy: { cooldownHours: 0 } })).toMatch(/strategy\.cooldownHours = 0: at least 1 h/);
      expect(await refusal({ strategy: { tiers: [{ drawdown: 0.15, fraction: 1 }] } })).toMatch(/strategy\.tiers\.0\.fraction = 1: at most 0\.5/);
      expect(await refusal({ risk: { maxDeployment: 0.5 } })).toMatch(/^refused: risk\.maxDeployment \(tightening\) 0\.4 → 0\.5: looser/);
      expect(await refusal({ intervention: { operators: ['alice', 'bob', 'alicia'] } })).toMatch(/^refused: intervention\.operators \(governed\) .*only a passed Protocol Upgrade proposal/);
      expect(await refusal({ treasuryId: 'renamed' })).toMatch(/^refused: treasuryId cannot change on a running monitor/);
      // Past a ceiling or renaming the treasury: refused by the validator, before history. Refused by the key classes:
      // recorded, then refused.
      const recorded = (await monitor.query(statusQuery)).recentOperatorEvents.filter((e) => e.action === 'updateConfig');
      expect(recorded.map((e) => [e.accepted, e.detail.split(' ')[1]])).toEqual([[false, 'risk.maxDeployment'], [false, 'intervention.operators']]);
      const config = await monitor.query(configQuery);
      expect(config.risk).toMatchObject({ maxDeployment: 0.4, maxSlippage: 0.02 });
      expect(config.strategy.cooldownHours).toBe(48);
      expect(config.intervention.operators).toEqual(['alice', 'bob']);
      expect(await refusal({ risk: { maxDeployment: 0.3 } })).toBe('applied');
      await monitor.terminate();
    });
    await h.close();
  }, 120_000);
});

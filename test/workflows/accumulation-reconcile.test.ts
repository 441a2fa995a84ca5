/**
 * The hourly job's buy stopping at needs-reconciliation (a durable nonce moved
 * and its consumer cannot be proven): the activity is not retried, the job
 * skips with the reason and raises a critical alert, and it does not fail.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/index.ts';
import { NeedsReconciliationError } from '../../src/solana/nonce-proof.ts';
import type { MonitorStatus } from '../../src/workflows/contract.ts';
import { harness, testConfig, type Harness } from './harness.ts';

let h: Harness | null = null;
afterAll(async () => {
  await h?.close();
});

describe('the accumulation job', () => {
  it('stops at needs-reconciliation without a retry and raises a critical alert naming it', async () => {
    let calls = 0;
    const wrap = (deps: ActivityDeps): ActivityDeps => ({
      ...deps,
      // A running, unpaused monitor, so the job decides to buy.
      monitorStatus: async () => ({ paused: false, emergencyStop: false, control: { loaded: true } }) as unknown as MonitorStatus,
      treasury: {
        ...deps.treasury,
        balances: () => deps.treasury.balances(),
        quote: (p) => deps.treasury.quote(p),
        swap: (r) => deps.treasury.swap(r),
        accumulate: async (r) => {
          calls += 1;
          throw new NeedsReconciliationError(`accumulation ${r.key}`, 'nonce N of account A was consumed, but no finalized transaction over it could be found');
        },
      },
    });
    h = await harness(testConfig(), { wrapDeps: wrap });
    const hh = h;
    const result: unknown = await hh.run(() => hh.env.client.workflow.execute('accumulationJob', { taskQueue: hh.taskQueue, workflowId: `acc/${hh.treasuryId}`, args: [{ config: hh.config }] }));
    expect(result).toMatchObject({ bought: false });
    expect((result as { reason: string }).reason).toMatch(/needs-reconciliation/);
    expect(calls).toBe(1);
    const alerts = await hh.world.store.alerts(hh.treasuryId, { level: 'critical' });
    expect(alerts.map((a) => a.message).join('\n')).toMatch(/needs-reconciliation/);
  }, 120_000);
});

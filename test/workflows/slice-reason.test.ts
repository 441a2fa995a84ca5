/**
 * The true reason an intervention ends when its first slice's swap fails: the
 * swap's own error, not "no slice could be filled within the slippage bound"
 * (that one stays for quotes the bound refused). Real time-skipping server,
 * real worker, paper world on a real SQLite file; the failure is injected at
 * the treasury port, which answers the swap as failed.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/index.ts';
import type { Treasury } from '../../src/ports.ts';
import { strategyMonitor, type intervention } from '../../src/workflows/index.ts';
import { interventionWorkflowId, monitorWorkflowId } from '../../src/workflows/contract.ts';
import type { ConfigInput } from '../../src/config.ts';
import { freshEnv, harness, interventionEnd, sharedEnv, testConfig } from './harness.ts';

beforeEach(async () => {
  await freshEnv();
}, 60_000);

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

const QUICK: ConfigInput = { monitor: { cycleIntervalSeconds: 3600 }, intervention: { timelockThresholdUsd: 1e12, trackHorizonsHours: [1] } };
const ROUTE_ERROR = 'Jupiter route expired: blockhash not found';

/** The same treasury, whose swap settles as failed with the route's error (nothing moves). */
function failingSwaps(t: Treasury, calls: { n: number }): Treasury {
  return new Proxy(t, {
    get(target, p) {
      if (p === 'swap') {
        return (req: { pumpIn: bigint }) => {
          calls.n += 1;
          return Promise.resolve({ status: 'failed', pumpIn: req.pumpIn, pstrOut: 0n, reference: '', alreadyDone: false, error: ROUTE_ERROR });
        };
      }
      const v: unknown = Reflect.get(target, p, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('an intervention whose first slice fails', () => {
  it('ends aborted with the swap\'s own error as the reason, not the slippage bound', async () => {
    const calls = { n: 0 };
    const h = await harness(testConfig(QUICK), {
      drawdownInMinutes: 10, depth: 0.18, holdMinutes: 600,
      wrapDeps: (d: ActivityDeps) => ({ ...d, treasury: failingSwaps(d.treasury, calls) }),
    });
    const id = interventionWorkflowId(h.treasuryId, 1);
    try {
      await h.run(async () => {
        const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
        try {
          const st = await interventionEnd(h, h.env.client.workflow.getHandle<typeof intervention>(id));
          expect(calls.n).toBe(1);
          expect(st.status).toBe('aborted');
          expect(st.reason).toBe(`slice 0 swap failed: ${ROUTE_ERROR}; nothing moved`);
          expect(st.reason).not.toMatch(/slippage/);
          expect(await h.world.store.intervention(id)).toMatchObject({ status: 'aborted', reason: st.reason });
          expect(await h.world.ledger.swapCount()).toBe(0);
          const alert = (await h.world.store.alerts(h.treasuryId, { level: 'critical' })).find((a) => a.kind === 'swap-failed');
          expect(alert?.message).toContain(ROUTE_ERROR);
        } finally {
          await monitor.terminate().catch(() => undefined);
          await h.env.client.workflow.getHandle(id).terminate().catch(() => undefined);
        }
      });
    } finally {
      await h.close();
    }
  }, 180_000);
});

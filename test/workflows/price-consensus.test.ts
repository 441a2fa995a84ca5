/**
 * PUMP and SOL prices go through SPEC §2's consensus before they size or bound
 * a trade (issue #10: "one unchecked Pyth read sets the intervention's USD size
 * and the slippage floor"). Real time-skipping server, real worker, paper world
 * on a real SQLite file; the paper world has two PUMP sources (Pyth and a
 * Jupiter quote) and the fault is injected at one of them: its Pyth feed reads
 * 3× low, or its Jupiter quote fails. A source turns bad either from the start
 * (the monitor sees it) or once the intervention's row exists (its own fresh
 * observation sees it, after the cycle that started it saw a good price).
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/index.ts';
import type { ConfigInput } from '../../src/config.ts';
import { toTokens } from '../../src/domain/amount.ts';
import type { OracleSource } from '../../src/ports.ts';
import { approveSignal, interventionStateQuery, interventionWorkflowId, monitorWorkflowId, statusQuery } from '../../src/workflows/contract.ts';
import { strategyMonitor, type intervention } from '../../src/workflows/index.ts';
import { freshEnv, harness, interventionEnd, MINUTE, sharedEnv, testConfig, type Harness } from './harness.ts';

beforeEach(async () => {
  await freshEnv();
}, 60_000);

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

const QUICK: ConfigInput = { monitor: { cycleIntervalSeconds: 3600 }, intervention: { timelockThresholdUsd: 1e12, trackHorizonsHours: [1] } };

type When = (deps: ActivityDeps) => Promise<boolean>;
const always: When = () => Promise.resolve(true);
/** From the moment the intervention saved its row (before its validate step observes the market). */
const onceStarted: When = async (deps) => (await deps.store.intervention(interventionWorkflowId(deps.config.treasuryId, 1))) !== undefined;

/** The paper world's PUMP sources, with the one named `name` replaced by `bad` while `when` holds. */
function pumpFault(name: 'pyth' | 'jupiter', when: When, bad: (good: OracleSource) => OracleSource['read']) {
  return (deps: ActivityDeps): ActivityDeps => {
    const priced = deps.market.priceSources;
    if (!priced) throw new Error('the paper world has PUMP and SOL sources');
    const pump = priced.pump.map((s): OracleSource => s.name !== name ? s : { name, read: async () => ((await when(deps)) ? bad(s)() : s.read()) });
    return { ...deps, market: { ...deps.market, priceSources: { pump, sol: priced.sol } } };
  };
}
const pythThreeTimesLow = (when: When) => pumpFault('pyth', when, (good) => async () => {
  const r = await good.read();
  return { ...r, price: r.price / 3, confidence: r.confidence / 3 };
});
const jupiterDown = (when: When) => pumpFault('jupiter', when, () => () => Promise.reject(new Error('Jupiter quote: HTTP 503 Service Unavailable')));

async function withIntervention(h: Harness, fn: (state: Awaited<ReturnType<typeof interventionEnd>>) => Promise<void>): Promise<void> {
  const id = interventionWorkflowId(h.treasuryId, 1);
  try {
    await h.run(async () => {
      const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
      try {
        await fn(await interventionEnd(h, h.env.client.workflow.getHandle<typeof intervention>(id)));
      } finally {
        await monitor.terminate().catch(() => undefined);
        await h.env.client.workflow.getHandle(id).terminate().catch(() => undefined);
      }
    });
  } finally {
    await h.close();
  }
}

describe('an intervention whose PUMP price has no consensus', () => {
  it('is refused when the Pyth PUMP feed reads 3× low: no sizing, no swap, a critical price-consensus alert', async () => {
    const h = await harness(testConfig(QUICK), { drawdownInMinutes: 10, depth: 0.18, holdMinutes: 600, wrapDeps: pythThreeTimesLow(onceStarted) });
    await withIntervention(h, async (st) => {
      expect(st.status).toBe('aborted');
      expect(st.reason).toMatch(/^no valid PUMP\/USD price: 0 source\(s\) agreed, 2 needed .*; no sizing and no swap on it/);
      expect([st.tier, st.pumpAmount, st.usdSize, st.result]).toEqual([null, null, null, null]);
      expect(st.steps.map((s) => s.step)).toEqual(['validate']);
      expect(st.steps[0]?.verdict).toMatch(/^refused: no valid PUMP\/USD price/);
      expect((st.steps[0]?.outcome as { excluded: { source: string; reason: string }[] }).excluded).toEqual(expect.arrayContaining([
        expect.objectContaining({ source: 'PUMP/USD pyth', reason: 'outlier' }), expect.objectContaining({ source: 'PUMP/USD jupiter', reason: 'outlier' }),
      ]));
      expect(await h.world.ledger.swapCount()).toBe(0);
      expect(await h.world.store.intervention(st.id)).toMatchObject({ status: 'aborted', reason: st.reason });
      const alert = (await h.world.store.alerts(h.treasuryId, { level: 'critical' })).find((a) => a.kind === 'price-consensus');
      expect(alert?.message).toMatch(/stopped at validate with nothing moved: no valid PUMP\/USD price/);
    });
  }, 180_000);

  it('is refused when one of the two PUMP sources is missing (its Jupiter quote fails)', async () => {
    const h = await harness(testConfig(QUICK), { drawdownInMinutes: 10, depth: 0.18, holdMinutes: 600, wrapDeps: jupiterDown(onceStarted) });
    await withIntervention(h, async (st) => {
      expect(st.status).toBe('aborted');
      expect(st.reason).toMatch(/^no valid PUMP\/USD price: 1 source\(s\) agreed, 2 needed \(1 reading\(s\) received\)/);
      expect(st.pumpAmount).toBeNull();
      expect(await h.world.ledger.swapCount()).toBe(0);
      expect((await h.world.store.alerts(h.treasuryId, { level: 'critical' })).map((a) => a.kind)).toContain('price-consensus');
    });
  }, 180_000);

  it('sizes and swaps as before when both PUMP sources agree, the USD size at their consensus', async () => {
    const h = await harness(testConfig(QUICK), { drawdownInMinutes: 10, depth: 0.18, holdMinutes: 600 });
    await withIntervention(h, async (st) => {
      expect(st.status).toBe('executed');
      expect(st.reason).toBe('executed');
      expect(await h.world.ledger.swapCount()).toBeGreaterThan(0);
      const pumpTokens = toTokens({ raw: BigInt(st.pumpAmount ?? '0'), decimals: h.config.tokens.pump.decimals });
      const fair = h.world.market.pumpPrice(st.startedAt);
      // The paper sources read within ±0.2 % of the market; the size is at their consensus, not at a single read.
      expect(Math.abs((st.usdSize ?? 0) / pumpTokens / fair - 1)).toBeLessThan(0.01);
      expect((await h.world.store.alerts(h.treasuryId)).map((a) => a.kind)).not.toContain('price-consensus');
    });
  }, 180_000);
});

describe('an intervention whose PUMP price loses its consensus during the timelock', () => {
  it('is refused at the recheck after an operator approved: no swap, the recheck step refused, the alert', async () => {
    let bad = false;
    const h = await harness(testConfig(), { drawdownInMinutes: 10, wrapDeps: pythThreeTimesLow(() => Promise.resolve(bad)) });
    const id = interventionWorkflowId(h.treasuryId, 1);
    try {
      await h.run(async () => {
        const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
        try {
          await h.env.sleep(20 * MINUTE);
          const iv = h.env.client.workflow.getHandle<typeof intervention>(id);
          // Sized at the consensus of two agreeing sources: above the 10,000 USD threshold, so it waits for an operator.
          expect(await iv.query(interventionStateQuery)).toMatchObject({ stage: 'timelock', timelock: { required: true } });
          bad = true;
          await iv.signal(approveSignal, { operator: 'alice' });
          const st = await iv.result();
          expect(st.status).toBe('aborted');
          expect(st.reason).toMatch(/^no valid PUMP\/USD price: 0 source\(s\) agreed/);
          expect(st.steps.map((x) => x.step)).toEqual(['validate', 'assess', 'size', 'timelock', 'recheck']);
          expect(st.steps[4]?.verdict).toMatch(/^refused: no valid PUMP\/USD price/);
          expect(await h.world.ledger.swapCount()).toBe(0);
          const alert = (await h.world.store.alerts(h.treasuryId, { level: 'critical' })).find((a) => a.kind === 'price-consensus');
          expect(alert?.message).toMatch(/stopped at recheck with nothing moved/);
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

describe('an intervention whose PUMP price loses its consensus between slices', () => {
  it('stops before the next slice: what moved stays executed, the rest unfilled with the reason, a halt step and the alert', async () => {
    // A 400k USD pool: the swap is cut into slices (test/workflows/halts.test.ts); the fault starts after the first fill.
    const deepPool: ConfigInput = { monitor: { cycleIntervalSeconds: 300 }, intervention: { timelockThresholdUsd: 1e12, trackHorizonsHours: [1] }, paper: { poolDepthUsd: 400_000 } };
    let world: Harness['world'] | null = null;
    const h = await harness(testConfig(deepPool), { drawdownInMinutes: 10, depth: 0.18, holdMinutes: 600, wrapDeps: pythThreeTimesLow(async () => ((await world?.ledger.swapCount()) ?? 0) > 0) });
    world = h.world;
    await withIntervention(h, async (st) => {
      expect(st.status).toBe('executed');
      expect(await h.world.ledger.swapCount()).toBe(1);
      expect(st.reason).toMatch(/^executed; \d+ PUMP base units unfilled \(no valid PUMP\/USD price: 0 source\(s\) agreed/);
      expect(st.steps.map((x) => x.step)).toContain('halt:1');
      const alert = (await h.world.store.alerts(h.treasuryId, { level: 'critical' })).find((a) => a.kind === 'price-consensus');
      expect(alert?.message).toMatch(/stopped at swap:1 \(before it: /);
    });
  }, 180_000);
});

describe('a monitor whose PUMP feed reads 3× low', () => {
  it('starts no intervention: every cycle has no valid price with the reason, outlier warnings name the PUMP sources, critical after three', async () => {
    const h = await harness(testConfig(), { drawdownInMinutes: 10, depth: 0.18, holdMinutes: 600, wrapDeps: pythThreeTimesLow(always) });
    try {
      await h.run(async () => {
        const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
        try {
          await h.env.sleep(40 * MINUTE);
          const s = await monitor.query(statusQuery);
          expect(s.cycles).toBeGreaterThanOrEqual(3);
          expect(s.interventionCount).toBe(0);
          expect(s.lastCycle).toMatchObject({ validPrice: false, reserveRatio: null });
          expect(s.lastCycle?.consensusReason).toMatch(/^no valid PUMP\/USD price: 0 source\(s\) agreed, 2 needed/);
          expect(await h.world.ledger.swapCount()).toBe(0);
          const alerts = await h.world.store.alerts(h.treasuryId);
          expect(alerts.filter((a) => a.kind === 'oracle-outlier').map((a) => (a.data as { source?: string }).source)).toEqual(expect.arrayContaining(['PUMP/USD pyth', 'PUMP/USD jupiter']));
          expect(alerts.filter((a) => a.kind === 'no-valid-price')).toHaveLength(1);
        } finally {
          await monitor.terminate().catch(() => undefined);
        }
      });
    } finally {
      await h.close();
    }
  }, 180_000);
});

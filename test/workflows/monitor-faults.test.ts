/**
 * A monitor that survives every fault (issue 9), on the time-skipping server
 * with a real worker, paper world and SQLite file: a store outage of many
 * minutes inside each cycle activity, a market with no PSTR float (RR = +∞),
 * and an intervention id already taken. The monitor keeps cycling, fails
 * closed while it cannot record, alerts, writes its backlog once the store is
 * back, and intervenes again afterwards. (The dev-server twin of the outage is
 * test/e2e/monitor-faults.test.ts.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import type { ActivityDeps } from '../../src/activities/index.ts';
import type { ConfigInput } from '../../src/config.ts';
import { UNBOUNDED_RESERVE_RATIO } from '../../src/domain/treasury.ts';
import { strategyMonitor } from '../../src/workflows/index.ts';
import { healthQuery, interventionWorkflowId, monitorWorkflowId, statusQuery, type CycleRecord } from '../../src/workflows/contract.ts';
import { MINUTE, harness, sharedEnv, testConfig, type Harness } from './harness.ts';
import { outage, withOutage, type Outage } from './faults.ts';

afterAll(async () => {
  await (await sharedEnv()).teardown();
});

async function withMonitor(
  over: ConfigInput,
  opts: { drawdownInMinutes?: number; wrapDeps?: (deps: ActivityDeps) => ActivityDeps; before?: (h: Harness) => Promise<void> },
  body: (h: Harness, monitor: WorkflowHandle<typeof strategyMonitor>) => Promise<void>,
): Promise<void> {
  const h = await harness(testConfig(over), { ...(opts.drawdownInMinutes === undefined ? {} : { drawdownInMinutes: opts.drawdownInMinutes }), ...(opts.wrapDeps ? { wrapDeps: opts.wrapDeps } : {}) });
  try {
    await h.run(async () => {
      await opts.before?.(h);
      const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
      try {
        await body(h, monitor);
      } finally {
        // Nothing left running on the shared server: open timers would hold its clock for the next test.
        const count = (await monitor.query(statusQuery)).interventionCount;
        await monitor.terminate();
        for (let n = 1; n <= count + 1; n++) await h.env.client.workflow.getHandle(interventionWorkflowId(h.treasuryId, n)).terminate().catch(() => undefined);
      }
    });
  } finally {
    await h.close();
  }
}

async function cycleRecords(h: Harness): Promise<CycleRecord[]> {
  const logs = await h.world.store.monitoringLogs(h.treasuryId, 0, Number.MAX_SAFE_INTEGER);
  return logs.map((l) => l.data as CycleRecord).filter((d) => d.summary !== undefined).sort((a, b) => a.summary.at - b.summary.at);
}

const seqOf = (r: CycleRecord) => Number(r.summary.cycleId.split('/').at(-1));

describe('a store outage of many minutes during a cycle activity', () => {
  it.each(['observeMarket', 'recordSample', 'recordCycle'])(
    'inside %s: the monitor keeps cycling, fails closed with system-failure alerts, records every cycle once the store is back, then intervenes',
    async (activity) => {
      const env = await sharedEnv();
      const t0 = await env.currentTimeMs();
      // Locked from minute 2 to minute 32; the market falls 17 % at minute 10 and stays down: an intervention is due all along.
      const o: Outage = outage(t0 + 2 * MINUTE, t0 + 32 * MINUTE, activity);
      await withMonitor({}, { drawdownInMinutes: 10, wrapDeps: withOutage(o) }, async (h, monitor) => {
        await h.env.sleep(60 * MINUTE);
        expect(o.refused).toBeGreaterThan(0);
        expect((await monitor.describe()).status.name).toBe('RUNNING');
        const status = await monitor.query(statusQuery);
        expect(status.cycles).toBeGreaterThanOrEqual(8);

        const records = await cycleRecords(h);
        // Every cycle is on record, the outage's too: cycle ids 1..n with no gap.
        expect(records.map(seqOf)).toEqual(Array.from({ length: records.length }, (_, i) => i + 1));
        expect(records.length).toBeGreaterThanOrEqual(status.cycles - 1);

        const during = records.filter((r) => r.summary.at >= o.from + MINUTE && r.summary.at < o.until - 2 * MINUTE);
        expect(during.length).toBeGreaterThanOrEqual(3);
        for (const r of during) {
          expect(r.summary.startedIntervention).toBeNull();
          // A cycle learns the store is down when its own record is refused: that one says so, every later one fails closed.
          expect(r.summary.decision).toMatch(/degraded cycle, no intervention \(fail closed\)|recorded late/);
          expect(r.decision?.intervene ?? false).toBe(false);
          expect(r.alerts.some((a) => a.kind === 'system-failure')).toBe(true);
        }
        const failureAlerts = (await h.world.store.alerts(h.treasuryId)).filter((a) => a.kind === 'system-failure');
        expect(failureAlerts.length).toBeGreaterThanOrEqual(during.length);
        expect(failureAlerts.every((a) => a.level === 'critical')).toBe(true);
        expect(failureAlerts.some((a) => a.message.includes(`${activity}: SQLITE_BUSY: database is locked`))).toBe(true);

        // Once the store is back (and the backlog written), the still-falling market gets its intervention.
        const first = records.find((r) => r.summary.startedIntervention !== null);
        expect(first?.summary.startedIntervention).toBe(interventionWorkflowId(h.treasuryId, 1));
        expect(first?.summary.at).toBeGreaterThanOrEqual(o.until);
        expect(status.interventionCount).toBe(1);
      });
    },
    180_000,
  );
});

describe('a market with no PSTR float (RR = +∞)', () => {
  it('keeps the monitor cycling with a stated health: RR unbounded, capacity 1, excellent, no alert about the reserve ratio', async () => {
    await withMonitor({ treasury: { pstrCirculatingSupply: '0' } }, {}, async (h, monitor) => {
      await h.env.sleep(16 * MINUTE);
      const status = await monitor.query(statusQuery);
      expect((await monitor.describe()).status.name).toBe('RUNNING');
      expect(status.cycles).toBeGreaterThanOrEqual(3);
      expect(status.lastCycle).toMatchObject({ validPrice: true, reserveRatio: UNBOUNDED_RESERVE_RATIO, reserveRatioUnbounded: true, healthLevel: 'excellent', marketCapUsd: 0 });
      const health = await monitor.query(healthQuery);
      expect(health).toMatchObject({ level: 'excellent', reserveRatio: UNBOUNDED_RESERVE_RATIO, interventionCapacity: 1 });
      const records = await cycleRecords(h);
      expect(records.length).toBeGreaterThanOrEqual(3);
      expect(records.every((r) => r.summary.reserveRatio === UNBOUNDED_RESERVE_RATIO && !/degraded/.test(r.summary.decision))).toBe(true);
      const alerts = await h.world.store.alerts(h.treasuryId);
      expect(alerts.filter((a) => a.kind.startsWith('reserve-ratio') || a.kind === 'system-failure')).toEqual([]);
      // The snapshot (store) has the finite ceiling too, not a null.
      expect((await h.world.store.latestSnapshot(h.treasuryId))?.reserveRatio).toBe(UNBOUNDED_RESERVE_RATIO);
    });
  }, 120_000);
});

describe('a market whose PUMP price is NaN', () => {
  it('makes each cycle "no valid price" with the reason, never a thrown cycle, and alerts after the configured streak', async () => {
    // A market data port without PUMP/SOL sources (the single-read path) whose PUMP read is NaN.
    const nanPump = (deps: ActivityDeps): ActivityDeps => ({ ...deps, market: { pumpPrice: async () => Number.NaN, solPrice: () => deps.market.solPrice(), volumeUsd: (a, b) => deps.market.volumeUsd(a, b) } });
    await withMonitor({}, { wrapDeps: nanPump }, async (h, monitor) => {
      await h.env.sleep(21 * MINUTE);
      expect((await monitor.describe()).status.name).toBe('RUNNING');
      const status = await monitor.query(statusQuery);
      expect(status.cycles).toBeGreaterThanOrEqual(4);
      expect(status.lastCycle).toMatchObject({ validPrice: false, reserveRatio: null });
      // NaN crosses the activity's payload as null: the reason names what arrived.
      expect(status.lastCycle?.consensusReason).toBe('no valid price: PUMP price null is not a positive finite number');
      expect(status.noValidPriceStreak).toBe(status.cycles);
      const records = await cycleRecords(h);
      expect(records.every((r) => r.summary.validPrice === false && !/degraded/.test(r.summary.decision))).toBe(true);
      expect((await h.world.store.alerts(h.treasuryId)).map((a) => a.kind)).toContain('no-valid-price');
    });
  }, 120_000);
});

describe('an intervention id already taken', () => {
  it('skips to the next sequence number, records and alerts, and does not fail the monitor', async () => {
    await withMonitor({}, {
      drawdownInMinutes: 10,
      // A stray workflow already holds intervention/<t>/1 (a monitor restarted without its counter would meet its own old one).
      before: async (h) => {
        // It completes at once and the id stays taken (REJECT_DUPLICATE). Not awaited: awaiting a result lets the test server skip time.
        await h.env.client.workflow.start('alertDelivery', { taskQueue: h.taskQueue, workflowId: interventionWorkflowId(h.treasuryId, 1), args: [{ treasuryId: h.treasuryId, alerts: [] }] });
      },
    }, async (h, monitor) => {
      await h.env.sleep(40 * MINUTE);
      expect((await monitor.describe()).status.name).toBe('RUNNING');
      const status = await monitor.query(statusQuery);
      expect(status.interventionCount).toBeGreaterThanOrEqual(2);
      expect(status.pendingInterventions).toEqual([interventionWorkflowId(h.treasuryId, 2)]);
      const records = await cycleRecords(h);
      const skipped = records.find((r) => /intervention not started/.test(r.summary.decision));
      expect(skipped?.summary.decision).toMatch(new RegExp(`workflow id intervention/${h.treasuryId}/1 is already taken; sequence number 1 skipped, the next trigger uses 2`));
      expect(skipped?.alerts.some((a) => a.kind === 'system-failure' && a.level === 'critical')).toBe(true);
      expect(records.find((r) => r.summary.startedIntervention !== null)?.summary.startedIntervention).toBe(interventionWorkflowId(h.treasuryId, 2));
      expect((await h.env.client.workflow.getHandle(interventionWorkflowId(h.treasuryId, 2)).describe()).type).toBe('intervention');
    });
  }, 120_000);
});

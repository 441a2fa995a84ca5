/**
 * The monitor's faults on the real dev server (which, unlike the Java
 * time-skipping server, fails workflows the way production does): a store
 * outage of half a minute under 1-second cycles, then the watchdog Schedule
 * seeing the monitor terminated, with its critical alert stored and shown by
 * `client.ts status` run as its own process.
 */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import type { WatchdogVerdict } from '../../src/domain/watchdog.ts';
import { SCHEDULES, ensureMonitor } from '../../src/runtime/ensure.ts';
import type { PaperWorld } from '../../src/runtime/paper-world.ts';
import type { DevServer } from '../../src/temporal/server.ts';
import { TASK_QUEUE, interventionWorkflowId, monitorWorkflowId, scheduleId, statusQuery, type CycleRecord } from '../../src/workflows/contract.ts';
import { outage, withOutage } from '../workflows/faults.ts';
import { waitFor } from './fixtures/e2e.ts';
import { startPaperRig, type PaperRig } from './fixtures/paper-rig.ts';

const TREASURY = 'faults';
/** The store is locked from 3 s to 33 s after the worker starts; the market falls 17 % at 45 s, after it is back. */
const OUTAGE_FROM_S = 3;
const OUTAGE_UNTIL_S = 33;

let rig: PaperRig;
let server: DevServer;
let world: PaperWorld;
let started: number;
const lock = outage(0, 0);

const config = parseConfig({
  treasuryId: TREASURY,
  monitor: { cycleIntervalSeconds: 1 },
  intervention: { operators: ['alice'] },
  treasury: { initial: { pump: '40000000', usdc: '700000' } },
  liquidity: { enabled: false },
  paper: { drawdown: { startInSeconds: 45, depth: 0.17, rampSeconds: 1 } },
});

beforeAll(async () => {
  // The outage window is placed relative to the moment the worker started polling.
  rig = await startPaperRig(config, { prefix: 'pstr-faults', wrapDeps: withOutage(lock) });
  ({ server, world } = rig);
  started = Date.now();
  lock.from = started + OUTAGE_FROM_S * 1000;
  lock.until = started + OUTAGE_UNTIL_S * 1000;
}, 120_000);

afterAll(async () => {
  await rig?.stop();
}, 30_000);

const cli = (args: string[]) => rig.clientTs(args);

async function cycleRecords(): Promise<CycleRecord[]> {
  const logs = await world.store.monitoringLogs(TREASURY, 0, Number.MAX_SAFE_INTEGER);
  return logs.map((l) => l.data as CycleRecord).filter((d) => d.summary !== undefined).sort((a, b) => a.summary.at - b.summary.at);
}

describe('the monitor on the dev server', () => {
  it('cycles through a 30-second store outage with no failed workflow task, fails closed and alerts, records its backlog, then intervenes', async () => {
    const client = server.env.client;
    await ensureMonitor(client, config);
    const monitor = client.workflow.getHandle(monitorWorkflowId(TREASURY));
    const first = interventionWorkflowId(TREASURY, 1);

    const status = await waitFor('intervention 1 after the outage', async () => {
      const s = await monitor.query(statusQuery);
      return s.interventionCount >= 1 ? s : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    expect(lock.refused).toBeGreaterThan(0);
    expect(status.pendingInterventions).toContain(first);

    // The intervention began only after the store was back.
    const iv = await client.workflow.getHandle(first).describe();
    expect(iv.startTime.getTime()).toBeGreaterThanOrEqual(lock.until);

    // The monitor never failed a workflow task and is still running.
    const d = await monitor.describe();
    expect(d.status.name).toBe('RUNNING');
    const history = await monitor.fetchHistory();
    expect(history.events?.filter((e) => e.workflowTaskFailedEventAttributes) ?? []).toEqual([]);

    // Every cycle is on record, the outage's included (written from the backlog), and those failed closed with an alert.
    const records = await waitFor('the cycle records', async () => {
      const r = await cycleRecords();
      return r.some((x) => x.summary.startedIntervention === first) ? r : undefined;
    }, { timeoutMs: 20_000 });
    const seqs = records.map((r) => Number(r.summary.cycleId.split('/').at(-1)));
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const degraded = records.filter((r) => /degraded cycle|recorded late/.test(r.summary.decision));
    expect(degraded.length).toBeGreaterThanOrEqual(1);
    expect(degraded.every((r) => r.summary.startedIntervention === null)).toBe(true);
    expect(records.filter((r) => r.summary.at < lock.until).every((r) => r.summary.startedIntervention === null)).toBe(true);
    const failures = (await world.store.alerts(TREASURY)).filter((a) => a.kind === 'system-failure');
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures[0]?.level).toBe('critical');
    expect(failures.map((a) => a.message).join('\n')).toMatch(/database is locked/);
  }, 150_000);

  it('has the watchdog schedule see the monitor running, then terminated: a critical alert with how to recover, stored and shown by status', async () => {
    const client = server.env.client;
    const entry = SCHEDULES.find((s) => s.job === 'watchdog');
    expect(entry).toMatchObject({ workflowType: 'monitorWatchdog' });
    const id = scheduleId(TREASURY, 'watchdog');
    // The cadence is the registry's; this test fires it by hand (trigger), as an operator can from the UI.
    const schedule = await client.schedule.create({
      scheduleId: id, spec: { intervals: [{ every: entry?.every as '1m' }] },
      action: { type: 'startWorkflow', workflowType: 'monitorWatchdog', taskQueue: TASK_QUEUE, args: [{ config }], workflowId: `${id}/run` },
      policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL },
    });
    const verdictOfRun = async (n: number): Promise<WatchdogVerdict> => {
      const desc = await waitFor(`watchdog run ${n}`, async () => {
        const x = await schedule.describe();
        return x.info.recentActions.length >= n ? x : undefined;
      }, { timeoutMs: 20_000 });
      const action = desc.info.recentActions[n - 1]?.action;
      if (action?.type !== 'startWorkflow') throw new Error('no started watchdog run');
      return client.workflow.getHandle(action.workflow.workflowId, action.workflow.firstExecutionRunId).result() as Promise<WatchdogVerdict>;
    };

    await schedule.trigger();
    const alive = await verdictOfRun(1);
    expect(alive).toMatchObject({ ok: true, problem: null, alert: null });
    expect(alive.lastCycleAgeMs).toBeLessThan(10_000);

    const monitor = client.workflow.getHandle(monitorWorkflowId(TREASURY));
    await monitor.terminate('the watchdog test kills the monitor');
    await schedule.trigger();
    const dead = await verdictOfRun(2);
    expect(dead).toMatchObject({ ok: false, problem: 'not-running' });
    expect(dead.message).toMatch(/is not running \(terminated at /);
    expect(dead.message).toMatch(/npm start/);
    expect(dead.message).toMatch(/temporal workflow reset/);

    const alerts = await waitFor('the watchdog alert in the store', async () => {
      const a = (await world.store.alerts(TREASURY)).filter((x) => x.alertKey.startsWith(`watchdog/${TREASURY}/`));
      return a.length > 0 ? a : undefined;
    }, { timeoutMs: 20_000 });
    expect(alerts[0]).toMatchObject({ level: 'critical', kind: 'system-failure' });
    expect(alerts[0]?.message).toMatch(/^Watchdog: monitor monitor\/faults is not running/);
    const logs = await world.store.monitoringLogs(TREASURY, 0, Number.MAX_SAFE_INTEGER);
    expect(logs.filter((l) => (l.data as { job?: string }).job === 'watchdog').map((l) => (l.data as { ok: boolean }).ok)).toEqual([true, false]);

    // The operator's status shows the verdict (a closed monitor still answers queries from its history).
    const run = await cli(['status']);
    expect(run.stdout + run.stderr).toMatch(/Watchdog at .*ALERT not-running — monitor monitor\/faults is not running/);
    await schedule.delete();
  }, 120_000);
});

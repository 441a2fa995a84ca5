/**
 * Halts and settlement on the real dev server (the time-skipping server hides
 * some failures): an emergency stop while the first slice of a sliced swap
 * runs stops the swap before its second, with no failed workflow task; and the
 * reconcile Schedule closes the store row of an intervention terminated
 * mid-way. In-process worker over a paper world on a real SQLite file, 1-second cycles.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/index.ts';
import { parseConfig, type Config, type ConfigInput } from '../../src/config.ts';
import { SCHEDULES } from '../../src/runtime/ensure.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import { createWorker, paperDeps } from '../../src/runtime/worker.ts';
import type { DevServer } from '../../src/temporal/server.ts';
import {
  TASK_QUEUE, emergencyStopSignal, interventionStateQuery, interventionWorkflowId, monitorWorkflowId, scheduleId, statusQuery, type InterventionState,
} from '../../src/workflows/contract.ts';
import { ephemeralDevServer, waitFor } from './fixtures/e2e.ts';

let dir: string;
let server: DevServer;
const worlds: PaperWorld[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pstr-settle-'));
  server = await ephemeralDevServer(dir);
}, 60_000);

afterAll(async () => {
  await Promise.all(worlds.map((w) => w.store.close()));
  await server?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const configOf = (treasuryId: string, over: ConfigInput): Config => parseConfig({
  treasuryId,
  mode: 'paper',
  monitor: { cycleIntervalSeconds: 1 },
  treasury: { initial: { pump: '40000000', usdc: '700000' } },
  intervention: { operators: ['alice', 'bob'], timelockThresholdUsd: 1e12 },
  liquidity: { enabled: false },
  paper: { drawdown: { startInSeconds: 0, rampSeconds: 1, depth: 0.18 } },
  ...over,
});

async function workerFor(config: Config, wrap: (d: ActivityDeps) => ActivityDeps = (d) => d): Promise<{ world: PaperWorld; worker: Worker; taskQueue: string }> {
  const dataDir = join(dir, config.treasuryId);
  mkdirSync(dataDir, { recursive: true });
  const world = await buildPaperWorld(config, { dataDir });
  worlds.push(world);
  const taskQueue = `${TASK_QUEUE}-${config.treasuryId}`;
  const worker = await createWorker({ connection: server.env.nativeConnection, namespace: 'default', taskQueue, deps: wrap(paperDeps(config, world, server.env.client, pino({ level: 'silent' }))) });
  return { world, worker, taskQueue };
}

/** No workflow task of this workflow failed (a throwing handler or a plain Error would show here). */
async function failedTasks(workflowId: string): Promise<number> {
  const history = await server.env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
}

describe('on the dev server', () => {
  it('an emergency stop while slice 0 runs stops a sliced swap before slice 1; the intervention ends aborted with what was filled', async () => {
    const config = configOf('halt-dev', { paper: { drawdown: { startInSeconds: 0, rampSeconds: 1, depth: 0.18 }, poolDepthUsd: 400_000 } });
    const client = server.env.client;
    const id = interventionWorkflowId(config.treasuryId, 1);
    // The stop is sent from inside the swap activity, after the ledger filled slice 0 and before the slice returns.
    const { world, worker, taskQueue } = await workerFor(config, (d) => ({
      ...d,
      treasury: {
        balances: () => d.treasury.balances(), quote: (p) => d.treasury.quote(p), accumulate: (r) => d.treasury.accumulate(r),
        settledSwaps: () => d.treasury.settledSwaps?.() ?? Promise.resolve([]),
        swap: async (req) => {
          const r = await d.treasury.swap(req);
          if (req.slice === 0 && !r.alreadyDone) await client.workflow.getHandle(monitorWorkflowId(config.treasuryId)).signal(emergencyStopSignal, { by: 'alice', reason: 'e2e drill' });
          return r;
        },
      },
    }));
    await worker.runUntil(async () => {
      const monitor = await client.workflow.start('strategyMonitor', { taskQueue, workflowId: monitorWorkflowId(config.treasuryId), args: [{ config }] });
      try {
        const iv = client.workflow.getHandle(id);
        const st = await waitFor('the intervention to end', async () => {
          const s = await iv.query<InterventionState>(interventionStateQuery);
          return s.status !== 'running' ? s : undefined;
        }, { timeoutMs: 90_000, intervalMs: 250 });
        expect(st.status).toBe('aborted');
        expect(st.reason).toMatch(/^halted by emergency stop before slice 1; filled 1 slice: [\d.]+ PSTR for [\d.]+ PUMP; [\d.]+ PUMP unfilled$/);
        expect(BigInt(st.result?.unfilledPump ?? '0')).toBeGreaterThan(0n);
        // A few more cycles: nothing else fills.
        const base = (await monitor.query(statusQuery)).cycles;
        await waitFor('three more cycles', async () => ((await monitor.query(statusQuery)).cycles >= base + 3 ? true : undefined), { timeoutMs: 30_000 });
        expect(await world.ledger.swapCount()).toBe(1);
        expect((await world.store.swaps(id)).map((s) => [s.slice, s.status])).toEqual([[0, 'confirmed']]);
        expect(await world.store.intervention(id)).toMatchObject({ status: 'aborted', reason: st.reason });
        await waitFor('the intervention to complete', async () => ((await iv.describe()).status.name === 'COMPLETED' ? true : undefined), { timeoutMs: 30_000 });
        const s = await monitor.query(statusQuery);
        expect(s).toMatchObject({ emergencyStop: true, pendingInterventions: [] });
        expect(await failedTasks(id)).toBe(0);
        expect(await failedTasks(monitorWorkflowId(config.treasuryId))).toBe(0);
      } finally {
        await monitor.terminate().catch(() => undefined);
      }
    });
  }, 180_000);

  it('the reconcile Schedule closes the row of an intervention terminated in its timelock', async () => {
    // The default 10k USD timelock threshold: the ≈ 20k USD intervention waits for approvals, its row `running`.
    const config = configOf('reconcile-dev', { intervention: { operators: ['alice', 'bob'] } });
    const client = server.env.client;
    const id = interventionWorkflowId(config.treasuryId, 1);
    const { world, worker, taskQueue } = await workerFor(config);
    await worker.runUntil(async () => {
      const monitor = await client.workflow.start('strategyMonitor', { taskQueue, workflowId: monitorWorkflowId(config.treasuryId), args: [{ config }] });
      const job = SCHEDULES.find((s) => s.job === 'reconcile');
      if (!job) throw new Error('no reconcile schedule in SCHEDULES');
      const schedule = client.schedule.getHandle(scheduleId(config.treasuryId, 'reconcile'));
      try {
        await waitFor('the intervention to wait in its timelock', async () => (await world.store.intervention(id))?.status === 'running' && (await client.workflow.getHandle(id).query<InterventionState>(interventionStateQuery)).stage === 'timelock', { timeoutMs: 60_000 });
        await client.workflow.getHandle(id).terminate('e2e: lost mid-way');
        await client.schedule.create({
          scheduleId: scheduleId(config.treasuryId, 'reconcile'),
          spec: { intervals: [{ every: '1s' }] },
          action: { type: 'startWorkflow', workflowType: job.workflowType, taskQueue, args: [{ config }], workflowId: `${scheduleId(config.treasuryId, 'reconcile')}/run` },
          policies: { overlap: ScheduleOverlapPolicy.SKIP },
        });
        const row = await waitFor('the reconciler to close the row', async () => {
          const r = await world.store.intervention(id);
          return r?.status !== 'running' ? r : undefined;
        }, { timeoutMs: 60_000 });
        expect(row).toMatchObject({ status: 'aborted', reason: 'closed by the reconciler: workflow TERMINATED' });
        expect((await world.store.alerts(config.treasuryId, { level: 'critical' })).map((a) => a.kind)).not.toContain('books-mismatch');
      } finally {
        await schedule.delete().catch(() => undefined);
        await monitor.terminate().catch(() => undefined);
      }
    });
  }, 180_000);
});

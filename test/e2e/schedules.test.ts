/**
 * Schedules exist and fire: on the real dev server, ensureSchedules creates
 * the four job schedules, the monitor's watchdog and the reconciler, each fires and its workflow completes, the
 * accumulation job buys PUMP in the paper ledger, a second ensureSchedules
 * creates nothing, and a paused schedule says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScheduleDescription } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { NEUTRAL_CONTROL } from '../../src/domain/control.ts';
import { SCHEDULES, ensureSchedules } from '../../src/runtime/ensure.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import { createWorker, paperDeps } from '../../src/runtime/worker.ts';
import type { DevServer } from '../../src/temporal/server.ts';
import { scheduleId } from '../../src/workflows/contract.ts';
import { ephemeralDevServer, waitFor } from './fixtures/e2e.ts';

const TREASURY = 'sched';
const config = parseConfig({
  treasuryId: TREASURY,
  mode: 'paper',
  // 40M PUMP ≈ 200k USD beside 700k USDC: PUMP concentration well under 0.8, so the hourly buy is due.
  treasury: { initial: { pump: '40000000', usdc: '700000' } },
});
const ids = SCHEDULES.map((s) => scheduleId(TREASURY, s.job));

let dir: string;
let server: DevServer;
let world: PaperWorld;
let worker: Worker;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pstr-sched-'));
  server = await ephemeralDevServer(dir);
  world = await buildPaperWorld(config, { dataDir: dir });
  // No monitor runs here: its control record (not paused, not latched) stands in, since accumulation fails closed without either.
  await world.store.saveControlState({ treasuryId: TREASURY, ...NEUTRAL_CONTROL, updatedAt: Date.now() });
  // Nor its first config version, which the jobs read (the config authority): written as the monitor would.
  await world.store.appendConfigVersion({ treasuryId: TREASURY, version: 1, config, source: 'file', by: null, at: Date.now() });
  worker = await createWorker({
    connection: server.env.nativeConnection, namespace: 'default',
    deps: paperDeps(config, world, server.env.client, pino({ level: 'silent' })),
  });
}, 120_000);

afterAll(async () => {
  await world?.store.close();
  await server?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('the scheduled jobs on the dev server', () => {
  it('creates the six schedules (four jobs, the watchdog and the reconciler) once, each fires and completes its job, accumulation buys PUMP, and a schedule can be paused', async () => {
    const client = server.env.client;
    const before = await world.ledger.balances();

    await worker.runUntil(async () => {
      const first = await ensureSchedules(client, config, { everyOverride: '2s' });
      expect(first.created.sort()).toEqual([...ids].sort());
      expect(first.existing).toEqual([]);

      // The list comes from the visibility store, which catches up a moment after the creates.
      const listed = await waitFor('the six schedules to be listed', async () => {
        const found = await listedIds();
        return found.length >= ids.length ? found : undefined;
      }, { timeoutMs: 10_000 });
      expect(listed).toEqual([...ids].sort());

      // Each schedule fires and the workflow it started completes.
      for (const s of SCHEDULES) {
        const handle = client.schedule.getHandle(scheduleId(TREASURY, s.job));
        const d = await waitFor(`${s.job} to fire`, async () => {
          const desc = await handle.describe();
          return desc.info.recentActions.length > 0 ? desc : undefined;
        }, { timeoutMs: 30_000, intervalMs: 250 });
        expect(d.action.type).toBe('startWorkflow');
        if (d.action.type === 'startWorkflow') expect(d.action.workflowType).toBe(s.workflowType);
        const started = firstStarted(d);
        const run = client.workflow.getHandle(started.workflowId, started.firstExecutionRunId);
        await run.result();
        const info = await run.describe();
        expect(info.type).toBe(s.workflowType);
        expect(info.status.name).toBe('COMPLETED');
      }

      // Every job wrote its result to the store.
      const jobs = new Set((await world.store.monitoringLogs(TREASURY, 0, Date.now() + 60_000)).map((l) => (l.data as { job?: string }).job));
      expect([...jobs].sort()).toEqual(['accumulation', 'liquidity', 'performance', 'reconcile', 'risk', 'watchdog']);
      // No monitor runs in this test: the watchdog says so, critically, with how to recover.
      const watchdog = (await world.store.alerts(TREASURY)).find((a) => a.alertKey.startsWith(`watchdog/${TREASURY}/`));
      expect(watchdog).toMatchObject({ level: 'critical', kind: 'system-failure' });
      expect(watchdog?.message).toMatch(/monitor monitor\/sched does not exist.*npm start/);

      // The accumulation job bought PUMP with USDC, at most once per hour whatever the cadence.
      const buys = (await world.ledger.entries()).filter((e) => e.kind === 'accumulation');
      expect(buys.length).toBeGreaterThanOrEqual(1);
      expect(new Set(buys.map((e) => e.entryKey)).size).toBe(buys.length);
      expect(buys.every((e) => e.entryKey.startsWith(`accumulation/${TREASURY}/`))).toBe(true);
      expect(buys.every((e) => e.pumpDelta > 0n && e.usdcDelta < 0n)).toBe(true);
      const after = await world.ledger.balances();
      expect(after.pump).toBe(before.pump + buys.reduce((t, e) => t + e.pumpDelta, 0n));
      expect(after.usdc).toBe(before.usdc + buys.reduce((t, e) => t + e.usdcDelta, 0n));
      expect(after.pump).toBeGreaterThan(before.pump);

      // Running it again (every start of the agent does) finds them all and creates nothing.
      const again = await ensureSchedules(client, config, { everyOverride: '2s' });
      expect(again.created).toEqual([]);
      expect(again.existing.sort()).toEqual([...ids].sort());
      await new Promise((r) => setTimeout(r, 1000));
      expect(await listedIds()).toEqual([...ids].sort());

      // An operator pauses one schedule; the others stay active.
      const accumulation = client.schedule.getHandle(scheduleId(TREASURY, 'accumulation'));
      await accumulation.pause('operator alice: holding purchases during the test');
      const paused = await accumulation.describe();
      expect(paused.state.paused).toBe(true);
      expect(paused.state.note).toMatch(/alice/);
      expect((await client.schedule.getHandle(scheduleId(TREASURY, 'risk-assessment')).describe()).state.paused).toBe(false);

      for (const id of ids) await client.schedule.getHandle(id).delete();
    });
  }, 120_000);
});

async function listedIds(): Promise<string[]> {
  const found: string[] = [];
  for await (const s of server.env.client.schedule.list()) found.push(s.scheduleId);
  return found.sort();
}

function firstStarted(d: ScheduleDescription): { workflowId: string; firstExecutionRunId: string } {
  const action = d.info.recentActions[0]?.action;
  if (!action || action.type !== 'startWorkflow') throw new Error(`schedule ${d.scheduleId} has no started workflow`);
  return action.workflow;
}

/**
 * The safety-state activities over a real store (SQLite and PostgreSQL):
 * what loadControl folds in from the interventions table, and how the gate
 * activities (gateContext, controlState) read the store together with the
 * monitor, failing closed when neither can tell. Temporal's answers
 * (monitorStatus, workflowState) are given per test; the dev-server test
 * (test/e2e/durable-control.test.ts) runs the real ones.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controlActivities } from '../../src/activities/control.ts';
import type { ActivityDeps, WorkflowState } from '../../src/activities/deps.ts';
import { interventionActivities } from '../../src/activities/intervention.ts';
import { scheduledActivities } from '../../src/activities/scheduled.ts';
import type { TreasuryStore } from '../../src/db/store.ts';
import { NEUTRAL_CONTROL } from '../../src/domain/control.ts';
import { demoConfig } from '../../src/runtime/demo.ts';
import type { MonitorStatus } from '../../src/workflows/contract.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const T = 'control-acts';
const HOUR = 3_600_000;

type Monitor = MonitorStatus | null | Error;

function deps(store: TreasuryStore, monitor: Monitor, workflows: Record<string, WorkflowState | null> = {}): ActivityDeps {
  return {
    config: { ...demoConfig(), treasuryId: T }, store, sources: [], liquidity: null,
    // A treasury without the propose-only reads (the gates' proposal facts are null).
    market: undefined as never, treasury: {} as never,
    monitorStatus: () => (monitor instanceof Error ? Promise.reject(monitor) : Promise.resolve(monitor)),
    workflowState: (id) => Promise.resolve(workflows[id] ?? null),
    logger: pino({ level: 'silent' }),
  };
}

const status = (o: Partial<MonitorStatus> = {}): MonitorStatus => ({
  treasuryId: T, mode: 'paper', paused: false, emergencyStop: false, cycles: 3, lastCycle: null, pendingInterventions: [], interventionCount: 0,
  lastExecutedSwapAt: null, noValidPriceStreak: 0, recentOperatorEvents: [], undeliveredCritical: { count: 0, oldest: null }, cycleIntervalSeconds: 1,
  ...o,
});

const running: WorkflowState = { status: 'RUNNING', running: true, closedAt: null };
const terminated: WorkflowState = { status: 'TERMINATED', running: false, closedAt: 1 };

for (const backend of STORE_BACKENDS) {
  describe.skipIf(!backend.available)(`the safety-state activities on ${backend.name}`, () => {
    let store: TreasuryStore;
    beforeEach(async () => {
      store = await backend.throwaway();
    });
    afterEach(async () => {
      await store.close();
    });

    const row = (seq: number, status: 'running' | 'executed' | 'rejected', startedAt: number, executedAt: number | null = null) => store.upsertIntervention({
      id: `intervention/${T}/${seq}`, treasuryId: T, seq, startedAt, status, decidedPrice: 0.4, vwap30: 0.5, drawdown: 0.2, executedAt, updatedAt: startedAt,
    });

    it('loads nothing for a treasury the store has never heard of', async () => {
      expect(await controlActivities(deps(store, null)).loadControl({ treasuryId: T })).toBeNull();
    });

    it('loads what was saved, with the sequence past every recorded intervention and only the running workflows in flight', async () => {
      const now = Date.now();
      const acts = controlActivities(deps(store, null, { [`intervention/${T}/2`]: terminated, [`intervention/${T}/3`]: running }));
      await acts.saveControl({ treasuryId: T, control: { ...NEUTRAL_CONTROL, emergencyStop: true, latchedBy: 'alice', latchReason: 'exploit', latchedAt: now - HOUR, nextSeq: 2, updatedAt: now - HOUR } });
      await row(1, 'executed', now - 3 * HOUR, now - 3 * HOUR + 60_000);
      await row(2, 'running', now - 2 * HOUR);
      await row(3, 'running', now - HOUR);
      expect(await acts.loadControl({ treasuryId: T })).toEqual({
        ...NEUTRAL_CONTROL, emergencyStop: true, latchedBy: 'alice', latchReason: 'exploit', latchedAt: now - HOUR, updatedAt: now - HOUR,
        nextSeq: 4, lastExecutedSwapAt: now - 3 * HOUR + 60_000, interventionStarts: [now - 3 * HOUR, now - 2 * HOUR, now - HOUR],
        inFlight: [`intervention/${T}/3`], version: 1, stored: true,
      });
    });

    it('counts as in flight an intervention started under a saved sequence number before it wrote its row, while its workflow runs', async () => {
      const now = Date.now();
      await store.saveControlState({ treasuryId: T, ...NEUTRAL_CONTROL, nextSeq: 4, updatedAt: now });
      await row(1, 'rejected', now - HOUR);
      const acts = (iv3: WorkflowState | null) => controlActivities(deps(store, null, { [`intervention/${T}/2`]: terminated, [`intervention/${T}/3`]: iv3 }));
      expect((await acts(running).loadControl({ treasuryId: T }))?.inFlight).toEqual([`intervention/${T}/3`]);
      expect((await acts(null).loadControl({ treasuryId: T }))?.inFlight).toEqual([]);
    });

    it('reads blocked, with the reason, when neither the store nor the monitor can tell', async () => {
      const gate = await interventionActivities(deps(store, null)).gateContext({ treasuryId: T, excludeId: 'x' });
      expect(gate).toMatchObject({ paused: true, emergencyStop: false, failClosed: true, monitorRunning: false });
      expect(gate.reason).toBe('safety state unknown: the store has no control record and no monitor is running');
      const job = await scheduledActivities(deps(store, new Error('query timed out'))).controlState({ treasuryId: T });
      expect(job).toMatchObject({ running: false, paused: true, failClosed: true });
      expect(job.reason).toContain('the monitor could not be reached (query timed out)');
    });

    it('keeps a stored latch when no monitor runs, and its last swap for the cooldown', async () => {
      await store.saveControlState({ treasuryId: T, ...NEUTRAL_CONTROL, emergencyStop: true, latchedBy: 'alice', latchReason: 'exploit', lastExecutedSwapAt: 5_000, updatedAt: 1 });
      const gate = await interventionActivities(deps(store, null)).gateContext({ treasuryId: T, excludeId: 'x' });
      expect(gate).toMatchObject({ paused: false, emergencyStop: true, failClosed: false, lastExecutedSwapAt: 5_000, reason: 'emergency stop latched by alice (exploit)' });
      expect(await scheduledActivities(deps(store, null)).controlState({ treasuryId: T })).toMatchObject({ emergencyStop: true, running: false });
    });

    it('is paused when the live monitor says so though the store does not, and blocked by a monitor that has not loaded its state over an empty store', async () => {
      const unloaded = status({ control: { loaded: false, problem: 'safety state not loaded', unsaved: true, record: null, version: null } });
      expect(await scheduledActivities(deps(store, unloaded)).controlState({ treasuryId: T })).toMatchObject({ paused: true, failClosed: true });
      await store.saveControlState({ treasuryId: T, ...NEUTRAL_CONTROL, updatedAt: 1 });
      expect(await scheduledActivities(deps(store, status({ paused: true }))).controlState({ treasuryId: T })).toMatchObject({ paused: true, running: true, failClosed: false });
      expect(await scheduledActivities(deps(store, status())).controlState({ treasuryId: T })).toMatchObject({ paused: false, emergencyStop: false, reason: null });
    });
  });
}

/**
 * The safety state in the store: the monitor loads it at every run start and
 * saves it as it changes; the gates (gateContext, controlState) read it as
 * the source of truth together with the live monitor. Rules in
 * src/domain/control.ts.
 */
import {
  controlVerdict, foldInterventions, startsFromJson, TRAILING_STARTS_MS, type ControlRecord, type ControlVerdict, type LoadedControl,
  type MonitorView, type StoreView, type StoredControl,
} from '../domain/control.ts';
import type { ControlStateRow } from '../db/store.ts';
import { interventionWorkflowId } from '../workflows/contract.ts';
import { serverClock, type ActivityDeps } from './deps.ts';

function storedControl(row: ControlStateRow): StoredControl {
  return {
    paused: row.paused, pausedBy: row.pausedBy, pauseReason: row.pauseReason, emergencyStop: row.emergencyStop, latchedBy: row.latchedBy,
    latchReason: row.latchReason, latchedAt: row.latchedAt, lastExecutedSwapAt: row.lastExecutedSwapAt, nextSeq: row.nextSeq,
    interventionStarts: startsFromJson(row.interventionStarts), updatedAt: row.updatedAt, version: row.version,
  };
}

/** How many reserved sequence numbers without a row loadControl looks up (normally 0 or 1: a start whose first step was not recorded yet). */
const RESERVED_LOOKUPS = 10;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 300);

/** Pause and latch as a gate reads them: the store's record OR-ed with the live monitor's status; blocked when neither tells. */
export async function readControlVerdict(deps: ActivityDeps, treasuryId: string): Promise<ControlVerdict & { monitorRunning: boolean; record: ControlRecord | null }> {
  const [store, monitor] = await Promise.all([
    deps.store.controlState(treasuryId).then(
      (row): StoreView => (row ? { kind: 'record', record: storedControl(row) } : { kind: 'absent' }),
      (err: unknown): StoreView => ({ kind: 'unreadable', error: message(err) }),
    ),
    deps.monitorStatus(treasuryId).then(
      (s): MonitorView => (s ? { kind: 'status', paused: s.paused, emergencyStop: s.emergencyStop, safetyLoaded: s.control?.loaded ?? null } : { kind: 'absent' }),
      (err: unknown): MonitorView => ({ kind: 'unreachable', error: message(err) }),
    ),
  ]);
  const verdict = controlVerdict(store, monitor);
  if (verdict.failClosed) deps.logger.warn({ treasuryId, reason: verdict.reason }, 'safety state unknown: read as paused');
  return { ...verdict, monitorRunning: monitor.kind === 'status', record: store.kind === 'record' ? store.record : null };
}

/** Interventions started under a reserved sequence number (maxSeq < seq < nextSeq) that have no store row and still run. */
async function reservedInFlight(deps: ActivityDeps, treasuryId: string, maxSeq: number, nextSeq: number): Promise<string[]> {
  const ids: string[] = [];
  for (let seq = Math.max(maxSeq + 1, nextSeq - RESERVED_LOOKUPS); seq < nextSeq; seq++) {
    const id = interventionWorkflowId(treasuryId, seq);
    if ((await deps.workflowState(id))?.running) ids.push(id);
  }
  return ids;
}

export function controlActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /**
     * The treasury's control record folded with the interventions table (next
     * sequence past every recorded one, trailing starts, last executed swap,
     * and the rows still running whose workflow still runs); null when the
     * store knows nothing of the treasury.
     */
    async loadControl(input: { treasuryId: string }): Promise<LoadedControl | null> {
      const now = serverClock();
      const row = await store.controlState(input.treasuryId);
      const facts = await store.interventionBootstrap(input.treasuryId, now - TRAILING_STARTS_MS);
      const inFlight: string[] = [];
      // A row left `running` by a workflow that has closed is not in flight: nothing would ever settle it with the monitor.
      for (const id of facts.running) if ((await deps.workflowState(id))?.running) inFlight.push(id);
      const folded = foldInterventions(row ? storedControl(row) : null, facts, inFlight, now);
      // A sequence number saved as taken whose intervention has no row yet (the monitor died right after starting it) may still run.
      const loaded = folded && { ...folded, inFlight: [...inFlight, ...await reservedInFlight(deps, input.treasuryId, facts.maxSeq ?? 0, folded.nextSeq)] };
      deps.logger.info({ treasuryId: input.treasuryId, version: loaded?.version ?? null, nextSeq: loaded?.nextSeq ?? null, emergencyStop: loaded?.emergencyStop ?? null, inFlight }, 'control state loaded');
      return loaded;
    },

    /** Saves the monitor's record (TreasuryStore.saveControlState: stale writes ignored, sequence never backwards). */
    async saveControl(input: { treasuryId: string; control: ControlRecord }): Promise<{ written: boolean; version: number }> {
      const c = input.control;
      const result = await store.saveControlState({
        treasuryId: input.treasuryId, paused: c.paused, pausedBy: c.pausedBy, pauseReason: c.pauseReason, emergencyStop: c.emergencyStop,
        latchedBy: c.latchedBy, latchReason: c.latchReason, latchedAt: c.latchedAt, lastExecutedSwapAt: c.lastExecutedSwapAt,
        nextSeq: c.nextSeq, interventionStarts: c.interventionStarts, updatedAt: c.updatedAt,
      });
      deps.logger.info({ treasuryId: input.treasuryId, ...result, paused: c.paused, emergencyStop: c.emergencyStop, nextSeq: c.nextSeq }, 'control state saved');
      return result;
    },
  };
}

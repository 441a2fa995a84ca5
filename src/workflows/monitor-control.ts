/**
 * The monitor's side of the safety state in the store (issue #9 point 4):
 * every run loads the control record before its first cycle, and saves it
 * whenever pause, the latch, the last executed swap, the sequence or the
 * trailing starts change in memory. Until the record is loaded the monitor
 * counts as paused ("safety state not loaded"); an intervention starts only
 * once the record naming its sequence number is saved, so a fresh monitor
 * (after a termination, a reset or a lost namespace) never reuses an id and
 * never forgets a latch. A load or save that fails degrades, never fails
 * the monitor: it is retried at the next cycle.
 *
 * Runs recorded before this existed replay without any of it: everything
 * here is behind `patched(DURABLE_CONTROL_PATCH)`, decided once per run.
 */
import { ActivityFailure, condition, log, patched, proxyActivities } from '@temporalio/workflow';
import { proxyLocalActivitiesAsTasks } from './local-activities.ts';
import type { Activities } from '../activities/index.ts';
import { mergeControl, recordOf, sameControl, type ControlMemory, type ControlRecord, type LoadedControl } from '../domain/control.ts';
import type { ControlStatus, OperatorEvent } from './contract.ts';
import type { MonitorMemory } from './monitor-cycle.ts';
import type { Config } from '../config-schema.ts';

export const DURABLE_CONTROL_PATCH = 'durable-control';

/** Carried across continue-as-new with the rest of the monitor's state. */
export interface MonitorControl {
  /** This run took the patched path (set at its start; a carried value is ignored). */
  enabled: boolean;
  loaded: boolean;
  /** The record last saved or loaded, and its store version: what the memory is compared with. */
  saved: ControlRecord | null;
  version: number | null;
  problem: string | null;
  /** A save failed since the last cycle: wait for the next cycle before trying again (no busy retry). */
  backoff: boolean;
  /** A load or save is out (see exclusive). */
  busy: boolean;
}

/** What of the monitor's state this module reads and writes. */
export interface ControlledState extends MonitorMemory {
  config: Config;
  nextSeq: number;
  lastReserveRatio: number | null;
  operatorEvents: OperatorEvent[];
  wake: boolean;
  control?: MonitorControl;
}

// Short and bounded by scheduleToClose: a store that cannot answer within it is a degraded cycle, retried at the next one.
const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '5 seconds' },
});

/** The saves as local activities (one marker each instead of six events; a save is a compare-and-set, safe to repeat). */
export const LOCAL_CONTROL_SAVE_PATCH = 'local-control-save';
const localActs = proxyLocalActivitiesAsTasks<Activities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '20 seconds',
  // Attempts bound it on the time-skipping server too (backoffs 1, 2, 4, 5 s: 12 s); retries wait on workflow timers.
  retry: { initialInterval: '1 second', maximumInterval: '5 seconds', maximumAttempts: 5 },
  localRetryThreshold: 1,
});

const NOT_LOADED = 'safety state not loaded';

const errorText = (err: unknown) => (err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message);

function controlOf(s: ControlledState): MonitorControl {
  s.control ??= { enabled: false, loaded: false, saved: null, version: null, problem: null, backoff: false, busy: false };
  return s.control;
}

/** Decides, once at the start of a run, whether this run keeps its safety state in the store. */
export function startControl(s: ControlledState): boolean {
  const enabled = patched(DURABLE_CONTROL_PATCH);
  const c = controlOf(s);
  // Every run loads again: a carried `loaded` speaks of the previous run.
  s.control = { ...c, enabled, loaded: false, backoff: false, busy: false, problem: enabled ? NOT_LOADED : null };
  return enabled;
}

const enabledFor = (s: ControlledState) => s.control?.enabled === true;

function memoryOf(s: ControlledState): ControlMemory {
  return {
    paused: s.paused, emergencyStop: s.emergencyStop, lastExecutedSwapAt: s.lastExecutedSwapAt, nextSeq: s.nextSeq,
    interventionStarts: [...s.interventionStarts], inFlight: [...s.inFlight],
  };
}

function currentRecord(s: ControlledState, override: Partial<ControlMemory> = {}): ControlRecord {
  return recordOf(controlOf(s).saved, { ...memoryOf(s), ...override }, s.operatorEvents, {
    now: Date.now(), reserveRatio: s.lastReserveRatio, minRr: s.config.risk.minRrThreshold,
  });
}

/** Whether the memory holds a change the store has not got yet. */
export function controlUnsaved(s: ControlledState): boolean {
  if (!enabledFor(s)) return false;
  const c = controlOf(s);
  return !c.loaded || c.saved === null || !sameControl(currentRecord(s), c.saved);
}

/** Loads the control record and merges it into the memory (rules in src/domain/control.ts); false when the store could not be read. */
async function load(s: ControlledState): Promise<boolean> {
  const c = controlOf(s);
  const before = memoryOf(s);
  let loaded: LoadedControl | null;
  try {
    loaded = await acts.loadControl({ treasuryId: s.config.treasuryId });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    c.problem = `${NOT_LOADED}: ${errorText(err)}`;
    log.warn('control state not loaded: counting as paused, retrying at the next cycle', { treasuryId: s.config.treasuryId, problem: c.problem });
    return false;
  }
  const merged = mergeControl(before, c.saved, c.version, loaded, Date.now());
  // An operator's message handled while the load was out is newer than both: it stands.
  const now = memoryOf(s);
  s.paused = now.paused !== before.paused ? now.paused : merged.paused;
  s.emergencyStop = now.emergencyStop !== before.emergencyStop ? now.emergencyStop : merged.emergencyStop;
  s.lastExecutedSwapAt = Math.max(now.lastExecutedSwapAt ?? -Infinity, merged.lastExecutedSwapAt ?? -Infinity);
  if (!Number.isFinite(s.lastExecutedSwapAt)) s.lastExecutedSwapAt = null;
  s.nextSeq = Math.max(now.nextSeq, merged.nextSeq);
  s.interventionStarts = [...new Set([...merged.interventionStarts, ...now.interventionStarts])].sort((a, b) => a - b);
  s.inFlight = [...new Set([...merged.inFlight, ...now.inFlight])];
  if (loaded) {
    const { version, inFlight: _inFlight, stored, ...record } = loaded;
    c.saved = stored ? record : null;
    c.version = stored ? version : null;
  } else {
    c.saved = null;
    c.version = null;
  }
  c.loaded = true;
  c.problem = null;
  log.info('control state loaded', { treasuryId: s.config.treasuryId, version: c.version, paused: s.paused, emergencyStop: s.emergencyStop, nextSeq: s.nextSeq });
  return true;
}

/** Saves `record` when it differs from the last saved one; false when the store refused or could not be reached. */
async function save(s: ControlledState, record: ControlRecord): Promise<boolean> {
  const c = controlOf(s);
  if (c.saved !== null && sameControl(record, c.saved)) return true;
  try {
    const r = await (patched(LOCAL_CONTROL_SAVE_PATCH) ? localActs : acts).saveControl({ treasuryId: s.config.treasuryId, control: record });
    if (!r.written) {
      // The store holds a newer record than ours (another run wrote it): load it and merge before saving again.
      c.loaded = false;
      c.problem = `${NOT_LOADED}: the store holds a newer record (version ${r.version})`;
      return false;
    }
    c.saved = record;
    c.version = r.version;
    c.problem = null;
    c.backoff = false;
    return true;
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    c.problem = `safety state not saved: ${errorText(err)}`;
    c.backoff = true;
    log.warn('control state not saved: no intervention until it is', { treasuryId: s.config.treasuryId, problem: c.problem });
    return false;
  }
}

/** Runs `fn` alone: the saver and the loop never have two loads or saves out at once (a flag, not a promise, so it can be carried). */
async function exclusive<T>(s: ControlledState, fn: () => Promise<T>): Promise<T> {
  while (controlOf(s).busy) await condition(() => !controlOf(s).busy);
  controlOf(s).busy = true;
  try {
    return await fn();
  } finally {
    controlOf(s).busy = false;
  }
}

/** Brings the store and the memory together: loads when not loaded yet, then saves what changed. Never throws for the store's sake. */
export async function syncControl(s: ControlledState): Promise<void> {
  if (!enabledFor(s)) return;
  await exclusive(s, async () => {
    if (!controlOf(s).loaded && !(await load(s))) return;
    await save(s, currentRecord(s));
  });
}

/**
 * Saves a change as soon as a handler or the cycle makes it, without
 * waiting for the next cycle. It waits on the memory, not on a timer, so
 * the loop's own timing is untouched. After a failed save it waits for the
 * loop's next sync (no busy retry against a store that is down).
 */
export function startControlSaver(s: ControlledState): void {
  if (!enabledFor(s)) return;
  void (async () => {
    for (;;) {
      await condition(() => !controlOf(s).busy && controlOf(s).loaded && !controlOf(s).backoff && controlUnsaved(s));
      await syncControl(s);
    }
  })();
}

/**
 * Before an intervention starts: saves the record with its sequence number
 * taken and its start counted. False (start nothing) when the state is not
 * loaded or the save failed. Runs without the patch always go ahead.
 */
export async function reserveIntervention(s: ControlledState, now: number): Promise<boolean> {
  if (!enabledFor(s)) return true;
  return exclusive(s, async () => {
    if (!controlOf(s).loaded) return false;
    return save(s, currentRecord(s, { nextSeq: s.nextSeq + 1, interventionStarts: [...s.interventionStarts, now] }));
  });
}

/** The memory the cycle decides with: paused while the safety state is not loaded. */
export function gateMemory<T extends ControlledState>(s: T): T {
  return enabledFor(s) && !controlOf(s).loaded ? { ...s, paused: true } : s;
}

export function controlStatus(s: ControlledState): ControlStatus | undefined {
  if (!enabledFor(s)) return undefined;
  const c = controlOf(s);
  return { loaded: c.loaded, problem: c.problem, unsaved: controlUnsaved(s), record: c.saved, version: c.version };
}

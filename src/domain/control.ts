/**
 * The treasury's safety state as the store keeps it (one control record per
 * treasury), and the rules that join it with what a monitor carries in memory
 * and with what the gates see. Pure: the caller passes the clock.
 *
 * The rules, in one place:
 * - Folding: the interventions table can only add to the record: the next
 *   sequence number is past every recorded one, the last executed swap is the
 *   latest either knows, the trailing starts are the union of both.
 * - Merging at a monitor's start: the store wins, except that a stop or a
 *   pause the monitor holds and never saved always survives, and a lift it
 *   never saved survives only when nobody wrote the store since its last
 *   save (same version). Counters are the max of both, starts and in-flight
 *   ids the union: a merge never forgets a latch and never reuses an id.
 * - Reading for a gate: paused if the store or the monitor says paused,
 *   latched if either says latched; blocked, with the reason, when neither
 *   can tell (a monitor that has not loaded its safety state cannot tell).
 */

/** Trailing window of intervention starts kept for the daily-limit gate (SPEC §4 counts the last 24 h; twice that is kept). */
export const TRAILING_STARTS_MS = 48 * 3_600_000;

/** Who set a latch the monitor raised itself (RR below the threshold), not an operator. */
export const SYSTEM_LATCH_BY = 'monitor';

/** The control record of one treasury (the store's `control_state` row without its key and version). */
export interface ControlRecord {
  paused: boolean;
  pausedBy: string | null;
  pauseReason: string | null;
  emergencyStop: boolean;
  latchedBy: string | null;
  latchReason: string | null;
  latchedAt: number | null;
  lastExecutedSwapAt: number | null;
  nextSeq: number;
  interventionStarts: number[];
  updatedAt: number;
}

/** A control record as stored: `version` counts its writes (0: never written). */
export interface StoredControl extends ControlRecord {
  version: number;
}

/** What a starting monitor loads: the stored record folded with the interventions table. */
export interface LoadedControl extends StoredControl {
  /** Interventions whose row is `running` and whose workflow still runs. */
  inFlight: string[];
  /** False when no control record existed (only the interventions table spoke). */
  stored: boolean;
}

/** The parts of a monitor's memory the control record mirrors. */
export interface ControlMemory {
  paused: boolean;
  emergencyStop: boolean;
  lastExecutedSwapAt: number | null;
  nextSeq: number;
  interventionStarts: number[];
  inFlight: string[];
}

/** An operator's action as the monitor logged it (its `operatorEvents`). */
export interface ControlEvent {
  at: number;
  action: string;
  by: string | null;
  reason: string | null;
  accepted: boolean;
}

/** What the interventions table says (TreasuryStore.interventionBootstrap). */
export interface InterventionFacts {
  maxSeq: number | null;
  lastExecutedAt: number | null;
  startsSince: number[];
}

export const NEUTRAL_CONTROL: ControlRecord = {
  paused: false, pausedBy: null, pauseReason: null, emergencyStop: false, latchedBy: null, latchReason: null, latchedAt: null,
  lastExecutedSwapAt: null, nextSeq: 1, interventionStarts: [], updatedAt: 0,
};

const laterOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

/** Sorted, deduplicated starts inside the trailing window ending at `now`. */
export function trailingStarts(starts: readonly number[], now: number): number[] {
  return [...new Set(starts)].filter((t) => Number.isFinite(t) && t > now - TRAILING_STARTS_MS).sort((a, b) => a - b);
}

/** The stored JSON list of starts, trusting nothing: anything but finite numbers is dropped. */
export function startsFromJson(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((t): t is number => typeof t === 'number' && Number.isFinite(t)) : [];
}

/** Folds the interventions table into the stored record; null when neither knows anything about the treasury. */
export function foldInterventions(record: StoredControl | null, facts: InterventionFacts, inFlight: readonly string[], now: number): LoadedControl | null {
  if (record === null && facts.maxSeq === null && inFlight.length === 0) return null;
  const base: StoredControl = record ?? { ...NEUTRAL_CONTROL, version: 0 };
  return {
    ...base,
    nextSeq: Math.max(base.nextSeq, (facts.maxSeq ?? 0) + 1),
    lastExecutedSwapAt: laterOf(base.lastExecutedSwapAt, facts.lastExecutedAt),
    interventionStarts: trailingStarts([...base.interventionStarts, ...facts.startsSince], now),
    inFlight: [...inFlight],
    stored: record !== null,
  };
}

/** Whether two records say the same (the time of writing aside). */
export function sameControl(a: ControlRecord, b: ControlRecord): boolean {
  return a.paused === b.paused && a.pausedBy === b.pausedBy && a.pauseReason === b.pauseReason && a.emergencyStop === b.emergencyStop
    && a.latchedBy === b.latchedBy && a.latchReason === b.latchReason && a.latchedAt === b.latchedAt
    && a.lastExecutedSwapAt === b.lastExecutedSwapAt && a.nextSeq === b.nextSeq
    && a.interventionStarts.length === b.interventionStarts.length && a.interventionStarts.every((t, i) => t === b.interventionStarts[i]);
}

/** The newest accepted event of `action` at or after `since`. */
function latestEvent(events: readonly ControlEvent[], action: string, since: number): ControlEvent | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e && e.accepted && e.action === action && e.at >= since) return e;
  }
  return null;
}

/**
 * The record the memory stands for, written against the previous record:
 * who and why of a pause or latch are kept while it holds, and taken from the
 * operator's accepted event when it is new (a latch with no such event was
 * raised by the monitor itself, below `minRr`). `updatedAt` moves only when
 * something changed.
 */
export function recordOf(
  prev: ControlRecord | null, memory: Omit<ControlMemory, 'inFlight'>, events: readonly ControlEvent[],
  ctx: { now: number; reserveRatio: number | null; minRr: number },
): ControlRecord {
  const before = prev ?? NEUTRAL_CONTROL;
  const since = prev?.updatedAt ?? 0;
  let pausedBy: string | null = null;
  let pauseReason: string | null = null;
  if (memory.paused && before.paused) ({ pausedBy, pauseReason } = before);
  else if (memory.paused) {
    const e = latestEvent(events, 'pause', since);
    pausedBy = e?.by ?? null;
    pauseReason = e?.reason ?? null;
  }
  let latchedBy: string | null = null;
  let latchReason: string | null = null;
  let latchedAt: number | null = null;
  if (memory.emergencyStop && before.emergencyStop) ({ latchedBy, latchReason, latchedAt } = before);
  else if (memory.emergencyStop) {
    const e = latestEvent(events, 'emergencyStop', since);
    // The monitor latches itself only on a measured RR below the threshold; otherwise the setter is not known (never guessed).
    const system = e === null && ctx.reserveRatio !== null && ctx.reserveRatio < ctx.minRr;
    latchedBy = e ? e.by : system ? SYSTEM_LATCH_BY : null;
    latchReason = e ? e.reason : system ? `reserve ratio ${(ctx.reserveRatio as number).toFixed(4)} below ${ctx.minRr}` : null;
    latchedAt = e ? e.at : ctx.now;
  }
  const next: ControlRecord = {
    paused: memory.paused, pausedBy, pauseReason, emergencyStop: memory.emergencyStop, latchedBy, latchReason, latchedAt,
    lastExecutedSwapAt: memory.lastExecutedSwapAt, nextSeq: memory.nextSeq, interventionStarts: [...memory.interventionStarts],
    updatedAt: before.updatedAt,
  };
  return prev !== null && sameControl(next, prev) ? prev : { ...next, updatedAt: ctx.now };
}

/** A flag after a merge: see the header (a held stop always survives; an unsaved lift only over an unchanged store). */
function mergedFlag(memory: boolean, base: boolean, stored: boolean, storeUnchanged: boolean): boolean {
  if (memory === base) return stored;
  if (memory) return true;
  return storeUnchanged ? false : stored;
}

/**
 * A starting monitor's memory after loading: `memory` is what it carries,
 * `base` the record it last saved or loaded (null: never synchronised, the
 * neutral record) with that record's `baseVersion`.
 */
export function mergeControl(
  memory: ControlMemory, base: ControlRecord | null, baseVersion: number | null, loaded: LoadedControl | null, now: number,
): ControlMemory {
  if (loaded === null) return { ...memory, interventionStarts: trailingStarts(memory.interventionStarts, now) };
  const b = base ?? NEUTRAL_CONTROL;
  // A store that never held a record has no flags to win with.
  const storeUnchanged = !loaded.stored || baseVersion === loaded.version;
  const flags = loaded.stored ? loaded : b;
  return {
    paused: mergedFlag(memory.paused, b.paused, flags.paused, storeUnchanged),
    emergencyStop: mergedFlag(memory.emergencyStop, b.emergencyStop, flags.emergencyStop, storeUnchanged),
    lastExecutedSwapAt: laterOf(memory.lastExecutedSwapAt, loaded.lastExecutedSwapAt),
    nextSeq: Math.max(memory.nextSeq, loaded.nextSeq),
    interventionStarts: trailingStarts([...memory.interventionStarts, ...loaded.interventionStarts], now),
    inFlight: [...new Set([...memory.inFlight, ...loaded.inFlight])],
  };
}

/** The pause/stop flags a gate reads, with why it is blocked (null when it is not). */
export interface ControlVerdict {
  paused: boolean;
  emergencyStop: boolean;
  /** True when neither the store nor the monitor could tell: read as paused. */
  failClosed: boolean;
  reason: string | null;
}

/** What the live monitor said: its flags, or why there is none. */
export type MonitorView =
  | { kind: 'status'; paused: boolean; emergencyStop: boolean; safetyLoaded: boolean | null }
  | { kind: 'absent' }
  | { kind: 'unreachable'; error: string };

/** What the store said: its record, none, or why it could not be read. */
export type StoreView = { kind: 'record'; record: ControlRecord } | { kind: 'absent' } | { kind: 'unreadable'; error: string };

/** SPEC §4's pause and latch as a gate must read them: either source blocks; neither source blocks too. */
export function controlVerdict(store: StoreView, monitor: MonitorView): ControlVerdict {
  const rec = store.kind === 'record' ? store.record : null;
  // A monitor that has not loaded its safety state yet cannot tell either: the store's record is what it would load.
  // (Its own flags still count: an operator's pause it took while loading only ever blocks more.)
  const unloaded = monitor.kind === 'status' && monitor.safetyLoaded === false;
  const live = monitor.kind === 'status' ? monitor : null;
  if (rec === null && (live === null || unloaded)) {
    const storeSays = store.kind === 'unreadable' ? `the store could not be read (${store.error})` : 'the store has no control record';
    const monitorSays = monitor.kind === 'unreachable' ? `the monitor could not be reached (${monitor.error})`
      : unloaded ? 'the monitor has not loaded its safety state' : 'no monitor is running';
    return { paused: true, emergencyStop: false, failClosed: true, reason: `safety state unknown: ${storeSays} and ${monitorSays}` };
  }
  const reasons: string[] = [];
  const emergencyStop = (rec?.emergencyStop ?? false) || (live?.emergencyStop ?? false);
  if (rec?.emergencyStop) reasons.push(`emergency stop latched by ${rec.latchedBy ?? 'unknown'}${rec.latchReason ? ` (${rec.latchReason})` : ''}`);
  else if (live?.emergencyStop) reasons.push('emergency stop latched (monitor)');
  if (rec?.paused) reasons.push(`paused by ${rec.pausedBy ?? 'unknown'}${rec.pauseReason ? ` (${rec.pauseReason})` : ''}`);
  else if (live?.paused) reasons.push('paused (monitor)');
  const paused = (rec?.paused ?? false) || (live?.paused ?? false);
  return { paused, emergencyStop, failClosed: false, reason: reasons.length ? reasons.join('; ') : null };
}

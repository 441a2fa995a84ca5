import { describe, expect, it } from 'vitest';
import {
  controlVerdict, foldInterventions, mergeControl, NEUTRAL_CONTROL, recordOf, startsFromJson, SYSTEM_LATCH_BY, TRAILING_STARTS_MS,
  type ControlMemory, type ControlRecord, type LoadedControl,
} from './control.ts';

const NOW = 100 * 86_400_000;
const HOUR = 3_600_000;

const memory = (o: Partial<ControlMemory> = {}): ControlMemory => ({
  paused: false, emergencyStop: false, lastExecutedSwapAt: null, nextSeq: 1, interventionStarts: [], inFlight: [], ...o,
});
const record = (o: Partial<ControlRecord> = {}): ControlRecord => ({ ...NEUTRAL_CONTROL, updatedAt: NOW - HOUR, ...o });
const loaded = (o: Partial<LoadedControl> = {}): LoadedControl => ({ ...record(), version: 3, inFlight: [], stored: true, ...o });
const latched = { emergencyStop: true, latchedBy: 'alice', latchReason: 'exploit', latchedAt: NOW - 2 * HOUR };

describe('folding the interventions table into the control record', () => {
  it('knows nothing of a treasury with neither a record nor an intervention', () => {
    expect(foldInterventions(null, { maxSeq: null, lastExecutedAt: null, startsSince: [] }, [], NOW)).toBeNull();
  });

  it('puts the next sequence past every recorded intervention, even when the record lags behind', () => {
    const r = foldInterventions({ ...record({ nextSeq: 2 }), version: 1 }, { maxSeq: 4, lastExecutedAt: null, startsSince: [] }, [], NOW);
    expect(r?.nextSeq).toBe(5);
    expect(foldInterventions({ ...record({ nextSeq: 9 }), version: 1 }, { maxSeq: 4, lastExecutedAt: null, startsSince: [] }, [], NOW)?.nextSeq).toBe(9);
  });

  it('builds a record from the interventions alone when none was stored, and says so', () => {
    const r = foldInterventions(null, { maxSeq: 1, lastExecutedAt: NOW - HOUR, startsSince: [NOW - 2 * HOUR] }, ['intervention/t/1'], NOW);
    expect(r).toMatchObject({ stored: false, version: 0, nextSeq: 2, lastExecutedSwapAt: NOW - HOUR, interventionStarts: [NOW - 2 * HOUR], inFlight: ['intervention/t/1'], emergencyStop: false });
  });

  it('keeps the later last swap and the union of the trailing starts, dropping those outside the window', () => {
    const old = NOW - TRAILING_STARTS_MS - 1;
    const r = foldInterventions({ ...record({ lastExecutedSwapAt: NOW - 3 * HOUR, interventionStarts: [old, NOW - 5 * HOUR] }), version: 2 },
      { maxSeq: 2, lastExecutedAt: NOW - 4 * HOUR, startsSince: [NOW - 5 * HOUR, NOW - HOUR] }, [], NOW);
    expect(r?.lastExecutedSwapAt).toBe(NOW - 3 * HOUR);
    expect(r?.interventionStarts).toEqual([NOW - 5 * HOUR, NOW - HOUR]);
  });

  it('trusts no stored list of starts: anything but finite numbers is dropped', () => {
    expect(startsFromJson([1, '2', null, Number.NaN, 3])).toEqual([1, 3]);
    expect(startsFromJson({ a: 1 })).toEqual([]);
  });
});

describe('merging what a starting monitor carries with the store', () => {
  it('takes the latch, its sequence and its last swap from the store when the monitor starts fresh', () => {
    const m = mergeControl(memory(), null, null, loaded({ ...latched, nextSeq: 4, lastExecutedSwapAt: NOW - HOUR, inFlight: ['intervention/t/3'] }), NOW);
    expect(m).toMatchObject({ emergencyStop: true, nextSeq: 4, lastExecutedSwapAt: NOW - HOUR, inFlight: ['intervention/t/3'] });
  });

  it('keeps the store latch after a reset to an old run whose carried state had none', () => {
    const carriedBase = record({ nextSeq: 2 });
    expect(mergeControl(memory({ nextSeq: 2 }), carriedBase, 1, loaded({ ...latched, nextSeq: 3, version: 5 }), NOW))
      .toMatchObject({ emergencyStop: true, nextSeq: 3 });
  });

  it('never moves the sequence backwards, whichever side is ahead', () => {
    expect(mergeControl(memory({ nextSeq: 7 }), null, null, loaded({ nextSeq: 3 }), NOW).nextSeq).toBe(7);
    expect(mergeControl(memory({ nextSeq: 3 }), null, null, loaded({ nextSeq: 7 }), NOW).nextSeq).toBe(7);
  });

  it('keeps a stop or a pause the monitor holds but never saved, whatever the store says', () => {
    const m = mergeControl(memory({ emergencyStop: true, paused: true }), record(), 2, loaded({ version: 9 }), NOW);
    expect(m).toMatchObject({ emergencyStop: true, paused: true });
  });

  it('keeps an unsaved lift only when nobody wrote the store since the monitor last saved', () => {
    const base = record({ ...latched, paused: true });
    expect(mergeControl(memory(), base, 3, loaded({ ...latched, paused: true, version: 3 }), NOW)).toMatchObject({ emergencyStop: false, paused: false });
    expect(mergeControl(memory(), base, 3, loaded({ ...latched, paused: true, version: 4 }), NOW)).toMatchObject({ emergencyStop: true, paused: true });
  });

  it('keeps the carried flags when the store has no record yet, and the memory as it is when the store knows nothing', () => {
    expect(mergeControl(memory({ paused: true }), null, null, loaded({ stored: false, version: 0, nextSeq: 2 }), NOW)).toMatchObject({ paused: true, nextSeq: 2 });
    expect(mergeControl(memory({ paused: true, nextSeq: 5 }), null, null, null, NOW)).toMatchObject({ paused: true, nextSeq: 5 });
  });

  it('counts the starts of both in the trailing window, once each', () => {
    const m = mergeControl(memory({ interventionStarts: [NOW - 2 * HOUR, NOW - HOUR] }), null, null, loaded({ interventionStarts: [NOW - 3 * HOUR, NOW - HOUR] }), NOW);
    expect(m.interventionStarts).toEqual([NOW - 3 * HOUR, NOW - 2 * HOUR, NOW - HOUR]);
  });
});

describe('the record a monitor saves', () => {
  const ctx = { now: NOW, reserveRatio: 1.2, minRr: 1.5 };
  const events = [
    { at: NOW - 10, action: 'emergencyStop', by: 'mallory', reason: 'refused one', accepted: false },
    { at: NOW - 5, action: 'emergencyStop', by: 'alice', reason: 'exploit', accepted: true },
    { at: NOW - 4, action: 'pause', by: 'bob', reason: 'maintenance', accepted: true },
  ];

  it('names the operator whose accepted stop and pause set the flags, and when', () => {
    const r = recordOf(record(), { ...memory({ emergencyStop: true, paused: true }) }, events, ctx);
    expect(r).toMatchObject({ latchedBy: 'alice', latchReason: 'exploit', latchedAt: NOW - 5, pausedBy: 'bob', pauseReason: 'maintenance', updatedAt: NOW });
  });

  it('says the monitor latched itself when no operator asked, with the reserve ratio', () => {
    const r = recordOf(record({ updatedAt: NOW - 1 }), memory({ emergencyStop: true }), events, ctx);
    expect(r).toMatchObject({ latchedBy: SYSTEM_LATCH_BY, latchReason: 'reserve ratio 1.2000 below 1.5', latchedAt: NOW });
    const unexplained = recordOf(record({ updatedAt: NOW - 1 }), memory({ emergencyStop: true }), [], { ...ctx, reserveRatio: 2 });
    expect(unexplained).toMatchObject({ emergencyStop: true, latchedBy: null, latchReason: null, latchedAt: NOW });
  });

  it('keeps who and why while the latch holds, and clears them when it is lifted', () => {
    const prev = record({ ...latched });
    expect(recordOf(prev, memory({ emergencyStop: true }), events, ctx)).toBe(prev);
    expect(recordOf(prev, memory(), events, ctx)).toMatchObject({ emergencyStop: false, latchedBy: null, latchReason: null, latchedAt: null, updatedAt: NOW });
  });

  it('keeps its time of writing when nothing changed, so an unchanged memory is never saved again', () => {
    const prev = record({ nextSeq: 3 });
    expect(recordOf(prev, memory({ nextSeq: 3 }), [], ctx)).toBe(prev);
    expect(recordOf(prev, memory({ nextSeq: 4 }), [], ctx)).toMatchObject({ nextSeq: 4, updatedAt: NOW });
  });
});

describe('what a gate reads', () => {
  const status = (o: Partial<{ paused: boolean; emergencyStop: boolean; safetyLoaded: boolean | null }> = {}) =>
    ({ kind: 'status' as const, paused: false, emergencyStop: false, safetyLoaded: true, ...o });

  it('is blocked, with the reason, when neither the store nor the monitor can tell', () => {
    const v = controlVerdict({ kind: 'absent' }, { kind: 'absent' });
    expect(v).toMatchObject({ paused: true, failClosed: true });
    expect(v.reason).toBe('safety state unknown: the store has no control record and no monitor is running');
    expect(controlVerdict({ kind: 'unreadable', error: 'database is locked' }, { kind: 'unreachable', error: 'deadline' }).reason)
      .toBe('safety state unknown: the store could not be read (database is locked) and the monitor could not be reached (deadline)');
  });

  it('reads the store alone when no monitor runs: a latch stays a latch', () => {
    const v = controlVerdict({ kind: 'record', record: record({ ...latched }) }, { kind: 'absent' });
    expect(v).toEqual({ paused: false, emergencyStop: true, failClosed: false, reason: 'emergency stop latched by alice (exploit)' });
    expect(controlVerdict({ kind: 'record', record: record() }, { kind: 'absent' })).toEqual({ paused: false, emergencyStop: false, failClosed: false, reason: null });
  });

  it('is paused when either says paused and latched when either says latched', () => {
    expect(controlVerdict({ kind: 'record', record: record() }, status({ paused: true }))).toMatchObject({ paused: true, emergencyStop: false });
    expect(controlVerdict({ kind: 'record', record: record({ paused: true, pausedBy: 'bob' }) }, status())).toMatchObject({ paused: true, reason: 'paused by bob' });
    expect(controlVerdict({ kind: 'unreadable', error: 'x' }, status({ emergencyStop: true }))).toMatchObject({ emergencyStop: true, failClosed: false });
  });

  it('takes the store for a monitor that has not loaded its safety state yet, and is blocked when the store has no record either', () => {
    expect(controlVerdict({ kind: 'record', record: record() }, status({ safetyLoaded: false })))
      .toEqual({ paused: false, emergencyStop: false, failClosed: false, reason: null });
    expect(controlVerdict({ kind: 'record', record: record() }, status({ safetyLoaded: false, paused: true }))).toMatchObject({ paused: true, failClosed: false });
    expect(controlVerdict({ kind: 'absent' }, status({ safetyLoaded: false }))).toMatchObject({
      paused: true, failClosed: true, reason: 'safety state unknown: the store has no control record and the monitor has not loaded its safety state',
    });
  });
});

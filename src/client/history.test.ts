import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadFixture, type RawEvent } from '../../test/fixtures/histories/load.ts';
import { decodePayloads, int64, protoMs } from './history.ts';

interface RawPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** Decodes a JSON payload by hand (base64 → UTF-8 → JSON): the oracle the decoder is checked against. */
function byHand(p: RawPayload): unknown {
  return p.data === undefined ? undefined : JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));
}

const attrs = (e: RawEvent, key: string) => e[key] as Record<string, unknown>;

describe('decodeHistory on a recorded intervention history', () => {
  const { raw, events } = loadFixture('intervention');

  it('keeps every event, in order, with its id and its time to the millisecond', () => {
    expect(events.map((e) => e.id)).toEqual(raw.map((e) => Number(e.eventId)));
    expect(events.map((e) => e.at)).toEqual(raw.map((e) => Date.parse(e.eventTime)));
  });

  it('decodes every activity input and result to the JSON the worker sent', () => {
    const scheduled = raw.filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
    expect(scheduled.length).toBeGreaterThan(5);
    for (const r of scheduled) {
      const d = events.find((e) => e.id === Number(r.eventId));
      const a = attrs(r, 'activityTaskScheduledEventAttributes');
      const payloads = ((a.input as { payloads?: RawPayload[] } | undefined)?.payloads ?? []).map(byHand);
      expect(d).toMatchObject({ kind: 'activityScheduled', activityType: (a.activityType as { name: string }).name, input: payloads });
    }
  });

  it('names each completed activity after the activity its scheduled event asked for', () => {
    const completed = events.filter((e) => e.kind === 'activityCompleted');
    expect(completed.length).toBeGreaterThan(5);
    for (const c of completed) {
      const s = events.find((e) => e.id === c.scheduledId);
      expect(s?.kind).toBe('activityScheduled');
      if (s?.kind === 'activityScheduled') expect(c.activityType).toBe(s.activityType);
    }
  });

  it('reads the signals with their names, arguments and the sender identity', () => {
    const rawSignals = raw.filter((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED').map((e) => attrs(e, 'workflowExecutionSignaledEventAttributes'));
    const signals = events.filter((e) => e.kind === 'signaled');
    expect(signals.map((s) => s.kind === 'signaled' && [s.name, s.input, s.identity])).toEqual(
      rawSignals.map((a) => [a.signalName, ((a.input as { payloads: RawPayload[] }).payloads).map(byHand), a.identity]),
    );
  });

  it('reads timers with their durations and the workflow start with its type', () => {
    expect(events[0]).toMatchObject({ kind: 'workflowStarted', workflowType: 'intervention', continuedFromRunId: null });
    const rawTimers = raw.filter((e) => e.eventType === 'EVENT_TYPE_TIMER_STARTED').map((e) => attrs(e, 'timerStartedEventAttributes'));
    const timers = events.filter((e) => e.kind === 'timerStarted');
    // Durations are written "86399.942s" in JSON.
    expect(timers.map((t) => t.kind === 'timerStarted' && t.durationMs)).toEqual(rawTimers.map((a) => Math.round(parseFloat(a.startToFireTimeout as string) * 1000)));
    expect(events.some((e) => e.kind === 'other')).toBe(true);
  });
});

describe('the protobuf number helpers', () => {
  it('reads an int64 the same as a number, a decimal string or a Long-like object', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
      expect(int64(n)).toBe(n);
      expect(int64(String(n))).toBe(n);
      expect(int64({ toNumber: () => n })).toBe(n);
    }));
    expect(int64(null)).toBe(0);
  });

  it('turns seconds and nanoseconds into whole milliseconds, dropping the sub-millisecond part', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 4_000_000_000 }), fc.integer({ min: 0, max: 999_999_999 }), (s, ns) => {
      expect(protoMs({ seconds: String(s), nanos: ns })).toBe(s * 1000 + Math.floor(ns / 1e6));
    }));
    expect(protoMs({ seconds: 1, nanos: 999_999 })).toBe(1000);
    expect(protoMs(null)).toBe(0);
  });
});

describe('decodePayloads', () => {
  it('says a payload it cannot read is undecodable instead of failing the audit', () => {
    const encrypted = { metadata: { encoding: new TextEncoder().encode('binary/encrypted') }, data: new Uint8Array([1, 2, 3]) };
    const [value] = decodePayloads({ payloads: [encrypted] });
    expect(value).toMatchObject({ undecodable: expect.stringMatching(/encrypted/) as unknown });
  });

  it('returns no values for an event without payloads', () => {
    expect(decodePayloads(undefined)).toEqual([]);
    expect(decodePayloads({ payloads: null })).toEqual([]);
  });
});

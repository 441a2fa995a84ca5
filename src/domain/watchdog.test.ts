import { describe, expect, it } from 'vitest';
import { MISSED_INTERVALS, watchdogVerdict, type MonitorLiveness } from './watchdog.ts';

const MIN = 60_000;
const NOW = Date.UTC(2026, 11, 3, 9, 0, 0);
const params = { monitorWorkflowId: 'monitor/t', treasuryId: 't', cycleIntervalSeconds: 300, missedIntervals: MISSED_INTERVALS };
const running = { status: 'RUNNING', running: true, closedAt: null };
const alive = (lastCycleAt: number | null): MonitorLiveness => ({ at: NOW, workflow: running, status: { cycles: 12, lastCycleAt, cycleIntervalSeconds: 300 }, queryError: null });

describe('the watchdog verdict', () => {
  it('is ok for a running monitor whose last cycle is within three intervals, with its age', () => {
    const v = watchdogVerdict(alive(NOW - 14 * MIN), params);
    expect(v).toMatchObject({ ok: true, problem: null, alert: null, lastCycleAgeMs: 14 * MIN });
    expect(v.message).toMatch(/running; last cycle 14\.0 min ago/);
  });

  it('raises a critical system-failure alert when no cycle completed for more than three intervals, saying how to recover', () => {
    const v = watchdogVerdict(alive(NOW - 16 * MIN), params);
    expect(v).toMatchObject({ ok: false, problem: 'stalled', lastCycleAgeMs: 16 * MIN });
    expect(v.alert).toMatchObject({ level: 'critical', kind: 'system-failure', data: { component: 'monitor', problem: 'stalled' } });
    expect(v.alert?.message).toMatch(/more than 3 intervals of 300 s/);
    expect(v.alert?.message).toMatch(/npm start/);
    expect(v.alert?.message).toMatch(/temporal workflow reset --workflow-id monitor\/t/);
  });

  it('is ok exactly at three intervals: stalled means more than that', () => {
    expect(watchdogVerdict(alive(NOW - 15 * MIN), params).ok).toBe(true);
  });

  it('alerts when the monitor workflow was terminated, naming its status and when it closed', () => {
    const v = watchdogVerdict({ at: NOW, workflow: { status: 'TERMINATED', running: false, closedAt: NOW - 5 * MIN }, status: null, queryError: null }, params);
    expect(v).toMatchObject({ ok: false, problem: 'not-running' });
    expect(v.message).toMatch(/is not running \(terminated at 2026-12-03T08:55:00\.000Z\)/);
    expect(v.message).toMatch(/npm start/);
  });

  it('alerts when there is no monitor workflow at all', () => {
    const v = watchdogVerdict({ at: NOW, workflow: null, status: null, queryError: null }, params);
    expect(v).toMatchObject({ ok: false, problem: 'missing' });
    expect(v.alert?.level).toBe('critical');
  });

  it('alerts when a running monitor does not answer its status query (a wedged workflow task), with the query error', () => {
    const v = watchdogVerdict({ at: NOW, workflow: running, status: null, queryError: 'no answer within 10 s' }, params);
    expect(v).toMatchObject({ ok: false, problem: 'not-answering' });
    expect(v.message).toMatch(/no answer within 10 s/);
    expect(v.message).toMatch(/temporal workflow reset/);
  });

  it('gives a monitor that has not completed its first cycle no verdict of stalled when it cannot tell when it started', () => {
    expect(watchdogVerdict(alive(null), params)).toMatchObject({ ok: true, lastCycleAt: null, lastCycleAgeMs: null });
  });

  it('measures a monitor with no cycle yet from its start when it is known', () => {
    const v = watchdogVerdict({ ...alive(null), status: { cycles: 0, lastCycleAt: null, cycleIntervalSeconds: 300, startedAt: NOW - 20 * MIN } }, params);
    expect(v).toMatchObject({ ok: false, problem: 'stalled' });
    expect(v.message).toMatch(/has completed no cycle since it started 20\.0 min ago/);
  });

  it('uses the monitor\'s own interval over the configured one (an updateConfig may have changed it)', () => {
    const v = watchdogVerdict({ ...alive(NOW - 4 * MIN), status: { cycles: 3, lastCycleAt: NOW - 4 * MIN, cycleIntervalSeconds: 60 } }, params);
    expect(v).toMatchObject({ ok: false, problem: 'stalled' });
  });

  it('refuses a non-finite time or a non-positive number of intervals', () => {
    expect(() => watchdogVerdict({ ...alive(NOW), at: Number.NaN }, params)).toThrow(/at = NaN/);
    expect(() => watchdogVerdict(alive(NOW), { ...params, missedIntervals: 0 })).toThrow(/missedIntervals = 0/);
  });
});

/** The degraded-cycle rules, pure: retry deadlines, the bounded backlog, and failing a verdict closed. */
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { INITIAL_ALERT_STATE } from '../../src/domain/alerts.ts';
import { dedupeKey } from '../../src/domain/alert-dedupe.ts';
import type { CycleRecord } from '../../src/workflows/contract.ts';
import { MAX_UNRECORDED_CYCLES, cycleActivityOptions, failClosed, failureText, keepUnrecorded, safeVerdict, type UnrecordedCycles } from '../../src/workflows/monitor-degraded.ts';

const memory = { paused: false, emergencyStop: true, lastExecutedSwapAt: null, interventionStarts: [], inFlight: [], alertState: INITIAL_ALERT_STATE };

describe('degraded cycles', () => {
  it('bound every cycle activity by a schedule-to-close deadline of a third of the interval, between 15 s and 2 min, with no attempt count', () => {
    expect(cycleActivityOptions(1)).toMatchObject({ scheduleToCloseTimeout: '15 seconds', startToCloseTimeout: '15 seconds' });
    expect(cycleActivityOptions(300)).toMatchObject({ scheduleToCloseTimeout: '100 seconds', startToCloseTimeout: '30 seconds' });
    expect(cycleActivityOptions(3600)).toMatchObject({ scheduleToCloseTimeout: '120 seconds' });
    expect(cycleActivityOptions(300).retry?.maximumAttempts).toBeUndefined();
  });

  it('name the activity and the innermost error of a failure', () => {
    const err = new ActivityFailure('activity failed', 'recordSample', '3', RetryState.TIMEOUT, 'id', ApplicationFailure.create({ message: 'SQLITE_BUSY: database is locked' }));
    expect(failureText('recordSample', err)).toBe('recordSample: SQLITE_BUSY: database is locked');
  });

  it('fail the verdict closed: no intervention, the reason in the record, one system-failure alert, the latch kept', () => {
    const v = safeVerdict('t/7', 1000, memory, 'x');
    const withIntervention = { ...v, decision: { intervene: true, reason: 'tier 1', warmingUp: false, triggered: true, drawdown: 0.2, tier: null, fraction: 0.1, reduced: false, gates: [] } };
    const closed = failClosed(withIntervention, 't/7', ['recordSample: database is locked'], 2);
    expect(closed.decision?.intervene).toBe(false);
    expect(closed.summary.decision).toBe('degraded cycle, no intervention (fail closed): recordSample: database is locked; 2 earlier cycle record(s) not yet written to the store; the market said: tier 1');
    expect(closed.alerts).toEqual([expect.objectContaining({ level: 'critical', kind: 'system-failure', data: { component: 'monitor cycle', error: 'cycle t/7: recordSample: database is locked', cycleId: 't/7' } })]);
    expect(closed.emergency.latched).toBe(true);
  });

  it('give every cycle failure one dedupe subject, so a long outage pages once with a count', () => {
    const a = failClosed(safeVerdict('t/1', 0, memory, 'x'), 't/1', ['observeMarket: locked'], 0).alerts[0];
    const b = failClosed(safeVerdict('t/2', 0, memory, 'x'), 't/2', ['recordSample: locked'], 1).alerts[0];
    expect(a && b && dedupeKey(a)).toBe(b && dedupeKey(b));
  });

  it('raise no new alert for a cycle held back only by the backlog', () => {
    expect(failClosed(safeVerdict('t/8', 1000, memory, 'x'), 't/8', [], 1).alerts).toEqual([]);
  });

  it('keep the newest records of a long outage and count the ones dropped', () => {
    const m: UnrecordedCycles = {};
    for (let i = 1; i <= MAX_UNRECORDED_CYCLES + 5; i++) keepUnrecorded(m, { summary: { cycleId: `t/${i}` } } as CycleRecord);
    expect(m.unrecorded).toHaveLength(MAX_UNRECORDED_CYCLES);
    expect(m.unrecorded?.[0]?.summary.cycleId).toBe('t/6');
    expect(m.droppedUnrecorded).toBe(5);
  });
});

import { describe, expect, it } from 'vitest';
import { livenessLines, type WatchdogReading } from './liveness.ts';

const NOW = Date.UTC(2026, 11, 3, 9, 0, 0);
const status = (lastCycleAt: number | null) => ({ cycleIntervalSeconds: 300, lastCycle: lastCycleAt === null ? null : ({ at: lastCycleAt } as never) });
const none: WatchdogReading = { kind: 'none', why: 'no watchdog schedule watchdog/t (`npm start` creates it)' };

describe('the liveness lines of client.ts status', () => {
  it('shows the last cycle\'s age against the three-interval limit', () => {
    expect(livenessLines(status(NOW - 40_000), none, NOW)[0]).toBe('Liveness: last cycle 40 s ago (limit 15.0 min, 3 intervals) · cycling');
  });

  it('says STALLED past three intervals', () => {
    expect(livenessLines(status(NOW - 16 * 60_000), none, NOW)[0]).toMatch(/last cycle 16\.0 min ago .* STALLED: no cycle for more than 3 intervals/);
  });

  it('shows the watchdog\'s last verdict, or why there is none', () => {
    const verdict: WatchdogReading = {
      kind: 'verdict', workflowId: 'watchdog/t/run',
      verdict: { at: NOW - 30_000, ok: false, problem: 'not-running', lastCycleAt: null, lastCycleAgeMs: null, message: 'monitor monitor/t is not running (terminated)', alert: null },
    };
    expect(livenessLines(null, verdict, NOW)).toEqual(['Watchdog at 2026-12-03T08:59:30.000Z (30 s ago): ALERT not-running — monitor monitor/t is not running (terminated)']);
    expect(livenessLines(status(null), none, NOW)).toEqual(['Liveness: last cycle never (limit 15.0 min, 3 intervals) · no cycle yet', 'Watchdog: no watchdog schedule watchdog/t (`npm start` creates it)']);
  });
});

/**
 * Liveness in `client.ts status` (issue 9): the last cycle's age against the
 * watchdog's limit (three intervals), and the watchdog's last verdict, read
 * from Temporal (the result of the watchdog Schedule's latest run), so it
 * shows even when the monitor itself is gone.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import { MISSED_INTERVALS, type WatchdogVerdict } from '../domain/watchdog.ts';
import { scheduleId, type MonitorStatus } from '../workflows/contract.ts';
import { call } from './connect.ts';
import type { Ctx } from './context.ts';
import { seconds, utc } from './format.ts';

export type WatchdogReading =
  | { kind: 'verdict'; verdict: WatchdogVerdict; workflowId: string }
  | { kind: 'none'; why: string };

/** The latest completed watchdog run's verdict; never throws (a status must print even when the watchdog cannot be read). */
export async function lastWatchdogVerdict(ctx: Ctx): Promise<WatchdogReading> {
  const id = scheduleId(ctx.treasuryId, 'watchdog');
  try {
    const d = await call(ctx, `describe schedule ${id}`, () => ctx.client.schedule.getHandle(id).describe());
    // Newest first: the latest run may still be running, so take the newest one that completed.
    const runs = [...d.info.recentActions].reverse().flatMap((a) => (a.action.type === 'startWorkflow' ? [a.action.workflow] : []));
    for (const run of runs) {
      const handle = ctx.client.workflow.getHandle(run.workflowId, run.firstExecutionRunId);
      const info = await call(ctx, `describe ${run.workflowId}`, () => handle.describe());
      if (info.status.name !== 'COMPLETED') continue;
      return { kind: 'verdict', verdict: (await call(ctx, `result of ${run.workflowId}`, () => handle.result())) as WatchdogVerdict, workflowId: run.workflowId };
    }
    return { kind: 'none', why: `the watchdog schedule ${id} has not completed a run yet` };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return { kind: 'none', why: `no watchdog schedule ${id} (\`npm start\` creates it)` };
    return { kind: 'none', why: `the watchdog could not be read: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** "Liveness: last cycle 12 s ago (limit 900 s) · watchdog at … : ok — …". */
export function livenessLines(s: Pick<MonitorStatus, 'lastCycle' | 'cycleIntervalSeconds'> | null, w: WatchdogReading, now: number): string[] {
  const lines: string[] = [];
  if (s) {
    const limitMs = MISSED_INTERVALS * s.cycleIntervalSeconds * 1000;
    const at = s.lastCycle?.at ?? null;
    const age = at === null ? null : Math.max(0, now - at);
    const state = age === null ? 'no cycle yet' : age > limitMs ? `STALLED: no cycle for more than ${MISSED_INTERVALS} intervals` : 'cycling';
    lines.push(`Liveness: last cycle ${age === null ? 'never' : `${seconds(age)} ago`} (limit ${seconds(limitMs)}, ${MISSED_INTERVALS} intervals) · ${state}`);
  }
  if (w.kind === 'none') lines.push(`Watchdog: ${w.why}`);
  else lines.push(`Watchdog at ${utc(w.verdict.at)} (${seconds(Math.max(0, now - w.verdict.at))} ago): ${w.verdict.ok ? 'ok' : `ALERT ${w.verdict.problem ?? ''}`.trimEnd()} — ${w.verdict.message}`);
  return lines;
}

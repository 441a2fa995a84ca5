/**
 * monitorWatchdog: run by the Schedule `watchdog/<treasury>` (every minute),
 * it asks Temporal whether the monitor runs and when its last cycle
 * completed, stores the verdict (`client.ts status` shows it) and raises a
 * critical alert, with how to recover, when the monitor is down or stalled.
 * A failure of its own activities is itself a verdict, never a failed run.
 */
import { ActivityFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { MISSED_INTERVALS, watchdogVerdict, type MonitorLiveness, type WatchdogVerdict } from '../domain/watchdog.ts';
import { raiseAlerts } from './alerts.ts';
import { monitorWorkflowId } from './contract.ts';
import { jobConfig, type JobInput } from './job-config.ts';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export async function monitorWatchdog(input: JobInput): Promise<WatchdogVerdict> {
  // The current version's cycle interval (an operator may change it); the defaults when no version exists yet, so a missing monitor is still judged.
  const { treasuryId, config } = await jobConfig(input, 'monitorWatchdog', { orDefaults: true });
  const id = monitorWorkflowId(treasuryId);
  const liveness: MonitorLiveness = await acts.monitorLiveness({ treasuryId }).catch((err: unknown) => {
    if (!(err instanceof ActivityFailure)) throw err;
    // Temporal itself did not answer the worker: the monitor cannot be seen, which is reported as not answering.
    return { at: Date.now(), workflow: { status: 'UNKNOWN', running: true, closedAt: null }, status: null, queryError: `the watchdog could not reach Temporal: ${err.cause?.message ?? err.message}` };
  });
  const verdict = watchdogVerdict(liveness, { monitorWorkflowId: id, treasuryId, cycleIntervalSeconds: config.monitor.cycleIntervalSeconds, missedIntervals: MISSED_INTERVALS });
  const runKey = new Date(verdict.at).toISOString();
  await acts.recordJobResult({ treasuryId, job: 'watchdog', runKey, at: verdict.at, data: { ...verdict } }).catch((err: unknown) => {
    if (!(err instanceof ActivityFailure)) throw err;
    log.error('watchdog verdict not stored', { treasuryId, error: err.cause?.message ?? err.message });
  });
  if (verdict.alert) {
    await raiseAlerts(treasuryId, `watchdog/${treasuryId}/${runKey}`, verdict.at, [verdict.alert]).catch((err: unknown) => {
      if (!(err instanceof ActivityFailure)) throw err;
      log.error('watchdog alert not stored', { treasuryId, error: err.cause?.message ?? err.message, message: verdict.message });
    });
  }
  return verdict;
}

/**
 * The watchdog's verdict on one monitor (issue 9, "liveness you can see"):
 * from what Temporal says of the monitor's workflow and what the monitor's
 * status query answers, whether it is alive and cycling. Critical when the
 * workflow is not running, does not answer, or has not completed a cycle in
 * `missedIntervals` cycle intervals; the message says how to recover.
 */
import { ALERT_LEVEL, type Alert } from './alerts.ts';

/** The rule: a monitor silent for three cycle intervals is stalled. */
export const MISSED_INTERVALS = 3;

export interface MonitorLiveness {
  /** When the watchdog looked (epoch ms). */
  readonly at: number;
  /** Temporal's view of the monitor workflow; null when the server has no such workflow. */
  readonly workflow: { readonly status: string; readonly running: boolean; readonly closedAt: number | null } | null;
  /** The monitor's status query; null when it did not answer (with `queryError`). */
  readonly status: { readonly cycles: number; readonly lastCycleAt: number | null; readonly cycleIntervalSeconds: number; readonly startedAt?: number | null } | null;
  readonly queryError: string | null;
}

export type WatchdogProblem = 'missing' | 'not-running' | 'not-answering' | 'stalled';

export interface WatchdogVerdict {
  readonly at: number;
  readonly ok: boolean;
  readonly problem: WatchdogProblem | null;
  readonly lastCycleAt: number | null;
  /** Age of the last completed cycle at `at` (ms); null when none is known. */
  readonly lastCycleAgeMs: number | null;
  readonly message: string;
  readonly alert: Alert | null;
}

export interface WatchdogParams {
  readonly monitorWorkflowId: string;
  readonly treasuryId: string;
  /** The configured interval, used when the monitor cannot tell its own. */
  readonly cycleIntervalSeconds: number;
  readonly missedIntervals: number;
}

const RECOVER_START = 'run `npm start` (ensureMonitor starts a fresh monitor that bootstraps from the store)';
const RECOVER_RESET = 'if its workflow task keeps failing, `temporal workflow reset --workflow-id %ID% --type LastWorkflowTask` and check the worker logs';

export function watchdogVerdict(l: MonitorLiveness, p: WatchdogParams): WatchdogVerdict {
  if (!Number.isFinite(l.at)) throw new RangeError(`watchdogVerdict: at = ${l.at} is not a finite epoch-ms time`);
  if (!(p.missedIntervals > 0)) throw new RangeError(`watchdogVerdict: missedIntervals = ${p.missedIntervals} must be > 0`);
  const lastCycleAt = l.status?.lastCycleAt ?? null;
  const age = lastCycleAt === null ? null : Math.max(0, l.at - lastCycleAt);
  const base = { at: l.at, lastCycleAt, lastCycleAgeMs: age };
  const id = p.monitorWorkflowId;
  const reset = RECOVER_RESET.replace('%ID%', id);
  if (l.workflow === null) {
    return down(base, p, 'missing', `monitor ${id} does not exist: nothing is watching treasury ${p.treasuryId}. To recover: ${RECOVER_START}.`);
  }
  if (!l.workflow.running) {
    const when = l.workflow.closedAt === null ? '' : ` at ${new Date(l.workflow.closedAt).toISOString()}`;
    return down(base, p, 'not-running', `monitor ${id} is not running (${l.workflow.status.toLowerCase()}${when}): nothing is watching treasury ${p.treasuryId}. To recover: ${RECOVER_START}; ${reset}.`);
  }
  if (l.status === null) {
    return down(base, p, 'not-answering', `monitor ${id} is running but does not answer its status query (${l.queryError ?? 'no answer'}): its workflow task may be failing. To recover: ${reset}; if it stays wedged, terminate it and ${RECOVER_START}.`);
  }
  const intervalMs = (l.status.cycleIntervalSeconds > 0 ? l.status.cycleIntervalSeconds : p.cycleIntervalSeconds) * 1000;
  const limitMs = p.missedIntervals * intervalMs;
  // A monitor that has not completed a cycle yet is measured from its start, so a fresh one gets its grace too.
  const since = lastCycleAt ?? l.status.startedAt ?? null;
  if (since !== null && l.at - since > limitMs) {
    const what = lastCycleAt === null ? `has completed no cycle since it started ${seconds(l.at - since)} ago` : `last completed a cycle ${seconds(l.at - since)} ago`;
    return down(base, p, 'stalled', `monitor ${id} is running but ${what}, more than ${p.missedIntervals} intervals of ${intervalMs / 1000} s: its activities or worker may be stuck. To recover: check that a worker polls the task queue (\`npm start\`) and the worker logs; ${reset}.`);
  }
  return { ...base, ok: true, problem: null, alert: null, message: lastCycleAt === null ? `monitor ${id} is running; no cycle completed yet` : `monitor ${id} is running; last cycle ${seconds(age ?? 0)} ago` };
}

function down(base: Pick<WatchdogVerdict, 'at' | 'lastCycleAt' | 'lastCycleAgeMs'>, p: WatchdogParams, problem: WatchdogProblem, message: string): WatchdogVerdict {
  const alert: Alert = {
    level: ALERT_LEVEL['system-failure'], kind: 'system-failure', message: `Watchdog: ${message}`,
    data: { component: 'monitor', problem, monitorWorkflowId: p.monitorWorkflowId, lastCycleAt: base.lastCycleAt },
  };
  return { ...base, ok: false, problem, message, alert };
}

function seconds(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

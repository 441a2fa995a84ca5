/**
 * Degraded cycles (issue 9, "a monitor that survives every fault"): a cycle
 * whose activity failed after its retries, or whose decision threw, is not
 * the monitor's end. It fails closed (no intervention), raises a
 * `system-failure` critical alert, and its record waits in the monitor's
 * memory (a bounded list) until the store takes writes again; the next cycle
 * writes that backlog first, keyed by cycle id, so a replayed write is a no-op.
 * While the backlog is not written the monitor does not intervene: it acts
 * only when it can also record why.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { systemFailureAlert, type Alert } from '../domain/alerts.ts';
import type { ConsensusResult } from '../domain/consensus.ts';
import type { CycleRecord, CycleSummary, MarketObservation } from './contract.ts';
import type { CycleVerdict, MonitorMemory } from './monitor-cycle.ts';

/** Records kept while the store is down: at a 5-minute interval, over 8 hours of outage; older ones are counted, not kept. */
export const MAX_UNRECORDED_CYCLES = 100;

export interface UnrecordedCycles {
  /** Cycle records the store has not taken yet, oldest first. */
  unrecorded?: CycleRecord[];
  /** Records dropped from a full backlog (their alerts were still delivered). */
  droppedUnrecorded?: number;
}

/** A cycle step's retry budget in seconds: a third of the interval, within [15, 120] (why: cycleActivityOptions). */
function cycleStepDeadlineSeconds(cycleIntervalSeconds: number): number {
  return Math.round(Math.min(120, Math.max(15, cycleIntervalSeconds / 3)));
}

/**
 * Retries of a cycle activity end by a deadline, not an attempt count: about
 * a third of the cycle interval (a cycle has three store-bound activities, so
 * a dead store costs at most about one interval), at least 15 s (three
 * backoff attempts and a slow oracle's 5 s timeout) and at most 2 minutes.
 */
export function cycleActivityOptions(cycleIntervalSeconds: number): ActivityOptions {
  const deadline = cycleStepDeadlineSeconds(cycleIntervalSeconds);
  return {
    startToCloseTimeout: `${Math.min(30, deadline)} seconds`,
    scheduleToCloseTimeout: `${deadline} seconds`,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  };
}

/**
 * The same budget for the cycle's local activities, also as an attempt count:
 * a local activity measures its deadline on the worker's clock, which the
 * time-skipping test server does not move, so the attempts that fit the
 * deadline bound it on either clock. Every retry waits on a workflow timer
 * (`localRetryThreshold` below the first backoff), not inside the worker: a
 * failing step never holds a workflow task open.
 */
export function cycleLocalActivityOptions(cycleIntervalSeconds: number): LocalActivityOptions {
  const deadlineS = cycleStepDeadlineSeconds(cycleIntervalSeconds);
  const attemptS = Math.min(30, deadlineS);
  let attempts = 1;
  // Backoffs 1 s, 2 s, 4 s, … capped at 30 s, while their sum stays under the deadline.
  for (let waited = 0, next = 1; waited + next < deadlineS; waited += next, next = Math.min(30, next * 2)) attempts += 1;
  return {
    startToCloseTimeout: `${attemptS} seconds`,
    // The attempts end it first; this (the worker's clock) only bounds an attempt that hangs. A local activity
    // that times out reports only the timeout, not the error its attempts met, which the alert should name.
    scheduleToCloseTimeout: `${deadlineS + attemptS} seconds`,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: attempts },
    localRetryThreshold: 1,
  };
}

/** "recordSample: database is locked": what failed and the innermost error, for the record and the alert. */
export function failureText(what: string, err: unknown): string {
  let e: unknown = err;
  // An ActivityFailure wraps the application failure (the activity's own error) which may wrap its cause.
  while ((e instanceof ActivityFailure || e instanceof ApplicationFailure) && e.cause) e = e.cause;
  const message = e instanceof Error ? e.message : String(e);
  return `${what}: ${message.slice(0, 500)}`;
}

/** A verdict that needs nothing from the domain: the last resort when the domain itself threw. */
export function safeVerdict(cycleId: string, now: number, memory: MonitorMemory, why: string): CycleVerdict {
  const summary: CycleSummary = {
    cycleId, at: now, validPrice: false, consensusPrice: null, consensusReason: why, vwap30: null, volumeless: false, warmingUp: false,
    drawdown: null, reserveRatio: null, pumpConcentration: null, treasuryValueUsd: null, marketCapUsd: null, health: null, healthLevel: null,
    decision: `no valid price: ${why}`, startedIntervention: null,
  };
  return { summary, decision: null, emergency: { latched: memory.emergencyStop, entered: false }, alerts: [], alertState: memory.alertState, state: null };
}

/**
 * The cycle fails closed: whatever the market called for, no intervention;
 * the record says why, and one system-failure alert names every failure.
 */
export function failClosed(v: CycleVerdict, cycleId: string, failures: readonly string[], backlog: number): CycleVerdict {
  const causes = [...failures];
  if (backlog > 0) causes.push(`${backlog} earlier cycle record(s) not yet written to the store`);
  const why = `degraded cycle, no intervention (fail closed): ${causes.join('; ')}`;
  const decision = v.decision ? { ...v.decision, intervene: false, reason: `${why}; the market said: ${v.decision.reason}` } : null;
  const alerts: Alert[] = failures.length > 0 ? [...v.alerts, cycleFailureAlert(cycleId, failures.join('; '))] : v.alerts;
  return { ...v, decision, alerts, summary: { ...v.summary, decision: decision ? decision.reason : `${why}; ${v.summary.decision}` } };
}

/**
 * The system-failure alert of a degraded cycle. Its component stays
 * "monitor cycle" (the dedupe subject), so a long outage collapses into one
 * notice with a count instead of one page per cycle; the cycle is in the data.
 */
export function cycleFailureAlert(cycleId: string, error: string): Alert {
  const a = systemFailureAlert('monitor cycle', `cycle ${cycleId}: ${error}`);
  return { ...a, data: { ...a.data, cycleId } };
}

/** Adds a record the store refused to the backlog, keeping the newest MAX_UNRECORDED_CYCLES. */
export function keepUnrecorded(m: UnrecordedCycles, record: CycleRecord): void {
  const all = [...(m.unrecorded ?? []), record];
  const over = Math.max(0, all.length - MAX_UNRECORDED_CYCLES);
  m.unrecorded = all.slice(over);
  if (over > 0) m.droppedUnrecorded = (m.droppedUnrecorded ?? 0) + over;
}

export function cycleRecordOf(v: CycleVerdict, summary: CycleSummary, obs: MarketObservation | null, consensus: ConsensusResult, alerts: readonly Alert[]): CycleRecord {
  return {
    summary, balances: obs?.balances ?? null, consensus, decision: v.decision, emergency: v.emergency,
    alerts: alerts.map((a) => ({ level: a.level, kind: a.kind, message: a.message, data: a.data })),
  };
}

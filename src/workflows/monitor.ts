/**
 * StrategyMonitor: one per treasury (id `monitor/<treasuryId>`). Every
 * cycle: observe → consensus → record the sample (VWAP back) → state, health,
 * decision → start an intervention when due → log the cycle. Operators
 * pause, resume, stop and reconfigure it by signal or update; it continues
 * as new before its history grows large, carrying its memory and cycle count.
 */
import {
  ActivityFailure, ApplicationFailure, ParentClosePolicy, WorkflowIdReusePolicy, allHandlersFinished, condition, continueAsNew,
  isCancellation, log, patched, proxyActivities, setHandler, startChild, workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.ts';
import type { Config } from '../config-schema.ts';
import { INITIAL_ALERT_STATE, systemFailureAlert } from '../domain/alerts.ts';
import { HOUR_MS } from '../domain/intervention.ts';
import { interventionWorkflowId, type CycleSummary, type MonitorHealth, type MonitorStatus, type OperatorEvent } from './contract.ts';
import { checkInput } from './inputs.ts';
import { monitorInputSchema } from './messages.ts';
import { installMonitorHandlers } from './monitor-handlers.ts';
import { intervention } from './intervention.ts';
import { deliverInBackground } from './alerts.ts';
import { consensusOf, decideCycle, sampleVolumeOf, unobservedConsensus, type CycleVerdict, type MonitorMemory } from './monitor-cycle.ts';
import { cycleActivityOptions, cycleFailureAlert, cycleRecordOf, failClosed, failureText, keepUnrecorded, safeVerdict, type UnrecordedCycles } from './monitor-degraded.ts';
import { controlQuery, type ControlStatus } from './contract.ts';
import {
  controlStatus, gateMemory, reserveIntervention, startControl, startControlSaver, syncControl, type MonitorControl,
} from './monitor-control.ts';
import {
  configNotReady, configVersionField, startConfigAuthority, startConfigSaver, syncConfig, type ConfigAuthority,
} from './monitor-config.ts';

/** Keeps a run's history to a few thousand events (about 20 a cycle), under the server's 4,096-event suggestion. */
export const CYCLES_PER_RUN = 150;

export interface MonitorState extends MonitorMemory, UnrecordedCycles {
  config: Config;
  cycles: number;
  nextSeq: number;
  lastCycle: CycleSummary | null;
  health: MonitorHealth;
  lastReserveRatio: number | null;
  noValidPriceStreak: number;
  operatorEvents: OperatorEvent[];
  wake: boolean;
  undeliveredCritical: MonitorStatus['undeliveredCritical'];
  /** Signatures of operator actions already taken → their messages' expiry: a replay is refused, across continue-as-new too. */
  usedSignatures?: Record<string, number>;
  /** Governance proposals whose change this monitor applied (each applies once); absent in older runs. */
  appliedProposals?: string[];
  /** The safety state's place in the store (src/workflows/monitor-control.ts); absent in states carried from older runs. */
  control?: MonitorControl;
  /** The configuration's version in the store (src/workflows/monitor-config.ts); absent in states carried from older runs. */
  configAuthority?: ConfigAuthority;
}

export interface MonitorInput {
  config: Config;
  /** Carried across continue-as-new. */
  state?: MonitorState;
  /** Cycles per run before continuing as new (default 150); tests use a small number. */
  cyclesPerRun?: number;
}

export function initialMonitorState(config: Config): MonitorState {
  return {
    config, paused: false, emergencyStop: false, lastExecutedSwapAt: null, interventionStarts: [], inFlight: [],
    alertState: INITIAL_ALERT_STATE, cycles: 0, nextSeq: 1, lastCycle: null,
    health: { score: null, level: null, reserveRatio: null, interventionCapacity: null, diversification: null, at: null },
    lastReserveRatio: null, noValidPriceStreak: 0, operatorEvents: [], wake: false, undeliveredCritical: { count: 0, oldest: null },
  };
}

export async function strategyMonitor(input: MonitorInput): Promise<void> {
  // A start with a malformed input fails fast, naming the field, instead of wedging the first task.
  checkInput(monitorInputSchema, input, 'strategyMonitor');
  const s: MonitorState = input.state ?? initialMonitorState(input.config);
  // Safety state in the store: decided once per run, loaded before the first cycle (below), saved as it changes.
  const durable = startControl(s);
  if (durable) setHandler(controlQuery, () => controlStatus(s) as ControlStatus);
  // The running configuration in the store, versioned: loaded before the first cycle (the store wins), each accepted change saved.
  const authority = startConfigAuthority(s);

  // Every signal, update and query; none of them throws (monitor-handlers.ts).
  installMonitorHandlers(s);

  // Saves what handlers change (pause, stop, resume, a settled swap) as soon as they change it.
  startControlSaver(s);
  startConfigSaver(s);
  for (let cyclesThisRun = 0; ; cyclesThisRun++) {
    const started = Date.now();
    if (authority) await syncConfig(s);
    // Loads the safety state when not loaded yet (every run's start), saves what handlers changed; never throws for the store.
    if (durable) await syncControl(s);
    await runCycle(s);
    s.wake = false;
    if (durable) await syncControl(s);
    const next = started + s.config.monitor.cycleIntervalSeconds * 1000;
    await condition(() => s.wake, Math.max(1, next - Date.now()));
    if (cyclesThisRun + 1 >= (input.cyclesPerRun ?? CYCLES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (authority) await syncConfig(s);
      if (durable) await syncControl(s);
      await continueAsNew<typeof strategyMonitor>({ config: s.config, state: { ...s, wake: false }, ...(input.cyclesPerRun ? { cyclesPerRun: input.cyclesPerRun } : {}) });
    }
  }
}

async function runCycle(s: MonitorState): Promise<void> {
  // Histories recorded before degraded cycles existed replay the old way (an activity failing after its retries ended the run).
  const hardened = patched('degraded-cycles');
  const cycleNumber = s.cycles + 1;
  try {
    await cycle(s, hardened);
  } catch (err) {
    // An operator's cancel of the monitor is not a fault: it ends the run as asked.
    if (!hardened || isCancellation(err)) throw err;
    // The last net: whatever escaped the cycle (a bug, not the world) is a degraded cycle, never a failed monitor or a retried task.
    const cycleId = `${s.config.treasuryId}/${cycleNumber}`;
    const failure = failureText('monitor cycle', err);
    log.error('cycle failed; recorded as degraded', { cycleId, failure });
    if (s.cycles < cycleNumber) s.cycles = cycleNumber;
    const v = failClosed(safeVerdict(cycleId, Date.now(), s, failure), cycleId, [failure], 0);
    s.lastCycle = v.summary;
    keepUnrecorded(s, cycleRecordOf(v, v.summary, null, unobservedConsensus(failure), v.alerts));
    await deliverInBackground(s.config.treasuryId, cycleId, v.summary.at, v.alerts).catch(() => undefined);
  }
}

async function cycle(s: MonitorState, hardened: boolean): Promise<void> {
  const { config } = s;
  // The version of this cycle's configuration, taken with it: a change made mid-cycle is the next cycle's.
  const configVersion = configVersionField(s);
  const acts = proxyActivities<Activities>(cycleActivityOptions(config.monitor.cycleIntervalSeconds));
  const treasuryId = config.treasuryId;
  const cycleId = `${treasuryId}/${s.cycles + 1}`;
  const failures: string[] = [];
  // An activity that fails after its retries: recorded as this cycle's failure (degraded), or, replaying an old history, the old throw.
  const attempt = async <T>(what: string, run: () => Promise<T>): Promise<T | null> => {
    try {
      return await run();
    } catch (err) {
      if (!hardened || !(err instanceof ActivityFailure) || isCancellation(err)) throw err;
      failures.push(failureText(what, err));
      return null;
    }
  };
  // The backlog first: the monitor intervenes only once every earlier cycle is on record.
  if (hardened && (s.unrecorded?.length ?? 0) > 0) {
    const written = await attempt('recordCycleBacklog', () => acts.recordCycleBacklog({ treasuryId, cycles: s.unrecorded ?? [] }));
    if (written) s.unrecorded = [];
  }
  // A market that cannot be observed at all (every source and price feed down) is a cycle with no valid price, not the monitor's end.
  let unobserved: { source: string; error: string; status?: number }[] = [];
  const obs = await acts.observeMarket({ treasuryId }).catch((err: unknown) => {
    if (!(err instanceof ActivityFailure) || (hardened && isCancellation(err))) throw err;
    if (hardened) failures.push(failureText('observeMarket', err));
    unobserved = authRefusedSources(err);
    return null;
  });
  const now = Date.now();
  const consensus = obs ? consensusOf(obs, now, config) : unobservedConsensus('observeMarket failed after its retries');
  const vwap = consensus.ok && obs
    ? await attempt('recordSample', () => acts.recordSample({
      treasuryId, cycleId, at: now, pstrPrice: consensus.price, volumeUsd: hardened ? sampleVolumeOf(obs) : obs.volumeUsd, pumpPrice: obs.pumpPrice,
      solPrice: obs.solPrice, consensus, vwapWindowDays: config.strategy.vwapWindowDays,
    }))
    : null;
  // Only starts of the trailing window matter to the daily-limit gate.
  s.interventionStarts = s.interventionStarts.filter((t) => t > now - 48 * HOUR_MS);
  let v: CycleVerdict;
  try {
    v = decideCycle(cycleId, now, obs, consensus, vwap, gateMemory(s), config, unobserved);
  } catch (err) {
    // The domain states its rules for odd markets (RR = +∞, NaN); a throw left is a bug, and it must not retry the task forever.
    if (!hardened) throw err;
    failures.push(failureText('decideCycle', err));
    v = safeVerdict(cycleId, now, s, failures[failures.length - 1] ?? 'decideCycle threw');
  }
  const backlog = s.unrecorded?.length ?? 0;
  if (hardened && (failures.length > 0 || backlog > 0)) v = failClosed(v, cycleId, failures, backlog);
  s.cycles += 1;
  s.emergencyStop = v.emergency.latched;
  s.alertState = v.alertState;
  s.noValidPriceStreak = v.alertState.noValidPriceStreak;
  if (v.state) {
    s.lastReserveRatio = v.state.reserveRatio;
    s.health = {
      score: v.summary.health, level: v.summary.healthLevel, reserveRatio: v.state.reserveRatio,
      interventionCapacity: v.state.interventionCapacity, diversification: null, at: now,
    };
  }
  let summary = v.summary;
  const alerts = [...v.alerts];
  // An intervention acts under a configuration version the store has (checked before a sequence number is taken).
  const configBlock = v.decision?.intervene ? configNotReady(s) : null;
  // The record naming the new sequence number is saved first: a monitor started after a crash never reuses the id.
  if (configBlock !== null) {
    summary = { ...summary, decision: `${summary.decision}; not started: ${configBlock}` };
  } else if (v.decision?.intervene && !(await reserveIntervention(s, now))) {
    summary = { ...summary, decision: `${summary.decision}; not started: ${s.control?.problem ?? 'safety state not saved'}` };
  } else if (v.decision?.intervene) {
    const seq = s.nextSeq;
    const id = interventionWorkflowId(treasuryId, seq);
    // The deterministic id makes a second start of the same intervention impossible.
    const started = await startChild(intervention, {
      workflowId: id,
      args: [{ treasuryId, seq, config, ...configVersion, decidedInCycle: cycleId, decision: v.decision, consensus, vwap30: vwap?.vwap ?? 0, startedAt: now }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    }).then(() => null, (err: unknown) => {
      if (!hardened || isCancellation(err)) throw err;
      return err;
    });
    s.nextSeq += 1;
    if (started === null) {
      s.inFlight = [...s.inFlight, id];
      s.interventionStarts = [...s.interventionStarts, now];
      summary = { ...summary, startedIntervention: id };
    } else {
      // Another workflow holds the id (a monitor restarted without its counter, or a stray start): its number is skipped, this cycle fails closed.
      const why = started instanceof WorkflowExecutionAlreadyStartedError ? `workflow id ${id} is already taken` : failureText('startChild', started);
      summary = { ...summary, decision: `intervention not started (fail closed): ${why}; sequence number ${seq} skipped, the next trigger uses ${s.nextSeq}` };
      const a = systemFailureAlert('intervention start', `${why}; the monitor skipped to ${interventionWorkflowId(treasuryId, s.nextSeq)} and keeps cycling`);
      alerts.push({ ...a, data: { ...a.data, interventionId: id } });
    }
  }
  s.lastCycle = summary;
  const record = { ...cycleRecordOf(v, summary, obs, consensus, alerts), ...configVersion };
  const recorded = await attempt('recordCycle', () => acts.recordCycle({ treasuryId, cycle: record }));
  // Histories recorded before recordCycle reported this carry no result.
  if (recorded?.undeliveredCritical) s.undeliveredCritical = recorded.undeliveredCritical;
  if (hardened && recorded === null) {
    // The store refused the record: it waits in memory, with the alert saying so (same keys as recordCycle's alert rows).
    const failure = failures[failures.length - 1] ?? 'recordCycle failed';
    alerts.push(cycleFailureAlert(cycleId, `${failure}; the record is kept and written once the store takes writes again`));
    const late = { ...summary, decision: `${summary.decision} (recorded late: ${failure})` };
    keepUnrecorded(s, { ...record, summary: late, alerts: cycleRecordOf(v, late, obs, consensus, alerts).alerts });
  }
  if (!hardened) return deliverInBackground(treasuryId, cycleId, now, alerts);
  await deliverInBackground(treasuryId, cycleId, now, alerts).catch((err: unknown) => {
    // The alerts are in the record (or its backlog); a delivery that cannot start is logged, never the monitor's end.
    log.error('alert delivery could not start', { cycleId, error: failureText('deliverInBackground', err) });
  });
}

/** The source a refused key stopped observeMarket at (its ApplicationFailure details), for the oracle-auth alert; else none. */
function authRefusedSources(err: ActivityFailure): { source: string; error: string; status?: number }[] {
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== 'OracleAuthRefused') return [];
  const first: unknown = cause.details?.[0];
  const d = typeof first === 'object' && first !== null ? (first as { source?: unknown; error?: unknown; status?: unknown }) : null;
  if (!d || typeof d.source !== 'string' || typeof d.status !== 'number') return [];
  return [{ source: d.source, error: typeof d.error === 'string' ? d.error : 'credentials refused', status: d.status }];
}

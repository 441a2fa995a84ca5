/**
 * StrategyMonitor: one per treasury (id `monitor/<treasuryId>`). Every
 * cycle: observe → consensus → record the sample (VWAP back) → state, health,
 * decision → start an intervention when due → log the cycle. Operators
 * pause, resume, stop and reconfigure it by signal or update; it continues
 * as new before its history grows large, carrying its memory and cycle count.
 */
import {
  ActivityFailure, ApplicationFailure, ParentClosePolicy, WorkflowIdReusePolicy, allHandlersFinished, condition, continueAsNew, makeContinueAsNewFunc,
  isCancellation, log, patched, proxyActivities, setHandler, startChild, workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.ts';
import type { Config } from '../config-schema.ts';
import type { CycleSummary, MonitorHealth, MonitorStatus, OperatorEvent } from './contract.ts';
import { checkInput } from './inputs.ts';
import { monitorInputSchema } from './messages.ts';
import { installMonitorHandlers } from './monitor-handlers.ts';
import { intervention } from './intervention.ts';
import { deliverInBackground } from './alerts.ts';
import { consensusOf, unobservedConsensus, type MonitorMemory } from './monitor-cycle.ts';
import { cycleActivityOptions, cycleLocalActivityOptions, cycleRecordOf, failClosed, failureText, keepUnrecorded, safeVerdict, type UnrecordedCycles } from './monitor-degraded.ts';
import { initialMonitorState, monitorCycle, type CyclePorts } from '../programs/monitor-cycle.ts';
import { proxyLocalActivitiesAsTasks } from './local-activities.ts';
import { runProgram, temporalEnv } from './run-program.ts';
import { controlQuery, type ControlStatus } from './contract.ts';
import {
  controlStatus, gateMemory, reserveIntervention, startControl, startControlSaver, syncControl, type MonitorControl,
} from './monitor-control.ts';
import {
  configNotReady, configVersionField, startConfigAuthority, startConfigSaver, syncConfig, type ConfigAuthority,
} from './monitor-config.ts';

/** Runs recorded before the server's suggestion decided continued as new after exactly this many cycles (about 24 events each). */
export const LEGACY_CYCLES_PER_RUN = 150;
/**
 * A run continues as new when the server suggests it (its history nears 4,096 events or 4 MB); this ceiling
 * (about 8,000 events at 8 a cycle, under the 51,200-event limit) holds on servers that never suggest, such as
 * the time-skipping test server.
 */
export const MAX_CYCLES_PER_RUN = 1_000;
/** The cycle's observe, sample and record run as local activities (markers in the monitor's history, no activity tasks). */
export const LOCAL_CYCLE_PATCH = 'local-cycle-activities';
/** Continue-as-new on the server's suggestion, not after a fixed 150 cycles. */
export const SUGGESTED_CONTINUE_PATCH = 'continue-as-new-on-suggestion';

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
  /** Cycles per run before continuing as new (default: the server's suggestion, at most MAX_CYCLES_PER_RUN); tests use a small number. */
  cyclesPerRun?: number;
}

/** The monitor's first memory (pure, in src/programs: the backtest starts from it too). */
export { initialMonitorState };

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
    // A new current Worker Deployment version: the next run starts on it (this one stays pinned to its own).
    const upgrade = workflowInfo().targetWorkerDeploymentVersionChanged;
    if (cyclesThisRun + 1 >= cycleCeiling(input) || workflowInfo().continueAsNewSuggested || upgrade) {
      await condition(allHandlersFinished);
      if (authority) await syncConfig(s);
      if (durable) await syncControl(s);
      const next = upgrade ? makeContinueAsNewFunc<typeof strategyMonitor>({ initialVersioningBehavior: 'AUTO_UPGRADE' }) : continueAsNew<typeof strategyMonitor>;
      await next({ config: s.config, state: { ...s, wake: false }, ...(input.cyclesPerRun ? { cyclesPerRun: input.cyclesPerRun } : {}) });
    }
  }
}

/** Cycles this run may take before it continues as new (the server's suggestion may end it sooner). */
function cycleCeiling(input: MonitorInput): number {
  if (input.cyclesPerRun !== undefined) return input.cyclesPerRun;
  return patched(SUGGESTED_CONTINUE_PATCH) ? MAX_CYCLES_PER_RUN : LEGACY_CYCLES_PER_RUN;
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

/** One cycle (src/programs/monitor-cycle.ts, the lines the backtest runs per row) bound to this run's activities and child starts. */
async function cycle(s: MonitorState, hardened: boolean): Promise<void> {
  // The cycle's configuration, taken with it: a change a handler makes mid-cycle is the next cycle's.
  const config = s.config;
  // Short, idempotent and keyed by the cycle id: as local activities they cost one marker each instead of six events.
  // Histories recorded before run them as activity tasks.
  const interval = config.monitor.cycleIntervalSeconds;
  const local = patched(LOCAL_CYCLE_PATCH);
  const acts = local ? proxyLocalActivitiesAsTasks<Activities>(cycleLocalActivityOptions(interval)) : proxyActivities<Activities>(cycleActivityOptions(interval));
  const treasuryId = config.treasuryId;
  const ports: CyclePorts = {
    recordBacklog: (cycles) => acts.recordCycleBacklog(local ? { treasuryId, cycles, at: Date.now() } : { treasuryId, cycles }),
    observe: () => acts.observeMarket(local ? { treasuryId, at: Date.now() } : { treasuryId }),
    consensus: (obs, now) => consensusOf(obs, now, config),
    recordSample: (sample) => acts.recordSample(sample),
    gateMemory: () => gateMemory(s),
    configBlock: () => configNotReady(s),
    configVersion: () => configVersionField(s),
    reserve: (now) => reserveIntervention(s, now),
    startIntervention: ({ workflowId, ...args }) => startChild(intervention, {
      workflowId, args: [args], parentClosePolicy: ParentClosePolicy.ABANDON, workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    }).then(() => null, (err: unknown) => {
      if (!hardened || isCancellation(err)) throw err;
      return err;
    }),
    recordCycle: (record) => acts.recordCycle(local ? { treasuryId, cycle: record, at: Date.now() } : { treasuryId, cycle: record }),
    deliver: (cycleId, at, alerts) => deliverInBackground(treasuryId, cycleId, at, alerts),
    isActivityFailure: (err) => err instanceof ActivityFailure,
    authRefused: (err) => (err instanceof ActivityFailure ? authRefusedSources(err) : []),
    idTaken: (err) => err instanceof WorkflowExecutionAlreadyStartedError,
  };
  await runProgram(monitorCycle(s, hardened, temporalEnv, ports));
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

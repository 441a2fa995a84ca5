/**
 * One monitoring cycle, written once: the backlog of unrecorded cycles, observe
 * → consensus → record the sample (VWAP back) → state, health, the decision
 * with every gate → start an intervention when due → record the cycle →
 * deliver its alerts. src/workflows/monitor.ts runs it on Temporal; the
 * backtest runs the same lines once per price-file row. A step that fails
 * after its retries makes the cycle degraded (recorded, alerted, fail closed),
 * never the monitor's end.
 */
import { INITIAL_ALERT_STATE, systemFailureAlert, type Alert } from '../domain/alerts.ts';
import type { Config } from '../config-schema.ts';
import type { ConsensusResult } from '../domain/consensus.ts';
import { HOUR_MS } from '../domain/intervention.ts';
import type { VwapReading } from '../domain/vwap.ts';
import type { RecordSampleInput } from '../activities/monitor.ts';
import type { CycleRecord, InterventionInput, MarketObservation, RecordCycleResult } from '../workflows/contract.ts';
import { decideCycle, sampleVolumeOf, unobservedConsensus, type CycleVerdict } from '../workflows/monitor-cycle.ts';
import { cycleFailureAlert, cycleRecordOf, failClosed, failureText, keepUnrecorded, safeVerdict } from '../workflows/monitor-degraded.ts';
import type { MonitorState } from '../workflows/monitor.ts';
import { call, type Program, type ProgramEnv } from './steps.ts';

/** A sample as recordSample takes it, with the cycle's consensus. */
export type SampleRequest = RecordSampleInput & { consensus: ConsensusResult };

export type StartRequest = InterventionInput & { workflowId: string };

/** What a cycle asks of the world; each answer may be a value (backtest) or a promise (Temporal). */
export interface CyclePorts {
  recordBacklog(records: CycleRecord[]): unknown;
  observe(): MarketObservation | Promise<MarketObservation>;
  consensus(obs: MarketObservation, now: number): ConsensusResult;
  recordSample(sample: SampleRequest): VwapReading | null | Promise<VwapReading | null>;
  /** The memory the gates decide with (paused while the safety state is not loaded). */
  gateMemory(): MonitorState;
  /** Why no intervention may start under the current configuration version, or null. */
  configBlock(): string | null;
  /** The version the cycle decides under, for its inputs and records. */
  configVersion(): { configVersion?: number };
  /** Saves the sequence number and the start before the start (false: start nothing). */
  reserve(now: number): boolean | Promise<boolean>;
  /** Starts the intervention; null when started, else the error (an id already taken, the start failing). */
  startIntervention(request: StartRequest): unknown;
  recordCycle(record: CycleRecord): RecordCycleResult | undefined | Promise<RecordCycleResult | undefined>;
  deliver(cycleId: string, at: number, alerts: Alert[]): void | Promise<void>;
  /** An activity's failure after its retries (a degraded step), as opposed to a bug or a cancellation. */
  isActivityFailure(err: unknown): boolean;
  /** The source a refused key stopped the market read at, for the oracle-auth alert. */
  authRefused(err: unknown): { source: string; error: string; status?: number }[];
  /** The start failed because another workflow holds the id. */
  idTaken(err: unknown): boolean;
}

/** A monitor's first memory: nothing paused or latched, no cycle yet, sequence numbers from 1. */
export function initialMonitorState(config: Config): MonitorState {
  return {
    config, paused: false, emergencyStop: false, lastExecutedSwapAt: null, interventionStarts: [], inFlight: [],
    alertState: INITIAL_ALERT_STATE, cycles: 0, nextSeq: 1, lastCycle: null,
    health: { score: null, level: null, reserveRatio: null, interventionCapacity: null, diversification: null, at: null },
    lastReserveRatio: null, noValidPriceStreak: 0, operatorEvents: [], wake: false, undeliveredCritical: { count: 0, oldest: null },
  };
}

/** A step that fails after its retries: recorded as this cycle's failure (degraded), or, replaying an old history, the old throw. */
function* attempt<T>(env: ProgramEnv, ports: CyclePorts, hardened: boolean, failures: string[], what: string, run: () => T | Promise<T>): Program<Awaited<T> | null> {
  try {
    return yield* call(run);
  } catch (err) {
    if (!hardened || !ports.isActivityFailure(err) || env.isCancellation(err)) throw err;
    failures.push(failureText(what, err));
    return null;
  }
}

export function* monitorCycle(s: MonitorState, hardened: boolean, env: ProgramEnv, ports: CyclePorts): Program<void> {
  const { config } = s;
  // The version of this cycle's configuration, taken with it: a change made mid-cycle is the next cycle's.
  const configVersion = ports.configVersion();
  const treasuryId = config.treasuryId;
  const cycleId = `${treasuryId}/${s.cycles + 1}`;
  const failures: string[] = [];
  // The backlog first: the monitor intervenes only once every earlier cycle is on record.
  if (hardened && (s.unrecorded?.length ?? 0) > 0) {
    const written = yield* attempt(env, ports, hardened, failures, 'recordCycleBacklog', () => ports.recordBacklog(s.unrecorded ?? []));
    if (written) s.unrecorded = [];
  }
  // A market that cannot be observed at all (every source and price feed down) is a cycle with no valid price, not the monitor's end.
  let unobserved: { source: string; error: string; status?: number }[] = [];
  let obs: MarketObservation | null;
  try {
    obs = yield* call(() => ports.observe());
  } catch (err) {
    if (!ports.isActivityFailure(err) || (hardened && env.isCancellation(err))) throw err;
    if (hardened) failures.push(failureText('observeMarket', err));
    unobserved = ports.authRefused(err);
    obs = null;
  }
  const now = env.now();
  const consensus = obs ? ports.consensus(obs, now) : unobservedConsensus('observeMarket failed after its retries');
  const observed = obs;
  const vwap = consensus.ok && observed
    ? yield* attempt(env, ports, hardened, failures, 'recordSample', () => ports.recordSample({
      treasuryId, cycleId, at: now, pstrPrice: consensus.price, volumeUsd: hardened ? sampleVolumeOf(observed) : observed.volumeUsd, pumpPrice: observed.pumpPrice,
      solPrice: observed.solPrice, consensus, vwapWindowDays: config.strategy.vwapWindowDays,
    }))
    : null;
  // Only starts of the trailing window matter to the daily-limit gate.
  const since = now - 48 * HOUR_MS;
  if (s.interventionStarts.some((t) => t <= since)) s.interventionStarts = s.interventionStarts.filter((t) => t > since);
  let v: CycleVerdict;
  try {
    v = decideCycle(cycleId, now, obs, consensus, vwap, ports.gateMemory(), config, unobserved);
  } catch (err) {
    // The domain states its rules for odd markets (RR = +∞, NaN); a throw left is a bug, and it must not retry the task forever.
    if (!hardened) throw err;
    failures.push(failureText('decideCycle', err));
    v = safeVerdict(cycleId, now, s, failures[failures.length - 1] ?? 'decideCycle threw');
  }
  const backlog = s.unrecorded?.length ?? 0;
  if (hardened && (failures.length > 0 || backlog > 0)) v = failClosed(v, cycleId, failures, backlog);
  remember(s, v, now);
  const alerts = [...v.alerts];
  const summary = yield* startIfDue(s, v, { hardened, now, cycleId, consensus, vwap, configVersion, alerts }, ports);
  s.lastCycle = summary;
  // Set, not spread in: a spread plus keys is several times slower in V8, and this runs every cycle.
  const record = cycleRecordOf(v, summary, obs, consensus, alerts);
  if (configVersion.configVersion !== undefined) record.configVersion = configVersion.configVersion;
  const recorded = yield* attempt(env, ports, hardened, failures, 'recordCycle', () => ports.recordCycle(record));
  // Histories recorded before recordCycle reported this carry no result.
  if (recorded?.undeliveredCritical) s.undeliveredCritical = recorded.undeliveredCritical;
  if (hardened && recorded === null) {
    // The store refused the record: it waits in memory, with the alert saying so (same keys as recordCycle's alert rows).
    const failure = failures[failures.length - 1] ?? 'recordCycle failed';
    alerts.push(cycleFailureAlert(cycleId, `${failure}; the record is kept and written once the store takes writes again`));
    const late = { ...summary, decision: `${summary.decision} (recorded late: ${failure})` };
    keepUnrecorded(s, { ...record, summary: late, alerts: cycleRecordOf(v, late, obs, consensus, alerts).alerts });
  }
  if (!hardened) return yield* call(() => ports.deliver(cycleId, now, alerts));
  try {
    yield* call(() => ports.deliver(cycleId, now, alerts));
  } catch (err) {
    // The alerts are in the record (or its backlog); a delivery that cannot start is logged, never the monitor's end.
    env.log.error('alert delivery could not start', { cycleId, error: failureText('deliverInBackground', err) });
  }
}

/** What the cycle's verdict changes in the monitor's memory. */
function remember(s: MonitorState, v: CycleVerdict, now: number): void {
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
}

interface StartContext {
  hardened: boolean;
  now: number;
  cycleId: string;
  consensus: ConsensusResult;
  vwap: VwapReading | null;
  configVersion: { configVersion?: number };
  /** The cycle's alerts; a failed start adds one. */
  alerts: Alert[];
}

/** Starts the intervention the verdict asks for, when the configuration and the safety state allow; the cycle's summary. */
function* startIfDue(s: MonitorState, v: CycleVerdict, c: StartContext, ports: CyclePorts): Program<CycleVerdict['summary']> {
  const { config } = s;
  const treasuryId = config.treasuryId;
  const summary = v.summary;
  if (!v.decision?.intervene) return summary;
  // An intervention acts under a configuration version the store has (checked before a sequence number is taken).
  const configBlock = ports.configBlock();
  if (configBlock !== null) return { ...summary, decision: `${summary.decision}; not started: ${configBlock}` };
  // The record naming the new sequence number is saved first: a monitor started after a crash never reuses the id.
  if (!(yield* call(() => ports.reserve(c.now)))) return { ...summary, decision: `${summary.decision}; not started: ${s.control?.problem ?? 'safety state not saved'}` };
  const seq = s.nextSeq;
  const id = `intervention/${treasuryId}/${seq}`;
  // The deterministic id makes a second start of the same intervention impossible.
  const decision = v.decision;
  const started = yield* call(() => ports.startIntervention({
    workflowId: id, treasuryId, seq, config, ...c.configVersion, decidedInCycle: c.cycleId, decision, consensus: c.consensus, vwap30: c.vwap?.vwap ?? 0, startedAt: c.now,
  }));
  s.nextSeq += 1;
  if (started === null) {
    s.inFlight = [...s.inFlight, id];
    s.interventionStarts = [...s.interventionStarts, c.now];
    return { ...summary, startedIntervention: id };
  }
  // Another workflow holds the id (a monitor restarted without its counter, or a stray start): its number is skipped, this cycle fails closed.
  const why = ports.idTaken(started) ? `workflow id ${id} is already taken` : failureText('startChild', started);
  const a = systemFailureAlert('intervention start', `${why}; the monitor skipped to intervention/${treasuryId}/${s.nextSeq} and keeps cycling`);
  c.alerts.push({ ...a, data: { ...a.data, interventionId: id } });
  return { ...summary, decision: `intervention not started (fail closed): ${why}; sequence number ${seq} skipped, the next trigger uses ${s.nextSeq}` };
}

/**
 * The timeline of a StrategyMonitor run: for every cycle the readings (source,
 * price, confidence, age), the exclusions and why, the consensus price, VWAP,
 * drawdown, RR, health, the decision and every gate verdict, the alerts, and
 * the interventions it started; between cycles the operators' signals and
 * updates. A monitor continues as new: one run is one history, and the first
 * line says when earlier runs exist.
 *
 * Whether a resume or an updateConfig signal was accepted is not written in
 * history (the monitor keeps it in its state); it is recomputed with the
 * workflow's own rules (`resumeVerdict`, `mergeConfig`) over what the history
 * shows: the emergency latch and reserve ratio of the recorded cycles, the
 * operators' stops and resumes, and the accepted configuration changes.
 */
import { mergeConfig, type Config } from '../config-schema.ts';
import { resumeVerdict } from '../domain/intervention.ts';
import { authorize } from '../domain/operators.ts';
import { decideConfigPatch } from '../domain/config-policy.ts';
import { CONFIG_POLICY_PATCH, OPERATOR_CHECKS_PATCH, emergencyStopMessage, parseMessage, pauseMessage, resumeMessage, updateConfigMessage } from '../workflows/messages.ts';
import type { MonitorInput } from '../workflows/monitor.ts';
import type { MarketObservation, RecordCycleInput } from '../workflows/contract.ts';
import { at, commonLine, detail, rec, stringOr } from './audit-lines.ts';
import { brief, decisionText, num, pct, price, seconds } from './format.ts';
import type { DecodedEvent } from './history.ts';

export function monitorTimeline(events: readonly DecodedEvent[], opts: { lastCycles?: number } = {}): string[] {
  const cycleIds = events.filter(isCycleRecord).map((e) => e.id);
  // Keep the events after the end of the cycle just before the last N: they belong to those N cycles.
  const n = opts.lastCycles;
  const cutoff = n !== undefined && n < cycleIds.length ? (cycleIds[cycleIds.length - n - 1] ?? 0) : 0;
  const lines: string[] = [];
  let observation: MarketObservation | null = null;
  const memory: Memory = { config: null, emergencyStop: false, lastReserveRatio: null, checkedFrom: checksStartAt(events), policyFrom: checksStartAt(events, CONFIG_POLICY_PATCH), policyNow: false };
  for (const e of events) {
    if (e.kind === 'activityCompleted' && e.activityType === 'observeMarket') observation = e.result as MarketObservation;
    track(memory, e);
    if (e.id <= cutoff && e.kind !== 'workflowStarted') continue;
    const common = commonLine(e);
    if (common) {
      lines.push(...common);
      continue;
    }
    switch (e.kind) {
      case 'workflowStarted':
        lines.push(...started(e.at, e.input[0] as MonitorInput | undefined, e.continuedFromRunId));
        if (cutoff > 0) lines.push(`… ${cycleIds.length - (n ?? 0)} earlier cycle(s) of this run not shown (--last ${n})`);
        break;
      case 'activityScheduled':
        if (isCycleRecord(e)) lines.push(...cycleLines(e.at, (e.input[0] as RecordCycleInput).cycle, observation));
        break;
      case 'childStarting':
        lines.push(at(e.at, `starting ${e.workflowType} ${e.workflowId}`));
        break;
      case 'signaled':
        memory.policyNow = e.id >= memory.policyFrom;
        lines.push(signalLine(e.at, e.name, e.input[0], e.identity, memory, e.id >= memory.checkedFrom));
        break;
      case 'updateAccepted':
        lines.push(at(e.at, `update ${e.name}${by(e.input[0])}${e.identity ? ` (from ${e.identity})` : ''}${e.name === 'updateConfig' ? `: ${brief(rec(e.input[0]).patch)}` : ''}${e.name === 'applyProposal' ? `: ${brief(rec(e.input[0]).change)}` : ''}`));
        break;
      case 'updateCompleted':
        lines.push(at(e.at, updateOutcome(e.result, e.failure)));
        break;
      default:
        break;
    }
  }
  return lines;
}

/** What the monitor knew when a signal arrived, as far as the history shows it. */
interface Memory {
  config: Config | null;
  emergencyStop: boolean;
  lastReserveRatio: number | null;
  /** The first event judged by the operator checks (the message that recorded their patch marker); Infinity: none in this run. */
  checkedFrom: number;
  /** The same for the config key classes (src/domain/config-policy.ts), and whether the message at hand is judged by them. */
  policyFrom: number;
  policyNow: boolean;
}

/** Operators are authorized from the message whose handling recorded the checks' patch marker (it follows that message). */
function checksStartAt(events: readonly DecodedEvent[], patchId = OPERATOR_CHECKS_PATCH): number {
  const marker = events.find((e) => e.kind === 'patch' && e.patchId === patchId);
  if (!marker) return Number.POSITIVE_INFINITY;
  const before = events.filter((e) => e.id < marker.id && (e.kind === 'signaled' || e.kind === 'updateAccepted')).at(-1);
  return before?.id ?? marker.id;
}

function track(m: Memory, e: DecodedEvent): void {
  if (e.kind === 'workflowStarted') {
    const input = e.input[0] as MonitorInput | undefined;
    m.config = input?.config ?? null;
    m.emergencyStop = input?.state?.emergencyStop ?? false;
    m.lastReserveRatio = input?.state?.lastReserveRatio ?? null;
  } else if (isCycleRecord(e)) {
    const c = (e.input[0] as RecordCycleInput).cycle;
    m.emergencyStop = c.emergency.latched;
    if (c.consensus.ok && c.summary.reserveRatio !== null) m.lastReserveRatio = c.summary.reserveRatio;
  } else if (e.kind === 'updateCompleted' && !e.failure && e.result) {
    m.config = e.result as Config;
  }
}

/** An Update's outcome: the operator actions answer accepted or refused with the reason; updateConfig answers the config. */
function updateOutcome(result: unknown, failure: string | null): string {
  if (failure) return `update refused: ${failure}`;
  const r = rec(result);
  if (typeof r.accepted === 'boolean') return `update${stringOr(r.action) ? ` ${stringOr(r.action)}` : ''}: ${r.accepted ? 'accepted' : 'REFUSED'} — ${stringOr(r.detail) ?? ''}`;
  return 'update applied: the new configuration is running';
}

const SCHEMAS = { pause: pauseMessage, resume: resumeMessage, emergencyStop: emergencyStopMessage, updateConfig: updateConfigMessage } as const;

/**
 * Applies an operator signal to the memory the way the monitor does; says whether it was accepted: the payload
 * parsed, the sender a configured operator (a governance message is checked by the monitor against the store:
 * its verifyProposalAction activity follows), then the state's rules.
 */
function verdict(m: Memory, name: keyof typeof SCHEMAS, arg: unknown, checked: boolean): string {
  const p = parseMessage(SCHEMAS[name], arg);
  if (!p.ok) return `REFUSED — malformed ${name}: ${p.why}`;
  if (p.value.proposalId !== undefined) return `governance ${p.value.proposalId}: applied only if the store holds it passed with this change (see verifyProposalAction)`;
  if (m.config && checked) {
    const auth = authorize(name, p.value.by, m.config.intervention.operators);
    if (!auth.ok) return `REFUSED — ${auth.why}`;
  }
  if (name === 'emergencyStop') m.emergencyStop = true;
  if (name === 'resume' && m.emergencyStop && m.config) {
    const v = resumeVerdict(m.lastReserveRatio, m.config.risk.minRrThreshold);
    if (!v.ok) return `REFUSED — ${v.reason}`;
    m.emergencyStop = false;
  }
  if (name === 'updateConfig' && m.config && m.policyNow) {
    const d = decideConfigPatch(m.config, rec(arg).patch as Record<string, unknown>, { kind: 'operator' });
    if (!d.ok) return `REFUSED — ${d.why.replace(/\s+/g, ' ')}`;
    m.config = d.config;
  } else if (name === 'updateConfig' && m.config) {
    try {
      m.config = mergeConfig(m.config, rec(arg).patch, 'updateConfig');
    } catch (err) {
      return `REFUSED — ${(err as Error).message.replace(/\s+/g, ' ')}`;
    }
  }
  return 'accepted';
}

function isCycleRecord(e: DecodedEvent): e is Extract<DecodedEvent, { kind: 'activityScheduled' }> {
  return e.kind === 'activityScheduled' && e.activityType === 'recordCycle';
}

function started(t: number, input: MonitorInput | undefined, previousRun: string | null): string[] {
  if (!input) return [at(t, 'started (no input)')];
  const c = input.config;
  const lines = [at(t, `monitor of ${c.treasuryId} started: ${c.mode} mode, a cycle every ${c.monitor.cycleIntervalSeconds} s`)];
  if (previousRun) lines.push(detail(`continued from run ${previousRun}: earlier runs exist (audit one with --run ${previousRun})`));
  const s = input.state;
  if (s) {
    const state = [s.emergencyStop ? 'EMERGENCY STOP' : null, s.paused ? 'PAUSED' : null].filter(Boolean).join(' + ') || 'running';
    lines.push(detail(`carried over: ${s.cycles} cycles so far, ${s.nextSeq - 1} intervention(s) started, ${state}, in flight: ${s.inFlight.join(', ') || 'none'}`));
  }
  return lines;
}

function cycleLines(t: number, c: RecordCycleInput['cycle'], obs: MarketObservation | null): string[] {
  const s = c.summary;
  const lines = [at(t, `cycle ${s.cycleId}`)];
  for (const r of c.consensus.readings) {
    lines.push(detail(`reading ${r.source}: ${price(r.price)} ± ${price(r.confidence)} · ${seconds(Math.max(0, s.at - r.publishTime))} old`));
  }
  for (const x of c.consensus.excluded) lines.push(detail(`excluded ${x.source} (${price(x.price)}): ${x.reason} — ${x.detail}`));
  for (const f of obs?.failures ?? []) lines.push(detail(`source ${f.source} failed: ${f.error}`));
  if (c.consensus.ok) {
    const k = c.consensus;
    lines.push(detail(`consensus ${price(k.price)} (median' ${price(k.agreeingMedian)}, confidence-weighted ${price(k.weightedMean)}) · VWAP ${price(s.vwap30)}${s.volumeless ? ' (volumeless)' : ''} · drawdown ${pct(s.drawdown)}`));
    lines.push(detail(`RR ${num(s.reserveRatio, 3)} · PUMP concentration ${pct(s.pumpConcentration)} · health ${num(s.health, 3)} ${s.healthLevel ?? ''}`.trimEnd()));
  }
  // Without a valid price the decision is the consensus failure itself (fail closed).
  lines.push(detail(`decision: ${decisionText(s.decision)}`));
  const gates = c.decision?.gates ?? [];
  if (gates.length) lines.push(detail(`gates: ${gates.map((g) => (g.passed ? `✓ ${g.gate}` : `✗ ${g.gate} (${g.reason})`)).join(', ')}`));
  if (c.emergency.entered) lines.push(detail('EMERGENCY STOP entered: RR below the minimum'));
  for (const a of c.alerts) lines.push(detail(`alert ${a.level} ${a.kind}: ${a.message}`));
  if (s.startedIntervention) lines.push(detail(`→ started ${s.startedIntervention}`));
  return lines;
}

function by(arg: unknown): string {
  const a = rec(arg);
  const who = stringOr(a.by);
  const why = stringOr(a.reason);
  return `${who ? ` by ${who}` : ''}${why ? ` ("${why}")` : ''}`;
}

function signalLine(t: number, name: string, arg: unknown, identity: string | null, m: Memory, checked: boolean): string {
  const from = identity ? ` (from ${identity})` : '';
  const a = rec(arg);
  switch (name) {
    case 'pause':
    case 'resume':
    case 'emergencyStop':
      return at(t, `operator ${name}${by(arg)}${from}: ${verdict(m, name, arg, checked)}`);
    case 'updateConfig':
      return at(t, `operator updateConfig${by(arg)}${from}: ${brief(a.patch)} — ${verdict(m, name, arg, checked)}`);
    case 'cancelIntervention':
      return at(t, `operator cancelIntervention ${String(a.interventionId)}${by(arg)}${from}`);
    case 'interventionSettled':
      return at(t, `${String(a.interventionId)} settled: ${String(a.status)}`);
    default:
      return at(t, `signal ${name}${from}: ${brief(arg)}`);
  }
}

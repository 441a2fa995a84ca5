/**
 * The timeline of one intervention (SPEC §5): the decision it started from,
 * each recorded step with its verdict (validate, assess with every gate, size,
 * timelock, recheck, swap:N, track:Nh), every operator signal with whether it
 * counted, the durable timers, the swap request and its result, and the end.
 *
 * Whether an approve/reject signal counted is not written in history; it is
 * recomputed with the workflow's own rule (domain/approval.ts `applySignal`)
 * over the operators configured in the workflow's input, in history order.
 */
import type { Config } from '../config-schema.ts';
import { applyDecision, applySignal, NO_APPROVALS, timelockParams, voidApprovals, type ApprovalState, type OperatorSignal } from '../domain/approval.ts';
import type { InterventionPlan } from '../domain/operator-message.ts';
import { computeConsensus, consensusParams, type OracleReading } from '../domain/consensus.ts';
import type { WireSwapRequest, WireSwapResult } from '../activities/intervention.ts';
import type { InterventionInput, InterventionState, RecordStepInput, StepRecord } from '../workflows/contract.ts';
import { operatorDecisionMessage, parseMessage } from '../workflows/messages.ts';
import { at, commonLine, detail, numberOr, rec, stringOr } from './audit-lines.ts';
import { brief, num, pct, price, seconds, tokens, usd, utc } from './format.ts';
import type { DecodedEvent } from './history.ts';

interface Ctx {
  config: Config | null;
  approvals: ApprovalState;
  /** Decisions bound to plans (the validate step says so), and the plan published last. */
  signedPlans: boolean;
  plan: InterventionPlan | null;
  /** Inputs of scheduled activities by event id, to pair a result with its request. */
  scheduled: Map<number, unknown>;
}

const pump = (ctx: Ctx, raw: unknown) => tokens(stringOr(raw), ctx.config?.tokens.pump.decimals ?? 6, 'PUMP');
const pstr = (ctx: Ctx, raw: unknown) => tokens(stringOr(raw), ctx.config?.tokens.pstr.decimals ?? 6, 'PSTR');

export function interventionTimeline(events: readonly DecodedEvent[]): string[] {
  const ctx: Ctx = { config: null, approvals: NO_APPROVALS, signedPlans: false, plan: null, scheduled: new Map() };
  const lines: string[] = [];
  for (const e of events) {
    const common = commonLine(e);
    if (common) lines.push(...common);
    else lines.push(...eventLines(e, ctx));
  }
  return lines;
}

function eventLines(e: DecodedEvent, ctx: Ctx): string[] {
  switch (e.kind) {
    case 'workflowStarted':
      return started(e.at, e.input[0] as InterventionInput | undefined, ctx);
    case 'activityScheduled':
      ctx.scheduled.set(e.id, e.input[0]);
      if (e.activityType === 'recordInterventionStep') return stepLines(e.at, (e.input[0] as RecordStepInput).step, ctx);
      if (e.activityType === 'executeSwap') {
        const r = e.input[0] as WireSwapRequest;
        return [at(e.at, `swap requested: slice ${r.slice}, ${pump(ctx, r.pumpIn)} in, at least ${pstr(ctx, r.minPstrOut)} out (consensus-implied ${pstr(ctx, r.impliedPstrOut)})`)];
      }
      if (e.activityType === 'raiseAlerts') {
        const alerts = rec(e.input[0]).alerts;
        return (Array.isArray(alerts) ? alerts : []).map((a) => at(e.at, `alert ${String(rec(a).level)} ${String(rec(a).kind)}: ${String(rec(a).message)}`));
      }
      return [];
    case 'activityCompleted':
      if (e.activityType === 'executeSwap') return [at(e.at, `swap result: ${swapResult(e.result as WireSwapResult, ctx)}`)];
      if (e.activityType === 'quoteSwap') return [at(e.at, `quote: ${pump(ctx, rec(ctx.scheduled.get(e.scheduledId)).pumpIn)} → ${pstr(ctx, e.result)}`)];
      return [];
    case 'signaled':
      return signalLines(e.at, e.name, e.input[0], e.identity, ctx);
    case 'updateAccepted':
      // client.ts sends approve/reject as Updates; they count exactly as the signals do.
      return e.name === 'approve' || e.name === 'reject' ? signalLines(e.at, e.name, e.input[0], e.identity, ctx, 'update') : [at(e.at, `update ${e.name}: ${brief(e.input[0])}`)];
    case 'timerStarted':
      return [at(e.at, `timer ${e.timerId} started: fires in ${seconds(e.durationMs)} (at ${utc(e.at + e.durationMs)})`)];
    case 'timerFired':
      return [at(e.at, `timer ${e.timerId} fired`)];
    case 'timerCanceled':
      return [at(e.at, `timer ${e.timerId} cancelled (a signal woke the workflow first)`)];
    case 'externalSignal':
      return [at(e.at, `told ${e.workflowId}: ${e.name} ${brief(e.input[0])}`)];
    case 'workflowCompleted':
      return ended(e.at, e.result as InterventionState | undefined, ctx);
    default:
      return [];
  }
}

function started(t: number, input: InterventionInput | undefined, ctx: Ctx): string[] {
  if (!input) return [at(t, 'started (no input)')];
  ctx.config = input.config;
  const d = input.decision;
  const i = input.config.intervention;
  const consensus = input.consensus.ok ? price(input.consensus.price) : `none (${input.consensus.reason})`;
  return [
    at(t, `started: decided in cycle ${input.decidedInCycle} at ${utc(input.startedAt)}`),
    detail(`drawdown ${pct(d.drawdown)} · tier ${d.tier?.tier ?? '—'} (${pct(d.fraction)} of PUMP${d.reduced ? ', halved below RR 2.0' : ''}) · consensus ${consensus} · VWAP ${price(input.vwap30)}`),
    detail(`timelock above ${usd(i.timelockThresholdUsd)}: wait ${i.timelockMinutes} min and ${i.approvalsRequired} approval(s) from ${i.operators.join(', ') || '(no operators configured)'}; expires after ${i.approvalTimeoutHours} h`),
  ];
}

function stepLines(t: number, step: StepRecord, ctx: Ctx): string[] {
  const lines = [at(t, `step ${step.step}: ${step.verdict}`)];
  const inp = rec(step.inputs);
  const out = rec(step.outcome);
  const name = step.step.startsWith('swap:') ? 'swap' : step.step.startsWith('track:') ? 'track' : step.step;
  switch (name) {
    case 'validate':
    case 'recheck': {
      if (inp.signedPlans === true) ctx.signedPlans = true;
      lines.push(detail(`fresh consensus ${price(numberOr(out.price))} vs VWAP ${price(numberOr(inp.vwap30))}: ${out.triggered === true ? 'at or below the trigger' : 'not at the trigger'}`));
      const readings = (Array.isArray(inp.readings) ? inp.readings : []) as OracleReading[];
      for (const r of readings) {
        lines.push(detail(`reading ${r.source}: ${price(r.price)} ± ${price(r.confidence)} · ${seconds(Math.max(0, step.at - r.publishTime))} old`));
      }
      // The step records the readings, not the exclusions: the consensus is recomputed exactly as
      // the workflow computed it (same readings, same config, same workflow time).
      if (readings.length && ctx.config) {
        for (const x of computeConsensus(readings, step.at, consensusParams(ctx.config)).excluded) {
          lines.push(detail(`excluded ${x.source} (${price(x.price)}): ${x.reason} — ${x.detail}`));
        }
      }
      break;
    }
    case 'assess':
      for (const g of Array.isArray(out.gates) ? out.gates : []) {
        const v = rec(g);
        lines.push(detail(`${v.passed === true ? '✓' : '✗'} ${String(v.gate)}: ${String(v.reason)}`));
      }
      lines.push(detail(`reserve ratio ${num(numberOr(out.reserveRatio), 3)}`));
      break;
    case 'size':
      lines.push(detail(`drawdown ${pct(numberOr(inp.drawdown))} · PUMP balance ${pump(ctx, inp.pumpBalance)} · RR ${num(numberOr(inp.reserveRatio), 3)}`));
      lines.push(detail(`size: ${pct(numberOr(out.fraction))} = ${pump(ctx, out.pumpAmount)} ≈ ${usd(numberOr(out.usdSize))}`));
      lines.push(...planLines(out.plan, ctx));
      break;
    case 'resize':
      lines.push(...planLines(out.plan, ctx));
      break;
    case 'timelock': {
      const a = rec(out.approvals) as Partial<ApprovalState>;
      for (const x of a.approvals ?? []) lines.push(detail(`approved by ${x.operator} at ${utc(x.at)}${x.reason ? ` ("${x.reason}")` : ''}`));
      if (a.rejection) lines.push(detail(`rejected by ${a.rejection.operator} at ${utc(a.rejection.at)}${a.rejection.reason ? ` ("${a.rejection.reason}")` : ''}`));
      for (const r of a.refused ?? []) lines.push(detail(`refused ${r.signal.kind} by ${r.signal.operator} at ${utc(r.signal.at)}: ${r.why}`));
      lines.push(detail(`size ${usd(numberOr(inp.usdSize))} vs threshold ${usd(numberOr(inp.threshold))}`));
      break;
    }
    case 'swap':
      lines.push(detail(`${pump(ctx, inp.pumpIn)} in: quoted ${pstr(ctx, inp.quote)}, consensus-implied ${pstr(ctx, inp.implied)}`));
      break;
    case 'track':
      lines.push(detail(`price ${price(numberOr(out.price))} · ROI ${pct(numberOr(out.roi))} on ${usd(numberOr(inp.usdSpent))} spent`));
      break;
    default:
      lines.push(detail(`inputs ${brief(step.inputs)} → ${brief(step.outcome)}`));
  }
  return lines;
}

function swapResult(r: WireSwapResult, ctx: Ctx): string {
  if (r.status !== 'confirmed') return `FAILED (${r.error ?? 'no reason given'}); nothing moved for this slice`;
  return `confirmed — ${pump(ctx, r.pumpIn)} → ${pstr(ctx, r.pstrOut)} (reference ${r.reference})${r.alreadyDone ? ', found already done on a retry' : ''}`;
}

/** A published plan, in words; later decisions are checked against it (a re-size voids earlier approvals). */
function planLines(raw: unknown, ctx: Ctx): string[] {
  if (typeof raw !== 'object' || raw === null) return [];
  const plan = raw as InterventionPlan;
  if (ctx.plan && plan.revision !== ctx.plan.revision) ctx.approvals = voidApprovals(ctx.approvals, ctx.plan, plan, ctx.approvals.approvals.at(-1)?.at ?? 0);
  ctx.plan = plan;
  return [detail(`plan ${plan.revision}: ${pump(ctx, plan.pumpIn)} in, at least ${pstr(ctx, plan.minPstrOut)} out, sized at ${price(plan.consensusPrice)}, config version ${plan.configVersion ?? 'none'}; approvals accepted until ${utc(plan.expiresAt)}`)];
}

function signalLines(t: number, name: string, arg: unknown, identity: string | null, ctx: Ctx, via: 'signal' | 'update' = 'signal'): string[] {
  const from = identity ? ` (from ${identity})` : '';
  if ((name !== 'approve' && name !== 'reject') || !ctx.config) return [at(t, `${via} ${name}${from}: ${brief(arg)}`)];
  // The workflow parses the payload first: a malformed one is refused and counts for nothing.
  const d = parseMessage(operatorDecisionMessage, arg);
  if (!d.ok) return [at(t, `${name} ${via}${from}: REFUSED — malformed ${name}: ${d.why}`)];
  const { reason } = d.value;
  const operator = d.value.operator ?? '(named in the signed message)';
  const r = ctx.signedPlans
    ? applyDecision(ctx.approvals, name, { ...d.value, operator: d.value.operator ?? '' }, ctx.plan, t, timelockParams(ctx.config))
    : applySignal(ctx.approvals, { kind: name, operator, at: t, ...(reason ? { reason } : {}) } satisfies OperatorSignal, timelockParams(ctx.config));
  ctx.approvals = r.state;
  const signed = d.value.signature ? ' (signed)' : '';
  return [at(t, `${name} ${via} by ${operator}${signed}${reason ? ` ("${reason}")` : ''}${from}: ${r.accepted ? r.why : `REFUSED — ${r.why}`}`)];
}

function ended(t: number, s: InterventionState | undefined, ctx: Ctx): string[] {
  if (!s) return [at(t, 'completed (no result)')];
  const lines = [at(t, `ended ${s.status}: ${s.reason ?? ''}`.trimEnd())];
  if (s.result) {
    const r = s.result;
    lines.push(detail(`spent ${pump(ctx, r.pumpSpent)}, bought ${pstr(ctx, r.pstrBought)} at ${price(r.realizedPrice)} USD, slippage ${pct(r.slippage)}, unfilled ${pump(ctx, r.unfilledPump)}`));
  }
  const roi = Object.entries(s.roi).map(([h, v]) => `${h} ${pct(v)}`);
  if (roi.length) lines.push(detail(`ROI: ${roi.join(' · ')}`));
  return lines;
}

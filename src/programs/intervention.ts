/**
 * The intervention lifecycle, SPEC §5's six steps, written once: validate →
 * assess → size → timelock → swap → track, each recorded with its inputs and
 * outcome. src/workflows/intervention.ts runs it on Temporal (activities,
 * durable timers, signals and Updates); the backtest runs the same lines on
 * its virtual clock against the price file and the model pool.
 *
 * Halts halt: the gates are read again before every slice, and a cancellation
 * (governance, operator) stops the swap between slices; only the slice in
 * flight is shielded. Always settles: whatever fails, the end is saved and the
 * monitor told, and the program ends with a status rather than failing.
 */
import type { GateContextResult, InterventionRecordInput, WireSwapRequest, WireSwapResult } from '../activities/intervention.ts';
import type { Config } from '../config-schema.ts';
import { amount, formatAmount, mulFraction, toTokens, type TokenAmount } from '../domain/amount.ts';
import { interventionExecutedAlert, priceConsensusAlert, swapFailedAlert, swapQuoteOutOfBoundAlert, swapSliceFailedAlert, systemFailureAlert, type Alert } from '../domain/alerts.ts';
import { applyDecision, applySignal, NO_APPROVALS, needsTimelock, timelockParams, timelockVerdict, voidApprovals, type OperatorSignal, type TimelockParams } from '../domain/approval.ts';
import type { ConsensusResult } from '../domain/consensus.ts';
import { HOUR_MS, deploymentFraction, evaluateGates, interventionParams, isTriggered, tierAt } from '../domain/intervention.ts';
import { marketPriceProblem } from '../domain/market-consensus.ts';
import { signingRequired, type InterventionPlan } from '../domain/operator-message.ts';
import { describeFill, haltReason, sliceHalt, type Fill } from '../domain/settle.ts';
import { buybackRoi, impliedOutput, slippage, slippageFloor, withinSlippage } from '../domain/swap.ts';
import { drawdown } from '../domain/vwap.ts';
import type { DecisionResult, FinalInterventionStatus, InterventionInput, InterventionState, MarketObservation, PlanView, StepRecord } from '../workflows/contract.ts';
import { claimedName, operatorDecisionMessage, parseMessage } from '../workflows/messages.ts';
import { stateOf } from '../workflows/monitor-cycle.ts';
import { call, shielded, sleep, waitUntil, type Program, type ProgramEnv } from './steps.ts';

/** What the lifecycle asks of the world; each answer may be a value (backtest) or a promise (Temporal). */
export interface InterventionPorts {
  /** A fresh market: oracle readings, PUMP and SOL prices, balances. */
  observe(): MarketObservation | Promise<MarketObservation>;
  /** SPEC §2's consensus of an observation at `now` (the live rule; a price file without per-source columns gives its row price). */
  consensus(obs: MarketObservation, now: number): ConsensusResult;
  recordStep(step: StepRecord): void | Promise<void>;
  save(row: InterventionRecordInput): void | Promise<void>;
  /** The gates' facts now (pause, stop, cooldown, daily limit, others in flight), this intervention excluded. */
  gateContext(): GateContextResult | Promise<GateContextResult>;
  /** PSTR base units the pool would give for `pumpIn` PUMP base units now. */
  quote(pumpIn: string): string | Promise<string>;
  /** One slice, at most once (and, propose-only, the wait for the multisig). */
  executeSlice(request: WireSwapRequest): WireSwapResult | Promise<WireSwapResult>;
  /** Raises alerts under `<intervention id>/<key>`. */
  raiseAlerts(key: string, alerts: Alert[]): void | Promise<void>;
  /** Tells the monitor the intervention ended (its cooldown counts a swap, its in-flight list drops it). */
  settleWithMonitor(settled: { interventionId: string; status: FinalInterventionStatus; executedAt: number | null }): void | Promise<void>;
}

export interface InterventionProgramInput extends InterventionInput {
  /** The workflow id `intervention/<treasury>/<seq>`. */
  id: string;
}

/** A decision as it arrives (signal or Update payload), before parsing. */
type OperatorKind = OperatorSignal['kind'];

/** One intervention: its state, its message handlers (pure, never throwing) and its program. */
export interface InterventionSession {
  readonly state: InterventionState;
  /** Applies one approve/reject (parsed first; a malformed or refused one is recorded in approvals.refused). Never throws. */
  decide(kind: OperatorKind, raw: unknown): DecisionResult;
  /** The Update's validator: why a decision would not count, or null (a malformed one always; a bad signature when signing). */
  refusal(kind: OperatorKind, raw: unknown): string | null;
  planView(): PlanView;
  readonly program: Program<InterventionState>;
}

class Ended extends Error {
  constructor(readonly status: FinalInterventionStatus, readonly why: string) {
    super(why);
  }
}

const maxOf = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** The deepest message of a failure (an activity failure's cause is the activity's own error). */
export function messageOf(err: unknown): string {
  const e = err as { activityType?: unknown; cause?: unknown } | null;
  if (err instanceof Error && typeof e?.activityType === 'string' && e.cause instanceof Error) return `${e.activityType}: ${e.cause.message}`;
  if (err instanceof Error && e && 'activityType' in e && e.cause instanceof Error) return `activity: ${e.cause.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Everything one run of the lifecycle shares between its steps. */
interface Run {
  readonly input: InterventionProgramInput;
  readonly config: Config;
  readonly env: ProgramEnv;
  readonly ports: InterventionPorts;
  readonly tl: TimelockParams;
  readonly st: InterventionState;
  readonly signedPlans: boolean;
  readonly decimals: { pump: number; pstr: number };
  /** Steps the store did not take: kept in the state and written again at the end. */
  readonly unrecorded: StepRecord[];
  /** Alerts the end raises (outside any cancellable scope). */
  readonly endAlerts: Alert[];
  /** Counts accepted or refused decisions (and re-sizes): the timelock wait wakes on a change. */
  signals: number;
  fill: { usdSpent: number; executedAt: number | null; lastFillAt: number | null; slices: number; spent: bigint; bought: bigint; implied: bigint; remaining: bigint };
}

export function startInterventionSession(input: InterventionProgramInput, env: ProgramEnv, ports: InterventionPorts): InterventionSession {
  const { config } = input;
  const tl = timelockParams(config);
  const st: InterventionState = {
    id: input.id, stage: 'validate', status: 'running', startedAt: input.startedAt, tier: null, fraction: null, pumpAmount: null, usdSize: null,
    timelock: { required: false, unlockAt: null, expiresAt: null, verdict: null }, approvals: NO_APPROVALS, steps: [], result: null, roi: {}, reason: null,
  };
  /**
   * Issue #11: decisions bind to a published plan (and, with operator keys, to
   * a signature over it). Taken once at the start, before any handler runs, so
   * every decision of one run follows one rule.
   */
  const signedPlans = env.patched('signed-plan-approvals');
  if (signedPlans) st.plan = null;
  const r: Run = {
    input, config, env, ports, tl, st, signedPlans, decimals: { pump: config.tokens.pump.decimals, pstr: config.tokens.pstr.decimals },
    unrecorded: [], endAlerts: [], signals: 0,
    fill: { usdSpent: 0, executedAt: null, lastFillAt: null, slices: 0, spent: 0n, bought: 0n, implied: 0n, remaining: 0n },
  };
  return {
    state: st,
    decide: (kind, raw) => decide(r, kind, raw),
    refusal: (kind, raw) => refusal(r, kind, raw),
    planView: () => ({
      plan: st.plan ?? null, signing: signingRequired(tl.operatorKeys), approvals: st.approvals.approvals.length,
      approvalsRequired: tl.approvalsRequired, stage: st.stage, status: st.status,
    }),
    program: lifecycle(r),
  };
}

function decide(r: Run, kind: OperatorKind, raw: unknown): DecisionResult {
  const { st, env } = r;
  try {
    const d = parseMessage(operatorDecisionMessage, raw);
    if (!d.ok) {
      const signal: OperatorSignal = { kind, operator: claimedName(raw, 'operator') ?? '(none)', at: env.now() };
      const why = `malformed ${kind}: ${d.why}`;
      st.approvals = { ...st.approvals, refused: [...st.approvals.refused, { signal, why }] };
      r.signals++;
      env.log.info(`${kind} refused`, { workflowId: st.id, why });
      return { accepted: false, why, approvals: st.approvals };
    }
    const out = decideOn(r, kind, d.value);
    st.approvals = out.state;
    r.signals++;
    env.log.info(`${kind} ${out.accepted ? 'accepted' : 'refused'}`, { workflowId: st.id, operator: st.approvals.approvals.at(-1)?.operator ?? d.value.operator, why: out.why });
    return { accepted: out.accepted, why: out.why, approvals: st.approvals };
  } catch (err) {
    env.log.warn(`${kind} not applied`, { workflowId: st.id, error: String(err).slice(0, 200) });
    return { accepted: false, why: `not applied: ${String(err).slice(0, 200)}`, approvals: st.approvals };
  }
}

/**
 * The Update's validator refuses a malformed payload before it enters history (the caller gets the reason); with
 * signing, a bad signature, another plan, an expired or replayed message too. A well-formed decision that does not
 * count otherwise is refused by the handler and recorded, and the Update answers `accepted: false`.
 */
function refusal(r: Run, kind: OperatorKind, raw: unknown): string | null {
  const d = parseMessage(operatorDecisionMessage, raw);
  if (!d.ok) return `malformed ${kind}: ${d.why}`;
  if (r.signedPlans && signingRequired(r.tl.operatorKeys)) {
    const out = decideOn(r, kind, d.value);
    if (!out.accepted) return `${kind} refused: ${out.why}`;
  }
  return null;
}

/** One decision against the current plan (pure; the validator runs it on the same state to refuse early). */
function decideOn(r: Run, kind: OperatorKind, d: { operator?: string | undefined; reason?: string | undefined; message?: string | undefined; signature?: string | undefined }) {
  const payload = {
    operator: d.operator ?? '', ...(d.reason ? { reason: d.reason } : {}), ...(d.message ? { message: d.message } : {}), ...(d.signature ? { signature: d.signature } : {}),
  };
  if (r.signedPlans) return applyDecision(r.st.approvals, kind, payload, r.st.plan ?? null, r.env.now(), r.tl);
  const signal: OperatorSignal = { kind, operator: payload.operator, at: r.env.now(), ...(d.reason ? { reason: d.reason } : {}) };
  return applySignal(r.st.approvals, signal, r.tl);
}

/** Records a step; never fatal (kept in the state and written again at the end), except that a cancellation goes on. */
function* record(r: Run, step: string, verdict: string, inputs: unknown, outcome: unknown, opts: { shielded?: boolean } = {}): Program<void> {
  const rec = { step, at: r.env.now(), verdict, inputs, outcome };
  r.st.steps.push(rec);
  try {
    yield* call(() => r.ports.recordStep(rec), opts);
  } catch (err) {
    r.unrecorded.push(rec);
    r.env.log.warn('step not recorded; retried at the end', { workflowId: r.st.id, step, error: messageOf(err) });
    if (r.env.isCancellation(err)) throw err;
  }
}

/** Saves the intervention's row (shielded at the end: the end is written whatever cancelled the intervention). */
function save(r: Run, opts: { shielded?: boolean } = {}): Program<void> {
  const { st, input, fill } = r;
  return call(() => r.ports.save({
    id: st.id, treasuryId: input.treasuryId, seq: input.seq, startedAt: input.startedAt, status: st.status, tier: st.tier, fraction: st.fraction,
    pumpAmount: st.pumpAmount, pstrBought: st.result?.pstrBought ?? null, usdValue: st.result ? fill.usdSpent : null,
    decidedPrice: input.consensus.ok ? input.consensus.price : 0, vwap30: input.vwap30, drawdown: input.decision.drawdown ?? 0,
    executedAt: fill.executedAt, reason: st.reason, updatedAt: r.env.now(),
    // The record names the version it acted under (an input change only: no new command, so no patch).
    ...(input.configVersion !== undefined ? { configVersion: input.configVersion } : {}),
  }), opts);
}

const fillOf = (r: Run): Fill => ({ slices: r.fill.slices, pumpSpent: r.fill.spent, pstrBought: r.fill.bought, unfilled: r.fill.remaining });

/** What moved so far into st.result; a partial fill also dates the last swap (the cooldown counts it). */
function keepFill(r: Run): void {
  const f = r.fill;
  if (f.spent === 0n && f.slices === 0) return;
  const pstrTokens = toTokens({ raw: f.bought, decimals: r.decimals.pstr });
  r.st.result = {
    pumpSpent: f.spent.toString(), pstrBought: f.bought.toString(), realizedPrice: pstrTokens > 0 ? f.usdSpent / pstrTokens : null,
    slippage: slippage(f.bought, f.implied), unfilledPump: f.remaining.toString(),
  };
  f.executedAt ??= f.lastFillAt;
}

interface Fresh {
  obs: MarketObservation;
  price: number | null;
  why: string;
  excluded: ConsensusResult['excluded'];
}

function* fresh(r: Run): Program<Fresh> {
  const obs = yield* call(() => r.ports.observe());
  const c = r.ports.consensus(obs, r.env.now());
  return { obs, price: c.ok ? c.price : null, why: c.ok ? `consensus ${c.price}` : c.reason, excluded: c.excluded };
}

/**
 * SPEC §2 for PUMP and SOL: an observation without their consensus sizes nothing and bounds no swap. The refusal
 * to return (aborted, with the reason) and a critical price-consensus alert, or null when both are priced.
 */
function unpriced(r: Run, obs: MarketObservation, stage: string, moved?: string): Ended | null {
  const problem = marketPriceProblem(obs);
  // Observations from before PUMP and SOL had sources carry no consensus: old histories never come here.
  if (!problem || !r.env.patched('pump-sol-consensus')) return null;
  r.endAlerts.push(priceConsensusAlert(r.st.id, { stage, reason: problem.reason, assets: problem.assets, outliers: problem.outliers, ...(moved === undefined ? {} : { moved }) }));
  return new Ended('aborted', `${problem.reason}; no sizing and no swap on it (SPEC §2 needs ${r.config.oracle.minAgreeingSources} agreeing sources)`);
}

function* lifecycle(r: Run): Program<InterventionState> {
  const { st } = r;
  try {
    yield* save(r);
    const last = yield* validateAssessSize(r);
    const swapAt = (yield* timelock(r)) ?? last;
    // 5. Swap: only the slice in flight is shielded from cancellation (inside swap()).
    st.stage = 'swap';
    yield* swap(r, swapAt);
  } catch (err) {
    endWith(r, err);
  }
  yield* settle(r);

  // 6. Track ROI at each horizon; only executed interventions have something to track.
  const executedAt = r.fill.executedAt;
  if (st.status === 'executed' && executedAt !== null && st.result) {
    st.stage = 'track';
    yield* track(r, executedAt, amount('PSTR', BigInt(st.result.pstrBought), r.decimals.pstr));
  }
  st.stage = 'done';
  return st;
}

/** Steps 1–3: a fresh consensus still at the trigger, every gate, the size (and the plan operators approve). */
function* validateAssessSize(r: Run): Program<Fresh> {
  const { st, input, config, env } = r;
  // 1. Validate: a fresh consensus, not the cycle's, must still be at or below the trigger.
  const v = yield* fresh(r);
  const unpricedAtStart = unpriced(r, v.obs, 'validate');
  const triggered = v.price !== null && isTriggered(v.price, input.vwap30, config.strategy.triggerThreshold);
  const validated = unpricedAtStart ? `refused: ${unpricedAtStart.why}` : triggered ? `still triggered at ${v.price}` : `not triggered: ${v.why}`;
  yield* record(r, 'validate', validated, { vwap30: input.vwap30, readings: v.obs.readings, ...(r.signedPlans ? { signedPlans: true } : {}) }, { price: v.price, triggered, excluded: v.excluded });
  if (unpricedAtStart) throw unpricedAtStart;
  if (!triggered || v.price === null) throw new Ended('invalidated', `fresh consensus no longer at the trigger (${v.why})`);

  // 2. Assess: every gate of SPEC §4 against current state.
  st.stage = 'assess';
  const ctx = yield* call(() => r.ports.gateContext());
  const state = stateOf(v.obs, v.price, config);
  const gates = evaluateGates({ now: env.now(), paused: ctx.paused, emergencyStop: ctx.emergencyStop, lastExecutedSwapAt: ctx.lastExecutedSwapAt, interventionStarts: ctx.interventionStarts, inFlight: ctx.inFlight.length > 0, ...(ctx.liveProposals && { liveProposals: ctx.liveProposals }), reserveRatio: state.reserveRatio }, interventionParams(config));
  const failed = gates.filter((g) => !g.passed);
  yield* record(r, 'assess', failed.length ? `blocked: ${failed.map((g) => g.gate).join(', ')}` : 'every gate passed', ctx, { gates, reserveRatio: state.reserveRatio });
  if (failed.length) throw new Ended('aborted', `gate failed: ${failed.map((g) => `${g.gate} (${g.reason})`).join('; ')}`);

  // 3. Size: tier fraction of the PUMP balance, halved below RR 2.0.
  st.stage = 'size';
  const dd = drawdown(v.price, input.vwap30);
  const tier = tierAt(v.price, input.vwap30, config.strategy.tiers);
  if (!tier) throw new Ended('invalidated', `drawdown ${dd} below every tier`);
  const { fraction, reduced } = deploymentFraction(tier.fraction, state.reserveRatio, interventionParams(config));
  const balance = amount('PUMP', BigInt(v.obs.balances.pump), r.decimals.pump);
  const size = mulFraction(balance, fraction);
  Object.assign(st, { tier: tier.tier, fraction, pumpAmount: size.raw.toString(), usdSize: toTokens(size) * v.obs.pumpPrice });
  // The plan operators approve: published with the size (the size step's record carries it for the audit).
  if (r.signedPlans) st.plan = planFor(r, 1, size.raw, v.obs, v.price);
  yield* record(r, 'size', `tier ${tier.tier}: ${(fraction * 100).toFixed(2)} % of PUMP${reduced ? ' (halved below RR 2.0)' : ''}`, { drawdown: dd, pumpBalance: v.obs.balances.pump, reserveRatio: state.reserveRatio }, { tier, fraction, pumpAmount: st.pumpAmount, usdSize: st.usdSize, ...(st.plan ? { plan: st.plan } : {}) });
  yield* save(r);
  if (size.raw === 0n) throw new Ended('aborted', 'nothing to deploy: the PUMP balance is zero');
  return v;
}

/** 4. Timelock: large interventions wait for the time and for distinct operators' approvals. The last observation, or null without a wait. */
function* timelock(r: Run): Program<Fresh | null> {
  const { st, input, config, tl } = r;
  if (!needsTimelock(st.usdSize ?? 0, tl)) return null;
  st.stage = 'timelock';
  st.timelock = { required: true, unlockAt: input.startedAt + tl.timelockMinutes * 60_000, expiresAt: input.startedAt + tl.approvalTimeoutHours * HOUR_MS, verdict: null };
  for (;;) {
    yield* decided(r);
    const verdict = st.timelock.verdict;
    yield* record(r, 'timelock', verdict?.kind ?? 'unknown', { threshold: tl.timelockThresholdUsd, usdSize: st.usdSize }, { verdict, approvals: st.approvals });
    if (verdict?.kind === 'rejected') throw new Ended('rejected', `rejected by ${verdict.by}${st.approvals.rejection?.reason ? `: ${st.approvals.rejection.reason}` : ''}`);
    if (verdict?.kind === 'expired') throw new Ended('expired', `no decision within ${tl.approvalTimeoutHours} h`);
    // When the wait ends the trigger is checked once more, against the VWAP the intervention was decided at.
    const last = yield* fresh(r);
    const unpricedAfterWait = unpriced(r, last.obs, 'recheck');
    const still = last.price !== null && isTriggered(last.price, input.vwap30, config.strategy.triggerThreshold);
    const rechecked = unpricedAfterWait ? `refused: ${unpricedAfterWait.why}` : still ? `still triggered at ${last.price}` : `recovered: ${last.why}`;
    yield* record(r, 'recheck', rechecked, { vwap30: input.vwap30 }, { price: last.price, triggered: still });
    if (unpricedAfterWait) throw unpricedAfterWait;
    if (!still || last.price === null) throw new Ended('invalidated', `price recovered above the trigger during the timelock (${last.why})`);
    // An operator's pause or emergency stop during the wait also holds the swap.
    const again = yield* call(() => r.ports.gateContext());
    if (again.paused || again.emergencyStop) throw new Ended('aborted', again.paused ? 'monitor paused during the timelock' : 'emergency stop during the timelock');
    if (!(yield* resized(r, last.obs, last.price))) return last;
  }
}

/** Waits until the timelock's verdict is no longer `waiting` (a decision, the unlock time, or the deadline). */
function* decided(r: Run): Program<void> {
  const { st, input, tl, env } = r;
  for (;;) {
    const verdict = timelockVerdict(st.approvals, input.startedAt, env.now(), tl);
    st.timelock.verdict = verdict;
    if (verdict.kind !== 'waiting') return;
    const seen = r.signals;
    yield* waitUntil(() => r.signals !== seen, Math.max(1, verdict.until - env.now()));
  }
}

/** The plan for `pumpIn` at an observation's prices: the least PSTR out is the swap's own slippage floor. */
function planFor(r: Run, revision: number, pumpIn: bigint, obs: MarketObservation, price: number): InterventionPlan {
  const { st, input, config, tl } = r;
  const ideal = impliedOutput(amount('PUMP', pumpIn, r.decimals.pump), obs.pumpPrice, price, r.decimals.pstr).raw;
  return {
    treasuryId: input.treasuryId, interventionId: st.id, revision, tier: st.tier ?? 0, pumpIn: pumpIn.toString(), minPstrOut: slippageFloor(ideal, config.risk.maxSlippage).toString(),
    consensusPrice: price, configVersion: input.configVersion ?? null, expiresAt: input.startedAt + tl.approvalTimeoutHours * HOUR_MS,
  };
}

/**
 * After the wait: an approved plan is a ceiling. When the PUMP balance now
 * gives a smaller size, the plan is re-sized (the next revision), earlier
 * approvals no longer count, and the wait starts again for the new plan.
 * A larger balance keeps the approved size. True when re-sized.
 */
function* resized(r: Run, obs: MarketObservation, price: number): Program<boolean> {
  const { st } = r;
  const plan = st.plan;
  if (!r.signedPlans || !plan || st.fraction === null) return false;
  const now = mulFraction(amount('PUMP', BigInt(obs.balances.pump), r.decimals.pump), st.fraction).raw;
  if (now >= BigInt(plan.pumpIn)) return false;
  const next = planFor(r, plan.revision + 1, now, obs, price);
  st.approvals = voidApprovals(st.approvals, plan, next, r.env.now());
  st.plan = next;
  Object.assign(st, { pumpAmount: now.toString(), usdSize: toTokens({ raw: now, decimals: r.decimals.pump }) * obs.pumpPrice });
  r.signals++;
  yield* record(r, 'resize', `re-sized to plan ${next.revision}: PUMP in ${plan.pumpIn} → ${next.pumpIn}; approvals of plan ${plan.revision} no longer count`, { pumpBalance: obs.balances.pump, fraction: st.fraction }, { plan: next });
  yield* save(r);
  if (now === 0n) throw new Ended('aborted', 'nothing to deploy: the PUMP balance is zero');
  return true;
}

/** The least PSTR a slice of `pumpIn` may return under the approved plan (its share of the plan's minimum, rounded up). */
function planFloor(r: Run, pumpIn: bigint): bigint {
  const plan = r.st.plan;
  if (!r.signedPlans || !plan || BigInt(plan.pumpIn) === 0n) return 0n;
  const total = BigInt(plan.pumpIn);
  return (BigInt(plan.minPstrOut) * pumpIn + total - 1n) / total;
}

/** How the intervention ends, from what stopped it; never rethrows. */
function endWith(r: Run, err: unknown): void {
  const { st } = r;
  if (err instanceof Ended) {
    st.status = err.status;
    st.reason = err.why;
  } else if (r.env.isCancellation(err)) {
    st.status = 'aborted';
    if (st.stage === 'swap') {
      keepFill(r);
      st.reason = haltReason('cancellation (governance or operator)', r.fill.slices, fillOf(r), r.decimals);
    } else st.reason = 'cancelled (governance or operator) before any swap';
  } else {
    // A store or market failure after every retry, or a bug: end aborted, say what moved, alert.
    keepFill(r);
    const what = `${messageOf(err)} (at stage ${st.stage}${st.stage === 'swap' ? `; ${describeFill(fillOf(r), r.decimals)}` : ''})`;
    st.status = 'aborted';
    st.reason = `intervention failed: ${what}`;
    r.endAlerts.push(systemFailureAlert(`intervention ${st.id}`, what));
  }
}

/** Save the end, tell the monitor, write what the store missed, alert. Shielded; never throws. */
function* settle(r: Run): Program<void> {
  const { st } = r;
  let saveError: string | null = null;
  try {
    yield* save(r, { shielded: true });
  } catch (err) {
    saveError = messageOf(err);
    r.env.log.error('intervention end not saved; the reconciler closes its row', { workflowId: st.id, error: saveError });
  }
  try {
    // A partial fill (an aborted swap) carries its executedAt too: the monitor's cooldown counts it.
    yield* shielded(() => r.ports.settleWithMonitor({ interventionId: st.id, status: st.status === 'running' ? 'aborted' : st.status, executedAt: r.fill.executedAt }));
  } catch (err) {
    r.env.log.warn('monitor not reachable to settle the intervention', { workflowId: st.id, error: String(err) });
  }
  const missed = yield* flushSteps(r);
  if (saveError !== null || missed > 0) {
    r.endAlerts.push(systemFailureAlert(`intervention ${st.id} record`, `${saveError !== null ? `end (${st.status}) not saved: ${saveError}; ` : ''}${missed} step(s) not recorded; the workflow history has them`));
  }
  yield* alert(r, 'end', r.endAlerts.splice(0));
}

/** Writes buffered steps once more (shielded); returns how many the store still refused. */
function* flushSteps(r: Run): Program<number> {
  const pending = r.unrecorded.splice(0);
  for (const step of pending) {
    try {
      yield* shielded(() => r.ports.recordStep(step));
    } catch (err) {
      r.unrecorded.push(step);
      r.env.log.error('step still not recorded', { workflowId: r.st.id, step: step.step, error: messageOf(err) });
    }
  }
  return r.unrecorded.length;
}

/** Raises alerts shielded; an alert that cannot be stored is logged, never fatal. */
function* alert(r: Run, key: string, alerts: Alert[]): Program<void> {
  if (alerts.length === 0) return;
  try {
    yield* shielded(() => r.ports.raiseAlerts(key, alerts));
  } catch (err) {
    r.env.log.error('alerts not raised', { workflowId: r.st.id, kinds: alerts.map((a) => a.kind), error: messageOf(err) });
  }
}

function* track(r: Run, at: number, bought: TokenAmount<'PSTR'>): Program<void> {
  const { st, config, env } = r;
  try {
    for (const h of config.intervention.trackHorizonsHours) {
      yield* sleep(Math.max(1, at + h * HOUR_MS - env.now()));
      const t = yield* fresh(r);
      const roi = t.price === null ? null : buybackRoi(bought, t.price, r.fill.usdSpent);
      st.roi[`${h}h`] = roi;
      yield* record(r, `track:${h}h`, roi === null ? `no valid price: ${t.why}` : `ROI ${(roi * 100).toFixed(2)} %`, { horizonHours: h, usdSpent: r.fill.usdSpent }, { price: t.price, roi });
    }
  } catch (err) {
    // The swap is done and settled: a cancelled or failed tracking only leaves ROI horizons unmeasured.
    env.log.warn('ROI tracking stopped', { workflowId: st.id, error: messageOf(err) });
  }
  if (r.unrecorded.length > 0) yield* flushSteps(r);
}

/** Where the slice loop stands between slices. */
interface SliceLoop {
  obs: MarketObservation;
  price: number | null;
  sliceSize: bigint;
  /** The smallest slice's quote when even it stayed below the floor (the slippage guard stopped the swap). */
  refusedQuote: { pumpIn: bigint; quote: bigint; ideal: bigint } | null;
  /** The swap's own error when a slice ran and failed (not a quote refused by the bound). */
  swapError: { slice: number; error: string } | null;
  /** Why the slices stopped early on a PUMP or SOL price without consensus (what moved before stays executed). */
  unpricedHalt: string | null;
}

function* swap(r: Run, at: { obs: MarketObservation; price: number | null }): Program<void> {
  const { st, config, env, fill } = r;
  fill.remaining = BigInt(st.pumpAmount ?? '0');
  const loop: SliceLoop = { obs: at.obs, price: at.price, sliceSize: fill.remaining, refusedQuote: null, swapError: null, unpricedHalt: null };
  const deadline = env.now() + config.intervention.sliceWindowMinutes * 60_000;
  let gated = -1;
  for (let slice = 0; fill.remaining > 0n && env.now() <= deadline; ) {
    if (loop.price === null) break;
    // Halts halt: pause, emergency stop (and a store that cannot tell, read as paused) stop the next slice.
    if (gated !== slice && env.patched('gate-before-every-slice')) {
      gated = slice;
      yield* haltIfGated(r, slice);
    }
    const outcome = yield* oneSlice(r, loop, slice);
    if (outcome === 'retry') continue;
    if (outcome === 'stop') break;
    slice += 1;
    fill.slices = slice;
    if (fill.remaining > 0n) yield* betweenSlices(r, loop, slice);
  }
  yield* endSwap(r, loop);
}

function* haltIfGated(r: Run, slice: number): Program<void> {
  const ctx = yield* call(() => r.ports.gateContext());
  const halt = sliceHalt(ctx);
  if (!halt) return;
  keepFill(r);
  const why = haltReason(halt, slice, fillOf(r), r.decimals);
  yield* record(r, `halt:${slice}`, why, { paused: ctx.paused, emergencyStop: ctx.emergencyStop }, { fill: r.st.result });
  throw new Ended('aborted', why);
}

/** Quotes and runs one slice: 'retry' after halving a slice too big for the bound, 'stop' when none can run, 'filled'. */
function* oneSlice(r: Run, loop: SliceLoop, slice: number): Program<'retry' | 'stop' | 'filled'> {
  const { st, config, input, fill, decimals } = r;
  const price = loop.price as number;
  if (loop.sliceSize > fill.remaining) loop.sliceSize = fill.remaining;
  const size = loop.sliceSize;
  const ideal = impliedOutput(amount('PUMP', size, decimals.pump), loop.obs.pumpPrice, price, decimals.pstr).raw;
  const quote = BigInt(yield* call(() => r.ports.quote(size.toString())));
  // The approved plan's minimum holds too: a price that moved against it after approval does not lower the floor.
  const approvedFloor = planFloor(r, size);
  if (!withinSlippage(quote, ideal, config.risk.maxSlippage) || quote < approvedFloor) {
    // Too big for the bound: halve the slice until a quote stays within it (SPEC §5 step 5).
    if (size > 1n && size > BigInt(st.pumpAmount ?? '0') / 4096n) {
      loop.sliceSize = size / 2n;
      return 'retry';
    }
    loop.refusedQuote = { pumpIn: size, quote, ideal };
    return 'stop';
  }
  const request: WireSwapRequest = {
    treasuryId: input.treasuryId, interventionId: st.id, slice, pumpIn: size.toString(), minPstrOut: maxOf(slippageFloor(ideal, config.risk.maxSlippage), approvedFloor).toString(), impliedPstrOut: ideal.toString(),
    // The executor bounds the trade by this intervention's config version, not the worker file (activity input only: no patch).
    maxSlippageBps: Math.round(config.risk.maxSlippage * 10_000), ...(input.configVersion !== undefined ? { configVersion: input.configVersion } : {}),
  };
  let res: WireSwapResult;
  try {
    // The slice in flight (its swap and the wait for a multisig to execute it) is never abandoned.
    res = yield* shielded(() => r.ports.executeSlice(request));
    yield* recordSlice(r, request, quote, ideal, res);
  } catch (err) {
    if (r.env.isCancellation(err)) throw err;
    // The slice could not run after its retries (or hit a deterministic error): stop here, say what moved.
    keepFill(r);
    const error = messageOf(err);
    yield* alert(r, `swap/${slice}`, [swapSliceFailedAlert(st.id, { slice, error, moved: describeFill(fillOf(r), decimals) })]);
    throw new Ended('aborted', `slice ${slice} could not run: ${error}; ${describeFill(fillOf(r), decimals)}`);
  }
  if (res.status !== 'confirmed') {
    yield* alert(r, `swap/${slice}`, [swapFailedAlert(st.id, res.error ?? 'unknown')]);
    loop.swapError = { slice, error: res.error ?? 'unknown error' };
    return 'stop';
  }
  fill.spent += BigInt(res.pumpIn);
  fill.bought += BigInt(res.pstrOut);
  fill.implied += ideal;
  fill.usdSpent += toTokens({ raw: BigInt(res.pumpIn), decimals: decimals.pump }) * loop.obs.pumpPrice;
  fill.remaining -= BigInt(res.pumpIn);
  fill.lastFillAt = r.env.now();
  return 'filled';
}

/** The slice's step record, shielded like the slice it records. */
function recordSlice(r: Run, request: WireSwapRequest, quote: bigint, ideal: bigint, res: WireSwapResult): Program<void> {
  const pstrText = formatAmount({ raw: BigInt(res.pstrOut), decimals: r.decimals.pstr });
  const pumpText = formatAmount({ raw: BigInt(res.pumpIn), decimals: r.decimals.pump });
  const verdict = res.status === 'confirmed' ? `filled ${pstrText} PSTR for ${pumpText} PUMP${res.alreadyDone ? ' (found done on retry)' : ''}` : `failed: ${res.error}`;
  return record(r, `swap:${request.slice}`, verdict, { pumpIn: request.pumpIn, quote: quote.toString(), implied: ideal.toString() }, res, { shielded: true });
}

/** Lets the pool recover before the next slice (cancellable: a halt lands here), then prices it afresh. */
function* betweenSlices(r: Run, loop: SliceLoop, slice: number): Program<void> {
  yield* sleep(r.config.monitor.cycleIntervalSeconds * 1000);
  const f = yield* fresh(r);
  loop.obs = f.obs;
  loop.price = f.price;
  const halt = f.price === null ? unpriced(r, f.obs, `swap:${slice}`, describeFill(fillOf(r), r.decimals)) : null;
  if (halt) {
    loop.unpricedHalt = halt.why;
    yield* record(r, `halt:${slice}`, `refused: ${halt.why}`, { readings: f.obs.readings }, { excluded: f.excluded });
  }
}

/** The swap's end: nothing moved (aborted, with the true reason), or executed with what stayed unfilled. */
function* endSwap(r: Run, loop: SliceLoop): Program<void> {
  const { st, config, fill, decimals } = r;
  const unfilled = fill.remaining.toString();
  if (fill.spent === 0n) {
    const refused = loop.refusedQuote;
    if (refused && r.env.patched('quote-out-of-bound-alert')) {
      yield* alert(r, 'quote-out-of-bound', [swapQuoteOutOfBoundAlert(st.id, {
        pumpIn: formatAmount({ raw: refused.pumpIn, decimals: decimals.pump }),
        quotedPstr: formatAmount({ raw: refused.quote, decimals: decimals.pstr }),
        floorPstr: formatAmount({ raw: slippageFloor(refused.ideal, config.risk.maxSlippage), decimals: decimals.pstr }),
        maxSlippage: config.risk.maxSlippage,
      })]);
    }
    // The true reason: a swap that ran and failed says its own error; only a quote the bound refused is "slippage".
    if (loop.swapError) throw new Ended('aborted', `slice ${loop.swapError.slice} swap failed: ${loop.swapError.error}; nothing moved`);
    throw new Ended('aborted', `no slice could be filled within the ${config.risk.maxSlippage} slippage bound; nothing moved`);
  }
  // Settled from here on: the state is final before the next step, so a late cancellation cannot undo it.
  fill.executedAt = r.env.now();
  keepFill(r);
  st.status = 'executed';
  const stopped = loop.unpricedHalt === null ? `within ${config.intervention.sliceWindowMinutes} min` : `(${loop.unpricedHalt})`;
  st.reason = fill.remaining > 0n ? `executed; ${unfilled} PUMP base units unfilled ${stopped}` : 'executed';
  const result = st.result as NonNullable<InterventionState['result']>;
  yield* alert(r, 'executed', [interventionExecutedAlert({ id: st.id, pumpSpent: formatAmount({ raw: fill.spent, decimals: decimals.pump }), pstrBought: formatAmount({ raw: fill.bought, decimals: decimals.pstr }), usdValue: fill.usdSpent, price: result.realizedPrice ?? 0 })]);
}

/**
 * Intervention (id `intervention/<treasuryId>/<n>`): SPEC §5's six steps as
 * named stages — validate → assess → size → timelock → swap → track — each
 * recorded with its inputs and outcome, in history and in the store. Operators
 * approve or reject by signal; timers are durable; the swap runs at most once.
 *
 * Halts halt: the gates are read again before every slice, and a cancellation
 * (governance, operator) stops the swap between slices; only the slice in
 * flight is shielded. Always settles: whatever fails, the end is saved and the
 * monitor told, and the workflow completes with a status rather than failing.
 */
import {
  ActivityFailure, ApplicationFailure, CancellationScope, condition, getExternalWorkflowHandle, isCancellation, log, patched, proxyActivities, setHandler, sleep,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { WireSwapRequest, WireSwapResult } from '../activities/intervention.ts';
import { raiseAlerts } from './alerts.ts';
import type { Config } from '../config-schema.ts';
import { formatAmount, mulFraction, toTokens } from '../domain/amount.ts';
import { interventionExecutedAlert, priceConsensusAlert, proposalAbandonedAlert, swapFailedAlert, swapQuoteOutOfBoundAlert, swapSliceFailedAlert, systemFailureAlert, type Alert } from '../domain/alerts.ts';
import { applyDecision, applySignal, needsTimelock, NO_APPROVALS, timelockParams, timelockVerdict, voidApprovals, type OperatorSignal } from '../domain/approval.ts';
import { signingRequired, type InterventionPlan } from '../domain/operator-message.ts';
import { HOUR_MS, deploymentFraction, evaluateGates, interventionParams, isTriggered, tierAt } from '../domain/intervention.ts';
import { describeFill, haltReason, NON_RETRYABLE_SWAP_ERRORS, sliceHalt, type Fill } from '../domain/settle.ts';
import { buybackRoi, impliedOutput, slippage, slippageFloor, withinSlippage } from '../domain/swap.ts';
import type { ConsensusResult } from '../domain/consensus.ts';
import { marketPriceProblem } from '../domain/market-consensus.ts';
import { drawdown } from '../domain/vwap.ts';
import { amount, type TokenAmount } from '../domain/amount.ts';
import {
  approveSignal, approveUpdate, interventionSettledSignal, interventionStateQuery, interventionWorkflowId, monitorWorkflowId, planQuery, rejectSignal, rejectUpdate,
  type DecisionResult, type FinalInterventionStatus, type InterventionInput, type InterventionState, type MarketObservation, type StepRecord,
} from './contract.ts';
import { consensusOf, stateOf } from './monitor-cycle.ts';
import { checkInput } from './inputs.ts';
import { claimedName, interventionInputSchema, operatorDecisionMessage, parseMessage } from './messages.ts';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: ['RangeError', 'TypeError'] },
});

/**
 * A swap slice may wait on a slow chain: the executor confirms each
 * transaction for up to 120 s and builds at most 3, so one attempt may need ~6
 * minutes; 10 minutes keeps Temporal from retrying a live attempt. The
 * executor heartbeats at every confirmation poll, so a dead or wedged
 * worker's attempt is retried within the heartbeat timeout, and the retry
 * resumes the same swap record. Retries stop at the slice window (at least
 * one attempt's 10 minutes): a slice that has not run by then will not help
 * this intervention, which alerts and settles instead. Deterministic errors
 * are not retried.
 */
function swapActivities(config: Config) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '10 seconds',
    scheduleToCloseTimeout: Math.max(10, config.intervention.sliceWindowMinutes) * 60_000,
    retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE_SWAP_ERRORS] },
  });
}

/**
 * The propose-only wait: one attempt as long as the approval window (plus a
 * margin to finish its last poll), heartbeating each poll; a dead worker's
 * attempt is retried within the heartbeat timeout and polls on.
 */
function waitActivities(windowMs: number) {
  const span = Math.max(60_000, windowMs) + 10 * 60_000;
  return proxyActivities<Activities>({
    startToCloseTimeout: span,
    scheduleToCloseTimeout: span,
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE_SWAP_ERRORS] },
  });
}

class Ended extends Error {
  constructor(readonly status: FinalInterventionStatus, readonly why: string) {
    super(why);
  }
}

const maxOf = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** The deepest message of an activity failure (its cause is the activity's own error). */
function messageOf(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return `${err.activityType ?? 'activity'}: ${err.cause.message}`;
  if (err instanceof ApplicationFailure || err instanceof Error) return err.message;
  return String(err);
}

export async function intervention(input: InterventionInput): Promise<InterventionState> {
  checkInput(interventionInputSchema, input, 'intervention');
  const { config, treasuryId } = input;
  const id = interventionWorkflowId(treasuryId, input.seq);
  const tl = timelockParams(config);
  const st: InterventionState = {
    id, stage: 'validate', status: 'running', startedAt: input.startedAt, tier: null, fraction: null, pumpAmount: null, usdSize: null,
    timelock: { required: false, unlockAt: null, expiresAt: null, verdict: null }, approvals: NO_APPROVALS, steps: [], result: null, roi: {}, reason: null,
  };
  /**
   * Issue #11: decisions bind to a published plan (and, with operator keys, to
   * a signature over it). Taken once at the start, before any handler runs, so
   * every decision of one run follows one rule.
   */
  const signedPlans = patched('signed-plan-approvals');
  if (signedPlans) st.plan = null;
  let signals = 0;
  /** Applies one approve/reject, parsed first: a malformed one is refused into approvals.refused and changes nothing else. Never throws. */
  const onOperator = (kind: OperatorSignal['kind']) => (raw: unknown): DecisionResult => {
    try {
      const d = parseMessage(operatorDecisionMessage, raw);
      if (!d.ok) {
        const signal: OperatorSignal = { kind, operator: claimedName(raw, 'operator') ?? '(none)', at: Date.now() };
        const why = `malformed ${kind}: ${d.why}`;
        st.approvals = { ...st.approvals, refused: [...st.approvals.refused, { signal, why }] };
        signals++;
        log.info(`${kind} refused`, { workflowId: id, why });
        return { accepted: false, why, approvals: st.approvals };
      }
      const r = decideOn(kind, d.value);
      st.approvals = r.state;
      signals++;
      log.info(`${kind} ${r.accepted ? 'accepted' : 'refused'}`, { workflowId: id, operator: st.approvals.approvals.at(-1)?.operator ?? d.value.operator, why: r.why });
      return { accepted: r.accepted, why: r.why, approvals: st.approvals };
    } catch (err) {
      log.warn(`${kind} not applied`, { workflowId: id, error: String(err).slice(0, 200) });
      return { accepted: false, why: `not applied: ${String(err).slice(0, 200)}`, approvals: st.approvals };
    }
  };
  /**
   * The Update's validator refuses a malformed payload before it enters history (the caller gets the reason); a
   * well-formed decision that does not count (not an operator, already decided) is refused by the handler and
   * recorded in approvals.refused like a signal's, and the Update answers `accepted: false` with the reason.
   */
  const decisionValidator = (kind: OperatorSignal['kind']) => (raw: unknown): void => {
    const d = parseMessage(operatorDecisionMessage, raw);
    if (!d.ok) throw ApplicationFailure.nonRetryable(`malformed ${kind}: ${d.why}`, 'OperatorActionRefused');
    // Signed decisions: a bad signature, another plan, an expired or replayed message never enters history.
    if (signedPlans && signingRequired(tl.operatorKeys)) {
      const r = decideOn(kind, d.value);
      if (!r.accepted) throw ApplicationFailure.nonRetryable(`${kind} refused: ${r.why}`, 'OperatorActionRefused');
    }
  };
  /** One decision against the current plan (pure; the validator runs it on the same state to refuse early). */
  function decideOn(kind: OperatorSignal['kind'], d: { operator?: string | undefined; reason?: string | undefined; message?: string | undefined; signature?: string | undefined }) {
    const payload = {
      operator: d.operator ?? '', ...(d.reason ? { reason: d.reason } : {}), ...(d.message ? { message: d.message } : {}), ...(d.signature ? { signature: d.signature } : {}),
    };
    if (signedPlans) return applyDecision(st.approvals, kind, payload, st.plan ?? null, Date.now(), tl);
    const signal: OperatorSignal = { kind, operator: payload.operator, at: Date.now(), ...(d.reason ? { reason: d.reason } : {}) };
    return applySignal(st.approvals, signal, tl);
  }
  setHandler(approveSignal, (raw: unknown) => void onOperator('approve')(raw));
  setHandler(rejectSignal, (raw: unknown) => void onOperator('reject')(raw));
  setHandler(approveUpdate, onOperator('approve'), { validator: decisionValidator('approve') });
  setHandler(rejectUpdate, onOperator('reject'), { validator: decisionValidator('reject') });
  setHandler(interventionStateQuery, () => st);
  setHandler(planQuery, () => ({
    plan: st.plan ?? null, signing: signingRequired(tl.operatorKeys), approvals: st.approvals.approvals.length,
    approvalsRequired: tl.approvalsRequired, stage: st.stage, status: st.status,
  }));

  const swapActs = swapActivities(config);
  // Steps the store did not take: kept in the state (so queries and history have them) and written again at the end.
  const unrecorded: StepRecord[] = [];
  // Alerts the end of the intervention raises (outside any cancellable scope).
  const endAlerts: Alert[] = [];
  const record = async (step: string, verdict: string, inputs: unknown, outcome: unknown) => {
    const rec = { step, at: Date.now(), verdict, inputs, outcome };
    st.steps.push(rec);
    try {
      await acts.recordInterventionStep({ treasuryId, interventionId: id, step: rec });
    } catch (err) {
      // Never fatal: the step is in the state and is written again when the intervention ends.
      unrecorded.push(rec);
      log.warn('step not recorded; retried at the end', { workflowId: id, step, error: messageOf(err) });
      if (isCancellation(err)) throw err;
    }
  };
  const save = () =>
    acts.upsertIntervention({
      id, treasuryId, seq: input.seq, startedAt: input.startedAt, status: st.status, tier: st.tier, fraction: st.fraction,
      pumpAmount: st.pumpAmount, pstrBought: st.result?.pstrBought ?? null, usdValue: st.result ? run.usdSpent : null,
      decidedPrice: input.consensus.ok ? input.consensus.price : 0, vwap30: input.vwap30, drawdown: input.decision.drawdown ?? 0,
      executedAt: run.executedAt, reason: st.reason, updatedAt: Date.now(),
      // The record names the version it acted under (an input change only: no new command, so no patch).
      ...(input.configVersion !== undefined ? { configVersion: input.configVersion } : {}),
    });
  // Filled in by the swap step (a nested function, so kept in one object the type checker can follow).
  const run: { usdSpent: number; executedAt: number | null; lastFillAt: number | null; slices: number; spent: bigint; bought: bigint; implied: bigint; remaining: bigint } = {
    usdSpent: 0, executedAt: null, lastFillAt: null, slices: 0, spent: 0n, bought: 0n, implied: 0n, remaining: 0n,
  };
  const fill = (): Fill => ({ slices: run.slices, pumpSpent: run.spent, pstrBought: run.bought, unfilled: run.remaining });
  const decimals = { pump: config.tokens.pump.decimals, pstr: config.tokens.pstr.decimals };
  /** What moved so far into st.result; a partial fill also dates the last swap (the cooldown counts it). */
  const keepFill = () => {
    if (run.spent === 0n && run.slices === 0) return;
    const pstrTokens = toTokens({ raw: run.bought, decimals: decimals.pstr });
    st.result = {
      pumpSpent: run.spent.toString(), pstrBought: run.bought.toString(), realizedPrice: pstrTokens > 0 ? run.usdSpent / pstrTokens : null,
      slippage: slippage(run.bought, run.implied), unfilledPump: run.remaining.toString(),
    };
    run.executedAt ??= run.lastFillAt;
  };
  const fresh = async (): Promise<{ obs: MarketObservation; price: number | null; why: string; excluded: ConsensusResult['excluded'] }> => {
    const obs = await acts.observeMarket({ treasuryId });
    const c = consensusOf(obs, Date.now(), config);
    return { obs, price: c.ok ? c.price : null, why: c.ok ? `consensus ${c.price}` : c.reason, excluded: c.excluded };
  };

  /**
   * SPEC §2 for PUMP and SOL: an observation without their consensus sizes nothing and bounds no swap. The refusal
   * to return (aborted, with the reason) and a critical price-consensus alert, or null when both are priced.
   */
  const unpriced = (obs: MarketObservation, stage: string, moved?: string): Ended | null => {
    const problem = marketPriceProblem(obs);
    // Observations from before PUMP and SOL had sources carry no consensus: old histories never come here.
    if (!problem || !patched('pump-sol-consensus')) return null;
    endAlerts.push(priceConsensusAlert(id, { stage, reason: problem.reason, assets: problem.assets, outliers: problem.outliers, ...(moved === undefined ? {} : { moved }) }));
    return new Ended('aborted', `${problem.reason}; no sizing and no swap on it (SPEC §2 needs ${config.oracle.minAgreeingSources} agreeing sources)`);
  };

  try {
    await save();
    // 1. Validate: a fresh consensus, not the cycle's, must still be at or below the trigger.
    const v = await fresh();
    const unpricedAtStart = unpriced(v.obs, 'validate');
    const triggered = v.price !== null && isTriggered(v.price, input.vwap30, config.strategy.triggerThreshold);
    const validated = unpricedAtStart ? `refused: ${unpricedAtStart.why}` : triggered ? `still triggered at ${v.price}` : `not triggered: ${v.why}`;
    await record('validate', validated, { vwap30: input.vwap30, readings: v.obs.readings, ...(signedPlans ? { signedPlans: true } : {}) }, { price: v.price, triggered, excluded: v.excluded });
    if (unpricedAtStart) throw unpricedAtStart;
    if (!triggered || v.price === null) throw new Ended('invalidated', `fresh consensus no longer at the trigger (${v.why})`);

    // 2. Assess: every gate of SPEC §4 against current state.
    st.stage = 'assess';
    const ctx = await acts.gateContext({ treasuryId, excludeId: id });
    const state = stateOf(v.obs, v.price, config);
    const gates = evaluateGates({ now: Date.now(), paused: ctx.paused, emergencyStop: ctx.emergencyStop, lastExecutedSwapAt: ctx.lastExecutedSwapAt, interventionStarts: ctx.interventionStarts, inFlight: ctx.inFlight.length > 0, ...(ctx.liveProposals && { liveProposals: ctx.liveProposals }), reserveRatio: state.reserveRatio }, interventionParams(config));
    const failed = gates.filter((g) => !g.passed);
    await record('assess', failed.length ? `blocked: ${failed.map((g) => g.gate).join(', ')}` : 'every gate passed', ctx, { gates, reserveRatio: state.reserveRatio });
    if (failed.length) throw new Ended('aborted', `gate failed: ${failed.map((g) => `${g.gate} (${g.reason})`).join('; ')}`);

    // 3. Size: tier fraction of the PUMP balance, halved below RR 2.0.
    st.stage = 'size';
    const dd = drawdown(v.price, input.vwap30);
    const tier = tierAt(v.price, input.vwap30, config.strategy.tiers);
    if (!tier) throw new Ended('invalidated', `drawdown ${dd} below every tier`);
    const { fraction, reduced } = deploymentFraction(tier.fraction, state.reserveRatio, interventionParams(config));
    const balance = amount('PUMP', BigInt(v.obs.balances.pump), config.tokens.pump.decimals);
    const size = mulFraction(balance, fraction);
    Object.assign(st, { tier: tier.tier, fraction, pumpAmount: size.raw.toString(), usdSize: toTokens(size) * v.obs.pumpPrice });
    // The plan operators approve: published with the size (the size step's record carries it for the audit).
    if (signedPlans) st.plan = planFor(1, size.raw, v.obs, v.price);
    await record('size', `tier ${tier.tier}: ${(fraction * 100).toFixed(2)} % of PUMP${reduced ? ' (halved below RR 2.0)' : ''}`, { drawdown: dd, pumpBalance: v.obs.balances.pump, reserveRatio: state.reserveRatio }, { tier, fraction, pumpAmount: st.pumpAmount, usdSize: st.usdSize, ...(st.plan ? { plan: st.plan } : {}) });
    await save();
    if (size.raw === 0n) throw new Ended('aborted', 'nothing to deploy: the PUMP balance is zero');

    // 4. Timelock: large interventions wait for the time and for distinct operators' approvals.
    let last = v;
    if (needsTimelock(st.usdSize ?? 0, tl)) {
      st.stage = 'timelock';
      st.timelock = { required: true, unlockAt: input.startedAt + tl.timelockMinutes * 60_000, expiresAt: input.startedAt + tl.approvalTimeoutHours * HOUR_MS, verdict: null };
      for (;;) {
        await decided();
        const verdict = st.timelock.verdict;
        await record('timelock', verdict?.kind ?? 'unknown', { threshold: tl.timelockThresholdUsd, usdSize: st.usdSize }, { verdict, approvals: st.approvals });
        if (verdict?.kind === 'rejected') throw new Ended('rejected', `rejected by ${verdict.by}${st.approvals.rejection?.reason ? `: ${st.approvals.rejection.reason}` : ''}`);
        if (verdict?.kind === 'expired') throw new Ended('expired', `no decision within ${tl.approvalTimeoutHours} h`);
        // When the wait ends the trigger is checked once more.
        last = await fresh();
        const unpricedAfterWait = unpriced(last.obs, 'recheck');
        const still = last.price !== null && isTriggered(last.price, input.vwap30, config.strategy.triggerThreshold);
        const rechecked = unpricedAfterWait ? `refused: ${unpricedAfterWait.why}` : still ? `still triggered at ${last.price}` : `recovered: ${last.why}`;
        await record('recheck', rechecked, { vwap30: input.vwap30 }, { price: last.price, triggered: still });
        if (unpricedAfterWait) throw unpricedAfterWait;
        if (!still || last.price === null) throw new Ended('invalidated', `price recovered above the trigger during the timelock (${last.why})`);
        // An operator's pause or emergency stop during the wait also holds the swap.
        const again = await acts.gateContext({ treasuryId, excludeId: id });
        if (again.paused || again.emergencyStop) throw new Ended('aborted', again.paused ? 'monitor paused during the timelock' : 'emergency stop during the timelock');
        if (!(await resized(last.obs, last.price))) break;
      }
    }

    // 5. Swap: only the slice in flight is shielded from cancellation (inside swap()).
    st.stage = 'swap';
    await swap(last);
  } catch (err) {
    endWith(err);
  }
  await CancellationScope.nonCancellable(settle);

  // 6. Track ROI at each horizon; only executed interventions have something to track.
  const executedAt = run.executedAt;
  if (st.status === 'executed' && executedAt !== null && st.result) {
    st.stage = 'track';
    await track(executedAt, amount('PSTR', BigInt(st.result.pstrBought), decimals.pstr));
  }
  st.stage = 'done';
  return st;

  /** Waits until the timelock's verdict is no longer `waiting` (a decision, the unlock time, or the deadline). */
  async function decided(): Promise<void> {
    for (;;) {
      const verdict = timelockVerdict(st.approvals, input.startedAt, Date.now(), tl);
      st.timelock.verdict = verdict;
      if (verdict.kind !== 'waiting') return;
      const seen = signals;
      await condition(() => signals !== seen, Math.max(1, verdict.until - Date.now()));
    }
  }

  /** The plan for `pumpIn` at an observation's prices: the least PSTR out is the swap's own slippage floor. */
  function planFor(revision: number, pumpIn: bigint, obs: MarketObservation, price: number): InterventionPlan {
    const ideal = impliedOutput(amount('PUMP', pumpIn, decimals.pump), obs.pumpPrice, price, decimals.pstr).raw;
    return {
      treasuryId, interventionId: id, revision, tier: st.tier ?? 0, pumpIn: pumpIn.toString(), minPstrOut: slippageFloor(ideal, config.risk.maxSlippage).toString(),
      consensusPrice: price, configVersion: input.configVersion ?? null, expiresAt: input.startedAt + tl.approvalTimeoutHours * HOUR_MS,
    };
  }

  /**
   * After the wait: an approved plan is a ceiling. When the PUMP balance now
   * gives a smaller size, the plan is re-sized (the next revision), earlier
   * approvals no longer count, and the wait starts again for the new plan.
   * A larger balance keeps the approved size. True when re-sized.
   */
  async function resized(obs: MarketObservation, price: number): Promise<boolean> {
    const plan = st.plan;
    if (!signedPlans || !plan || st.fraction === null) return false;
    const now = mulFraction(amount('PUMP', BigInt(obs.balances.pump), decimals.pump), st.fraction).raw;
    if (now >= BigInt(plan.pumpIn)) return false;
    const next = planFor(plan.revision + 1, now, obs, price);
    st.approvals = voidApprovals(st.approvals, plan, next, Date.now());
    st.plan = next;
    Object.assign(st, { pumpAmount: now.toString(), usdSize: toTokens({ raw: now, decimals: decimals.pump }) * obs.pumpPrice });
    signals++;
    await record('resize', `re-sized to plan ${next.revision}: PUMP in ${plan.pumpIn} → ${next.pumpIn}; approvals of plan ${plan.revision} no longer count`, { pumpBalance: obs.balances.pump, fraction: st.fraction }, { plan: next });
    await save();
    if (now === 0n) throw new Ended('aborted', 'nothing to deploy: the PUMP balance is zero');
    return true;
  }

  /** The least PSTR a slice of `pumpIn` may return under the approved plan (its share of the plan's minimum, rounded up). */
  function planFloor(pumpIn: bigint): bigint {
    const plan = st.plan;
    if (!signedPlans || !plan || BigInt(plan.pumpIn) === 0n) return 0n;
    const total = BigInt(plan.pumpIn);
    return (BigInt(plan.minPstrOut) * pumpIn + total - 1n) / total;
  }

  /** How the intervention ends, from what stopped it; never rethrows. */
  function endWith(err: unknown): void {
    if (err instanceof Ended) {
      st.status = err.status;
      st.reason = err.why;
    } else if (isCancellation(err)) {
      st.status = 'aborted';
      if (st.stage === 'swap') {
        keepFill();
        st.reason = haltReason('cancellation (governance or operator)', run.slices, fill(), decimals);
      } else st.reason = 'cancelled (governance or operator) before any swap';
    } else {
      // A store or market failure after every retry, or a bug: end aborted, say what moved, alert.
      keepFill();
      const what = `${messageOf(err)} (at stage ${st.stage}${st.stage === 'swap' ? `; ${describeFill(fill(), decimals)}` : ''})`;
      st.status = 'aborted';
      st.reason = `intervention failed: ${what}`;
      endAlerts.push(systemFailureAlert(`intervention ${id}`, what));
    }
  }

  /** Save the end, tell the monitor, write what the store missed, alert. Runs shielded; never throws. */
  async function settle(): Promise<void> {
    let saveError: string | null = null;
    try {
      await save();
    } catch (err) {
      saveError = messageOf(err);
      log.error('intervention end not saved; the reconciler closes its row', { workflowId: id, error: saveError });
    }
    await settleWithMonitor();
    const missed = await flushSteps();
    if (saveError !== null || missed > 0) {
      endAlerts.push(systemFailureAlert(`intervention ${id} record`, `${saveError !== null ? `end (${st.status}) not saved: ${saveError}; ` : ''}${missed} step(s) not recorded; the workflow history has them`));
    }
    await alert('end', endAlerts.splice(0));
  }

  /** Writes buffered steps once more; returns how many the store still refused. */
  async function flushSteps(): Promise<number> {
    const pending = unrecorded.splice(0);
    for (const step of pending) {
      try {
        await acts.recordInterventionStep({ treasuryId, interventionId: id, step });
      } catch (err) {
        unrecorded.push(step);
        log.error('step still not recorded', { workflowId: id, step: step.step, error: messageOf(err) });
      }
    }
    return unrecorded.length;
  }

  /** Raises alerts outside any cancellable scope; an alert that cannot be stored is logged, never fatal. */
  async function alert(key: string, alerts: Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    try {
      await CancellationScope.nonCancellable(() => raiseAlerts(treasuryId, `${id}/${key}`, Date.now(), alerts));
    } catch (err) {
      log.error('alerts not raised', { workflowId: id, kinds: alerts.map((a) => a.kind), error: messageOf(err) });
    }
  }

  async function track(at: number, bought: TokenAmount<'PSTR'>): Promise<void> {
    try {
      for (const h of config.intervention.trackHorizonsHours) {
        await sleep(Math.max(1, at + h * HOUR_MS - Date.now()));
        const t = await fresh();
        const roi = t.price === null ? null : buybackRoi(bought, t.price, run.usdSpent);
        st.roi[`${h}h`] = roi;
        await record(`track:${h}h`, roi === null ? `no valid price: ${t.why}` : `ROI ${(roi * 100).toFixed(2)} %`, { horizonHours: h, usdSpent: run.usdSpent }, { price: t.price, roi });
      }
    } catch (err) {
      // The swap is done and settled: a cancelled or failed tracking only leaves ROI horizons unmeasured.
      log.warn('ROI tracking stopped', { workflowId: id, error: messageOf(err) });
    }
    if (unrecorded.length > 0) await CancellationScope.nonCancellable(flushSteps);
  }

  async function swap(at: { obs: MarketObservation; price: number | null }): Promise<void> {
    run.remaining = BigInt(st.pumpAmount ?? '0');
    let sliceSize = run.remaining;
    const deadline = Date.now() + config.intervention.sliceWindowMinutes * 60_000;
    const pumpDecimals = decimals.pump;
    let obs = at.obs;
    let price = at.price;
    /** The smallest slice's quote when even it stayed below the floor (the slippage guard stopped the swap). */
    let refusedQuote: { pumpIn: bigint; quote: bigint; ideal: bigint } | null = null;
    /** The swap's own error when a slice ran and failed (not a quote refused by the bound). */
    let swapError: { slice: number; error: string } | null = null;
    let gated = -1;
    /** Why the slices stopped early on a PUMP or SOL price without consensus (what moved before stays executed). */
    let unpricedHalt: string | null = null;
    for (let slice = 0; run.remaining > 0n && Date.now() <= deadline; ) {
      if (price === null) break;
      // Halts halt: pause, emergency stop (and a store that cannot tell, read as paused) stop the next slice.
      if (gated !== slice && patched('gate-before-every-slice')) {
        gated = slice;
        const ctx = await acts.gateContext({ treasuryId, excludeId: id });
        const halt = sliceHalt(ctx);
        if (halt) {
          keepFill();
          const why = haltReason(halt, slice, fill(), decimals);
          await record(`halt:${slice}`, why, { paused: ctx.paused, emergencyStop: ctx.emergencyStop }, { fill: st.result });
          throw new Ended('aborted', why);
        }
      }
      if (sliceSize > run.remaining) sliceSize = run.remaining;
      const ideal = impliedOutput(amount('PUMP', sliceSize, pumpDecimals), obs.pumpPrice, price, decimals.pstr).raw;
      const quote = BigInt(await acts.quoteSwap({ pumpIn: sliceSize.toString() }));
      // The approved plan's minimum holds too: a price that moved against it after approval does not lower the floor.
      const approvedFloor = planFloor(sliceSize);
      if (!withinSlippage(quote, ideal, config.risk.maxSlippage) || quote < approvedFloor) {
        // Too big for the bound: halve the slice until a quote stays within it (SPEC §5 step 5).
        if (sliceSize > 1n && sliceSize > BigInt(st.pumpAmount ?? '0') / 4096n) {
          sliceSize /= 2n;
          continue;
        }
        refusedQuote = { pumpIn: sliceSize, quote, ideal };
        break;
      }
      const request: WireSwapRequest = {
        treasuryId, interventionId: id, slice, pumpIn: sliceSize.toString(), minPstrOut: maxOf(slippageFloor(ideal, config.risk.maxSlippage), approvedFloor).toString(), impliedPstrOut: ideal.toString(),
        // The executor bounds the trade by this intervention's config version, not the worker file (activity input only: no patch).
        maxSlippageBps: Math.round(config.risk.maxSlippage * 10_000), ...(input.configVersion !== undefined ? { configVersion: input.configVersion } : {}),
      };
      let r: WireSwapResult;
      try {
        // The slice in flight (its swap and the wait for a multisig to execute it) is never abandoned.
        r = await CancellationScope.nonCancellable(() => runSlice(request, quote, ideal));
      } catch (err) {
        if (isCancellation(err)) throw err;
        // The slice could not run after its retries (or hit a deterministic error): stop here, say what moved.
        keepFill();
        const error = messageOf(err);
        await alert(`swap/${slice}`, [swapSliceFailedAlert(id, { slice, error, moved: describeFill(fill(), decimals) })]);
        throw new Ended('aborted', `slice ${slice} could not run: ${error}; ${describeFill(fill(), decimals)}`);
      }
      if (r.status !== 'confirmed') {
        await alert(`swap/${slice}`, [swapFailedAlert(id, r.error ?? 'unknown')]);
        swapError = { slice, error: r.error ?? 'unknown error' };
        break;
      }
      run.spent += BigInt(r.pumpIn);
      run.bought += BigInt(r.pstrOut);
      run.implied += ideal;
      run.usdSpent += toTokens({ raw: BigInt(r.pumpIn), decimals: pumpDecimals }) * obs.pumpPrice;
      run.remaining -= BigInt(r.pumpIn);
      run.lastFillAt = Date.now();
      slice += 1;
      run.slices = slice;
      if (run.remaining > 0n) {
        // Let the pool recover before the next slice (cancellable: a halt lands here), then price it afresh.
        await sleep(config.monitor.cycleIntervalSeconds * 1000);
        const f = await fresh();
        obs = f.obs;
        price = f.price;
        const halt = price === null ? unpriced(obs, `swap:${slice}`, describeFill(fill(), decimals)) : null;
        if (halt) {
          unpricedHalt = halt.why;
          await record(`halt:${slice}`, `refused: ${halt.why}`, { readings: obs.readings }, { excluded: f.excluded });
        }
      }
    }
    const unfilled = run.remaining.toString();
    if (run.spent === 0n) {
      if (refusedQuote && patched('quote-out-of-bound-alert')) {
        const pstrDecimals = decimals.pstr;
        await alert('quote-out-of-bound', [swapQuoteOutOfBoundAlert(id, {
          pumpIn: formatAmount({ raw: refusedQuote.pumpIn, decimals: pumpDecimals }),
          quotedPstr: formatAmount({ raw: refusedQuote.quote, decimals: pstrDecimals }),
          floorPstr: formatAmount({ raw: slippageFloor(refusedQuote.ideal, config.risk.maxSlippage), decimals: pstrDecimals }),
          maxSlippage: config.risk.maxSlippage,
        })]);
      }
      // The true reason: a swap that ran and failed says its own error; only a quote the bound refused is "slippage".
      if (swapError) throw new Ended('aborted', `slice ${swapError.slice} swap failed: ${swapError.error}; nothing moved`);
      throw new Ended('aborted', `no slice could be filled within the ${config.risk.maxSlippage} slippage bound; nothing moved`);
    }
    // Settled from here on: the state is final before the next await, so a late cancellation cannot undo it.
    run.executedAt = Date.now();
    keepFill();
    st.status = 'executed';
    const stopped = unpricedHalt === null ? `within ${config.intervention.sliceWindowMinutes} min` : `(${unpricedHalt})`;
    st.reason = run.remaining > 0n ? `executed; ${unfilled} PUMP base units unfilled ${stopped}` : 'executed';
    const result = st.result as NonNullable<InterventionState['result']>;
    await alert('executed', [interventionExecutedAlert({ id, pumpSpent: formatAmount({ raw: run.spent, decimals: pumpDecimals }), pstrBought: formatAmount({ raw: run.bought, decimals: decimals.pstr }), usdValue: run.usdSpent, price: result.realizedPrice ?? 0 })]);
  }

  /** One slice: the at-most-once swap, the wait for a multisig to execute it, and its step record. */
  async function runSlice(request: WireSwapRequest, quote: bigint, ideal: bigint): Promise<WireSwapResult> {
    let r = await swapActs.executeSwap(request);
    // Propose-only: the multisig executes it when its members approve.
    const proposedAt = Date.now();
    if (r.status === 'pending' && patched('proposal-wait-activity')) {
      r = await awaitProposal(request, r, proposedAt + tl.approvalTimeoutHours * HOUR_MS);
    } else {
      // Histories from before the wait activity: ask again (the same request: at most once) every minute.
      while (r.status === 'pending' && Date.now() - proposedAt < tl.approvalTimeoutHours * HOUR_MS) {
        await sleep(60_000);
        r = await swapActs.executeSwap(request);
      }
      if (r.status === 'pending') r = { ...r, status: 'failed', error: `the multisig did not execute proposal ${r.reference} within ${tl.approvalTimeoutHours} h` };
    }
    const pstrText = formatAmount({ raw: BigInt(r.pstrOut), decimals: decimals.pstr });
    const pumpText = formatAmount({ raw: BigInt(r.pumpIn), decimals: decimals.pump });
    await record(`swap:${request.slice}`, r.status === 'confirmed' ? `filled ${pstrText} PSTR for ${pumpText} PUMP${r.alreadyDone ? ' (found done on retry)' : ''}` : `failed: ${r.error}`, { pumpIn: request.pumpIn, quote: quote.toString(), implied: ideal.toString() }, r);
    return r;
  }

  /**
   * The wait for the multisig, as one heartbeating activity (a few history
   * events however long it takes). The slice runs shielded, so the
   * intervention's cancellation is passed to this wait by hand. When it ends
   * undecided (deadline, halt, cancellation, the activity failing) the
   * intervention gives up: the agent votes against the proposal when its key
   * may, the members are alerted, and the proposal stays counted as in flight
   * (gateContext) until the chain shows it dead or executed.
   */
  async function awaitProposal(request: WireSwapRequest, first: WireSwapResult, deadline: number): Promise<WireSwapResult> {
    const wait = new CancellationScope();
    CancellationScope.current().cancelRequested.catch(() => wait.cancel());
    let why: string;
    try {
      const w = await wait.run(() => waitActivities(deadline - Date.now()).awaitProposal({ request, deadline }));
      if (w.ended === 'decided') return w.result;
      why = w.ended === 'halt' ? `halted while waiting: ${w.why ?? 'halt'}` : `the multisig did not decide within ${tl.approvalTimeoutHours} h`;
    } catch (err) {
      why = isCancellation(err) ? 'the intervention was cancelled (governance or operator) while waiting' : `the wait failed: ${messageOf(err)}`;
    }
    let out: Awaited<ReturnType<typeof acts.abandonProposal>> = null;
    let problem: string | null = null;
    try {
      out = await acts.abandonProposal({ interventionId: request.interventionId, slice: request.slice, why });
    } catch (err) {
      problem = messageOf(err);
    }
    if (out?.settled) {
      // The chain already shows it can no longer execute: the slice is settled (failed), nothing to ask of the members.
      return { ...first, status: 'failed', error: `${why}; proposal ${out.proposal} can no longer execute (${out.state})` };
    }
    await alert(`proposal-abandoned/${request.slice}`, [proposalAbandonedAlert(id, {
      proposal: out?.proposal ?? first.reference, transactionIndex: out?.transactionIndex ?? null, state: out?.state ?? 'unknown', why,
      action: out ? `${out.action}${out.signature ? ` (${out.signature})` : ''}${out.because ? `: ${out.because}` : ''}` : `none: ${problem ?? 'the treasury cannot abandon proposals'}`,
      membersMust: out?.membersMust ?? `reject or cancel proposal ${first.reference} in Squads`,
    })]);
    return { ...first, status: 'failed', error: `${why}; gave up on proposal ${out?.proposal ?? first.reference}: it stays counted as in flight until the chain shows it rejected, cancelled, stale or executed` };
  }

  async function settleWithMonitor(): Promise<void> {
    try {
      // A partial fill (an aborted swap) carries its executedAt too: the monitor's cooldown counts it.
      await getExternalWorkflowHandle(monitorWorkflowId(treasuryId)).signal(interventionSettledSignal, { interventionId: id, status: st.status === 'running' ? 'aborted' : st.status, executedAt: run.executedAt });
    } catch (err) {
      log.warn('monitor not reachable to settle the intervention', { workflowId: id, error: String(err) });
    }
  }
}

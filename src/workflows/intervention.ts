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
import { interventionExecutedAlert, swapFailedAlert, swapQuoteOutOfBoundAlert, swapSliceFailedAlert, systemFailureAlert, type Alert } from '../domain/alerts.ts';
import { applySignal, needsTimelock, NO_APPROVALS, timelockParams, timelockVerdict, type OperatorSignal } from '../domain/approval.ts';
import { HOUR_MS, deploymentFraction, evaluateGates, interventionParams, isTriggered, tierAt } from '../domain/intervention.ts';
import { describeFill, haltReason, NON_RETRYABLE_SWAP_ERRORS, sliceHalt, type Fill } from '../domain/settle.ts';
import { buybackRoi, impliedOutput, slippage, slippageFloor, withinSlippage } from '../domain/swap.ts';
import type { ConsensusResult } from '../domain/consensus.ts';
import { drawdown } from '../domain/vwap.ts';
import {
  approveSignal, approveUpdate, interventionSettledSignal, interventionStateQuery, interventionWorkflowId, monitorWorkflowId, rejectSignal, rejectUpdate,
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
 * A swap slice may wait on a slow chain, so an attempt gets 5 minutes and
 * heartbeats (a crashed worker's attempt is retried within the heartbeat
 * timeout). Retries stop at the slice window (at least one attempt's 5
 * minutes): a slice that has not run by then will not help this intervention,
 * which alerts and settles instead. Deterministic errors are not retried.
 */
function swapActivities(config: Config) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '10 seconds',
    scheduleToCloseTimeout: Math.max(5, config.intervention.sliceWindowMinutes) * 60_000,
    retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE_SWAP_ERRORS] },
  });
}

class Ended extends Error {
  constructor(readonly status: FinalInterventionStatus, readonly why: string) {
    super(why);
  }
}

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
      const signal: OperatorSignal = { kind, operator: d.value.operator, at: Date.now(), ...(d.value.reason ? { reason: d.value.reason } : {}) };
      const r = applySignal(st.approvals, signal, tl);
      st.approvals = r.state;
      signals++;
      log.info(`${kind} ${r.accepted ? 'accepted' : 'refused'}`, { workflowId: id, operator: d.value.operator, why: r.why });
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
  };
  setHandler(approveSignal, (raw: unknown) => void onOperator('approve')(raw));
  setHandler(rejectSignal, (raw: unknown) => void onOperator('reject')(raw));
  setHandler(approveUpdate, onOperator('approve'), { validator: decisionValidator('approve') });
  setHandler(rejectUpdate, onOperator('reject'), { validator: decisionValidator('reject') });
  setHandler(interventionStateQuery, () => st);

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

  try {
    await save();
    // 1. Validate: a fresh consensus, not the cycle's, must still be at or below the trigger.
    const v = await fresh();
    const triggered = v.price !== null && isTriggered(v.price, input.vwap30, config.strategy.triggerThreshold);
    await record('validate', triggered ? `still triggered at ${v.price}` : `not triggered: ${v.why}`, { vwap30: input.vwap30, readings: v.obs.readings }, { price: v.price, triggered, excluded: v.excluded });
    if (!triggered || v.price === null) throw new Ended('invalidated', `fresh consensus no longer at the trigger (${v.why})`);

    // 2. Assess: every gate of SPEC §4 against current state.
    st.stage = 'assess';
    const ctx = await acts.gateContext({ treasuryId, excludeId: id });
    const state = stateOf(v.obs, v.price, config);
    const gates = evaluateGates({ now: Date.now(), paused: ctx.paused, emergencyStop: ctx.emergencyStop, lastExecutedSwapAt: ctx.lastExecutedSwapAt, interventionStarts: ctx.interventionStarts, inFlight: ctx.inFlight.length > 0, reserveRatio: state.reserveRatio }, interventionParams(config));
    const failed = gates.filter((g) => !g.passed);
    await record('assess', failed.length ? `blocked: ${failed.map((g) => g.gate).join(', ')}` : 'every gate passed', ctx, { gates, reserveRatio: state.reserveRatio });
    if (failed.length) throw new Ended('aborted', `gate failed: ${failed.map((g) => `${g.gate} (${g.reason})`).join('; ')}`);

    // 3. Size: tier fraction of the PUMP balance, halved below RR 2.0.
    st.stage = 'size';
    const dd = drawdown(v.price, input.vwap30);
    const tier = tierAt(v.price, input.vwap30, config.strategy.tiers);
    if (!tier) throw new Ended('invalidated', `drawdown ${dd} below every tier`);
    const { fraction, reduced } = deploymentFraction(tier.fraction, state.reserveRatio, interventionParams(config));
    const balance = { raw: BigInt(v.obs.balances.pump), decimals: config.tokens.pump.decimals };
    const size = mulFraction(balance, fraction);
    Object.assign(st, { tier: tier.tier, fraction, pumpAmount: size.raw.toString(), usdSize: toTokens(size) * v.obs.pumpPrice });
    await record('size', `tier ${tier.tier}: ${(fraction * 100).toFixed(2)} % of PUMP${reduced ? ' (halved below RR 2.0)' : ''}`, { drawdown: dd, pumpBalance: v.obs.balances.pump, reserveRatio: state.reserveRatio }, { tier, fraction, pumpAmount: st.pumpAmount, usdSize: st.usdSize });
    await save();
    if (size.raw === 0n) throw new Ended('aborted', 'nothing to deploy: the PUMP balance is zero');

    // 4. Timelock: large interventions wait for the time and for distinct operators' approvals.
    let last = v;
    if (needsTimelock(st.usdSize ?? 0, tl)) {
      st.stage = 'timelock';
      st.timelock = { required: true, unlockAt: input.startedAt + tl.timelockMinutes * 60_000, expiresAt: input.startedAt + tl.approvalTimeoutHours * HOUR_MS, verdict: null };
      for (;;) {
        const verdict = timelockVerdict(st.approvals, input.startedAt, Date.now(), tl);
        st.timelock.verdict = verdict;
        if (verdict.kind !== 'waiting') break;
        const seen = signals;
        await condition(() => signals !== seen, Math.max(1, verdict.until - Date.now()));
      }
      const verdict = st.timelock.verdict;
      await record('timelock', verdict?.kind ?? 'unknown', { threshold: tl.timelockThresholdUsd, usdSize: st.usdSize }, { verdict, approvals: st.approvals });
      if (verdict?.kind === 'rejected') throw new Ended('rejected', `rejected by ${verdict.by}${st.approvals.rejection?.reason ? `: ${st.approvals.rejection.reason}` : ''}`);
      if (verdict?.kind === 'expired') throw new Ended('expired', `no decision within ${tl.approvalTimeoutHours} h`);
      // When the wait ends the trigger is checked once more.
      last = await fresh();
      const still = last.price !== null && isTriggered(last.price, input.vwap30, config.strategy.triggerThreshold);
      await record('recheck', still ? `still triggered at ${last.price}` : `recovered: ${last.why}`, { vwap30: input.vwap30 }, { price: last.price, triggered: still });
      if (!still) throw new Ended('invalidated', `price recovered above the trigger during the timelock (${last.why})`);
      // An operator's pause or emergency stop during the wait also holds the swap.
      const again = await acts.gateContext({ treasuryId, excludeId: id });
      if (again.paused || again.emergencyStop) throw new Ended('aborted', again.paused ? 'monitor paused during the timelock' : 'emergency stop during the timelock');
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
    await track(executedAt, { raw: BigInt(st.result.pstrBought), decimals: decimals.pstr });
  }
  st.stage = 'done';
  return st;

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

  async function track(at: number, bought: { raw: bigint; decimals: number }): Promise<void> {
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
      const ideal = impliedOutput({ raw: sliceSize, decimals: pumpDecimals }, obs.pumpPrice, price, decimals.pstr).raw;
      const quote = BigInt(await acts.quoteSwap({ pumpIn: sliceSize.toString() }));
      if (!withinSlippage(quote, ideal, config.risk.maxSlippage)) {
        // Too big for the bound: halve the slice until a quote stays within it (SPEC §5 step 5).
        if (sliceSize > 1n && sliceSize > BigInt(st.pumpAmount ?? '0') / 4096n) {
          sliceSize /= 2n;
          continue;
        }
        refusedQuote = { pumpIn: sliceSize, quote, ideal };
        break;
      }
      const request: WireSwapRequest = {
        treasuryId, interventionId: id, slice, pumpIn: sliceSize.toString(), minPstrOut: slippageFloor(ideal, config.risk.maxSlippage).toString(), impliedPstrOut: ideal.toString(),
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
    st.reason = run.remaining > 0n ? `executed; ${unfilled} PUMP base units unfilled within ${config.intervention.sliceWindowMinutes} min` : 'executed';
    const result = st.result as NonNullable<InterventionState['result']>;
    await alert('executed', [interventionExecutedAlert({ id, pumpSpent: formatAmount({ raw: run.spent, decimals: pumpDecimals }), pstrBought: formatAmount({ raw: run.bought, decimals: decimals.pstr }), usdValue: run.usdSpent, price: result.realizedPrice ?? 0 })]);
  }

  /** One slice: the at-most-once swap, the wait for a multisig to execute it, and its step record. */
  async function runSlice(request: WireSwapRequest, quote: bigint, ideal: bigint): Promise<WireSwapResult> {
    let r = await swapActs.executeSwap(request);
    // Propose-only: the multisig executes it when its members approve; ask again (the same request: at most once) until it has.
    const proposedAt = Date.now();
    while (r.status === 'pending' && Date.now() - proposedAt < tl.approvalTimeoutHours * HOUR_MS) {
      await sleep(60_000);
      r = await swapActs.executeSwap(request);
    }
    if (r.status === 'pending') r = { ...r, status: 'failed', error: `the multisig did not execute proposal ${r.reference} within ${tl.approvalTimeoutHours} h` };
    const pstrText = formatAmount({ raw: BigInt(r.pstrOut), decimals: decimals.pstr });
    const pumpText = formatAmount({ raw: BigInt(r.pumpIn), decimals: decimals.pump });
    await record(`swap:${request.slice}`, r.status === 'confirmed' ? `filled ${pstrText} PSTR for ${pumpText} PUMP${r.alreadyDone ? ' (found done on retry)' : ''}` : `failed: ${r.error}`, { pumpIn: request.pumpIn, quote: quote.toString(), implied: ideal.toString() }, r);
    return r;
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

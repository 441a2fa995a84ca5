/**
 * Intervention (id `intervention/<treasuryId>/<n>`): SPEC §5's six steps as
 * named stages — validate → assess → size → timelock → swap → track — each
 * recorded with its inputs and outcome, in history and in the store. Operators
 * approve or reject by signal; timers are durable; the swap runs at most once.
 */
import {
  ApplicationFailure, CancellationScope, condition, getExternalWorkflowHandle, isCancellation, log, patched, proxyActivities, setHandler, sleep,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { raiseAlerts } from './alerts.ts';
import { formatAmount, mulFraction, toTokens } from '../domain/amount.ts';
import { interventionExecutedAlert, swapFailedAlert, swapQuoteOutOfBoundAlert } from '../domain/alerts.ts';
import { applySignal, needsTimelock, NO_APPROVALS, timelockParams, timelockVerdict, type OperatorSignal } from '../domain/approval.ts';
import { HOUR_MS, deploymentFraction, evaluateGates, interventionParams, isTriggered, tierFor } from '../domain/intervention.ts';
import { buybackRoi, impliedOutput, slippage, slippageFloor, withinSlippage } from '../domain/swap.ts';
import type { ConsensusResult } from '../domain/consensus.ts';
import { drawdown } from '../domain/vwap.ts';
import {
  approveSignal, approveUpdate, interventionSettledSignal, interventionStateQuery, interventionWorkflowId, monitorWorkflowId, rejectSignal, rejectUpdate,
  type DecisionResult, type FinalInterventionStatus, type InterventionInput, type InterventionState, type MarketObservation,
} from './contract.ts';
import { consensusOf, stateOf } from './monitor-cycle.ts';
import { checkInput } from './inputs.ts';
import { claimedName, interventionInputSchema, operatorDecisionMessage, parseMessage } from './messages.ts';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/**
 * A swap slice may wait on a slow chain; it is safe to retry (at most once per
 * slice) without limit. It heartbeats, so a crashed worker's attempt is retried
 * within the heartbeat timeout rather than after the whole start-to-close.
 */
const swapActs = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
});

class Ended extends Error {
  constructor(readonly status: FinalInterventionStatus, readonly why: string) {
    super(why);
  }
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

  const record = async (step: string, verdict: string, inputs: unknown, outcome: unknown) => {
    const rec = { step, at: Date.now(), verdict, inputs, outcome };
    st.steps.push(rec);
    await acts.recordInterventionStep({ treasuryId, interventionId: id, step: rec });
  };
  const save = () =>
    acts.upsertIntervention({
      id, treasuryId, seq: input.seq, startedAt: input.startedAt, status: st.status, tier: st.tier, fraction: st.fraction,
      pumpAmount: st.pumpAmount, pstrBought: st.result?.pstrBought ?? null, usdValue: st.result ? run.usdSpent : null,
      decidedPrice: input.consensus.ok ? input.consensus.price : 0, vwap30: input.vwap30, drawdown: input.decision.drawdown ?? 0,
      executedAt: run.executedAt, reason: st.reason, updatedAt: Date.now(),
    });
  // Filled in by the swap step (a nested function, so kept in one object the type checker can follow).
  const run: { usdSpent: number; executedAt: number | null } = { usdSpent: 0, executedAt: null };
  const fresh = async (): Promise<{ obs: MarketObservation; price: number | null; why: string; excluded: ConsensusResult['excluded'] }> => {
    const obs = await acts.observeMarket({ treasuryId });
    const c = consensusOf(obs, Date.now(), config);
    return { obs, price: c.ok ? c.price : null, why: c.ok ? `consensus ${c.price}` : c.reason, excluded: c.excluded };
  };

  await save();
  try {
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
    const tier = tierFor(dd, config.strategy.tiers);
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

    // 5. Swap, shielded from cancellation once it starts so a slice in flight is never abandoned.
    st.stage = 'swap';
    await CancellationScope.nonCancellable(() => swap(last));
  } catch (err) {
    if (err instanceof Ended) {
      st.status = err.status;
      st.reason = err.why;
    } else if (isCancellation(err)) {
      st.status = 'aborted';
      st.reason = 'cancelled (governance or operator) before any swap';
    } else throw err;
  }
  await CancellationScope.nonCancellable(async () => {
    await save();
    await settleWithMonitor();
  });

  // 6. Track ROI at each horizon; only executed interventions have something to track.
  const executedAt = run.executedAt;
  if (st.status === 'executed' && executedAt !== null && st.result) {
    st.stage = 'track';
    const bought = { raw: BigInt(st.result.pstrBought), decimals: config.tokens.pstr.decimals };
    for (const h of config.intervention.trackHorizonsHours) {
      await sleep(Math.max(1, executedAt + h * HOUR_MS - Date.now()));
      const t = await fresh();
      const roi = t.price === null ? null : buybackRoi(bought, t.price, run.usdSpent);
      st.roi[`${h}h`] = roi;
      await record(`track:${h}h`, roi === null ? `no valid price: ${t.why}` : `ROI ${(roi * 100).toFixed(2)} %`, { horizonHours: h, usdSpent: run.usdSpent }, { price: t.price, roi });
    }
  }
  st.stage = 'done';
  return st;

  async function swap(at: { obs: MarketObservation; price: number | null }): Promise<void> {
    let remaining = BigInt(st.pumpAmount ?? '0');
    let spent = 0n;
    let bought = 0n;
    let implied = 0n;
    let sliceSize = remaining;
    const deadline = Date.now() + config.intervention.sliceWindowMinutes * 60_000;
    const pumpDecimals = config.tokens.pump.decimals;
    let obs = at.obs;
    let price = at.price;
    /** The smallest slice's quote when even it stayed below the floor (the slippage guard stopped the swap). */
    let refusedQuote: { pumpIn: bigint; quote: bigint; ideal: bigint } | null = null;
    for (let slice = 0; remaining > 0n && Date.now() <= deadline; ) {
      if (price === null) break;
      if (sliceSize > remaining) sliceSize = remaining;
      const ideal = impliedOutput({ raw: sliceSize, decimals: pumpDecimals }, obs.pumpPrice, price, config.tokens.pstr.decimals).raw;
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
      const request = {
        treasuryId, interventionId: id, slice, pumpIn: sliceSize.toString(), minPstrOut: slippageFloor(ideal, config.risk.maxSlippage).toString(), impliedPstrOut: ideal.toString(),
      };
      let r = await swapActs.executeSwap(request);
      // Propose-only: the multisig executes it when its members approve; ask again (the same request: at most once) until it has.
      const proposedAt = Date.now();
      while (r.status === 'pending' && Date.now() - proposedAt < tl.approvalTimeoutHours * HOUR_MS) {
        await sleep(60_000);
        r = await swapActs.executeSwap(request);
      }
      if (r.status === 'pending') r = { ...r, status: 'failed', error: `the multisig did not execute proposal ${r.reference} within ${tl.approvalTimeoutHours} h` };
      const pstrText = formatAmount({ raw: BigInt(r.pstrOut), decimals: config.tokens.pstr.decimals });
      const pumpText = formatAmount({ raw: BigInt(r.pumpIn), decimals: pumpDecimals });
      await record(`swap:${slice}`, r.status === 'confirmed' ? `filled ${pstrText} PSTR for ${pumpText} PUMP${r.alreadyDone ? ' (found done on retry)' : ''}` : `failed: ${r.error}`, { pumpIn: sliceSize.toString(), quote: quote.toString(), implied: ideal.toString() }, r);
      if (r.status !== 'confirmed') {
        await raiseAlerts(treasuryId, `${id}/swap/${slice}`, Date.now(), [swapFailedAlert(id, r.error ?? 'unknown')]);
        break;
      }
      spent += BigInt(r.pumpIn);
      bought += BigInt(r.pstrOut);
      implied += ideal;
      run.usdSpent += toTokens({ raw: BigInt(r.pumpIn), decimals: pumpDecimals }) * obs.pumpPrice;
      remaining -= BigInt(r.pumpIn);
      slice += 1;
      if (remaining > 0n) {
        // Let the pool recover before the next slice, then price it afresh.
        await sleep(config.monitor.cycleIntervalSeconds * 1000);
        const f = await fresh();
        obs = f.obs;
        price = f.price;
      }
    }
    const unfilled = remaining.toString();
    if (spent === 0n) {
      if (refusedQuote && patched('quote-out-of-bound-alert')) {
        const pstrDecimals = config.tokens.pstr.decimals;
        await raiseAlerts(treasuryId, `${id}/quote-out-of-bound`, Date.now(), [swapQuoteOutOfBoundAlert(id, {
          pumpIn: formatAmount({ raw: refusedQuote.pumpIn, decimals: pumpDecimals }),
          quotedPstr: formatAmount({ raw: refusedQuote.quote, decimals: pstrDecimals }),
          floorPstr: formatAmount({ raw: slippageFloor(refusedQuote.ideal, config.risk.maxSlippage), decimals: pstrDecimals }),
          maxSlippage: config.risk.maxSlippage,
        })]);
      }
      throw new Ended('aborted', `no slice could be filled within the ${config.risk.maxSlippage} slippage bound; nothing moved`);
    }
    run.executedAt = Date.now();
    const pstrTokens = toTokens({ raw: bought, decimals: config.tokens.pstr.decimals });
    st.result = { pumpSpent: spent.toString(), pstrBought: bought.toString(), realizedPrice: pstrTokens > 0 ? run.usdSpent / pstrTokens : null, slippage: slippage(bought, implied), unfilledPump: unfilled };
    st.status = 'executed';
    st.reason = remaining > 0n ? `executed; ${unfilled} PUMP base units unfilled within ${config.intervention.sliceWindowMinutes} min` : 'executed';
    await raiseAlerts(treasuryId, `${id}/executed`, run.executedAt, [interventionExecutedAlert({ id, pumpSpent: formatAmount({ raw: spent, decimals: pumpDecimals }), pstrBought: formatAmount({ raw: bought, decimals: config.tokens.pstr.decimals }), usdValue: run.usdSpent, price: st.result.realizedPrice ?? 0 })]);
  }

  async function settleWithMonitor(): Promise<void> {
    try {
      await getExternalWorkflowHandle(monitorWorkflowId(treasuryId)).signal(interventionSettledSignal, { interventionId: id, status: st.status === 'running' ? 'aborted' : st.status, executedAt: run.executedAt });
    } catch (err) {
      log.warn('monitor not reachable to settle the intervention', { workflowId: id, error: String(err) });
    }
  }
}

/**
 * Intervention (id `intervention/<treasuryId>/<n>`): SPEC §5's six steps,
 * written once in src/programs/intervention.ts (the backtest runs the same
 * lines), bound here to Temporal: activities, durable timers, the monitor's
 * settle signal, and operators' approve/reject by signal or Update (the
 * Update's validator refuses what would not count). The swap runs at most
 * once; a propose-only slice waits for the multisig in one activity.
 */
import {
  ApplicationFailure, CancellationScope, getExternalWorkflowHandle, isCancellation, log, patched, proxyActivities, setHandler, sleep,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { WireSwapRequest, WireSwapResult } from '../activities/intervention.ts';
import { raiseAlerts } from './alerts.ts';
import type { Config } from '../config-schema.ts';
import { proposalAbandonedAlert, type Alert } from '../domain/alerts.ts';
import { timelockParams } from '../domain/approval.ts';
import { HOUR_MS } from '../domain/intervention.ts';
import { NON_RETRYABLE_SWAP_ERRORS } from '../domain/settle.ts';
import { messageOf, startInterventionSession, type InterventionPorts } from '../programs/intervention.ts';
import {
  approveSignal, approveUpdate, interventionSettledSignal, interventionStateQuery, interventionWorkflowId, monitorWorkflowId, planQuery, rejectSignal, rejectUpdate,
  type InterventionInput, type InterventionState,
} from './contract.ts';
import { consensusOf } from './monitor-cycle.ts';
import { checkInput } from './inputs.ts';
import { interventionInputSchema } from './messages.ts';
import { runProgram, temporalEnv } from './run-program.ts';

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

export async function intervention(input: InterventionInput): Promise<InterventionState> {
  checkInput(interventionInputSchema, input, 'intervention');
  const { config, treasuryId } = input;
  const id = interventionWorkflowId(treasuryId, input.seq);
  const tl = timelockParams(config);
  const swapActs = swapActivities(config);
  const alert = async (key: string, alerts: Alert[]): Promise<void> => {
    if (alerts.length === 0) return;
    try {
      await CancellationScope.nonCancellable(() => raiseAlerts(treasuryId, `${id}/${key}`, Date.now(), alerts));
    } catch (err) {
      log.error('alerts not raised', { workflowId: id, kinds: alerts.map((a) => a.kind), error: messageOf(err) });
    }
  };
  const ports: InterventionPorts = {
    observe: () => acts.observeMarket({ treasuryId }),
    consensus: (obs, now) => consensusOf(obs, now, config),
    recordStep: (step) => acts.recordInterventionStep({ treasuryId, interventionId: id, step }),
    save: (row) => acts.upsertIntervention(row),
    gateContext: () => acts.gateContext({ treasuryId, excludeId: id }),
    quote: (pumpIn) => acts.quoteSwap({ pumpIn }),
    executeSlice: (request) => executeSlice(request),
    raiseAlerts: (key, alerts) => raiseAlerts(treasuryId, `${id}/${key}`, Date.now(), alerts),
    settleWithMonitor: (settled) => getExternalWorkflowHandle(monitorWorkflowId(treasuryId)).signal(interventionSettledSignal, settled),
  };
  // The lifecycle itself (src/programs/intervention.ts): the same lines the backtest runs.
  const session = startInterventionSession({ ...input, id }, temporalEnv, ports);
  const validator = (kind: 'approve' | 'reject') => (raw: unknown): void => {
    const why = session.refusal(kind, raw);
    if (why !== null) throw ApplicationFailure.nonRetryable(why, 'OperatorActionRefused');
  };
  setHandler(approveSignal, (raw: unknown) => void session.decide('approve', raw));
  setHandler(rejectSignal, (raw: unknown) => void session.decide('reject', raw));
  setHandler(approveUpdate, (raw: unknown) => session.decide('approve', raw), { validator: validator('approve') });
  setHandler(rejectUpdate, (raw: unknown) => session.decide('reject', raw), { validator: validator('reject') });
  setHandler(interventionStateQuery, () => session.state);
  setHandler(planQuery, () => session.planView());
  return runProgram(session.program);

  /** One slice: the at-most-once swap and, propose-only, the wait for a multisig to execute it (run shielded by the program). */
  async function executeSlice(request: WireSwapRequest): Promise<WireSwapResult> {
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
}

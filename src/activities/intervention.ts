/** Intervention activities: its record and steps in the store, the gate context, quotes, and the at-most-once swap. */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { deterministicSwapError, sliceHalt } from '../domain/settle.ts';
import type { Alert } from '../domain/alerts.ts';
import type { InterventionStatus } from '../db/store.ts';
import type { AbandonOutcome } from '../ports.ts';
import type { RecordStepInput } from '../workflows/contract.ts';
import { readControlVerdict } from './control.ts';
import { serverClock, wakeAlertOutbox, type ActivityDeps } from './deps.ts';
import { withProgressHeartbeat } from './heartbeat.ts';
import { proposalFacts } from './proposals.ts';

export interface InterventionRecordInput {
  id: string;
  treasuryId: string;
  seq: number;
  startedAt: number;
  status: InterventionStatus;
  tier: number | null;
  fraction: number | null;
  pumpAmount: string | null;
  pstrBought: string | null;
  usdValue: number | null;
  decidedPrice: number;
  vwap30: number;
  drawdown: number;
  executedAt: number | null;
  reason: string | null;
  updatedAt: number;
  /** The config version the intervention acts under (issue #10 item 6); absent from interventions that predate versions. */
  configVersion?: number;
}

/** What a swap record says of the config version and limit it was executed under (issue #10 item 6). */
const underVersion = (req: WireSwapRequest) => ({ configVersion: req.configVersion ?? null, maxSlippageBps: req.maxSlippageBps ?? null });

export interface GateContextResult {
  paused: boolean;
  emergencyStop: boolean;
  monitorRunning: boolean;
  lastExecutedSwapAt: number | null;
  interventionStarts: number[];
  inFlight: string[];
  /**
   * Multisig proposals that can still execute (any intervention's, also one that has ended), each named with its
   * address, index and status: the gates count them as interventions in flight. Absent from older results.
   */
  liveProposals?: string[];
  /** Neither the store nor the monitor could tell the pause/stop state: read as paused. */
  failClosed: boolean;
  /** Why it is paused or stopped (who and why when known); null when it is not. */
  reason: string | null;
}

export interface WireSwapRequest {
  treasuryId: string;
  interventionId: string;
  slice: number;
  pumpIn: string;
  minPstrOut: string;
  impliedPstrOut: string;
  /** risk.maxSlippage of the version below, in basis points (absent from requests that predate config versions). */
  maxSlippageBps?: number;
  /** The config version the intervention acts under, written into the swap record. */
  configVersion?: number;
}

export interface WireSwapResult {
  status: 'confirmed' | 'failed' | 'pending';
  pumpIn: string;
  pstrOut: string;
  reference: string;
  alreadyDone: boolean;
  error: string | null;
}

export interface ProposalWaitResult {
  /** The last executeSwap answer: still pending unless decided. */
  result: WireSwapResult;
  ended: 'decided' | 'deadline' | 'halt';
  polls: number;
  /** Why it stopped early (the halt), else null. */
  why: string | null;
}

export function interventionActivities(deps: ActivityDeps) {
  const { store } = deps;
  async function executeSwapOnce(req: WireSwapRequest): Promise<WireSwapResult> {
    const at = serverClock();
    const pumpIn = BigInt(req.pumpIn);
    await store.recordSwap({
      interventionId: req.interventionId, slice: req.slice, treasuryId: req.treasuryId, at, status: 'prepared',
      pumpIn, pstrOut: null, signature: null, details: { minPstrOut: req.minPstrOut, impliedPstrOut: req.impliedPstrOut, ...underVersion(req) }, updatedAt: at,
    });
    const swap = {
      interventionId: req.interventionId, slice: req.slice, pumpIn, minPstrOut: BigInt(req.minPstrOut), ...(req.maxSlippageBps !== undefined ? { maxSlippageBps: req.maxSlippageBps } : {}),
    };
    const r = await withProgressHeartbeat((heartbeat) => deps.treasury.swap(swap, heartbeat ? { heartbeat } : {}));
    // Merge, never replace: the executor may have stored signed bytes, attempts and realized figures there.
    const earlier = (await store.swap(req.interventionId, req.slice))?.details;
    if (r.status === 'pending') {
      deps.logger.info({ treasuryId: req.treasuryId, workflowId: req.interventionId, slice: req.slice, reference: r.reference }, 'swap proposed to the multisig; waiting for its execution');
      return { status: 'pending', pumpIn: r.pumpIn.toString(), pstrOut: '0', reference: r.reference, alreadyDone: r.alreadyDone, error: null };
    }
    await store.updateSwap(req.interventionId, req.slice, {
      status: r.status, updatedAt: serverClock(), pstrOut: r.pstrOut, signature: r.reference,
      details: { ...(typeof earlier === 'object' && earlier !== null ? earlier : {}), minPstrOut: req.minPstrOut, impliedPstrOut: req.impliedPstrOut, ...underVersion(req), alreadyDone: r.alreadyDone, error: r.error ?? null },
    });
    deps.logger.info({ treasuryId: req.treasuryId, workflowId: req.interventionId, slice: req.slice, status: r.status, alreadyDone: r.alreadyDone }, 'swap');
    return { status: r.status, pumpIn: r.pumpIn.toString(), pstrOut: r.pstrOut.toString(), reference: r.reference, alreadyDone: r.alreadyDone, error: r.error ?? null };
  }
  return {
    async upsertIntervention(i: InterventionRecordInput): Promise<void> {
      await store.upsertIntervention({
        ...i,
        pumpAmount: i.pumpAmount === null ? null : BigInt(i.pumpAmount),
        pstrBought: i.pstrBought === null ? null : BigInt(i.pstrBought),
      });
      deps.metrics?.interventionEnded(i.treasuryId, i.status, i.id);
    },

    async recordInterventionStep(input: RecordStepInput): Promise<void> {
      const { step } = input;
      await store.recordInterventionStep({
        interventionId: input.interventionId, treasuryId: input.treasuryId, step: step.step, at: step.at,
        inputs: step.inputs ?? {}, outcome: step.outcome ?? {}, verdict: step.verdict,
      });
      deps.logger.info({ treasuryId: input.treasuryId, workflowId: input.interventionId, step: step.step }, step.verdict);
    },

    /**
     * SPEC §4's gates need the pause/stop flags and every other intervention's
     * history. The flags are the store's control record OR-ed with the live
     * monitor's status; when neither can tell, it reads as paused (failClosed).
     */
    async gateContext(input: { treasuryId: string; excludeId: string }): Promise<GateContextResult> {
      const control = await readControlVerdict(deps, input.treasuryId);
      const others = (await store.interventions(input.treasuryId, { sinceMs: serverClock() - 30 * 86_400_000 })).filter((i) => i.id !== input.excludeId);
      // Any row that moved PUMP dates a swap: an aborted partial fill counts for the cooldown too.
      const executed = others.filter((i) => i.executedAt !== null).map((i) => i.executedAt as number);
      if (control.record?.lastExecutedSwapAt != null) executed.push(control.record.lastExecutedSwapAt);
      // Propose-only: re-read every unsettled proposal on chain (settling the decided ones); what can still execute is in flight.
      const proposals = await proposalFacts(deps, input.treasuryId, serverClock());
      // A proposal the members executed after its intervention ended dates a swap too (settled at or after it executed).
      if (proposals) executed.push(...proposals.confirmedAt);
      return {
        paused: control.paused,
        emergencyStop: control.emergencyStop,
        monitorRunning: control.monitorRunning,
        lastExecutedSwapAt: executed.length ? Math.max(...executed) : null,
        interventionStarts: others.map((i) => i.startedAt),
        inFlight: others.filter((i) => i.status === 'running').map((i) => i.id),
        ...(proposals && { liveProposals: proposals.live }),
        failClosed: control.failClosed,
        reason: control.reason,
      };
    },

    async quoteSwap(input: { pumpIn: string }): Promise<string> {
      return (await deps.treasury.quote(BigInt(input.pumpIn))).toString();
    },

    /**
     * Executes one swap slice at most once: the slice is recorded `prepared`
     * before anything moves, the treasury port itself refuses a second
     * execution of the same (intervention, slice), and the record ends
     * `confirmed` or `failed` with what moved.
     */
    async executeSwap(req: WireSwapRequest): Promise<WireSwapResult> {
      try {
        return await executeSwapOnce(req);
      } catch (err) {
        throw classifySwapError(err);
      }
    },

    /**
     * Propose-only: waits for the multisig to decide the slice's proposal in
     * ONE activity (not a timer per poll in the intervention's history). Each
     * poll is the same at-most-once executeSwap (it re-sends what may still
     * land and settles the record from the chain), then a heartbeat with the
     * progress. Returns when the proposal is decided, at the deadline (workflow
     * time), or when the monitor is paused or stopped. A cancelled intervention
     * cancels it through the heartbeat; a retry keeps polling.
     */
    async awaitProposal(input: { request: WireSwapRequest; deadline: number }): Promise<ProposalWaitResult> {
      const ctx = Context.current();
      const scheduledAt = serverClock();
      const startedAt = Date.now();
      const now = () => scheduledAt + (Date.now() - startedAt);
      const pollMs = deps.proposalPollMs ?? 30_000;
      for (let polls = 1; ; polls++) {
        let r: WireSwapResult;
        try {
          r = await executeSwapOnce(input.request);
        } catch (err) {
          throw classifySwapError(err);
        }
        if (r.status !== 'pending') return { result: r, ended: 'decided', polls, why: null };
        const control = await readControlVerdict(deps, input.request.treasuryId);
        const halt = sliceHalt(control);
        if (halt) return { result: r, ended: 'halt', polls, why: halt };
        const left = input.deadline - now();
        if (left <= 0) return { result: r, ended: 'deadline', polls, why: null };
        ctx.heartbeat({ polls, proposal: r.reference, note: r.error, msLeft: left });
        await ctx.sleep(Math.min(pollMs, left));
      }
    },

    /** Propose-only: gives up on a slice's proposal (the treasury votes against it when its key may); null when the treasury has no proposals. */
    async abandonProposal(input: { interventionId: string; slice: number; why: string }): Promise<AbandonOutcome | null> {
      if (!deps.treasury.abandonProposal) return null;
      const out = await deps.treasury.abandonProposal({ interventionId: input.interventionId, slice: input.slice }, input.why);
      deps.logger.warn({ workflowId: input.interventionId, slice: input.slice, proposal: out.proposal, action: out.action, state: out.state }, 'multisig proposal abandoned');
      return out;
    },

    /** Stores and logs alerts raised outside a monitoring cycle (swap results, governance, schedules). */
    async raiseAlerts(input: { treasuryId: string; key: string; at: number; alerts: Alert[] }): Promise<void> {
      for (const [i, a] of input.alerts.entries()) {
        await store.recordAlert({ treasuryId: input.treasuryId, alertKey: `${input.key}/${i}/${a.kind}`, at: input.at, level: a.level, kind: a.kind, message: a.message, data: a.data });
        const log = a.level === 'critical' ? deps.logger.error.bind(deps.logger) : a.level === 'warning' ? deps.logger.warn.bind(deps.logger) : deps.logger.info.bind(deps.logger);
        log({ treasuryId: input.treasuryId, alert: a.kind, level: a.level, key: input.key }, a.message);
      }
      await wakeAlertOutbox(deps, input.treasuryId, input.alerts.length);
    },
  };
}

/**
 * A deterministic swap error (bad arguments, a recorded amount that differs,
 * a lookup table that does not exist) becomes a non-retryable failure with a
 * type the workflow names; anything else is retried within the slice's budget.
 */
export function classifySwapError(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof ApplicationFailure) return err;
  const type = deterministicSwapError(err.name, err.message);
  return type ? ApplicationFailure.create({ type, message: err.message, nonRetryable: true, cause: err }) : err;
}

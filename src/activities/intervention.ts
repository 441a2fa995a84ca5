/** Intervention activities: its record and steps in the store, the gate context, quotes, and the at-most-once swap. */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { deterministicSwapError } from '../domain/settle.ts';
import type { Alert } from '../domain/alerts.ts';
import type { InterventionStatus } from '../db/store.ts';
import type { RecordStepInput } from '../workflows/contract.ts';
import { readControlVerdict } from './control.ts';
import { serverClock, type ActivityDeps } from './deps.ts';

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

/** Heartbeats every 2 s while `work` runs, so Temporal notices a dead worker within the heartbeat timeout. */
async function withHeartbeat<T>(work: () => Promise<T>): Promise<T> {
  let ctx: Context | null = null;
  try {
    ctx = Context.current();
  } catch {
    return work();
  }
  const beat = ctx;
  const timer = setInterval(() => beat.heartbeat(), 2_000);
  try {
    beat.heartbeat();
    return await work();
  } finally {
    clearInterval(timer);
  }
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
    const r = await withHeartbeat(() => deps.treasury.swap({
      interventionId: req.interventionId, slice: req.slice, pumpIn, minPstrOut: BigInt(req.minPstrOut), ...(req.maxSlippageBps !== undefined ? { maxSlippageBps: req.maxSlippageBps } : {}),
    }));
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
      return {
        paused: control.paused,
        emergencyStop: control.emergencyStop,
        monitorRunning: control.monitorRunning,
        lastExecutedSwapAt: executed.length ? Math.max(...executed) : null,
        interventionStarts: others.map((i) => i.startedAt),
        inFlight: others.filter((i) => i.status === 'running').map((i) => i.id),
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

    /** Stores and logs alerts raised outside a monitoring cycle (swap results, governance, schedules). */
    async raiseAlerts(input: { treasuryId: string; key: string; at: number; alerts: Alert[] }): Promise<void> {
      for (const [i, a] of input.alerts.entries()) {
        await store.recordAlert({ treasuryId: input.treasuryId, alertKey: `${input.key}/${i}/${a.kind}`, at: input.at, level: a.level, kind: a.kind, message: a.message, data: a.data });
        const log = a.level === 'critical' ? deps.logger.error.bind(deps.logger) : a.level === 'warning' ? deps.logger.warn.bind(deps.logger) : deps.logger.info.bind(deps.logger);
        log({ treasuryId: input.treasuryId, alert: a.kind, level: a.level, key: input.key }, a.message);
      }
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

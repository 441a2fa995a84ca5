/**
 * The timelock of SPEC §5 step 4: which interventions wait, who may approve
 * or reject, and when the wait ends. The workflow feeds it signals and the
 * clock; this module decides.
 */
import type { Config } from '../config-schema.ts';
import { HOUR_MS } from './intervention.ts';
import {
  checkPlanMessage, signingRequired, verifyOperatorMessage, type InterventionPlan, type OperatorKeys,
} from './operator-message.ts';

export interface TimelockParams {
  readonly timelockThresholdUsd: number;
  readonly timelockMinutes: number;
  readonly approvalsRequired: number;
  readonly approvalTimeoutHours: number;
  readonly operators: readonly string[];
  /** Operator name → public key; any key makes every decision a signed one. */
  readonly operatorKeys: OperatorKeys;
}

export function timelockParams(config: Pick<Config, 'intervention'>): TimelockParams {
  const i = config.intervention;
  return {
    timelockThresholdUsd: i.timelockThresholdUsd,
    timelockMinutes: i.timelockMinutes,
    approvalsRequired: i.approvalsRequired,
    approvalTimeoutHours: i.approvalTimeoutHours,
    operators: i.operators,
    operatorKeys: i.operatorKeys ?? {},
  };
}

/** Interventions whose USD size exceeds the threshold wait for approval; smaller ones proceed. */
export function needsTimelock(usdSize: number, p: TimelockParams): boolean {
  return usdSize > p.timelockThresholdUsd;
}

export interface OperatorSignal {
  readonly kind: 'approve' | 'reject';
  readonly operator: string;
  readonly reason?: string;
  readonly at: number;
  /** A signed decision: its signature (base58) and the plan revision it signed. */
  readonly signature?: string;
  readonly plan?: number;
}

/** One counted decision; a signed one keeps its signature and the plan revision it approved, for the audit. */
export interface Decision {
  operator: string;
  at: number;
  reason?: string;
  signature?: string;
  plan?: number;
}

export interface ApprovalState {
  /** Distinct operators who approved, in order. */
  readonly approvals: readonly Decision[];
  readonly rejection: Decision | null;
  /** Signals refused (unknown operator, after the decision): kept for the audit. */
  readonly refused: readonly { signal: OperatorSignal; why: string }[];
}

export const NO_APPROVALS: ApprovalState = { approvals: [], rejection: null, refused: [] };

/** Applies one approve/reject signal: approvals count per distinct listed operator; any listed operator may reject. */
export function applySignal(state: ApprovalState, signal: OperatorSignal, p: TimelockParams): { state: ApprovalState; accepted: boolean; why: string } {
  const refuse = (why: string) => ({ state: { ...state, refused: [...state.refused, { signal, why }] }, accepted: false, why });
  if (!p.operators.includes(signal.operator)) {
    return refuse(`"${signal.operator}" is not a configured operator (intervention.operators)`);
  }
  if (state.rejection) return refuse(`already rejected by ${state.rejection.operator}`);
  if (signal.kind === 'reject') {
    const rejection = decisionOf(signal);
    return { state: { ...state, rejection }, accepted: true, why: `rejected by ${signal.operator}` };
  }
  if (state.approvals.some((a) => a.operator === signal.operator)) {
    return refuse(`${signal.operator} has already approved; approvals count once per operator`);
  }
  const approval = decisionOf(signal);
  return { state: { ...state, approvals: [...state.approvals, approval] }, accepted: true, why: `approved by ${signal.operator}` };
}

function decisionOf(s: OperatorSignal): Decision {
  return {
    operator: s.operator, at: s.at, ...(s.reason ? { reason: s.reason } : {}),
    ...(s.signature ? { signature: s.signature } : {}), ...(s.plan !== undefined ? { plan: s.plan } : {}),
  };
}

/** An approve/reject as it arrives (signal or Update), already shape-checked. */
export interface DecisionPayload {
  readonly operator: string;
  readonly reason?: string;
  readonly message?: string;
  readonly signature?: string;
}

/**
 * Applies one decision under the issue #11 rules: with operator keys
 * configured, only a valid signature by a configured operator's key over the
 * current plan counts (wrong key, wrong plan, expired, replayed, unknown
 * operator and "no plan yet" are refused with the reason); without keys (paper
 * only), bare names count, but not before the plan exists, so an approval
 * never covers a size computed after it. Pure: the Update's validator runs it
 * on a copy to refuse before anything enters history.
 */
export function applyDecision(
  state: ApprovalState, kind: OperatorSignal['kind'], payload: DecisionPayload, plan: InterventionPlan | null, now: number, p: TimelockParams,
): { state: ApprovalState; accepted: boolean; why: string } {
  const refuse = (operator: string, why: string) => ({ state: { ...state, refused: [...state.refused, { signal: { kind, operator, at: now }, why }] }, accepted: false, why });
  if (!signingRequired(p.operatorKeys)) {
    if (!plan) return refuse(payload.operator, `plan: no plan has been published yet; ${kind} after sizing, against the plan the intervention shows`);
    return applySignal(state, { kind, operator: payload.operator, at: now, plan: plan.revision, ...(payload.reason ? { reason: payload.reason } : {}) }, p);
  }
  const who = verifyOperatorMessage(payload, p.operatorKeys, now);
  if (!who.ok) return refuse(payload.operator, who.why);
  const what = checkPlanMessage(who.value, kind, plan);
  if (!what.ok) return refuse(who.value.operator, what.why);
  const signature = payload.signature as string;
  const used = [...state.approvals, ...(state.rejection ? [state.rejection] : [])].some((d) => d.signature === signature);
  if (used) return refuse(who.value.operator, 'signature: this signed message was already used (replayed)');
  const reason = who.value.fields.reason;
  return applySignal(state, { kind, operator: who.value.operator, at: now, signature, plan: plan?.revision, ...(reason ? { reason } : {}) }, p);
}

/**
 * A re-sized plan voids the approvals of the earlier one: they move to
 * `refused` with the reason, so the audit shows who approved what.
 */
export function voidApprovals(state: ApprovalState, from: InterventionPlan, to: InterventionPlan, now: number): ApprovalState {
  if (state.approvals.length === 0) return state;
  const why = `approval of plan ${from.revision} no longer counts: re-sized to plan ${to.revision} (PUMP in ${from.pumpIn} → ${to.pumpIn})`;
  const voided = state.approvals.map((a) => ({ signal: { kind: 'approve' as const, operator: a.operator, at: now, ...(a.signature ? { signature: a.signature } : {}), ...(a.plan !== undefined ? { plan: a.plan } : {}) }, why }));
  return { ...state, approvals: [], refused: [...state.refused, ...voided] };
}

export type TimelockVerdict =
  | { readonly kind: 'waiting'; readonly until: number; readonly why: string }
  | { readonly kind: 'approved' }
  | { readonly kind: 'rejected'; readonly by: string }
  | { readonly kind: 'expired' };

/**
 * Where the wait stands at `now`: proceeds once the timelock has run AND
 * enough distinct operators approved; a rejection ends it at once; no decision
 * within the approval timeout expires it. `until` is the next moment the
 * answer can change by itself (for a durable timer).
 */
export function timelockVerdict(state: ApprovalState, startedAt: number, now: number, p: TimelockParams): TimelockVerdict {
  if (state.rejection) return { kind: 'rejected', by: state.rejection.operator };
  const unlockAt = startedAt + p.timelockMinutes * 60_000;
  const expiresAt = startedAt + p.approvalTimeoutHours * HOUR_MS;
  const enough = state.approvals.length >= p.approvalsRequired;
  if (enough && now >= unlockAt) return { kind: 'approved' };
  if (!enough && now >= expiresAt) return { kind: 'expired' };
  if (enough) return { kind: 'waiting', until: unlockAt, why: 'approved; the timelock has not run yet' };
  return {
    kind: 'waiting',
    until: expiresAt,
    why: `${state.approvals.length} of ${p.approvalsRequired} approval(s)`,
  };
}

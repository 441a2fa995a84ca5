/**
 * The timelock of SPEC §5 step 4: which interventions wait, who may approve
 * or reject, and when the wait ends. The workflow feeds it signals and the
 * clock; this module decides.
 */
import type { Config } from '../config-schema.ts';
import { HOUR_MS } from './intervention.ts';

export interface TimelockParams {
  readonly timelockThresholdUsd: number;
  readonly timelockMinutes: number;
  readonly approvalsRequired: number;
  readonly approvalTimeoutHours: number;
  readonly operators: readonly string[];
}

export function timelockParams(config: Pick<Config, 'intervention'>): TimelockParams {
  const i = config.intervention;
  return {
    timelockThresholdUsd: i.timelockThresholdUsd,
    timelockMinutes: i.timelockMinutes,
    approvalsRequired: i.approvalsRequired,
    approvalTimeoutHours: i.approvalTimeoutHours,
    operators: i.operators,
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
}

export interface ApprovalState {
  /** Distinct operators who approved, in order. */
  readonly approvals: readonly { operator: string; at: number; reason?: string }[];
  readonly rejection: { operator: string; at: number; reason?: string } | null;
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
    const rejection = { operator: signal.operator, at: signal.at, ...(signal.reason ? { reason: signal.reason } : {}) };
    return { state: { ...state, rejection }, accepted: true, why: `rejected by ${signal.operator}` };
  }
  if (state.approvals.some((a) => a.operator === signal.operator)) {
    return refuse(`${signal.operator} has already approved; approvals count once per operator`);
  }
  const approval = { operator: signal.operator, at: signal.at, ...(signal.reason ? { reason: signal.reason } : {}) };
  return { state: { ...state, approvals: [...state.approvals, approval] }, accepted: true, why: `approved by ${signal.operator}` };
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

/**
 * Who may do what to a running monitor (SPEC §4, §5, §9). Operators are the
 * names in `intervention.operators`; governance acts through a passed proposal
 * the store holds. Pure: the monitor feeds it names, the config and what the
 * store said; this module decides and says why.
 */
import { resumeVerdict } from './intervention.ts';
import {
  checkActionMessage, parseMessage, replayVerdict, signingRequired, verifyOperatorMessage, type MonitorAction, type OperatorKeys,
} from './operator-message.ts';

export type MonitorOperatorAction = 'pause' | 'resume' | 'emergencyStop' | 'updateConfig' | 'cancelIntervention';

export type Verdict = { readonly ok: true; readonly why: string } | { readonly ok: false; readonly why: string };

const yes = (why: string): Verdict => ({ ok: true, why });
const no = (why: string): Verdict => ({ ok: false, why });

/**
 * An operator action from `by` is allowed only when `by` is a configured
 * operator. With no operators configured every operator action is refused
 * (fail closed: nobody can be told apart from anybody).
 */
export function authorize(action: MonitorOperatorAction, by: string, operators: readonly string[]): Verdict {
  if (operators.length === 0) {
    return no(`${action} refused: no operators are configured (intervention.operators is empty), so every operator action is refused; list the operators' names in intervention.operators`);
  }
  if (!operators.includes(by)) return no(`${action} refused: "${by}" is not a configured operator (intervention.operators)`);
  return yes(`${by} is a configured operator`);
}

/** Who may act, as the status shows it: an empty list refuses every operator action. */
export function operatorsLine(operators: readonly string[]): string {
  return operators.length ? operators.join(', ') : 'none configured (intervention.operators is empty): every operator action is refused';
}

/**
 * A resume lifts the emergency stop only when it comes from an operator or
 * from an Emergency Action proposal, and only at RR ≥ minRrThreshold; without
 * a latch it just lifts the pause.
 */
export function resumeDecision(m: { emergencyStop: boolean; lastReserveRatio: number | null; minRrThreshold: number; fromEmergencyProposal: boolean; fromOperator: boolean }): Verdict {
  if (!m.emergencyStop) return yes('resumed');
  if (!m.fromOperator && !m.fromEmergencyProposal) return no('resume refused: the emergency stop is lifted only by an operator or an Emergency Action proposal');
  const v = resumeVerdict(m.lastReserveRatio, m.minRrThreshold);
  return v.ok ? yes(`resumed; emergency stop lifted (${v.reason})`) : no(`resume refused: ${v.reason}`);
}

/** What each proposal kind may change (SPEC §9): parameters and strategy by config, an Emergency Action by pause, resume or cancel. */
export const ACTIONS_BY_KIND = {
  parameterAdjustment: ['updateConfig'],
  treasuryStrategy: ['updateConfig'],
  protocolUpgrade: ['updateConfig'],
  emergencyAction: ['pause', 'resume', 'cancelIntervention'],
} as const satisfies Record<string, readonly string[]>;

export type ProposalKindName = keyof typeof ACTIONS_BY_KIND;

export function proposalMayDo(kind: string, action: string): boolean {
  if (!Object.hasOwn(ACTIONS_BY_KIND, kind)) return false;
  const allowed: readonly string[] = (ACTIONS_BY_KIND as Record<string, readonly string[]>)[kind] ?? [];
  return allowed.includes(action);
}

/** JSON with object keys sorted: two changes are the same when their canonical texts are equal, whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The store's row of a proposal, as far as the check needs it. */
export interface ProposalRowView {
  readonly id: string;
  readonly treasuryId: string;
  readonly kind: string;
  readonly status: string;
  readonly change: unknown;
}

/**
 * Statuses in which a proposal's change may be applied. `passed-waiting` is
 * saved before the proposal signals the monitor; the proposal saves
 * `executed` right after sending, which can land before the monitor checks.
 * The monitor applies a proposal's change once (it remembers applied ids).
 */
export const APPLICABLE_PROPOSAL_STATUSES: readonly string[] = ['passed-waiting', 'executed'];

/**
 * May the change a message claims from `proposalId` be applied to `treasuryId`?
 * Only when the store holds that proposal, for this treasury, passed, of a kind
 * that may make this change, and with the very same change.
 */
export function proposalActionVerdict(row: ProposalRowView | null | undefined, claim: { proposalId: string; treasuryId: string; change: unknown }): Verdict {
  if (!row) return no(`no proposal ${claim.proposalId} in the store`);
  if (row.treasuryId !== claim.treasuryId) return no(`proposal ${claim.proposalId} belongs to treasury ${row.treasuryId}, not ${claim.treasuryId}`);
  if (!APPLICABLE_PROPOSAL_STATUSES.includes(row.status)) return no(`proposal ${claim.proposalId} is ${row.status}, not passed`);
  const action = (claim.change as { action?: unknown } | null)?.action;
  if (typeof action !== 'string' || !proposalMayDo(row.kind, action)) return no(`a ${row.kind} proposal may not ${String(action)}`);
  if (canonicalJson(row.change) !== canonicalJson(claim.change)) return no(`the change differs from what proposal ${claim.proposalId} carries`);
  return yes(`passed proposal ${claim.proposalId} (${row.kind})`);
}

/** What a signed monitor action claims, as its payload carries it. */
export interface SignedActionClaim {
  readonly action: MonitorAction;
  readonly treasuryId: string;
  readonly by: string;
  readonly message?: string | undefined;
  readonly signature?: string | undefined;
  readonly interventionId?: string | undefined;
  readonly patch?: unknown;
}

/**
 * Issue #11: with operator keys configured, a monitor action counts only when
 * signed by the named operator's key, for this action on this treasury (the
 * same intervention, the very same patch), unexpired, within the hour, and
 * never seen before. Pure; `used` maps signatures already taken to their expiry.
 * Returns the signer and the message's expiry (to remember the signature until then).
 */
export function signedActionVerdict(
  claim: SignedActionClaim, keys: OperatorKeys, used: Readonly<Record<string, number>>, now: number,
): { ok: true; operator: string; expires: number; signature: string } | { ok: false; why: string } {
  const refuse = (why: string) => ({ ok: false as const, why: `${claim.action} refused: ${why}` });
  const who = verifyOperatorMessage({ operator: claim.by, message: claim.message, signature: claim.signature }, keys, now);
  if (!who.ok) return refuse(who.why);
  const what = checkActionMessage(who.value, {
    action: claim.action, treasuryId: claim.treasuryId,
    ...(claim.interventionId !== undefined ? { interventionId: claim.interventionId } : {}),
    ...(claim.action === 'updateConfig' ? { patch: canonicalJson(claim.patch) } : {}),
  }, now);
  if (!what.ok) return refuse(what.why);
  const fresh = replayVerdict(claim.signature as string, used);
  if (!fresh.ok) return refuse(fresh.why);
  return { ok: true, operator: who.value.operator, expires: who.value.expires, signature: claim.signature as string };
}

/** The operator named inside a signed message (for a payload that carries only the message); null when none parses. */
export function signedOperator(message: unknown): string | null {
  const p = parseMessage(message);
  return p.ok ? p.value.operator : null;
}

/** How operators are told apart, as the status and the start-up banner say it. */
export function signingLine(keys: OperatorKeys, mode: string): string {
  if (signingRequired(keys)) return `signed: every operator message must carry a signature by the operator's key (${Object.keys(keys).join(', ')})`;
  return mode === 'paper'
    ? 'WARNING: operators act by bare name (paper mode, no intervention.operatorKeys): anyone who can reach the Temporal namespace can act as any operator'
    : 'unsigned: no operator keys configured';
}

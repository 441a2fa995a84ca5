/**
 * One zod schema per message a workflow takes (signals, updates) and per
 * workflow input, in one place: client.ts checks what it sends with them and
 * the workflows parse what they receive with them, so the Web UI's empty Data
 * box, `--input 'null'` or a megabyte string is refused with a reason naming
 * the field instead of throwing inside a handler.
 *
 * Unknown keys are TOLERATED and dropped (z.object strips them): a newer
 * client may add a field, and an older worker must not refuse an otherwise
 * valid message for it. A config patch is the exception: its keys are checked
 * by the strict config schema when it is merged.
 *
 * Pure (zod only): bundled into the workflow code.
 */
import { z } from 'zod';
import { configSchema } from '../config-schema.ts';

/**
 * The patch id behind which the monitor authorizes operators and checks
 * cancels (histories recorded before it accepted any name and any id: they
 * replay as they ran, and the audit judges them by their own rules).
 */
export const OPERATOR_CHECKS_PATCH = 'operator-messages-checked';
/** Operator actions signed by an operator key once keys are configured (issue #11). */
export const SIGNED_ACTIONS_PATCH = 'signed-operator-actions';

/** An operator's, voter's or proposer's name. */
export const NAME_MAX = 64;
/** A free-text reason. */
export const REASON_MAX = 500;
/** A proposal's description. */
export const DESCRIPTION_MAX = 2_000;
/** A workflow id such as `intervention/pstr-main/12` or `proposal/3`. */
export const ID_MAX = 200;
/** A config patch, measured as JSON. */
export const PATCH_MAX_BYTES = 16 * 1024;

const name = z.string().trim().min(1, 'must not be empty').max(NAME_MAX, `at most ${NAME_MAX} characters`);
const reason = z.string().max(REASON_MAX, `at most ${REASON_MAX} characters`);
const workflowId = z.string().min(1, 'must not be empty').max(ID_MAX, `at most ${ID_MAX} characters`);

function jsonLength(v: unknown): number {
  try {
    return JSON.stringify(v)?.length ?? 0;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** A partial configuration: a JSON object of at most 16 KiB (its keys are checked when merged). */
export const patchSchema = z.record(z.string(), z.unknown()).refine((p) => jsonLength(p) <= PATCH_MAX_BYTES, {
  message: `a config patch may be at most ${PATCH_MAX_BYTES} bytes of JSON`,
});

/**
 * Who did it and why. `proposalId` is set only by a passed governance
 * proposal; the monitor checks it against the store before applying.
 */
export const operatorActionSchema = z.object({
  by: name,
  reason: reason.optional(),
  proposalId: workflowId.optional(),
  /** A signed one-line message (src/domain/operator-message.ts actionMessage) and its base58 signature: required once operator keys are configured. */
  message: z.string().min(1).max(4000, 'at most 4000 characters').optional(),
  signature: z.string().min(1).max(200, 'at most 200 characters').optional(),
});

/* ---------- StrategyMonitor ---------- */

export const pauseMessage = operatorActionSchema;
export const resumeMessage = operatorActionSchema;
export const emergencyStopMessage = operatorActionSchema;
export const updateConfigMessage = operatorActionSchema.extend({ patch: patchSchema });
export const cancelInterventionMessage = operatorActionSchema.extend({ interventionId: workflowId });
export const wakeMessage = z.object({ reason: reason.optional() });
export const interventionSettledMessage = z.object({
  interventionId: workflowId,
  status: z.enum(['executed', 'invalidated', 'expired', 'rejected', 'aborted']),
  executedAt: z.number().int().nonnegative().nullable(),
});

/* ---------- Intervention ---------- */

/**
 * An approve/reject: a bare name (paper without operator keys), or a signed
 * one-line message and its signature (the operator is then the signed one).
 */
export const operatorDecisionMessage = z.object({
  operator: name.optional(),
  reason: reason.optional(),
  message: z.string().min(1).max(2000, 'at most 2000 characters').optional(),
  signature: z.string().min(1).max(200, 'at most 200 characters').optional(),
}).refine((d) => d.operator !== undefined || d.message !== undefined, { message: 'operator: required (or a signed message naming it)', path: ['operator'] });
export const approveMessage = operatorDecisionMessage;
export const rejectMessage = operatorDecisionMessage;

/* ---------- GovernanceProposal ---------- */

/** The choice's value is judged by the workflow (castVote), so an odd one is refused with the domain's reason. */
export const voteMessage = z.object({ voter: name, choice: z.string().max(NAME_MAX, `at most ${NAME_MAX} characters`) });

export const proposalKindSchema = z.enum(['parameterAdjustment', 'treasuryStrategy', 'protocolUpgrade', 'emergencyAction']);

export const proposalChangeSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('updateConfig'), patch: patchSchema }),
  z.object({ action: z.literal('pause') }),
  z.object({ action: z.literal('resume') }),
  z.object({ action: z.literal('cancelIntervention'), interventionId: workflowId }),
]);

/** A passed proposal's change as its workflow sends it to the monitor (the Update `applyProposal`). */
export const applyProposalMessage = z.object({
  proposalId: workflowId,
  change: proposalChangeSchema,
  by: name,
  reason: reason.optional(),
});

/** The monitor judges config patches by key class from this patch on (src/domain/config-policy.ts). */
export const CONFIG_POLICY_PATCH = 'config-key-classes';

const governanceConfigSchema = configSchema.shape.governance;

export const proposalInputSchema = z.object({
  seq: z.number().int().min(1),
  treasuryId: configSchema.shape.treasuryId.unwrap(),
  kind: proposalKindSchema,
  description: z.string().min(1, 'must not be empty').max(DESCRIPTION_MAX, `at most ${DESCRIPTION_MAX} characters`),
  change: proposalChangeSchema,
  proposer: name,
  /** The governance config; absent: the worker's own (read through an activity). */
  config: z.union([z.undefined(), governanceConfigSchema]),
  /** Epoch ms; absent: the workflow's start time. */
  createdAt: z.number().int().nonnegative().optional(),
});

/* ---------- workflow inputs ---------- */

/**
 * The scheduled jobs' input: the treasury (schedules created since config versions: each run reads the current
 * version from the store), or a whole, valid configuration (older schedules; kept as the fallback).
 */
export const jobInputSchema = z.object({ treasuryId: configSchema.shape.treasuryId.unwrap().optional(), config: configSchema.optional() })
  .refine((i) => i.treasuryId !== undefined || i.config !== undefined, { message: 'needs treasuryId (or, from an older schedule, config)' })
  .refine((i) => i.treasuryId === undefined || i.config === undefined || i.treasuryId === i.config.treasuryId, {
    message: 'treasuryId and config.treasuryId differ', path: ['treasuryId'],
  });

/** The operator report's input (`client.ts report` starts it; the scheduled jobs call it). */
export const reportInputSchema = z.object({
  config: configSchema,
  days: z.number().positive().max(3650).optional(),
  maxPoints: z.number().int().min(2).max(100_000).optional(),
});

/**
 * The monitor's input. The carried-over state is checked only for its shape's
 * essentials: it is the monitor's own output (continue-as-new), and refusing a
 * field it added later would end the safety loop.
 */
export const monitorInputSchema = z.object({
  config: configSchema,
  state: z.looseObject({
    paused: z.boolean(),
    emergencyStop: z.boolean(),
    nextSeq: z.number().int().min(1),
    inFlight: z.array(z.string()),
  }).optional(),
  cyclesPerRun: z.number().int().min(1).optional(),
});

/** The intervention's input, structurally: the monitor builds it from its own cycle. */
export const interventionInputSchema = z.object({
  treasuryId: configSchema.shape.treasuryId.unwrap(),
  seq: z.number().int().min(1),
  config: configSchema,
  decidedInCycle: z.string().max(ID_MAX),
  decision: z.looseObject({ intervene: z.boolean() }),
  consensus: z.looseObject({ ok: z.boolean() }),
  vwap30: z.number(),
  startedAt: z.number().int().nonnegative(),
  configVersion: z.number().int().min(1).optional(),
});

/* ---------- parsing ---------- */

export type Parsed<T> = { ok: true; value: T } | { ok: false; why: string };

const SUMMARY_MAX = 60;

/** A bounded description of a value, safe to record and log whatever was sent. */
export function summarize(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (typeof v === 'string') {
    return v.length > SUMMARY_MAX ? `${JSON.stringify(v.slice(0, SUMMARY_MAX))}… (a string of ${v.length} characters)` : JSON.stringify(v);
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  if (Array.isArray(v)) return `an array of ${v.length} item(s)`;
  if (typeof v === 'object') {
    const keys = Object.keys(v);
    const shown = keys.slice(0, 5).map((k) => (k.length > 20 ? `${k.slice(0, 20)}…` : k)).join(', ');
    return keys.length ? `an object with key(s) ${shown}${keys.length > 5 ? `, … (${keys.length} keys)` : ''}` : 'an empty object';
  }
  return typeof v;
}

function at(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/**
 * Parses a message or input; never throws. `why` names the first offending
 * field(s) and summarizes what was there (bounded, whatever its size).
 */
export function parseMessage<S extends z.ZodType>(schema: S, raw: unknown): Parsed<z.output<S>> {
  let result;
  try {
    result = schema.safeParse(raw);
  } catch (err) {
    // A refinement that throws (it should not) is a refusal, not a handler's throw.
    return { ok: false, why: `could not be checked: ${String(err).slice(0, REASON_MAX)}` };
  }
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues;
  const shown = issues.slice(0, 3).map((issue) => {
    const field = issue.path.length ? issue.path.map(String).join('.') : '(the payload)';
    const message = issue.message.length > 200 ? `${issue.message.slice(0, 200)}…` : issue.message;
    const keys = issue.code === 'unrecognized_keys' ? ` ${issue.keys.slice(0, 5).join(', ')}` : '';
    return `${field}: ${message}${keys} (got ${summarize(at(raw, issue.path))})`;
  });
  const more = issues.length > 3 ? `; and ${issues.length - 3} more problem(s)` : '';
  return { ok: false, why: `${shown.join('; ')}${more}` };
}

/** A name for the record even when the payload is refused: the string at `key` if any, bounded; else null. */
export function claimedName(raw: unknown, key: 'by' | 'operator' | 'voter'): string | null {
  const v = at(raw, [key]);
  if (typeof v !== 'string') return null;
  return v.length > NAME_MAX ? `${v.slice(0, NAME_MAX)}…` : v;
}

export type OperatorActionMessage = z.output<typeof operatorActionSchema>;
export type UpdateConfigMessage = z.output<typeof updateConfigMessage>;
export type CancelInterventionMessage = z.output<typeof cancelInterventionMessage>;
export type InterventionSettledMessage = z.output<typeof interventionSettledMessage>;
export type OperatorDecisionMessage = z.output<typeof operatorDecisionMessage>;
export type VoteMessage = z.output<typeof voteMessage>;
export type ParsedProposalInput = z.output<typeof proposalInputSchema>;
export type ParsedProposalChange = z.output<typeof proposalChangeSchema>;

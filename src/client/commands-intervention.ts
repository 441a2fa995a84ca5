/** `interventions`, `approve` and `reject`: the operator's side of SPEC §5's timelock. */
import { approveUpdate, interventionStateQuery, interventionWorkflowId, rejectUpdate, type InterventionState } from '../workflows/contract.ts';
import { operatorDecisionMessage } from '../workflows/messages.ts';
import { configOrDefault, describeOpen, listWorkflows, query, stateOf, type Ctx } from './context.ts';
import { checked, runUpdate } from './updates.ts';
import { CliError } from './errors.ts';
import { interventionLines, utc } from './format.ts';
import { decisionPayload, planLines, planOf } from './sign.ts';

/** "3" is shorthand for intervention/<treasury>/3. */
export function interventionId(ctx: Pick<Ctx, 'treasuryId'>, id: string): string {
  return /^\d+$/.test(id) ? interventionWorkflowId(ctx.treasuryId, Number(id)) : id;
}

export async function interventions(ctx: Ctx): Promise<void> {
  const rows = await listWorkflows(ctx, 'intervention', `intervention/${ctx.treasuryId}/`);
  if (!rows.length) {
    ctx.out(`no interventions for treasury "${ctx.treasuryId}" yet`);
    return;
  }
  const decimals = (await configOrDefault(ctx)).tokens.pump.decimals;
  const docs: unknown[] = [];
  ctx.emit?.({ interventions: docs });
  for (const wf of rows) {
    const state = await stateOf(ctx, wf, interventionStateQuery);
    docs.push({ id: wf.workflowId, execution: wf.status.name, startTime: wf.startTime.getTime(), state });
    interventionLines({ id: wf.workflowId, execution: wf.status.name, startTime: wf.startTime.getTime(), state }, decimals).forEach((l) => ctx.out(l));
  }
}

/** Where a decision can still change the outcome: before the swap starts. */
const DECIDABLE: readonly InterventionState['stage'][] = ['validate', 'assess', 'size', 'timelock'];

export interface DecideOptions {
  operator: string;
  reason?: string;
  /** A Solana CLI keypair file; default: the data directory's operator-keys/<operator>.json when it exists. */
  key?: string;
}

export async function decide(ctx: Ctx, kind: 'approve' | 'reject', rawId: string, opts: DecideOptions): Promise<void> {
  const id = interventionId(ctx, rawId);
  await describeOpen(ctx, id, 'intervention', 'intervention');
  const read = () => query(ctx, id, interventionStateQuery, `no intervention ${id}`);
  const before = await read();
  if (before.status !== 'running' || !DECIDABLE.includes(before.stage)) {
    throw new CliError(`intervention ${id} is past its decision (status ${before.status}, stage ${before.stage}${before.reason ? `: ${before.reason}` : ''}); nothing to ${kind}`);
  }
  const { payload, lines } = await signedDecision(ctx, id, kind, opts);
  lines.forEach((l) => ctx.out(l));
  const arg = checked(operatorDecisionMessage, payload, kind);
  const r = await runUpdate(ctx, id, kind === 'approve' ? approveUpdate : rejectUpdate, arg, `${kind} on ${id}`, `no intervention ${id}`);
  if (!r.accepted) throw new CliError(`${kind} by ${opts.operator} refused by ${id}: ${r.why}`);
  const after = await read();
  ctx.emit?.({ id, kind, result: r, state: after });
  decisionLines(id, kind, opts.operator, after).forEach((l) => ctx.out(l));
}

/** The payload for a decision on the intervention's current plan, and the plan in words. */
async function signedDecision(ctx: Ctx, id: string, kind: 'approve' | 'reject', opts: DecideOptions) {
  const config = await configOrDefault(ctx);
  const view = await planOf(ctx, id).catch(() => null);
  // An intervention from before signed plans has no plan query: a bare name, as then.
  if (!view) return { payload: { operator: opts.operator, ...(opts.reason ? { reason: opts.reason } : {}) }, lines: [] };
  const payload = decisionPayload(view, kind, opts, config.intervention.operatorKeys ?? {});
  const decimals = { pump: config.tokens.pump.decimals, pstr: config.tokens.pstr.decimals };
  return { payload, lines: view.plan ? planLines(view.plan, decimals) : [] };
}

/**
 * `sign-plan`: the exact one-line JSON of a signed decision, to paste into the
 * Temporal Web UI's signal box (signal `approve` or `reject`) or
 * `temporal workflow signal --input`; nothing is sent.
 */
export async function signPlan(ctx: Ctx, rawId: string, opts: DecideOptions & { reject?: boolean }): Promise<void> {
  const id = interventionId(ctx, rawId);
  const kind = opts.reject ? 'reject' : 'approve';
  const view = await planOf(ctx, id);
  if (!view.plan) throw new CliError(`no plan yet: ${id} is at stage ${view.stage}; sign once it has sized and published its plan`);
  const config = await configOrDefault(ctx);
  const payload = decisionPayload({ ...view, signing: true }, kind, opts, config.intervention.operatorKeys ?? {});
  ctx.emit?.(payload);
  ctx.out(JSON.stringify(payload));
}

export function decisionLines(id: string, kind: 'approve' | 'reject', operator: string, s: InterventionState): string[] {
  if (kind === 'reject') return [`${id}: rejected by ${operator}; it ends without a swap`];
  const names = s.approvals.approvals.map((a) => `${a.operator} (${utc(a.at)})`).join(', ');
  const lines = [`${id}: approved by ${operator}; approvals so far: ${names}`];
  const v = s.timelock.verdict;
  if (!s.timelock.required && s.stage !== 'timelock') lines.push(`  stage ${s.stage}: the approval counts if the size turns out to need the timelock`);
  else if (v?.kind === 'waiting') lines.push(`  still waiting until ${utc(v.until)}: ${v.why}`);
  else lines.push(`  the timelock is satisfied: the intervention proceeds to the final trigger check and the swap (stage ${s.stage})`);
  return lines;
}

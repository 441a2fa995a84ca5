/**
 * What the console shows, read from Temporal (the monitor's and the
 * interventions' queries) and the store: one module, shared by the JSON API
 * and the server-sent events. No decision is taken here: the workflows
 * decide, this reads.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { Config } from '../config-schema.ts';
import { planMessage, messageBytes, type InterventionPlan, type PlanAction } from '../domain/operator-message.ts';
import type { TreasuryStore } from '../db/store.ts';
import type { WatchdogReading } from '../client/liveness.ts';
import type { OperatorReport } from '../workflows/report.ts';
import {
  configQuery, healthQuery, interventionStateQuery, monitorWorkflowId, planQuery, statusQuery, tallyQuery, TASK_QUEUE,
  type InterventionState, type MonitorHealth, type MonitorStatus, type PlanView, type ProposalTally,
} from '../workflows/contract.ts';

export interface ConsoleSources {
  client: Client;
  /** The treasuries this fleet runs (the first is the default). */
  treasuries: readonly string[];
  store?: TreasuryStore | undefined;
  /** The watchdog Schedule's last verdict (src/client/liveness.ts); absent: not shown. */
  watchdog?: ((treasuryId: string) => Promise<WatchdogReading>) | undefined;
}

export interface Band { label: string; price: number }

/** Status with the trigger band and the drawdown tiers as price levels under the 30-day VWAP. */
export async function statusView(src: ConsoleSources, treasuryId: string) {
  const monitor = src.client.workflow.getHandle(monitorWorkflowId(treasuryId));
  const [status, health, config] = await Promise.all([monitor.query(statusQuery), monitor.query(healthQuery), monitor.query(configQuery)]);
  const keys = config.intervention.operatorKeys ?? {};
  return {
    treasuryId, status, health, bands: bandsOf(status, config), consensus: await readingsOf(src, treasuryId),
    operators: config.intervention.operators.map((name) => ({ name, publicKey: keys[name] ?? null })),
    decimals: { pump: config.tokens.pump.decimals, pstr: config.tokens.pstr.decimals },
    watchdog: src.watchdog ? await src.watchdog(treasuryId).catch((err: unknown) => ({ kind: 'none' as const, why: String(err) })) : null,
  };
}

/** Runs the operator report workflow now with the monitor's configuration, as `pstr report` does. */
export async function reportView(src: ConsoleSources, treasuryId: string, now: number): Promise<OperatorReport> {
  const config = await src.client.workflow.getHandle(monitorWorkflowId(treasuryId)).query(configQuery);
  const workflowId = `report/${treasuryId}/${new Date(now).toISOString()}/console`;
  return src.client.workflow.execute('operatorReport', { taskQueue: TASK_QUEUE, workflowId, args: [{ config }], workflowExecutionTimeout: '2 minutes' }) as Promise<OperatorReport>;
}

export function bandsOf(status: MonitorStatus, config: Config): Band[] {
  const vwap = status.lastCycle?.vwap30;
  if (vwap === null || vwap === undefined || !Number.isFinite(vwap)) return [];
  return [
    { label: 'VWAP 30d', price: vwap },
    { label: `trigger (${Math.round((1 - config.strategy.triggerThreshold) * 100)} % under)`, price: vwap * config.strategy.triggerThreshold },
    // Numbered as src/domain/intervention.ts numbers them: tier 1 is the smallest drawdown.
    ...[...config.strategy.tiers].sort((a, b) => a.drawdown - b.drawdown)
      .map((t, i) => ({ label: `tier ${i + 1} (${Math.round(t.drawdown * 100)} % drawdown)`, price: vwap * (1 - t.drawdown) })),
  ];
}

/** The latest consensus the store kept: each source's reading, which were excluded and why. */
async function readingsOf(src: ConsoleSources, treasuryId: string): Promise<unknown> {
  const latest = src.store ? await src.store.latestPriceSample(treasuryId).catch(() => undefined) : undefined;
  return latest?.consensus ?? null;
}

/** The price history for the chart: the store's samples over `days`, thinned to at most `points`. */
export async function historyView(src: ConsoleSources, treasuryId: string, now: number, days = 30, points = 400) {
  const rows = src.store ? await src.store.priceSamples(treasuryId, now - days * 86_400_000, now) : [];
  const step = Math.max(1, Math.ceil(rows.length / points));
  const picked = rows.filter((_r, i) => i % step === 0 || i === rows.length - 1);
  return { treasuryId, points: picked.map((r) => ({ at: r.timestamp, price: r.pstrPrice })) };
}

async function listed(src: ConsoleSources, type: string, prefix: string): Promise<WorkflowExecutionInfo[]> {
  const rows: WorkflowExecutionInfo[] = [];
  for await (const wf of src.client.workflow.list({ query: `WorkflowType = '${type}'` })) if (wf.workflowId.startsWith(prefix)) rows.push(wf);
  return rows.sort((a, b) => Number(/(\d+)$/.exec(a.workflowId)?.[1] ?? 0) - Number(/(\d+)$/.exec(b.workflowId)?.[1] ?? 0));
}

export async function interventionState(src: ConsoleSources, id: string): Promise<InterventionState> {
  const h = src.client.workflow.getHandle(id);
  return h.query(interventionStateQuery).catch(() => h.result() as Promise<InterventionState>);
}

export async function interventionsView(src: ConsoleSources, treasuryId: string) {
  const rows = await listed(src, 'intervention', `intervention/${treasuryId}/`);
  const items = await Promise.all(rows.map(async (wf) => ({
    id: wf.workflowId, execution: wf.status.name, state: wf.status.name === 'RUNNING' || wf.status.name === 'COMPLETED' ? await interventionState(src, wf.workflowId).catch(() => null) : null,
  })));
  return { treasuryId, interventions: items };
}

/** The plan, and for an operator the exact text and envelope bytes to sign (for a wallet's signMessage). */
export async function planView(src: ConsoleSources, id: string, ask: { operator?: string | undefined; action?: PlanAction; publicKey?: string | undefined; reason?: string | undefined }) {
  const view: PlanView = await src.client.workflow.getHandle(id).query(planQuery);
  const sign = view.plan && ask.operator ? toSign(view.plan, ask.action ?? 'approve', ask.operator, ask.publicKey, ask.reason) : null;
  return { id, ...view, ...(sign ? { toSign: sign } : {}) };
}

function toSign(plan: InterventionPlan, action: PlanAction, operator: string, publicKey: string | undefined, reason: string | undefined) {
  const message = planMessage(plan, action, operator, reason);
  return {
    message,
    ...(publicKey ? { envelopeBase64: Buffer.from(messageBytes(message, publicKey)).toString('base64') } : {}),
    cli: `npx pstr sign-plan ${plan.interventionId} --operator ${operator}${action === 'reject' ? ' --reject' : ''} --key <${operator}.json>`,
  };
}

export async function proposalsView(src: ConsoleSources, treasuryId: string) {
  const rows = await listed(src, 'governanceProposal', 'proposal/');
  const tallies = await Promise.all(rows.map(async (wf) => {
    const h = src.client.workflow.getHandle(wf.workflowId);
    const t: ProposalTally | null = await h.query(tallyQuery).catch(() => null);
    return { id: wf.workflowId, execution: wf.status.name, tally: t };
  }));
  // Proposals are the fleet's (one governance per deployment): every treasury's console lists them.
  return { treasuryId, proposals: tallies };
}

export async function alertsView(src: ConsoleSources, treasuryId: string) {
  const rows = src.store ? await src.store.alerts(treasuryId) : [];
  return { treasuryId, alerts: rows.slice(-100).reverse().map((a) => ({ at: a.at, level: a.level, kind: a.kind, message: a.message, delivered: a.delivered })) };
}

export type Health = MonitorHealth;

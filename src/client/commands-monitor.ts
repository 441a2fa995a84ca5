/** `status`, `pause`, `resume`, `emergency-stop` and `report`: the monitor and the scheduled jobs. */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import type { VarResult } from '../domain/risk.ts';
import {
  TASK_QUEUE, cancelInterventionUpdate, emergencyStopUpdate, healthQuery, monitorWorkflowId, pauseUpdate, resumeUpdate, statusQuery,
  type MonitorHealth, type MonitorStatus, type OperatorEvent, type OperatorResult,
} from '../workflows/contract.ts';
import { cancelInterventionMessage, operatorActionSchema } from '../workflows/messages.ts';
import { lastWatchdogVerdict, livenessLines } from './liveness.ts';
import { call } from './connect.ts';
import { configOrDefault, monitorConfig, noMonitor, query, type Ctx } from './context.ts';
import { checked, runUpdate } from './updates.ts';
import { actionPayload } from './sign-action.ts';
import { renderOperatorReport } from '../report/html.ts';
import type { OperatorReport } from '../workflows/report.ts';
import { CliError } from './errors.ts';
import { DASH, num, operatorEvent, pct, statusLine, statusReport, usd, utc } from './format.ts';

export async function status(ctx: Ctx, opts: { json?: boolean }): Promise<void> {
  const id = monitorWorkflowId(ctx.treasuryId);
  const watchdog = await lastWatchdogVerdict(ctx);
  let s: MonitorStatus;
  let h: MonitorHealth;
  try {
    s = await query(ctx, id, statusQuery, noMonitor(ctx));
    h = await query(ctx, id, healthQuery, noMonitor(ctx));
  } catch (err) {
    // The monitor does not answer: what the watchdog last saw is the operator's best clue.
    if (!opts.json) livenessLines(null, watchdog, ctx.now()).forEach((l) => ctx.out(l));
    throw err;
  }
  const doc = { status: s, health: h, watchdog: watchdog.kind === 'verdict' ? watchdog.verdict : null };
  ctx.emit?.(doc);
  if (opts.json && !ctx.emit) ctx.out(JSON.stringify(doc, null, 2));
  else if (!opts.json) [...statusReport(s, h, ctx.now()), ...livenessLines(s, watchdog, ctx.now())].forEach((l) => ctx.out(l));
}

export type MonitorAction = 'pause' | 'resume' | 'emergencyStop';

const UPDATES = { pause: pauseUpdate, resume: resumeUpdate, emergencyStop: emergencyStopUpdate } as const;

/** The events in `after` that came after the last one of `before` (the list keeps the latest 20). */
export function newEvents(before: readonly OperatorEvent[], after: readonly OperatorEvent[]): OperatorEvent[] {
  const last = before.at(-1);
  if (!last) return [...after];
  const key = JSON.stringify(last);
  for (let i = after.length - 1; i >= 0; i--) if (JSON.stringify(after[i]) === key) return after.slice(i + 1);
  return [...after];
}

/**
 * Sends the action as an Update and reports what the monitor did: accepted, or refused with its reason (then the
 * exit code is 1). A malformed payload never leaves the tool; a refused action is recorded by the monitor.
 */
export async function operate(ctx: Ctx, action: MonitorAction, opts: { by: string; reason?: string; key?: string }): Promise<void> {
  const id = monitorWorkflowId(ctx.treasuryId);
  const arg = checked(operatorActionSchema, actionPayload(ctx, await configOrDefault(ctx), action, opts), action);
  const r = await runUpdate(ctx, id, UPDATES[action], arg, `${action} on ${id}`, noMonitor(ctx));
  reportResult(ctx, r, arg, await query(ctx, id, statusQuery, noMonitor(ctx)));
}

/** `cancel-intervention`: asks the monitor to cancel an intervention of its treasury that is in flight. */
export async function cancelIntervention(ctx: Ctx, interventionId: string, opts: { by: string; reason?: string; key?: string }): Promise<void> {
  const id = monitorWorkflowId(ctx.treasuryId);
  const arg = checked(cancelInterventionMessage, actionPayload(ctx, await configOrDefault(ctx), 'cancelIntervention', { ...opts, interventionId }), 'cancelIntervention');
  const r = await runUpdate(ctx, id, cancelInterventionUpdate, arg, `cancelIntervention on ${id}`, noMonitor(ctx));
  reportResult(ctx, r, arg, await query(ctx, id, statusQuery, noMonitor(ctx)));
}

function reportResult(ctx: Ctx, r: OperatorResult, arg: { by: string; reason?: string | undefined }, after: MonitorStatus): void {
  ctx.emit?.({ result: r, status: after });
  ctx.out(operatorEvent({ at: ctx.now(), action: r.action, by: arg.by, reason: arg.reason ?? null, accepted: r.accepted, detail: r.detail }));
  ctx.out(statusLine(after));
  if (!r.accepted) throw new CliError(`${r.action} refused: ${r.detail}`);
}

/**
 * Runs the operator report (workflow `operatorReport`) once, now, with the monitor's configuration, prints
 * its figures and, with `html`, writes the page with the charts to that file (atomically: a half-written
 * file never replaces a good one).
 */
export async function report(ctx: Ctx, opts: { html?: string; days?: number } = {}): Promise<void> {
  const config = await monitorConfig(ctx);
  const workflowId = `report/${ctx.treasuryId}/${new Date(ctx.now()).toISOString()}/operator`;
  // The server ends the report after two minutes when no worker takes it, so the tool never waits forever.
  const result = await call(ctx, workflowId, () => ctx.client.workflow.execute('operatorReport', {
    taskQueue: TASK_QUEUE, workflowId, args: [{ config, ...(opts.days === undefined ? {} : { days: opts.days }) }], workflowExecutionTimeout: '2 minutes',
  }), 130_000).catch((err: unknown) => {
    if (err instanceof WorkflowFailedError) throw new CliError(`${workflowId} did not complete: ${err.cause?.message ?? err.message} (is a worker running, \`npm start\`?)`);
    throw err;
  }) as OperatorReport;
  ctx.emit?.({ workflowId, report: result });
  operatorReportLines(workflowId, result).forEach((l) => ctx.out(l));
  if (opts.html) {
    writeAtomically(opts.html, renderOperatorReport(result, { title: `PSTR treasury ${ctx.treasuryId} — operator report`, generatedAt: new Date(ctx.now()).toISOString() }));
    ctx.out(`HTML report written to ${opts.html}`);
  }
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new CliError(`cannot write ${file}: ${(err as Error).message}`);
  }
}

/** The operator report's figures as lines of text. */
export function operatorReportLines(workflowId: string, r: OperatorReport): string[] {
  const f = r.figures;
  const iv = f.interventions;
  const statuses = Object.entries(iv.byStatus).map(([s, n]) => `${n} ${s}`).join(', ');
  const v = f.risk.var;
  const trend = (t: { end: number; start: number; min: number; mean: number } | null) => t === null ? DASH : `${num(t.end, 2)} (from ${num(t.start, 2)}, min ${num(t.min, 2)}, mean ${num(t.mean, 2)})`;
  const a = f.accumulation;
  const skipped = Object.entries(a.period.skipped).map(([why, n]) => `${n} ${why}`).join(', ');
  return [
    `Operator report (${workflowId})`,
    `  ${utc(r.from)} → ${utc(r.to)} · ${f.period.validCycles} of ${f.period.cycles} cycles with a valid price`,
    `  interventions ${iv.count}${statuses ? ` (${statuses})` : ''} · success rate ${pct(iv.successRate)}${iv.awaitingRoi ? ` · ${iv.awaitingRoi} awaiting 7-day ROI` : ''}`,
    `  treasury value ${usd(f.treasury.valueUsd)} · 30-day growth ${pct(f.performance.growth30d)} · Sharpe ${num(f.performance.sharpe, 3)} · max drawdown ${pct(f.performance.maxDrawdown)}`,
    v.kind === 'ok'
      ? `  VaR95 ${usd(v.var95)} · ES95 ${usd(v.es95)} (one day, over ${v.returns} daily returns)`
      : `  VaR95/ES95: insufficient history (${v.returns} of ${v.needed} daily returns)`,
    `  PSTR 30-day volatility ${f.risk.volatility === null ? 'insufficient history' : `${num(f.risk.volatility, 3)} annualized`} · market risk ${f.risk.marketRisk}`,
    `  reserve ratio ${trend(f.treasury.reserveRatio)} · health ${trend(f.treasury.health)}${f.treasury.healthLevel ? ` ${f.treasury.healthLevel}` : ''}`,
    `  oracle deviation: ${f.oracle.length ? f.oracle.map((o) => `${o.source} mean ${pct(o.mean, 3)} max ${pct(o.max, 3)} (${o.readings})`).join(' · ') : DASH}`,
    `  accumulation today ${usd(a.today.usd)} of ${usd(a.dailyBudgetUsd)} (${pct(a.today.shareOfBudget)}) · period ${usd(a.period.usd)} of ${usd(a.period.budgetUsd)} (${pct(a.period.shareOfBudget)}), ${a.period.buys} buys over ${a.period.days} day(s)${skipped ? `; skipped: ${skipped}` : ''}`,
    ...(f.liquidity.length
      ? f.liquidity.map((p) => `  ${p.pool}: in range ${pct(p.inRangeShare)} of ${p.samples} samples · impermanent loss ${pct(p.impermanentLoss)} · ${p.rebalances} rebalance(s)`)
      : ['  liquidity: no positions']),
  ];
}

interface JobRun {
  workflowId: string;
  result: unknown;
}

export function reportLines(perf: JobRun, risk: JobRun): string[] {
  const p = perf.result as { interventions: number; successRate: number | null; sharpe: number | null; maxDrawdown: number; growth30d: number | null };
  const r = risk.result as { var: VarResult; volatility: number | null; marketRisk: string; days: number };
  const v = r.var;
  return [
    `Performance (${perf.workflowId})`,
    `  interventions ${p.interventions} · success rate ${pct(p.successRate)} · Sharpe ${num(p.sharpe, 3)} · max drawdown ${pct(p.maxDrawdown)} · 30-day growth ${pct(p.growth30d)}`,
    `Risk (${risk.workflowId})`,
    v.kind === 'ok'
      ? `  VaR95 ${usd(v.var95)} · ES95 ${usd(v.es95)} (one day, over ${v.returns} daily returns)`
      : `  VaR95/ES95: insufficient history (${v.returns} of ${v.needed} daily returns)`,
    `  PSTR 30-day volatility ${r.volatility === null ? 'insufficient history' : `${num(r.volatility, 3)} annualized`} · market risk ${r.marketRisk} · ${r.days} day(s) of closes`,
  ];
}

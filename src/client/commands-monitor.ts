/** `status`, `pause`, `resume`, `emergency-stop` and `report`: the monitor and the scheduled jobs. */
import { WorkflowFailedError } from '@temporalio/client';
import type { VarResult } from '../domain/risk.ts';
import {
  TASK_QUEUE, emergencyStopSignal, healthQuery, monitorWorkflowId, pauseSignal, resumeSignal, statusQuery,
  type MonitorStatus, type OperatorEvent,
} from '../workflows/contract.ts';
import { call } from './connect.ts';
import { monitorConfig, noMonitor, query, waitFor, type Ctx } from './context.ts';
import { CliError } from './errors.ts';
import { num, operatorEvent, pct, statusLine, statusReport, usd } from './format.ts';

export async function status(ctx: Ctx, opts: { json?: boolean }): Promise<void> {
  const id = monitorWorkflowId(ctx.treasuryId);
  const s = await query(ctx, id, statusQuery, noMonitor(ctx));
  const h = await query(ctx, id, healthQuery, noMonitor(ctx));
  if (opts.json) ctx.out(JSON.stringify({ status: s, health: h }, null, 2));
  else statusReport(s, h, ctx.now()).forEach((l) => ctx.out(l));
}

export type MonitorAction = 'pause' | 'resume' | 'emergencyStop';

const SIGNALS = { pause: pauseSignal, resume: resumeSignal, emergencyStop: emergencyStopSignal } as const;

/** The events in `after` that came after the last one of `before` (the list keeps the latest 20). */
export function newEvents(before: readonly OperatorEvent[], after: readonly OperatorEvent[]): OperatorEvent[] {
  const last = before.at(-1);
  if (!last) return [...after];
  const key = JSON.stringify(last);
  for (let i = after.length - 1; i >= 0; i--) if (JSON.stringify(after[i]) === key) return after.slice(i + 1);
  return [...after];
}

/** Signals the monitor, waits until it has recorded the action, and reports whether it was accepted. */
export async function operate(ctx: Ctx, action: MonitorAction, opts: { by: string; reason?: string }): Promise<void> {
  const id = monitorWorkflowId(ctx.treasuryId);
  const before = await query(ctx, id, statusQuery, noMonitor(ctx));
  await call(ctx, `signal ${action} to ${id}`, () => ctx.client.workflow.getHandle(id).signal(SIGNALS[action], { by: opts.by, ...(opts.reason ? { reason: opts.reason } : {}) }));
  const mine = (s: MonitorStatus) => newEvents(before.recentOperatorEvents, s.recentOperatorEvents).find((e) => e.action === action && e.by === opts.by);
  const { value: after } = await waitFor(() => query(ctx, id, statusQuery, noMonitor(ctx)), (s) => mine(s) !== undefined);
  const event = mine(after);
  if (!event) throw new CliError(`${action} was sent to ${id} but the monitor has not recorded it yet: is a worker running (\`npm start\`)?`);
  ctx.out(operatorEvent(event));
  ctx.out(statusLine(after));
  if (!event.accepted) throw new CliError(`${action} refused: ${event.detail}`);
}

/** Runs the performance report and the risk assessment once, now, with the monitor's configuration. */
export async function report(ctx: Ctx): Promise<void> {
  const config = await monitorConfig(ctx);
  const stamp = new Date(ctx.now()).toISOString();
  const run = (job: 'performanceReportJob' | 'riskAssessmentJob', name: string) => {
    const workflowId = `report/${ctx.treasuryId}/${stamp}/${name}`;
    // The server ends the job after a minute when no worker takes it, so the tool never waits forever.
    return call(ctx, workflowId, () => ctx.client.workflow.execute(job, { taskQueue: TASK_QUEUE, workflowId, args: [{ config }], workflowExecutionTimeout: '1 minute' }), 70_000)
      .then((result) => ({ workflowId, result: result as unknown }))
      .catch((err: unknown) => {
        if (err instanceof WorkflowFailedError) throw new CliError(`${workflowId} did not complete: ${err.cause?.message ?? err.message} (is a worker running, \`npm start\`?)`);
        throw err;
      });
  };
  const [perf, risk] = await Promise.all([run('performanceReportJob', 'performance'), run('riskAssessmentJob', 'risk')]);
  reportLines(perf, risk).forEach((l) => ctx.out(l));
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

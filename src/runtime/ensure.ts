/** Makes sure the configured treasury's monitor and its four schedules exist; safe to run at every start. */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../config.ts';
import { TASK_QUEUE, monitorWorkflowId, scheduleId, type ScheduledJob } from '../workflows/contract.ts';

/** Every job with its cadence (architecture doc: hourly, daily, 6-hourly, 2-hourly) and its workflow type. */
export const SCHEDULES: readonly { job: ScheduledJob; every: string; workflowType: string }[] = [
  { job: 'accumulation', every: '1h', workflowType: 'accumulationJob' },
  { job: 'liquidity-rebalance', every: '24h', workflowType: 'liquidityRebalanceJob' },
  { job: 'performance-report', every: '6h', workflowType: 'performanceReportJob' },
  { job: 'risk-assessment', every: '2h', workflowType: 'riskAssessmentJob' },
  // Closes rows of interventions that ended without saying so, and checks the books against the ledger or chain.
  { job: 'reconcile', every: '15m', workflowType: 'reconciler' },
];

export async function ensureMonitor(client: Client, config: Config, taskQueue = TASK_QUEUE): Promise<'started' | 'running'> {
  try {
    await client.workflow.start('strategyMonitor', { taskQueue, workflowId: monitorWorkflowId(config.treasuryId), args: [{ config }] });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'running';
    throw err;
  }
}

export async function ensureSchedules(client: Client, config: Config, opts: { taskQueue?: string; everyOverride?: string } = {}): Promise<{ created: string[]; existing: string[] }> {
  const created: string[] = [];
  const existing: string[] = [];
  for (const s of SCHEDULES) {
    const id = scheduleId(config.treasuryId, s.job);
    try {
      await client.schedule.create({
        scheduleId: id,
        spec: { intervals: [{ every: (opts.everyOverride ?? s.every) as '1h' }] },
        action: { type: 'startWorkflow', workflowType: s.workflowType, taskQueue: opts.taskQueue ?? TASK_QUEUE, args: [{ config }], workflowId: `${id}/run` },
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
        memo: { treasuryId: config.treasuryId },
      });
      created.push(id);
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) existing.push(id);
      else throw err;
    }
  }
  return { created, existing };
}

/** Makes sure the configured treasury's monitor and its schedules (four jobs and the watchdog) exist; safe to run at every start. */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../config.ts';
import { TASK_QUEUE, configQuery, monitorWorkflowId, scheduleId, type ScheduledJob } from '../workflows/contract.ts';
import type { JobInput } from '../workflows/job-config.ts';

/** Every job with its cadence (architecture doc: hourly, daily, 6-hourly, 2-hourly) and its workflow type. */
export const SCHEDULES: readonly { job: ScheduledJob; every: string; workflowType: string }[] = [
  { job: 'accumulation', every: '1h', workflowType: 'accumulationJob' },
  { job: 'liquidity-rebalance', every: '24h', workflowType: 'liquidityRebalanceJob' },
  { job: 'performance-report', every: '6h', workflowType: 'performanceReportJob' },
  { job: 'risk-assessment', every: '2h', workflowType: 'riskAssessmentJob' },
  // Liveness (issue 9): a dead or stalled monitor is alerted within a minute of its third missed interval.
  { job: 'watchdog', every: '1m', workflowType: 'monitorWatchdog' },
  // Closes rows of interventions that ended without saying so, and checks the books against the ledger or chain.
  { job: 'reconcile', every: '15m', workflowType: 'reconciler' },
];

/**
 * What `ensureMonitor` found. A monitor already running keeps its own
 * configuration: the file's differing top-level keys are reported, never
 * applied (POLICY).
 */
export interface EnsureMonitorResult {
  outcome: 'started' | 'running';
  /** Top-level config keys whose value in the running monitor differs from the file's; null when it could not be read. */
  configDrift: string[] | null;
  /** The policy, said where the drift is printed; null when there is nothing to say. */
  note: string | null;
}

export const CONFIG_DRIFT_POLICY = 'the running monitor keeps its configuration; the file applies only to a monitor started fresh. '
  + 'Change a running one with an updateConfig (operators) or a governance parameter-adjustment proposal';

/** Top-level keys whose values differ (compared as JSON; Config is plain data). */
export function configDrift(running: Config, file: Config): string[] {
  const keys = [...new Set([...Object.keys(running), ...Object.keys(file)])].sort();
  const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : x));
  return keys.filter((k) => json((running as unknown as Record<string, unknown>)[k]) !== json((file as unknown as Record<string, unknown>)[k]));
}

/**
 * Starts the treasury's monitor unless it runs. Starting one fresh is safe at
 * any time (after a termination, a reset, a lost namespace): it bootstraps
 * its pause, latch, sequence and trailing starts from the store.
 */
export async function ensureMonitorDetailed(client: Client, config: Config, taskQueue = TASK_QUEUE): Promise<EnsureMonitorResult> {
  const workflowId = monitorWorkflowId(config.treasuryId);
  try {
    await client.workflow.start('strategyMonitor', { taskQueue, workflowId, args: [{ config }] });
    return { outcome: 'started', configDrift: [], note: null };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  try {
    const running = await client.workflow.getHandle(workflowId).query(configQuery);
    const drift = configDrift(running, config);
    return { outcome: 'running', configDrift: drift, note: drift.length ? `config differs from the file in ${drift.join(', ')}: ${CONFIG_DRIFT_POLICY}` : null };
  } catch (err) {
    return { outcome: 'running', configDrift: null, note: `could not read the running config (${err instanceof Error ? err.message : String(err)}): ${CONFIG_DRIFT_POLICY}` };
  }
}

export async function ensureMonitor(client: Client, config: Config, taskQueue = TASK_QUEUE): Promise<'started' | 'running'> {
  return (await ensureMonitorDetailed(client, config, taskQueue)).outcome;
}

/** What a schedule starts its job with (issue #10 item 6). Schedules created before carry `{ config }`, which their runs keep as a fallback. */
export const scheduleInput = (config: Config): JobInput => ({ treasuryId: config.treasuryId });

export async function ensureSchedules(client: Client, config: Config, opts: { taskQueue?: string; everyOverride?: string } = {}): Promise<{ created: string[]; existing: string[] }> {
  const created: string[] = [];
  const existing: string[] = [];
  for (const s of SCHEDULES) {
    const id = scheduleId(config.treasuryId, s.job);
    try {
      await client.schedule.create({
        scheduleId: id,
        spec: { intervals: [{ every: (opts.everyOverride ?? s.every) as '1h' }] },
        // Only the treasury: each run reads the current configuration version from the store (no frozen copy, no secrets in the schedule).
        action: { type: 'startWorkflow', workflowType: s.workflowType, taskQueue: opts.taskQueue ?? TASK_QUEUE, args: [scheduleInput(config)], workflowId: `${id}/run` },
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

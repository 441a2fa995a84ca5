/** What activities are built from: the ports, the store, the config, a logger. Injected by worker.ts. */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { TreasuryStore } from '../db/store.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { LiquidityManager, MarketData, OracleSource, Treasury } from '../ports.ts';
import type { ApplyProposalRequest, ApplyProposalResult, MonitorStatus } from '../workflows/contract.ts';

export interface ActivityDeps {
  config: Config;
  store: TreasuryStore;
  sources: readonly OracleSource[];
  market: MarketData;
  treasury: Treasury;
  liquidity: LiquidityManager | null;
  /** Reads the live monitor's status (paused, emergency stop); null when no monitor runs. */
  monitorStatus(treasuryId: string): Promise<MonitorStatus | null>;
  /** Whether a workflow exists and how it stands (Temporal's describe); null when the server has no such workflow. */
  workflowState(workflowId: string): Promise<WorkflowState | null>;
  /**
   * Sends a passed proposal's change to the treasury's monitor as the Update `applyProposal` and returns its answer
   * (a validator's refusal comes back as `accepted: false`); throws when the monitor cannot be reached (retried).
   * Absent: this worker's activities have no Temporal client, and no proposal can be applied.
   */
  applyProposalToMonitor?(treasuryId: string, request: ApplyProposalRequest): Promise<ApplyProposalResult>;
  /** What a closed workflow returned; null when it did not complete (failed, terminated, …) or is unknown. Absent: cannot tell. */
  workflowResult?(workflowId: string): Promise<unknown>;
  /**
   * Tells the treasury's alert outbox (src/workflows/alerts.ts) that stored alerts wait, starting it when it does not run.
   * Absent: no Temporal client; stored alerts wait for an outbox that runs.
   */
  wakeAlertOutbox?(treasuryId: string): Promise<void>;
  logger: Logger;
  /** Prometheus metrics of this worker (absent in tests that do not scrape). */
  metrics?: Metrics;
  /** Per-source read timeout, so one slow source never delays a cycle past it. */
  sourceTimeoutMs?: number;
  /** How often awaitProposal re-reads a multisig proposal (default 30 s); tests make it short. */
  proposalPollMs?: number;
}

/** A workflow as Temporal describes it: its status name (RUNNING, COMPLETED, FAILED, TERMINATED, …) and when it closed. */
export interface WorkflowState {
  status: string;
  running: boolean;
  closedAt: number | null;
}

/**
 * The time an activity acts at: the server's clock when the attempt was
 * scheduled. It is wall time on a real cluster and the skipped time on the
 * time-skipping test server, so paper sources and workflow timers agree.
 */
export function serverClock(): number {
  const pinned = pinnedTime.getStore();
  if (pinned !== undefined) return pinned;
  try {
    return Context.current().info.currentAttemptScheduledTimestampMs;
  } catch {
    return Date.now();
  }
}

/** The time a workflow passed to its activity: what serverClock answers inside `atWorkflowTime`. */
const pinnedTime = new AsyncLocalStorage<number>();

/**
 * Runs `work` at the workflow's time. A local activity's scheduled time is the
 * worker's wall clock, not the server's, so the cycle's local activities are
 * handed the workflow's `Date.now()` (the server's time, skipped or not) and
 * everything they read (paper sources, the observation's `at`) sees it.
 */
export function atWorkflowTime<T>(at: number | undefined, work: () => Promise<T>): Promise<T> {
  return at === undefined ? work() : pinnedTime.run(at, work);
}

/**
 * After an activity stored alerts: wakes the outbox that delivers them. A wake
 * that fails is logged, not thrown: the alerts are stored, and the outbox's
 * hourly sweep (or the next wake) delivers them.
 */
export async function wakeAlertOutbox(deps: ActivityDeps, treasuryId: string, stored: number): Promise<void> {
  if (stored === 0 || !deps.wakeAlertOutbox) return;
  try {
    await deps.wakeAlertOutbox(treasuryId);
  } catch (err) {
    deps.logger.error({ treasuryId, err: err instanceof Error ? err.message : String(err) }, 'alert outbox not woken; its hourly sweep delivers the stored alerts');
  }
}

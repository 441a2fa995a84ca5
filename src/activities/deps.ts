/** What activities are built from: the ports, the store, the config, a logger. Injected by worker.ts. */
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
  logger: Logger;
  /** Prometheus metrics of this worker (absent in tests that do not scrape). */
  metrics?: Metrics;
  /** Per-source read timeout, so one slow source never delays a cycle past it. */
  sourceTimeoutMs?: number;
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
  try {
    return Context.current().info.currentAttemptScheduledTimestampMs;
  } catch {
    return Date.now();
  }
}

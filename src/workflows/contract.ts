/**
 * The names and shapes operators and other workflows use to talk to ours:
 * workflow ids, signals, queries and updates. Shared by workflows, the worker,
 * client.ts and tests, so a name is written once.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Config, ProposalKind } from '../config-schema.ts';
import type { ApprovalState, TimelockVerdict } from '../domain/approval.ts';
import type { ConsensusResult, OracleReading } from '../domain/consensus.ts';
import type { ControlRecord } from '../domain/control.ts';
import type { Tally } from '../domain/governance.ts';
import type { HealthLevel } from '../domain/health.ts';
import type { InterventionDecision } from '../domain/intervention.ts';
import type { InterventionPlan } from '../domain/operator-message.ts';

export const TASK_QUEUE = 'pstr-treasury';

export const monitorWorkflowId = (treasuryId: string) => `monitor/${treasuryId}`;
export const interventionWorkflowId = (treasuryId: string, seq: number) => `intervention/${treasuryId}/${seq}`;
export const proposalWorkflowId = (seq: number) => `proposal/${seq}`;
export const scheduleId = (treasuryId: string, job: ScheduledJob) => `${job}/${treasuryId}`;

export type ScheduledJob = 'accumulation' | 'liquidity-rebalance' | 'performance-report' | 'risk-assessment' | 'watchdog' | 'reconcile';

/** Who did it and why: every operator action names its operator. */
export interface OperatorAction {
  by?: string;
  reason?: string;
  /** Set only by a passed governance proposal (`proposal/<n>`): the monitor checks it against the store before applying. */
  proposalId?: string;
}

/**
 * What an operator Update did: accepted, or refused with the reason (a
 * validator refuses most before anything happens; the caller gets the reason
 * as the Update's failure). The monitor's flags after it, for the caller's line.
 */
export interface OperatorResult {
  action: string;
  accepted: boolean;
  detail: string;
  paused: boolean;
  emergencyStop: boolean;
}

/* ---------- StrategyMonitor ---------- */

export const pauseSignal = defineSignal<[OperatorAction]>('pause');
export const resumeSignal = defineSignal<[OperatorAction]>('resume');
export const emergencyStopSignal = defineSignal<[OperatorAction]>('emergencyStop');
/** A partial config, deep-merged and validated; refused as a whole when invalid. */
export const updateConfigUpdate = defineUpdate<Config, [{ patch: unknown } & OperatorAction]>('updateConfig');
/** Same change as a signal (for the UI's signal form and governance); invalid ones are refused and recorded. */
export const updateConfigSignal = defineSignal<[{ patch: unknown } & OperatorAction]>('updateConfig');
/** Run a cycle now (streaming mode: a price update crossed the trigger between cycles). */
export const wakeSignal = defineSignal<[{ reason: string }]>('wake');
/** Wakes a treasury's alert outbox: stored alerts wait for delivery (any payload is ignored). */
export const alertOutboxWakeSignal = defineSignal<unknown[]>('alertsStored');
export const alertOutboxWorkflowId = (treasuryId: string) => `alerts/outbox/${treasuryId}`;
/** An intervention tells its monitor how it ended its swap phase. */
export const interventionSettledSignal = defineSignal<[InterventionSettled]>('interventionSettled');
/** Governance (Emergency Action) cancels a pending intervention through its monitor. */
export const cancelInterventionSignal = defineSignal<[{ interventionId: string } & OperatorAction]>('cancelIntervention');

/**
 * The operator actions as Updates (signals and updates are separate
 * namespaces, so they share the signals' names): refused synchronously by a
 * validator with the reason, so `client.ts` can tell the operator at once.
 */
export const pauseUpdate = defineUpdate<OperatorResult, [OperatorAction]>('pause');
export const resumeUpdate = defineUpdate<OperatorResult, [OperatorAction]>('resume');
export const emergencyStopUpdate = defineUpdate<OperatorResult, [OperatorAction]>('emergencyStop');
export const cancelInterventionUpdate = defineUpdate<OperatorResult, [{ interventionId: string } & OperatorAction]>('cancelIntervention');

export const statusQuery = defineQuery<MonitorStatus>('status');
/** The monitor's safety state and whether it is in the store (src/workflows/monitor-control.ts). */
export const controlQuery = defineQuery<ControlStatus>('control');
export const healthQuery = defineQuery<MonitorHealth>('health');
/** The running configuration (after every accepted update). */
export const configQuery = defineQuery<Config>('config');
/** The running configuration with its version in the store (null: not loaded yet, or a monitor that predates versions). */
export const configVersionQuery = defineQuery<{ version: number | null; config: Config }>('configVersion');

export interface InterventionSettled {
  interventionId: string;
  status: FinalInterventionStatus;
  /** When the last swap slice filled: executed, or aborted after a partial fill (the cooldown counts both); null when nothing moved. */
  executedAt: number | null;
}

export type FinalInterventionStatus = 'executed' | 'invalidated' | 'expired' | 'rejected' | 'aborted';

export interface OperatorEvent {
  at: number;
  action: string;
  by: string | null;
  reason: string | null;
  accepted: boolean;
  detail: string;
}

export interface MonitorStatus {
  treasuryId: string;
  mode: Config['mode'];
  paused: boolean;
  emergencyStop: boolean;
  cycles: number;
  lastCycle: CycleSummary | null;
  pendingInterventions: string[];
  interventionCount: number;
  lastExecutedSwapAt: number | null;
  noValidPriceStreak: number;
  recentOperatorEvents: OperatorEvent[];
  /** Critical alerts that could not be delivered to any sink yet. */
  undeliveredCritical: RecordCycleResult['undeliveredCritical'];
  cycleIntervalSeconds: number;
  /** Who may pause, resume, stop, reconfigure and cancel (intervention.operators); says so when nobody may. */
  operators?: string;
  /** How operators are told apart: signed, or (paper) a loud warning that bare names are trusted. Absent from older workers. */
  signing?: string;
  /** The safety state as the store holds it (absent on monitors that predate it). */
  control?: ControlStatus;
  /** The configuration's version in the store (absent on monitors that predate config versions). */
  configAuthority?: ConfigAuthorityStatus;
}

/** The monitor's view of its configuration's version (src/workflows/monitor-config.ts). */
export interface ConfigAuthorityStatus {
  version: number | null;
  loaded: boolean;
  /** Versions adopted and not yet in the store (no intervention starts until they are). */
  unsaved: number;
  problem: string | null;
}

/* ---------- Safety state in the store (the control record) ---------- */

export type { ControlRecord, LoadedControl, StoredControl } from '../domain/control.ts';

/** The monitor's view of its control record: what it holds, who set it, and whether the store has it. */
export interface ControlStatus {
  /** False until the record was read at this run's start: the monitor then counts as paused ("safety state not loaded"). */
  loaded: boolean;
  /** Why it is not loaded or not saved (the last error); null when all is in the store. */
  problem: string | null;
  /** The memory differs from the last record saved: no intervention starts until it is saved. */
  unsaved: boolean;
  /** The record last saved or loaded, and its store version. */
  record: ControlRecord | null;
  version: number | null;
}

export interface MonitorHealth {
  score: number | null;
  level: HealthLevel | null;
  reserveRatio: number | null;
  interventionCapacity: number | null;
  diversification: number | null;
  at: number | null;
}

/** One monitoring cycle as the status and the store see it. */
export interface CycleSummary {
  cycleId: string;
  at: number;
  validPrice: boolean;
  consensusPrice: number | null;
  consensusReason: string | null;
  vwap30: number | null;
  volumeless: boolean;
  warmingUp: boolean;
  drawdown: number | null;
  reserveRatio: number | null;
  /** No PSTR float: RR is +∞, carried as the finite ceiling UNBOUNDED_RESERVE_RATIO (src/domain/treasury.ts). */
  reserveRatioUnbounded?: boolean;
  pumpConcentration: number | null;
  treasuryValueUsd: number | null;
  marketCapUsd: number | null;
  health: number | null;
  healthLevel: HealthLevel | null;
  decision: string;
  startedIntervention: string | null;
}

/* ---------- Intervention ---------- */

export interface OperatorDecision {
  operator: string;
  reason?: string;
  /** The signed one-line message (src/domain/operator-message.ts planMessage) and its base58 signature: required once operator keys are configured. */
  message?: string;
  signature?: string;
}

export const approveSignal = defineSignal<[OperatorDecision]>('approve');
export const rejectSignal = defineSignal<[OperatorDecision]>('reject');
/** The same decisions as Updates: a malformed or unauthorized one is refused to the caller with the reason. */
export const approveUpdate = defineUpdate<DecisionResult, [OperatorDecision]>('approve');
export const rejectUpdate = defineUpdate<DecisionResult, [OperatorDecision]>('reject');
export const interventionStateQuery = defineQuery<InterventionState>('state');
/** The plan operators sign (null until sizing), and whether decisions must be signed. */
export const planQuery = defineQuery<PlanView>('plan');

export interface PlanView {
  plan: InterventionPlan | null;
  signing: boolean;
  /** Where the decision stands: approvals of this plan so far and how many are needed. */
  approvals: number;
  approvalsRequired: number;
  stage: InterventionStage;
  status: FinalInterventionStatus | 'running';
}

export interface DecisionResult {
  accepted: boolean;
  why: string;
  approvals: ApprovalState;
}

export type InterventionStage = 'validate' | 'assess' | 'size' | 'timelock' | 'swap' | 'track' | 'done';

export interface InterventionInput {
  treasuryId: string;
  seq: number;
  config: Config;
  /** The monitor's cycle that decided it, for the audit trail. */
  decidedInCycle: string;
  decision: InterventionDecision;
  consensus: ConsensusResult;
  vwap30: number;
  startedAt: number;
  /** The monitor's configuration version `config` is (config_versions); absent when started by a monitor that predates versions. */
  configVersion?: number;
}

export interface StepRecord {
  step: string;
  at: number;
  verdict: string;
  inputs: unknown;
  outcome: unknown;
}

export interface InterventionState {
  id: string;
  stage: InterventionStage;
  status: FinalInterventionStatus | 'running';
  startedAt: number;
  tier: number | null;
  fraction: number | null;
  pumpAmount: string | null;
  usdSize: number | null;
  timelock: { required: boolean; unlockAt: number | null; expiresAt: number | null; verdict: TimelockVerdict | null };
  approvals: ApprovalState;
  /** What operators approve: published after sizing, a new revision when re-sized (absent in states from before signed plans). */
  plan?: InterventionPlan | null;
  steps: StepRecord[];
  result: { pumpSpent: string; pstrBought: string; realizedPrice: number | null; slippage: number | null; unfilledPump: string } | null;
  roi: Record<string, number | null>;
  reason: string | null;
}

/* ---------- GovernanceProposal ---------- */

export type ProposalChange =
  | { action: 'updateConfig'; patch: unknown }
  | { action: 'pause' }
  | { action: 'resume' }
  | { action: 'cancelIntervention'; interventionId: string };

export interface ProposalInput {
  seq: number;
  treasuryId: string;
  kind: ProposalKind;
  description: string;
  change: ProposalChange;
  proposer: string;
  /** The governance configuration; absent: the worker's own (so a hand-written input stays short). */
  config?: Config['governance'];
  /** Epoch ms; absent: when the workflow started. */
  createdAt?: number;
}

/**
 * A passed proposal's change, sent by its workflow (through an activity) to the monitor as an Update, so the
 * proposal learns whether the monitor accepted it: `executed` only then, else `failed` with the monitor's reason.
 * The monitor applies it only after finding that passed proposal, with this change, in the store; once.
 */
export interface ApplyProposalRequest {
  proposalId: string;
  change: ProposalChange;
  by: string;
  reason?: string;
}

export interface ApplyProposalResult {
  accepted: boolean;
  detail: string;
  /** The monitor had applied this proposal before (a retried request): accepted, nothing changed now. */
  alreadyApplied?: boolean;
}

export const applyProposalUpdate = defineUpdate<ApplyProposalResult, [ApplyProposalRequest]>('applyProposal');

/** `choice` is checked by the workflow (yes | no | abstain); anything else is refused and recorded. */
export const voteSignal = defineSignal<[{ voter: string; choice: string }]>('vote');
export const tallyQuery = defineQuery<ProposalTally>('tally');

export interface ProposalTally {
  id: string;
  kind: ProposalInput['kind'];
  description: string;
  change: ProposalChange;
  status: 'voting' | 'passed-waiting' | 'executed' | 'rejected' | 'failed';
  deadline: number;
  executeAt: number | null;
  tally: Tally;
  votes: Record<string, string>;
  refused: { voter: string; choice: string; why: string; at: number }[];
  outcome: string | null;
  /** The monitor's answer to the change (proposals that applied it by Update). */
  applied?: ApplyProposalResult;
}

/* ---------- Activity names and the records the audit reads ---------- */

/**
 * Activity type names whose inputs/results `client.ts audit` reads from history.
 * (The full activity interface is in src/activities/index.ts.)
 */
export const AUDITED_ACTIVITIES = {
  /** result: MarketObservation */
  observeMarket: 'observeMarket',
  /** input[0]: RecordCycleInput — the whole decision of one monitoring cycle */
  recordCycle: 'recordCycle',
  /** input[0]: RecordStepInput — one intervention step with its inputs and outcome */
  recordInterventionStep: 'recordInterventionStep',
  /** input[0]: SwapRequest-like with bigint as strings; result: SwapResult-like */
  executeSwap: 'executeSwap',
} as const;

/** What a cycle saw before deciding: every reading as the sources gave it. */
export interface MarketObservation {
  at: number;
  readings: OracleReading[];
  /** `status`: the HTTP status when the source answered one (401/403 raise oracle-auth). */
  failures: { source: string; error: string; status?: number }[];
  pumpPrice: number;
  solPrice: number;
  volumeUsd: number;
  balances: { pump: string; usdc: string; sol: string; pstrRetired: string; lpValueUsd: number };
  /**
   * SPEC §2's consensus over the PUMP/USD and SOL/USD sources (MarketData.priceSources), taken at `at`: pumpPrice
   * and solPrice above are then its prices, or NaN (null on the wire) with no valid one. Absent in observations
   * made before PUMP and SOL had a consensus (old histories): pumpPrice and solPrice are then one Pyth read each.
   */
  pumpConsensus?: ConsensusResult;
  solConsensus?: ConsensusResult;
  /**
   * Propose-only treasuries: the multisig proposals that can still execute (named) and the latest confirmed slice's
   * settle time (a late member execution), so the monitor's own gates count them. Absent on other treasuries and in
   * older histories (then the cycle decides as before).
   */
  proposals?: { live: string[]; lastConfirmedAt: number | null };
}

/** One monitoring cycle, complete: the audit trail of the monitor. */
export interface CycleRecord {
  summary: CycleSummary;
  balances: MarketObservation['balances'] | null;
  consensus: ConsensusResult;
  decision: InterventionDecision | null;
  emergency: { latched: boolean; entered: boolean };
  alerts: { level: string; kind: string; message: string; data?: Record<string, unknown> }[];
  /** The configuration version the cycle decided under (absent in monitors that predate versions). */
  configVersion?: number;
}

/** What recordCycle reports back: critical alerts no sink has taken yet (shown by `client.ts status`). */
export interface RecordCycleResult {
  undeliveredCritical: { count: number; oldest: { kind: string; at: number; message: string; failures: string[] } | null };
}

export interface RecordCycleInput {
  treasuryId: string;
  cycle: CycleRecord;
  /** The workflow's time, for a local activity (whose own clock is the worker's). */
  at?: number;
}

export interface RecordStepInput {
  treasuryId: string;
  interventionId: string;
  step: StepRecord;
}

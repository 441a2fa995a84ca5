/**
 * What a simulation recorded, read back once the last row has been
 * simulated: every monitoring cycle's record and every hourly accumulation
 * run's record (the store's monitoring_logs, as the monitor and the job wrote
 * them), every intervention (its row in the store and its workflow's own
 * state, queried: the state says where a still-running one stood), and the
 * paper ledger's balances, entries and positions.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { LedgerEntryRow } from '../db/schema.ts';
import type { InterventionRow, TreasuryStore } from '../db/store.ts';
import type { InterventionDecision } from '../domain/intervention.ts';
import type { PaperLedger, LpPosition } from '../paper/ledger.ts';
import { interventionStateQuery, type CycleRecord, type InterventionState } from '../workflows/contract.ts';

/** One hourly accumulation run, as accumulationJob recorded it. */
export interface AccumulationRun {
  at: number;
  bought: boolean;
  reason: string;
  /** SkipReason of decideAccumulation, 'failure', or absent (no valid price). */
  skip?: string | null;
}

export interface InterventionFacts {
  row: InterventionRow;
  /** The workflow's own state; null when it could not be queried (the row then speaks alone). */
  state: InterventionState | null;
  /** The decision of the cycle that started it. */
  decision: InterventionDecision | null;
}

export interface RebalanceFact {
  pool: string;
  at: number;
  from: { lower: number; upper: number; center: number };
}

export interface SimulationFacts {
  cycles: CycleRecord[];
  accumulationRuns: AccumulationRun[];
  /** USDC moved by the accumulation entries of the ledger (base units), and how many there are. */
  accumulationEntries: LedgerEntryRow[];
  interventions: InterventionFacts[];
  balances: { pump: bigint; usdc: bigint; sol: bigint; pstrRetired: bigint };
  positions: LpPosition[];
  rebalances: RebalanceFact[];
}

const isCycle = (treasuryId: string, cycleId: string, data: unknown): data is CycleRecord =>
  cycleId.startsWith(`${treasuryId}/`) && typeof (data as Partial<CycleRecord> | null)?.summary === 'object';

export async function gatherFacts(store: TreasuryStore, ledger: PaperLedger, client: Client, treasuryId: string): Promise<SimulationFacts> {
  const logs = await store.monitoringLogs(treasuryId, 0, Number.MAX_SAFE_INTEGER);
  const cycles: CycleRecord[] = [];
  const accumulationRuns: AccumulationRun[] = [];
  for (const log of logs) {
    if (isCycle(treasuryId, log.cycleId, log.data)) cycles.push(log.data);
    else if ((log.data as { job?: unknown }).job === 'accumulation') accumulationRuns.push({ ...(log.data as Omit<AccumulationRun, 'at'>), at: log.at });
  }
  cycles.sort((a, b) => a.summary.at - b.summary.at);
  const entries = await ledger.entries();
  const b = await ledger.balances();
  return {
    cycles,
    accumulationRuns,
    accumulationEntries: entries.filter((e) => e.kind === 'accumulation'),
    interventions: await interventionFacts(store, client, treasuryId, cycles),
    balances: { pump: b.pump, usdc: b.usdc, sol: b.sol, pstrRetired: b.pstrRetired },
    positions: await ledger.positions(),
    rebalances: entries.filter((e) => e.kind === 'rebalance').map((e) => {
      const d = e.details as { pool?: string; from?: RebalanceFact['from'] };
      return { pool: d.pool ?? '', at: e.at, from: d.from ?? { lower: 0, upper: 0, center: 0 } };
    }),
  };
}

async function interventionFacts(store: TreasuryStore, client: Client, treasuryId: string, cycles: readonly CycleRecord[]): Promise<InterventionFacts[]> {
  const decidedBy = new Map(cycles.filter((c) => c.summary.startedIntervention).map((c) => [c.summary.startedIntervention as string, c.decision]));
  const rows = await store.interventions(treasuryId);
  const out: InterventionFacts[] = [];
  for (const row of rows.sort((a, b) => a.seq - b.seq)) {
    out.push({ row, state: await stateOf(client, row.id), decision: decidedBy.get(row.id) ?? null });
  }
  return out;
}

async function stateOf(client: Client, id: string): Promise<InterventionState | null> {
  try {
    return await client.workflow.getHandle(id).query(interventionStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/**
 * The reconciler's activities: close store rows of interventions whose
 * workflow has closed, and compare the books (intervention rows, swap records)
 * with what the treasury settled (the paper ledger; a live treasury that
 * cannot list its swaps is compared with itself only). Rules in src/domain/reconcile.ts.
 */
import { closingOf, reconcileBooks, type BookRow, type BookSwap, type WorkflowEnd } from '../domain/reconcile.ts';
import { serverClock, type ActivityDeps } from './deps.ts';

export interface ClosedRow {
  id: string;
  status: string;
  reason: string;
}

export interface BooksReport {
  findings: string[];
  /** Whether the books were compared with the ledger or chain, or only with themselves. */
  settled: 'compared' | 'unsupported';
  interventions: number;
  swaps: number;
}

/** A completed intervention's returned state, as far as the reconciler needs it. */
function endOf(result: unknown): WorkflowEnd | null {
  if (typeof result !== 'object' || result === null) return null;
  const r = result as { status?: unknown; reason?: unknown; result?: { pstrBought?: unknown } | null };
  if (typeof r.status !== 'string') return null;
  return { status: r.status, reason: typeof r.reason === 'string' ? r.reason : null, pstrBought: typeof r.result?.pstrBought === 'string' ? r.result.pstrBought : null };
}

export function reconcileActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /** Closes every `running` row whose workflow is not running (closed, or unknown to the server). */
    async closeOrphanedInterventions(input: { treasuryId: string }): Promise<{ closed: ClosedRow[] }> {
      const closed: ClosedRow[] = [];
      for (const row of await store.interventions(input.treasuryId, { status: 'running' })) {
        const wf = await deps.workflowState(row.id);
        if (wf?.running) continue;
        const end = wf?.status === 'COMPLETED' && deps.workflowResult ? endOf(await deps.workflowResult(row.id)) : null;
        const confirmed = (await store.swaps(row.id)).filter((s) => s.status === 'confirmed');
        const c = closingOf(wf?.status ?? null, end, confirmed);
        // Newer than the stored write, so the store's "never roll back" rule lets it through.
        await store.upsertIntervention({ ...row, status: c.status, reason: c.reason, pstrBought: c.pstrBought ?? row.pstrBought, updatedAt: Math.max(serverClock(), row.updatedAt + 1) });
        deps.metrics?.interventionEnded(input.treasuryId, c.status, row.id);
        deps.logger.warn({ treasuryId: input.treasuryId, workflowId: row.id, status: c.status }, c.reason);
        closed.push({ id: row.id, status: c.status, reason: c.reason });
      }
      return { closed };
    },

    /** Every mismatch between the books and what the treasury settled. */
    async compareBooks(input: { treasuryId: string }): Promise<BooksReport> {
      const rows = await store.interventions(input.treasuryId);
      const books: BookRow[] = rows.map((r) => ({ id: r.id, status: r.status, pstrBought: r.pstrBought }));
      const swaps: BookSwap[] = [];
      for (const r of rows) for (const s of await store.swaps(r.id)) swaps.push({ interventionId: s.interventionId, slice: s.slice, status: s.status, pumpIn: s.pumpIn, pstrOut: s.pstrOut });
      const settled = deps.treasury.settledSwaps ? await deps.treasury.settledSwaps() : null;
      return { findings: reconcileBooks(books, swaps, settled), settled: settled ? 'compared' : 'unsupported', interventions: rows.length, swaps: swaps.length };
    },
  };
}

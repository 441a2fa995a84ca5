/**
 * The reconciler's rules (pure): when a store row of an intervention whose
 * workflow has closed is closed, and with what status; and where the books
 * (intervention rows, swap records) disagree with the ledger or the chain.
 * Every finding is a sentence naming the intervention and the slice.
 */

export type RowStatus = 'running' | 'executed' | 'invalidated' | 'expired' | 'rejected' | 'aborted';
const FINAL: readonly RowStatus[] = ['executed', 'invalidated', 'expired', 'rejected', 'aborted'];

/** An intervention row as the books have it. */
export interface BookRow {
  readonly id: string;
  readonly status: RowStatus;
  readonly pstrBought: bigint | null;
}

/** One swap slice's record in the books. */
export interface BookSwap {
  readonly interventionId: string;
  readonly slice: number;
  readonly status: 'prepared' | 'sent' | 'confirmed' | 'failed';
  readonly pumpIn: bigint;
  readonly pstrOut: bigint | null;
}

/** One swap slice as the ledger (paper) or the chain settled it. */
export interface SettledSwap {
  readonly interventionId: string;
  readonly slice: number;
  readonly pumpIn: bigint;
  readonly pstrOut: bigint;
}

/** What the workflow's own end says, when it can be read (a completed workflow's returned state). */
export interface WorkflowEnd {
  readonly status: string;
  readonly reason: string | null;
  readonly pstrBought: string | null;
}

export interface Closing {
  readonly status: Exclude<RowStatus, 'running'>;
  readonly reason: string;
  readonly pstrBought: bigint | null;
}

const isFinal = (s: string): s is Exclude<RowStatus, 'running'> => (FINAL as readonly string[]).includes(s);

/**
 * How to close a `running` row whose workflow is closed (or unknown to the
 * server): the workflow's own final status when it returned one, otherwise
 * aborted. What was bought is what the confirmed swap records say.
 */
export function closingOf(workflowStatus: string | null, end: WorkflowEnd | null, confirmed: readonly BookSwap[]): Closing {
  const bought = confirmed.length ? confirmed.reduce((s, c) => s + (c.pstrOut ?? 0n), 0n) : null;
  if (end && isFinal(end.status)) {
    return { status: end.status, reason: end.reason ?? `closed by the reconciler: workflow ended ${end.status}`, pstrBought: end.pstrBought === null ? bought : BigInt(end.pstrBought) };
  }
  const filled = confirmed.length ? `; ${confirmed.length} slice(s) had filled` : '';
  return { status: 'aborted', reason: `closed by the reconciler: workflow ${workflowStatus ?? 'NOT FOUND'}${filled}`, pstrBought: bought };
}

const key = (id: string, slice: number) => `${id}#${slice}`;
const label = (id: string, slice: number) => `${id} slice ${slice}`;

/**
 * Mismatches between the books and what settled. `settled` is null when the
 * treasury cannot list its settled swaps (then only the books are checked
 * against themselves, and a slice whose outcome is unknown is a finding).
 * Running interventions are checked only slice by slice against the ledger:
 * their totals are still moving.
 */
export function reconcileBooks(rows: readonly BookRow[], swaps: readonly BookSwap[], settled: readonly SettledSwap[] | null): string[] {
  const findings: string[] = [];
  const byRow = new Map(rows.map((r) => [r.id, r]));
  const settledBy = new Map((settled ?? []).map((s) => [key(s.interventionId, s.slice), s]));
  const recordBy = new Map(swaps.map((s) => [key(s.interventionId, s.slice), s]));

  for (const r of rows) {
    if (r.status === 'running') continue;
    const mine = swaps.filter((s) => s.interventionId === r.id);
    const confirmed = mine.filter((s) => s.status === 'confirmed');
    const bought = confirmed.reduce((s, c) => s + (c.pstrOut ?? 0n), 0n);
    if ((r.pstrBought ?? 0n) !== bought) {
      findings.push(`${r.id} (${r.status}) records ${r.pstrBought ?? 0n} PSTR bought, its confirmed swap records sum to ${bought}`);
    }
    if (r.status === 'executed' && confirmed.length === 0) findings.push(`${r.id} is executed but has no confirmed swap record`);
    for (const s of mine.filter((x) => x.status === 'prepared' || x.status === 'sent')) {
      // A slice left unfinished by a closed workflow: the ledger tells whether it moved; without one nobody can tell.
      if (settled === null) findings.push(`${label(r.id, s.slice)} is still '${s.status}' though ${r.id} is closed: its outcome is unknown, check the chain`);
      else if (settledBy.has(key(r.id, s.slice))) findings.push(`${label(r.id, s.slice)} settled in the ledger but its record is still '${s.status}'`);
    }
  }

  if (settled === null) return findings;
  for (const s of settled) {
    const rec = recordBy.get(key(s.interventionId, s.slice));
    const row = byRow.get(s.interventionId);
    if (!row) findings.push(`${label(s.interventionId, s.slice)} settled in the ledger (${s.pumpIn} PUMP → ${s.pstrOut} PSTR) but no intervention row has it`);
    else if (!rec) findings.push(`${label(s.interventionId, s.slice)} settled in the ledger (${s.pumpIn} PUMP → ${s.pstrOut} PSTR) but has no swap record`);
    else if (rec.status === 'confirmed' && (rec.pumpIn !== s.pumpIn || rec.pstrOut !== s.pstrOut)) {
      findings.push(`${label(s.interventionId, s.slice)}: record says ${rec.pumpIn} PUMP → ${rec.pstrOut} PSTR, the ledger ${s.pumpIn} PUMP → ${s.pstrOut} PSTR`);
    } else if (rec.status === 'failed') findings.push(`${label(s.interventionId, s.slice)} is recorded failed but settled in the ledger`);
  }
  for (const rec of swaps) {
    if (rec.status === 'confirmed' && !settledBy.has(key(rec.interventionId, rec.slice))) {
      findings.push(`${label(rec.interventionId, rec.slice)} is recorded confirmed (${rec.pumpIn} PUMP → ${rec.pstrOut} PSTR) but the ledger has no such swap`);
    }
  }
  return findings;
}

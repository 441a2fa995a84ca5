/**
 * Where the executor writes down a swap before it sends anything: the
 * at-most-once ledger. Intervention slices live in the store's
 * `swap_records` (keyed by intervention and slice); hourly accumulation buys
 * and liquidity moves, which have no intervention row, live in the store's
 * `money_journal` (keyed by treasury, path and key). Both are in the store
 * every worker shares, so no retry anywhere starts from an empty journal.
 *
 * `update` is compare-and-set: it re-reads the record and applies the change
 * only when `guard` still holds, so two racing attempts of one activity can
 * never both attach a new transaction.
 */
import { z } from 'zod';
import type { MoneyPath, SwapStatus, TreasuryStore } from '../db/store.ts';

export interface JournalRecord {
  status: SwapStatus;
  amountIn: bigint;
  amountOut: bigint | null;
  signature: string | null;
  details: Record<string, unknown>;
}

export interface JournalChange {
  status: SwapStatus;
  amountOut?: bigint | null;
  signature?: string | null;
  details: Record<string, unknown>;
}

export interface SwapJournal<K> {
  /** Creates the record as `prepared` when absent (a retry finds the existing one), and returns it. */
  open(key: K, amountIn: bigint, at: number): Promise<JournalRecord>;
  read(key: K): Promise<JournalRecord | undefined>;
  update(key: K, guard: (r: JournalRecord) => boolean, change: (r: JournalRecord) => JournalChange, at: number): Promise<{ record: JournalRecord; applied: boolean }>;
  describe(key: K): string;
}

/** A record is final once confirmed or failed: nothing is ever sent for it again. */
export const isFinal = (r: JournalRecord): boolean => r.status === 'confirmed' || r.status === 'failed';

/** The list an executor keeps under `details[field]` (attempts, proposals), validated; a malformed one is refused, naming the field. */
export function detailsList<T>(r: JournalRecord, field: string, item: z.ZodType<T>): T[] {
  const parsed = z.array(item).safeParse(r.details[field] ?? []);
  if (!parsed.success) throw new Error(`swap record details.${field} is malformed: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export interface SliceKey {
  interventionId: string;
  slice: number;
}

const asObject = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? { ...(v as Record<string, unknown>) } : {});

/** Intervention slices in `swap_records` (the intervention row must exist: the table references it). */
export function storeSwapJournal(store: TreasuryStore, treasuryId: string): SwapJournal<SliceKey> {
  const read = async (k: SliceKey): Promise<JournalRecord | undefined> => {
    const row = await store.swap(k.interventionId, k.slice);
    return row && { status: row.status, amountIn: row.pumpIn, amountOut: row.pstrOut, signature: row.signature, details: asObject(row.details) };
  };
  const describe = (k: SliceKey) => `swap ${k.interventionId} slice ${k.slice}`;
  return {
    describe,
    read,
    async open(k, amountIn, at) {
      await store.recordSwap({ interventionId: k.interventionId, slice: k.slice, treasuryId, at, status: 'prepared', pumpIn: amountIn, pstrOut: null, signature: null, details: {}, updatedAt: at });
      const r = (await read(k)) as JournalRecord;
      if (r.amountIn !== amountIn) throw new Error(`${describe(k)}: recorded pumpIn ${r.amountIn} differs from the requested ${amountIn}`);
      return r;
    },
    update(k, guard, change, at) {
      return store.transaction(async () => {
        const current = await read(k);
        if (!current) throw new Error(`${describe(k)}: no swap record`);
        if (!guard(current)) return { record: current, applied: false };
        const c = change(current);
        await store.updateSwap(k.interventionId, k.slice, {
          status: c.status, updatedAt: at, details: c.details,
          ...(c.amountOut !== undefined && { pstrOut: c.amountOut }),
          ...(c.signature !== undefined && { signature: c.signature }),
        });
        return { record: (await read(k)) as JournalRecord, applied: true };
      });
    },
  };
}

/**
 * Money movements without an intervention row (accumulation buys, liquidity
 * rebalances) in the store's `money_journal`, keyed by (treasury, path, key):
 * every worker sharing the store sees one record, so a retry on another
 * machine resumes it instead of buying again. `update` re-reads, checks the
 * guard and writes by compare-and-set on the record's revision; a lost race
 * re-reads and asks the guard again, so two racing attempts never both apply.
 */
export function storeMoneyJournal(store: TreasuryStore, treasuryId: string, path: MoneyPath): SwapJournal<string> {
  const readRow = (key: string) => store.moneyRecord(treasuryId, path, key);
  const toRecord = (row: NonNullable<Awaited<ReturnType<typeof readRow>>>): JournalRecord => ({
    status: row.status, amountIn: row.amountIn, amountOut: row.amountOut, signature: row.signature, details: asObject(row.details),
  });
  const describe = (key: string) => `${path} ${key}`;
  const read = async (key: string) => {
    const row = await readRow(key);
    return row && toRecord(row);
  };
  return {
    describe,
    read,
    async open(key, amountIn, at) {
      await store.openMoneyRecord({ treasuryId, path, key, at, status: 'prepared', amountIn, amountOut: null, signature: null, details: {}, updatedAt: at });
      const r = await read(key);
      if (!r) throw new Error(`${describe(key)}: the journal record vanished right after it was opened`);
      if (r.amountIn !== amountIn) throw new Error(`${describe(key)}: recorded amount ${r.amountIn} differs from the requested ${amountIn}`);
      return r;
    },
    async update(key, guard, change, at) {
      for (let race = 0; race < CAS_RACES; race++) {
        const row = await readRow(key);
        if (!row) throw new Error(`${describe(key)}: no journal record`);
        const current = toRecord(row);
        if (!guard(current)) return { record: current, applied: false };
        const c = change(current);
        const applied = await store.casMoneyRecord(treasuryId, path, key, row.revision, {
          status: c.status, updatedAt: at, details: c.details,
          ...(c.amountOut !== undefined && { amountOut: c.amountOut }),
          ...(c.signature !== undefined && { signature: c.signature }),
        });
        if (applied) return { record: (await read(key)) as JournalRecord, applied: true };
      }
      throw new Error(`${describe(key)}: lost ${CAS_RACES} compare-and-set races in a row; a retry resumes from the stored record`);
    },
  };
}

/** Lost compare-and-set races before giving up: each loss means another attempt wrote, so a few suffice. */
const CAS_RACES = 5;

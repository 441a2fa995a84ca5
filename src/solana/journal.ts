/**
 * Where the executor writes down a swap before it sends anything: the
 * at-most-once ledger. Intervention slices live in the store's
 * `swap_records` (keyed by intervention and slice); hourly accumulation buys
 * have no intervention row to hang on, so they go to a directory of JSON
 * files, one per key, each replaced atomically (write, fsync, rename).
 *
 * `update` is compare-and-set: it re-reads the record and applies the change
 * only when `guard` still holds, so two racing attempts of one activity can
 * never both attach a new transaction.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { SwapStatus, TreasuryStore } from '../db/store.ts';
import { bigintReplacer } from '../db/store.ts';

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

interface FileRecord {
  key: string;
  status: SwapStatus;
  amountIn: string;
  amountOut: string | null;
  signature: string | null;
  details: Record<string, unknown>;
  at: number;
  updatedAt: number;
}

const STAGE: Record<SwapStatus, number> = { prepared: 0, sent: 1, confirmed: 2, failed: 2 };

/** Accumulation buys (or any string-keyed swap) in `dir`, one durable JSON file per key; one process at a time. */
export function fileSwapJournal(dir: string): SwapJournal<string> {
  mkdirSync(dir, { recursive: true });
  const pathOf = (key: string) => join(dir, `${encodeURIComponent(key)}.json`);
  const readFile = (key: string): FileRecord | undefined => {
    try {
      return JSON.parse(readFileSync(pathOf(key), 'utf8')) as FileRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  const write = (rec: FileRecord) => {
    const tmp = `${pathOf(rec.key)}.tmp`;
    writeFileSync(tmp, JSON.stringify(rec, bigintReplacer));
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, pathOf(rec.key));
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  };
  const toRecord = (f: FileRecord): JournalRecord => ({
    status: f.status, amountIn: BigInt(f.amountIn), amountOut: f.amountOut === null ? null : BigInt(f.amountOut), signature: f.signature, details: asObject(f.details),
  });
  const describe = (key: string) => `swap ${key}`;
  return {
    describe,
    // async: a throw of the synchronous file work becomes the rejection callers of the port expect.
    read: async (key) => {
      const f = readFile(key);
      return f && toRecord(f);
    },
    open: async (key, amountIn, at) => {
      let f = readFile(key);
      if (!f) {
        f = { key, status: 'prepared', amountIn: amountIn.toString(), amountOut: null, signature: null, details: {}, at, updatedAt: at };
        write(f);
      }
      if (BigInt(f.amountIn) !== amountIn) throw new Error(`${describe(key)}: recorded amount ${f.amountIn} differs from the requested ${amountIn}`);
      return toRecord(f);
    },
    update: async (key, guard, change, at) => {
      const f = readFile(key);
      if (!f) throw new Error(`${describe(key)}: no swap record`);
      const current = toRecord(f);
      if (!guard(current)) return { record: current, applied: false };
      const c = change(current);
      if (c.status !== f.status && STAGE[c.status] <= STAGE[f.status]) throw new Error(`${describe(key)}: status cannot go from '${f.status}' to '${c.status}'`);
      const next: FileRecord = {
        ...f, status: c.status, details: c.details, updatedAt: at,
        ...(c.amountOut !== undefined && { amountOut: c.amountOut === null ? null : c.amountOut.toString() }),
        ...(c.signature !== undefined && { signature: c.signature }),
      };
      write(next);
      return { record: toRecord(next), applied: true };
    },
  };
}

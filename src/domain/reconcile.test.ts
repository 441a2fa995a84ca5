import { describe, expect, it } from 'vitest';
import { closingOf, reconcileBooks, type BookRow, type BookSwap, type SettledSwap } from './reconcile.ts';

const row = (id: string, status: BookRow['status'], pstrBought: bigint | null): BookRow => ({ id, status, pstrBought });
const rec = (interventionId: string, slice: number, status: BookSwap['status'], pumpIn: bigint, pstrOut: bigint | null): BookSwap => ({ interventionId, slice, status, pumpIn, pstrOut });
const led = (interventionId: string, slice: number, pumpIn: bigint, pstrOut: bigint): SettledSwap => ({ interventionId, slice, pumpIn, pstrOut });

describe('closing a row whose workflow closed', () => {
  it('takes the status and reason the workflow returned', () => {
    expect(closingOf('COMPLETED', { status: 'aborted', reason: 'halted by emergency stop before slice 1; …', pstrBought: '40' }, [])).toEqual({
      status: 'aborted', reason: 'halted by emergency stop before slice 1; …', pstrBought: 40n,
    });
  });

  it('closes a terminated workflow aborted, with what its confirmed slices bought', () => {
    expect(closingOf('TERMINATED', null, [rec('i/1', 0, 'confirmed', 10n, 25n), rec('i/1', 1, 'confirmed', 10n, 24n)])).toEqual({
      status: 'aborted', reason: 'closed by the reconciler: workflow TERMINATED; 2 slice(s) had filled', pstrBought: 49n,
    });
  });

  it('closes a workflow the server does not know, and one that returned no final status, aborted', () => {
    expect(closingOf(null, null, [])).toEqual({ status: 'aborted', reason: 'closed by the reconciler: workflow NOT FOUND', pstrBought: null });
    expect(closingOf('COMPLETED', { status: 'running', reason: null, pstrBought: null }, []).status).toBe('aborted');
  });
});

describe('comparing the books with the ledger', () => {
  it('finds nothing when rows, records and ledger agree', () => {
    const rows = [row('i/1', 'executed', 49n), row('i/2', 'aborted', null), row('i/3', 'running', null)];
    const swaps = [rec('i/1', 0, 'confirmed', 10n, 25n), rec('i/1', 1, 'confirmed', 10n, 24n), rec('i/2', 0, 'failed', 10n, 0n), rec('i/3', 0, 'prepared', 10n, null)];
    expect(reconcileBooks(rows, swaps, [led('i/1', 0, 10n, 25n), led('i/1', 1, 10n, 24n)])).toEqual([]);
  });

  it('finds a row whose PSTR bought differs from its confirmed records, and an executed row with none', () => {
    const f = reconcileBooks([row('i/1', 'executed', 30n), row('i/2', 'executed', null)], [rec('i/1', 0, 'confirmed', 10n, 25n)], null);
    expect(f).toEqual([
      'i/1 (executed) records 30 PSTR bought, its confirmed swap records sum to 25',
      'i/2 is executed but has no confirmed swap record',
    ]);
  });

  it('finds a ledger swap without a record, a record without a ledger swap, and differing amounts', () => {
    const rows = [row('i/1', 'executed', 25n), row('i/2', 'executed', 5n)];
    const swaps = [rec('i/1', 0, 'confirmed', 10n, 25n), rec('i/2', 0, 'confirmed', 10n, 5n)];
    const f = reconcileBooks(rows, swaps, [led('i/1', 0, 10n, 20n), led('i/1', 1, 10n, 24n), led('i/9', 0, 1n, 1n)]);
    expect(f).toEqual([
      'i/1 slice 0: record says 10 PUMP → 25 PSTR, the ledger 10 PUMP → 20 PSTR',
      'i/1 slice 1 settled in the ledger (10 PUMP → 24 PSTR) but has no swap record',
      'i/9 slice 0 settled in the ledger (1 PUMP → 1 PSTR) but no intervention row has it',
      'i/2 slice 0 is recorded confirmed (10 PUMP → 5 PSTR) but the ledger has no such swap',
    ]);
  });

  it('finds a closed intervention\'s unfinished slice: unknown without a ledger, a mismatch when the ledger filled it', () => {
    const rows = [row('i/1', 'aborted', null)];
    const swaps = [rec('i/1', 0, 'prepared', 10n, null)];
    expect(reconcileBooks(rows, swaps, null)).toEqual(["i/1 slice 0 is still 'prepared' though i/1 is closed: its outcome is unknown, check the chain"]);
    // The paper ledger says nothing moved: the books agree.
    expect(reconcileBooks(rows, swaps, [])).toEqual([]);
    expect(reconcileBooks(rows, swaps, [led('i/1', 0, 10n, 25n)])).toContain("i/1 slice 0 settled in the ledger but its record is still 'prepared'");
  });

  it('finds a slice recorded failed that the ledger filled', () => {
    expect(reconcileBooks([row('i/1', 'aborted', null)], [rec('i/1', 0, 'failed', 10n, 0n)], [led('i/1', 0, 10n, 25n)])).toContain('i/1 slice 0 is recorded failed but settled in the ledger');
  });
});

/**
 * The shared money journal (money_journal, src/solana/journal.ts) on both
 * databases: a record opened twice is one record, and of two racing
 * compare-and-set updates exactly one applies. On PostgreSQL (what several
 * workers share) the racers are TWO connections to one database. On SQLite
 * they share one connection: better-sqlite3 is synchronous, so a second
 * connection in the same process would block the event loop on the first's
 * lock; the racing calls still interleave (both read revision 0 before either
 * writes), which is what the compare-and-set must survive.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TreasuryStore } from '../../src/db/store.ts';
import { storeMoneyJournal } from '../../src/solana/journal.ts';
import type { JournalRecord } from '../../src/solana/journal.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const T = 'pstr-main';
const KEY = 'accumulation/pstr-main/2026-12-03T18';
const attempts = (r: JournalRecord) => (Array.isArray(r.details.attempts) ? r.details.attempts.length : 0);

for (const backend of STORE_BACKENDS) {
  describe.skipIf(!backend.available)(`the money journal on ${backend.name}`, () => {
    let dir: string;
    let a: TreasuryStore;
    let b: TreasuryStore;
    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'money-journal-'));
      const location = await backend.freshLocation(dir);
      a = await TreasuryStore.at(location);
      b = backend.name === 'PostgreSQL' ? await TreasuryStore.at(location) : a;
    });
    afterEach(async () => {
      await a.close();
      if (b !== a) await b.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('opens one record per (treasury, path, key), whichever worker opens it, and refuses a different amount', async () => {
      const ja = storeMoneyJournal(a, T, 'accumulation');
      const jb = storeMoneyJournal(b, T, 'accumulation');
      expect(await ja.open(KEY, 100n, 1)).toMatchObject({ status: 'prepared', amountIn: 100n, amountOut: null });
      await jb.update(KEY, () => true, (c) => ({ status: 'sent', details: { ...c.details, marker: 'b' } }), 2);
      expect(await ja.open(KEY, 100n, 3)).toMatchObject({ status: 'sent', details: { marker: 'b' } });
      await expect(jb.open(KEY, 101n, 4)).rejects.toThrow(/recorded amount 100 differs from the requested 101/);
      // Another path's record under the same key is another record.
      expect(await storeMoneyJournal(b, T, 'liquidity').open(KEY, 7n, 5)).toMatchObject({ status: 'prepared', amountIn: 7n });
    });

    it('of two compare-and-set writes at the same revision from two connections, exactly one applies', async () => {
      await a.openMoneyRecord({ treasuryId: T, path: 'accumulation', key: KEY, at: 1, status: 'prepared', amountIn: 5n, amountOut: null, signature: null, details: {}, updatedAt: 1 });
      const write = (s: TreasuryStore, who: string) => s.casMoneyRecord(T, 'accumulation', KEY, 0, { status: 'sent', updatedAt: 2, details: { who }, signature: who });
      const results = await Promise.all([write(a, 'a'), write(b, 'b')]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const row = await b.moneyRecord(T, 'accumulation', KEY);
      expect(row?.revision).toBe(1);
      expect(row?.signature).toBe(results[0] ? 'a' : 'b');
      expect(row?.details).toEqual({ who: row?.signature });
      // A stale revision never applies, even with a guard that would pass.
      expect(await write(a, 'late')).toBe(false);
    });

    it('of two racing journal updates guarded on "no transaction attached yet", one attaches and the other sees it', async () => {
      await storeMoneyJournal(a, T, 'accumulation').open(KEY, 5n, 1);
      const attach = (s: TreasuryStore, sig: string) => storeMoneyJournal(s, T, 'accumulation').update(
        KEY, (c) => attempts(c) === 0, (c) => ({ status: c.status, signature: sig, details: { ...c.details, attempts: [sig] } }), 2,
      );
      const [ra, rb] = await Promise.all([attach(a, 'sig-a'), attach(b, 'sig-b')]);
      expect([ra.applied, rb.applied].filter(Boolean)).toHaveLength(1);
      const winner = ra.applied ? 'sig-a' : 'sig-b';
      expect(ra.record.signature).toBe(winner);
      expect(rb.record.signature).toBe(winner);
      expect((await storeMoneyJournal(b, T, 'accumulation').read(KEY))?.details).toEqual({ attempts: [winner] });
    });

    it('only moves a record forward: a settled one never goes back to sent', async () => {
      const j = storeMoneyJournal(a, T, 'accumulation');
      await j.open(KEY, 5n, 1);
      await j.update(KEY, () => true, (c) => ({ status: 'confirmed', amountOut: 9n, details: c.details }), 2);
      await expect(j.update(KEY, () => true, (c) => ({ status: 'sent', details: c.details }), 3)).rejects.toThrow(/cannot go from 'confirmed' to 'sent'/);
      expect(await storeMoneyJournal(b, T, 'accumulation').read(KEY)).toMatchObject({ status: 'confirmed', amountOut: 9n });
    });
  });
}

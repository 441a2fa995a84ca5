import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_BACKENDS } from '../../test/support/stores.ts';
import { parseConfig } from '../config-schema.ts';
import type { NewConfigVersion, NewIntervention, TreasuryStore } from './store.ts';

const T = 'pstr-main';
const base = parseConfig({ treasuryId: T });
const tighter = parseConfig({ treasuryId: T, risk: { maxSlippage: 0.01 } });

const version = (n: number, o: Partial<NewConfigVersion> = {}): NewConfigVersion => ({
  treasuryId: T, version: n, config: base, source: 'file', by: null, at: n * 1_000, ...o,
});

for (const backend of STORE_BACKENDS) {
  describe.skipIf(!backend.available)(`config versions on ${backend.name}`, () => {
    let store: TreasuryStore;
    beforeEach(async () => {
      store = await backend.throwaway();
    });
    afterEach(async () => {
      await store.close();
    });

    it('has no current version for a treasury whose monitor never wrote one', async () => {
      expect(await store.currentConfigVersion(T)).toBeUndefined();
      expect(await store.configVersions(T)).toEqual([]);
    });

    it('keeps every version with its source and author, and the newest is the current one', async () => {
      expect(await store.appendConfigVersion(version(1))).toEqual({ version: 1, written: true });
      expect(await store.appendConfigVersion(version(2, { config: tighter, source: 'operator', by: 'alice' }))).toEqual({ version: 2, written: true });
      expect(await store.appendConfigVersion(version(3, { config: base, source: 'governance proposal/7', by: 'proposal/7' }))).toEqual({ version: 3, written: true });
      const current = await store.currentConfigVersion(T);
      expect(current).toMatchObject({ version: 3, source: 'governance proposal/7', by: 'proposal/7', at: 3_000 });
      expect(current?.config).toEqual(base);
      expect((await store.configVersion(T, 2))?.config).toEqual(tighter);
      expect((await store.configVersions(T)).map((r) => [r.version, r.source, r.by])).toEqual([
        [1, 'file', null], [2, 'operator', 'alice'], [3, 'governance proposal/7', 'proposal/7'],
      ]);
      expect(await store.currentConfigVersion('other')).toBeUndefined();
    });

    it('writes a retried append once: the retry finds its own row', async () => {
      await store.appendConfigVersion(version(1));
      const change = version(2, { config: tighter, source: 'operator', by: 'alice' });
      expect(await store.appendConfigVersion(change)).toEqual({ version: 2, written: true });
      expect(await store.appendConfigVersion(change)).toEqual({ version: 2, written: false });
      expect((await store.configVersions(T)).map((r) => r.version)).toEqual([1, 2]);
    });

    it('appends after the newest version when another writer took the number, and never overwrites it', async () => {
      await store.appendConfigVersion(version(1));
      await store.appendConfigVersion(version(2, { config: tighter, source: 'operator', by: 'bob' }));
      const late = version(2, { source: 'operator', by: 'alice' });
      expect(await store.appendConfigVersion(late)).toEqual({ version: 3, written: true });
      // Its retry (same number asked) finds it at 3 and writes nothing more.
      expect(await store.appendConfigVersion(late)).toEqual({ version: 3, written: false });
      expect((await store.configVersion(T, 2))?.by).toBe('bob');
      expect((await store.configVersions(T)).map((r) => [r.version, r.by])).toEqual([[1, null], [2, 'bob'], [3, 'alice']]);
    });

    it('refuses a version number that is not a positive integer, naming it', async () => {
      await expect(store.appendConfigVersion(version(0))).rejects.toThrow(/version must be an integer ≥ 1, got 0/);
      await expect(store.appendConfigVersion(version(1.5))).rejects.toThrow(/got 1\.5/);
    });

    it('keeps the config version an intervention acted under on its row', async () => {
      const row: NewIntervention = {
        id: `intervention/${T}/1`, treasuryId: T, seq: 1, startedAt: 1_000, status: 'running', decidedPrice: 0.4, vwap30: 0.5, drawdown: 0.2,
        updatedAt: 1_000, configVersion: 4,
      };
      await store.upsertIntervention(row);
      expect((await store.intervention(row.id))?.configVersion).toBe(4);
      await store.upsertIntervention({ ...row, id: `intervention/${T}/2`, seq: 2, configVersion: undefined });
      expect((await store.intervention(`intervention/${T}/2`))?.configVersion).toBeNull();
    });
  });
}

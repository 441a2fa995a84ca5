import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_BACKENDS } from '../../test/support/stores.ts';
import type { ControlStateWrite, NewIntervention, TreasuryStore } from './store.ts';

const T = 'pstr-main';
const HOUR = 3_600_000;

const control = (o: Partial<ControlStateWrite> = {}): ControlStateWrite => ({
  treasuryId: T, paused: false, pausedBy: null, pauseReason: null, emergencyStop: false, latchedBy: null, latchReason: null,
  latchedAt: null, lastExecutedSwapAt: null, nextSeq: 1, interventionStarts: [], updatedAt: 1_000, ...o,
});
const intervention = (seq: number, o: Partial<NewIntervention> = {}): NewIntervention => ({
  id: `intervention/${T}/${seq}`, treasuryId: T, seq, startedAt: seq * HOUR, status: 'running', decidedPrice: 0.4,
  vwap30: 0.5, drawdown: 0.2, updatedAt: seq * HOUR, ...o,
});

for (const backend of STORE_BACKENDS) {
  describe.skipIf(!backend.available)(`the safety state on ${backend.name}`, () => {
    let store: TreasuryStore;
    beforeEach(async () => {
      store = await backend.throwaway();
    });
    afterEach(async () => {
      await store.close();
    });

    it('has no record for a treasury nobody wrote', async () => {
      expect(await store.controlState(T)).toBeUndefined();
    });

    it('keeps a latch with who, why and when, and counts every write in its version', async () => {
      expect(await store.saveControlState(control())).toEqual({ written: true, version: 1 });
      const latched = control({
        emergencyStop: true, latchedBy: 'alice', latchReason: 'exploit suspected', latchedAt: 2_000, paused: true, pausedBy: 'bob',
        pauseReason: 'maintenance', interventionStarts: [1_500, 1_900], updatedAt: 2_000,
      });
      expect(await store.saveControlState(latched)).toEqual({ written: true, version: 2 });
      expect(await store.controlState(T)).toEqual({ ...latched, version: 2 });
    });

    it('writes the same record again when an activity is retried, and it stays one row', async () => {
      await store.saveControlState(control({ nextSeq: 3 }));
      expect(await store.saveControlState(control({ nextSeq: 3 }))).toEqual({ written: true, version: 2 });
      expect(await store.controlState(T)).toMatchObject({ nextSeq: 3, version: 2 });
      expect(await store.controlState('other')).toBeUndefined();
    });

    it('ignores a write older than the stored one, so a late retry cannot lift a newer latch', async () => {
      await store.saveControlState(control({ emergencyStop: true, latchedBy: 'alice', updatedAt: 5_000 }));
      expect(await store.saveControlState(control({ emergencyStop: false, updatedAt: 4_000 }))).toEqual({ written: false, version: 1 });
      expect(await store.controlState(T)).toMatchObject({ emergencyStop: true, latchedBy: 'alice', updatedAt: 5_000 });
    });

    it('never moves the intervention sequence or the last executed swap backwards', async () => {
      await store.saveControlState(control({ nextSeq: 7, lastExecutedSwapAt: 9_000, updatedAt: 1_000 }));
      await store.saveControlState(control({ nextSeq: 2, lastExecutedSwapAt: 3_000, paused: true, updatedAt: 2_000 }));
      expect(await store.controlState(T)).toMatchObject({ nextSeq: 7, lastExecutedSwapAt: 9_000, paused: true, version: 2 });
      await store.saveControlState(control({ nextSeq: 8, lastExecutedSwapAt: null, updatedAt: 3_000 }));
      expect(await store.controlState(T)).toMatchObject({ nextSeq: 8, lastExecutedSwapAt: 9_000, paused: false, version: 3 });
      await store.saveControlState(control({ nextSeq: 8, lastExecutedSwapAt: 10_000, updatedAt: 4_000 }));
      expect(await store.controlState(T)).toMatchObject({ lastExecutedSwapAt: 10_000 });
    });

    it('tells a fresh monitor the largest sequence, the running rows, the recent starts and the last executed swap', async () => {
      expect(await store.interventionBootstrap(T, 0)).toEqual({ maxSeq: null, lastExecutedAt: null, running: [], startsSince: [] });
      await store.upsertIntervention(intervention(1, { status: 'executed', executedAt: 1 * HOUR + 60_000 }));
      await store.upsertIntervention(intervention(2, { status: 'aborted', executedAt: null }));
      await store.upsertIntervention(intervention(3, { status: 'executed', executedAt: 3 * HOUR + 60_000 }));
      await store.upsertIntervention(intervention(4));
      await store.upsertIntervention(intervention(1, { id: 'intervention/other/1', treasuryId: 'other', seq: 9 }));
      expect(await store.interventionBootstrap(T, 2 * HOUR)).toEqual({
        maxSeq: 4, lastExecutedAt: 3 * HOUR + 60_000, running: [`intervention/${T}/4`], startsSince: [2 * HOUR, 3 * HOUR, 4 * HOUR],
      });
    });
  });
}

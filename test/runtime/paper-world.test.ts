/**
 * Paper worlds that share one store (a restart, or workers on several
 * machines with their own data directories) price one simulated market: the
 * first to start chooses the market's anchor and keeps it in the store.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { TreasuryStore } from '../../src/db/store.ts';
import { buildPaperWorld } from '../../src/runtime/paper-world.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const config = parseConfig({ treasuryId: 'shared-paper', paper: { seedHistoryDays: 1, drawdown: { startInSeconds: 600, depth: 0.2 } } });
const T0 = Date.UTC(2026, 0, 5, 12);
const HOUR = 3_600_000;

for (const backend of STORE_BACKENDS) {
  describe.skipIf(!backend.available)(`paper worlds on one ${backend.name} store`, () => {
    let dir: string;
    let location: string;
    const opened: TreasuryStore[] = [];
    const open = async () => {
      const store = await TreasuryStore.at(location);
      opened.push(store);
      return store;
    };

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pstr-paper-world-'));
      location = await backend.freshLocation(dir);
    });

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    });

    it('give a worker started an hour later on another machine the first worker\'s market, drawdown included', async () => {
      const clock = () => T0 + 2 * HOUR;
      const a = await buildPaperWorld(config, { dataDir: join(dir, 'machine-a'), store: await open(), now: T0, clock });
      const b = await buildPaperWorld(config, { dataDir: join(dir, 'machine-b'), store: await open(), now: T0 + HOUR, clock });
      for (const t of [T0 - HOUR, T0, T0 + 11 * 60_000, T0 + 2 * HOUR]) {
        expect(b.market.pstrPrice(t)).toBe(a.market.pstrPrice(t));
        expect(b.market.pumpPrice(t)).toBe(a.market.pumpPrice(t));
      }
      // The drawdown starts 10 minutes after the FIRST start, for both.
      expect(b.market.pstrPrice(T0 + 20 * 60_000)).toBeLessThan(a.market.pstrPrice(T0 + 5 * 60_000) * 0.9);
      expect(await b.ledger.balances()).toEqual(await a.ledger.balances());
    });

    it('without a shared anchor two worlds would differ: a later first start moves the market', async () => {
      const a = await buildPaperWorld(config, { dataDir: join(dir, 'a'), store: await open(), now: T0 });
      const other = await backend.freshLocation(join(dir, 'other'));
      const otherStore = await TreasuryStore.at(other);
      opened.push(otherStore);
      const c = await buildPaperWorld(config, { dataDir: join(dir, 'c'), store: otherStore, now: T0 + HOUR });
      expect(c.market.pstrPrice(T0 + 20 * 60_000)).not.toBe(a.market.pstrPrice(T0 + 20 * 60_000));
    });

    it('honours the anchor file an older version wrote in the data directory, and then keeps it in the store', async () => {
      const legacyDir = join(dir, 'legacy');
      const first = await buildPaperWorld(config, { dataDir: legacyDir, store: await open(), now: T0 });
      // An older store: no anchor on the init entry, the anchor in a file instead.
      const fileDir = join(dir, 'file-only');
      const fresh = await backend.freshLocation(join(dir, 'fresh'));
      const freshStore = await TreasuryStore.at(fresh);
      opened.push(freshStore);
      mkdirSync(fileDir, { recursive: true });
      writeFileSync(join(fileDir, `paper-market-${config.treasuryId}.json`), JSON.stringify({ originMs: T0, drawdownStartMs: T0 + 600_000 }));
      const fromFile = await buildPaperWorld(config, { dataDir: fileDir, store: freshStore, now: T0 + 5 * HOUR });
      expect(fromFile.market.pstrPrice(T0 + 20 * 60_000)).toBe(first.market.pstrPrice(T0 + 20 * 60_000));
      const again = await buildPaperWorld(config, { dataDir: join(dir, 'elsewhere'), store: freshStore, now: T0 + 9 * HOUR });
      expect(again.market.pstrPrice(T0 + 20 * 60_000)).toBe(first.market.pstrPrice(T0 + 20 * 60_000));
    });
  });
}

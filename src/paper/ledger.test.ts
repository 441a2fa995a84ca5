import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';
import { STORE_BACKENDS } from '../../test/support/stores.ts';
import { TreasuryStore } from '../db/store.ts';
import { positionValue, rangeAround } from '../domain/liquidity.ts';
import type { SwapChildArgs } from './fixtures/swap-child.ts';
import { PaperLedger } from './ledger.ts';
import type { PaperLedgerOptions } from './ledger.ts';
import { SimulatedMarket } from './market.ts';

const T = 'pstr-main';
const SEED = 7;
const ORIGIN = Date.UTC(2025, 5, 1, 12);
const NOW = ORIGIN + 5 * 60_000;
const PUMP = 1_000_000n; // base units per whole token (6 decimals)
const config = parseConfig({ treasury: { initial: { pump: '20000000', usdc: '900000', sol: '10' } } });
const market = new SimulatedMarket({ seed: SEED, originMs: ORIGIN });

let dir: string;
/** The store's SQLite file or PostgreSQL URL: a second connection opens the same store. */
let location: string;
let store: TreasuryStore;

async function ledgerOn(s: TreasuryStore, o: Partial<PaperLedgerOptions> = {}): Promise<PaperLedger> {
  const ledger = new PaperLedger(s, { treasuryId: T, config, market, clock: () => NOW, ...o });
  await ledger.initialize();
  return ledger;
}

/** PSTR out for `pumpIn` at the market price, computed here from the prices (whole tokens), not by the ledger. */
function marketFill(pumpIn: bigint, t = NOW): number {
  return ((Number(pumpIn) / 1e6) * market.pumpPrice(t)) / market.pstrPrice(t);
}

const swapReq = (o: Partial<{ interventionId: string; slice: number; pumpIn: bigint; minPstrOut: bigint }> = {}) => ({
  interventionId: `intervention/${T}/1`, slice: 0, pumpIn: 2_000_000n * PUMP, minPstrOut: 0n, ...o,
});

for (const backend of STORE_BACKENDS) {
  describe.skipIf(!backend.available)(`on ${backend.name}`, () => {
    beforeEach(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paper-ledger-'));
      location = await backend.freshLocation(dir);
      store = await TreasuryStore.at(location);
    });

    afterEach(async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    describe('PaperLedger.initialize', () => {
      it('creates the balances from config.treasury.initial in base units, with nothing retired', async () => {
        const b = await (await ledgerOn(store)).balances();
        expect(b).toMatchObject({ pump: 20_000_000n * PUMP, usdc: 900_000n * 1_000_000n, sol: 10n * 1_000_000_000n, pstrRetired: 0n });
      });

      it('opens each pool with its SPEC §8 budget at the market price: 60 000 USD in SOL/PSTR, 40 000 in USDC/PSTR', async () => {
        const ledger = await ledgerOn(store);
        const positions = await ledger.positions();
        expect(positions.map((p) => [p.pool, p.quote])).toEqual([['SOL/PSTR', 'SOL'], ['USDC/PSTR', 'USDC']]);
        const sol = positions[0];
        const poolPrice = market.pstrPrice(NOW) / market.solPrice(NOW);
        expect(sol?.range.center).toBeCloseTo(poolPrice, 15);
        expect(sol?.range.upper).toBeCloseTo(poolPrice * 1.1, 15);
        expect(positionValue(sol?.liquidity ?? NaN, sol?.range ?? rangeAround(1, 0.1), poolPrice) * market.solPrice(NOW)).toBeCloseTo(60_000, 6);
        expect((sol?.entryBase ?? NaN) * poolPrice + (sol?.entryQuote ?? NaN)).toBeCloseTo(60_000 / market.solPrice(NOW), 6);
        expect((await ledger.balances()).lpValueUsd).toBeCloseTo(100_000, 6);
      });

      it('is idempotent: a second call, or a second ledger, changes nothing', async () => {
        const ledger = await ledgerOn(store);
        await ledger.swap(swapReq());
        const before = await ledger.balances();
        const later = new PaperLedger(store, { treasuryId: T, config, market, clock: () => NOW + 3_600_000 });
        expect(await later.initialize()).toBe(false);
        expect(await ledger.initialize()).toBe(false);
        expect(await ledger.balances()).toEqual(before);
        expect((await ledger.entries()).map((e) => e.kind)).toEqual(['init', 'swap']);
      });

      it('refuses to report balances before it is initialized', async () => {
        const ledger = new PaperLedger(store, { treasuryId: 'other', config, market, clock: () => NOW });
        await expect(ledger.balances()).rejects.toThrow(/'other': no balances yet; call initialize/);
      });
    });

    describe('PaperLedger.quote', () => {
      it('fills at the market price, rounded down, without moving anything', async () => {
        const ledger = await ledgerOn(store);
        const q = await ledger.quote(1_000n * PUMP);
        expect(Number(q) / 1e6).toBeCloseTo(marketFill(1_000n * PUMP), 5);
        expect(Number(q) / 1e6).toBeLessThanOrEqual(marketFill(1_000n * PUMP));
        expect((await ledger.balances()).pump).toBe(20_000_000n * PUMP);
      });

      it('fills worse in a constant-product pool, by in / (reserveIn + in)', async () => {
        const ledger = await ledgerOn(store, { poolDepthUsd: 100_000 });
        const pumpIn = 2_000_000n * PUMP; // 10 000 USD into a pool with 50 000 USD of PUMP
        const reserveTokens = 50_000 / market.pumpPrice(NOW);
        const expected = marketFill(pumpIn) * (reserveTokens / (reserveTokens + 2_000_000));
        expect(Number(await ledger.quote(pumpIn)) / 1e6 / expected).toBeCloseTo(1, 6);
      });
    });

    describe('PaperLedger.swap', () => {
      it('moves the funds once for the same request, however often it is made', async () => {
        const ledger = await ledgerOn(store);
        const first = await ledger.swap(swapReq());
        expect(first).toMatchObject({ status: 'confirmed', alreadyDone: false, pumpIn: 2_000_000n * PUMP, reference: `swap/intervention/${T}/1/0` });
        expect(Number(first.pstrOut) / 1e6).toBeCloseTo(marketFill(2_000_000n * PUMP), 4);
        const second = await ledger.swap(swapReq());
        expect(second).toEqual({ ...first, alreadyDone: true });
        const b = await ledger.balances();
        expect(b.pump).toBe(18_000_000n * PUMP);
        expect(b.pstrRetired).toBe(first.pstrOut);
        expect(await ledger.swapCount()).toBe(1);
      });

      it('treats another slice of the same intervention as another swap', async () => {
        const ledger = await ledgerOn(store);
        await ledger.swap(swapReq({ slice: 0 }));
        await ledger.swap(swapReq({ slice: 1 }));
        expect(await ledger.swapCount()).toBe(2);
        expect((await ledger.balances()).pump).toBe(16_000_000n * PUMP);
      });

      it('fails and moves nothing when the fill is below the floor, and records nothing so a retry may succeed', async () => {
        const ledger = await ledgerOn(store);
        const fill = await ledger.quote(2_000_000n * PUMP);
        const refused = await ledger.swap(swapReq({ minPstrOut: fill + 1n }));
        expect(refused).toMatchObject({ status: 'failed', pstrOut: 0n, alreadyDone: false });
        expect(refused.error).toMatch(/^quote below the slippage floor: /);
        expect((await ledger.balances()).pump).toBe(20_000_000n * PUMP);
        expect(await ledger.swapCount()).toBe(0);
        expect(await ledger.swap(swapReq({ minPstrOut: fill }))).toMatchObject({ status: 'confirmed', pstrOut: fill });
      });

      it('fails with a clear error and moves nothing when PUMP is short', async () => {
        const ledger = await ledgerOn(store);
        const result = await ledger.swap(swapReq({ pumpIn: 20_000_001n * PUMP }));
        expect(result).toMatchObject({ status: 'failed', pstrOut: 0n });
        expect(result.error).toBe('PUMP balance 20000000 is short of the 20000001 PUMP needed; nothing moved');
        expect((await ledger.balances()).pump).toBe(20_000_000n * PUMP);
        expect(await ledger.swapCount()).toBe(0);
      });

      it('moves the funds once when two ledgers race the same request through the latency', async () => {
        const a = await ledgerOn(store, { swapDelayMs: 50 });
        const other = await TreasuryStore.at(location);
        try {
          const b = await ledgerOn(other, { swapDelayMs: 50 });
          const results = await Promise.all([a.swap(swapReq()), b.swap(swapReq())]);
          expect(results.map((r) => r.alreadyDone).sort()).toEqual([false, true]);
          expect(results[0]?.pstrOut).toBe(results[1]?.pstrOut);
          expect((await a.balances()).pump).toBe(18_000_000n * PUMP);
          expect(await a.swapCount()).toBe(1);
        } finally {
          await other.close();
        }
      });

      it('shows the same balances and the done swap to a fresh ledger on the reopened file', async () => {
        const ledger = await ledgerOn(store);
        const done = await ledger.swap(swapReq());
        const before = await ledger.balances();
        await store.close();
        store = await TreasuryStore.at(location);
        const reopened = new PaperLedger(store, { treasuryId: T, config, market, clock: () => NOW + 60_000 });
        expect(await reopened.initialize()).toBe(false);
        expect(await reopened.balances()).toEqual({ ...before, lpValueUsd: (await reopened.balances()).lpValueUsd });
        expect(await reopened.swap(swapReq())).toEqual({ ...done, alreadyDone: true });
        expect(await reopened.swapCount()).toBe(1);
      });

      it('refuses a malformed request, naming the field', async () => {
        const ledger = await ledgerOn(store);
        await expect(ledger.swap(swapReq({ pumpIn: 0n }))).rejects.toThrow(/pumpIn must be a bigint > 0, got 0/);
        await expect(ledger.swap(swapReq({ slice: -1 }))).rejects.toThrow(/slice must be an integer ≥ 0, got -1/);
        await expect(ledger.swap(swapReq({ interventionId: '' }))).rejects.toThrow(/interventionId/);
      });
    });

    describe('PaperLedger swap across a crash', () => {
      const fixture = fileURLToPath(new URL('./fixtures/swap-child.ts', import.meta.url));
      const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

      function runChild(args: SwapChildArgs, killAfterReadyMs?: number): Promise<{ code: number | null; signal: string | null; stdout: string }> {
        return new Promise((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify(args)], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => {
            stdout += chunk.toString();
            if (killAfterReadyMs !== undefined && stdout.includes('ready\n')) setTimeout(() => child.kill('SIGKILL'), killAfterReadyMs);
          });
          child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
          child.on('error', reject);
          child.on('exit', (code, signal) => (code !== 0 && signal === null ? reject(new Error(`child failed (${code}): ${stderr}`)) : resolve({ code, signal, stdout })));
        });
      }

      const childArgs = (swapDelayMs: number): SwapChildArgs => ({
        location, treasuryId: T, seed: SEED, originMs: ORIGIN, clockMs: NOW, initialPump: '20000000', swapDelayMs,
        request: { interventionId: `intervention/${T}/1`, slice: 0, pumpIn: (2_000_000n * PUMP).toString(), minPstrOut: '0' },
      });

      it('swaps exactly once when the process is killed during the swap latency and the swap is retried', async () => {
        const ledger = await ledgerOn(store);
        const child = await runChild(childArgs(5_000), 300);
        expect(child.signal).toBe('SIGKILL');
        expect(child.stdout).toBe('ready\n');
        expect(await ledger.swapCount()).toBe(0);
        expect((await ledger.balances()).pump).toBe(20_000_000n * PUMP);

        const retried = await ledger.swap(swapReq());
        expect(retried).toMatchObject({ status: 'confirmed', alreadyDone: false });
        expect(await ledger.swap(swapReq())).toMatchObject({ status: 'confirmed', alreadyDone: true });
        expect(await ledger.swapCount()).toBe(1);
        const b = await ledger.balances();
        expect(b.pump).toBe(18_000_000n * PUMP);
        expect(b.pstrRetired).toBe(retried.pstrOut);
      }, 30_000);

      it('finds the swap another process completed and moves nothing more', async () => {
        const ledger = await ledgerOn(store);
        const child = await runChild(childArgs(0));
        expect(child.code).toBe(0);
        const childResult = JSON.parse(child.stdout.split('\n')[1] ?? '') as { status: string; alreadyDone: boolean; pstrOut: string };
        expect(childResult).toMatchObject({ status: 'confirmed', alreadyDone: false });
        const retried = await ledger.swap(swapReq());
        expect(retried).toMatchObject({ status: 'confirmed', alreadyDone: true, pstrOut: BigInt(childResult.pstrOut) });
        expect(await ledger.swapCount()).toBe(1);
        expect((await ledger.balances()).pump).toBe(18_000_000n * PUMP);
      }, 30_000);
    });

    describe('PaperLedger.accumulate', () => {
      const req = { key: `accumulation/${T}/2025-06-01T12`, usdcIn: 102_739_726n, minPumpOut: 0n };

      it('buys PUMP with USDC at the market price once per key', async () => {
        const ledger = await ledgerOn(store);
        const first = await ledger.accumulate(req);
        expect(first).toMatchObject({ applied: true, alreadyDone: false, usdcIn: req.usdcIn });
        expect(Number(first.pumpOut) / 1e6).toBeCloseTo(102.739726 / market.pumpPrice(NOW), 5);
        const second = await ledger.accumulate(req);
        expect(second).toEqual({ ...first, alreadyDone: true });
        const b = await ledger.balances();
        expect(b.usdc).toBe(900_000n * 1_000_000n - req.usdcIn);
        expect(b.pump).toBe(20_000_000n * PUMP + first.pumpOut);
        expect((await ledger.entries()).filter((e) => e.kind === 'accumulation')).toHaveLength(1);
      });

      it('refuses, moving and recording nothing, when USDC is short or the fill is below the floor', async () => {
        const ledger = await ledgerOn(store);
        const short = await ledger.accumulate({ ...req, usdcIn: 900_001n * 1_000_000n });
        expect(short).toMatchObject({ applied: false, pumpOut: 0n, usdcIn: 0n });
        expect(short.error).toBe('USDC balance 900000 is short of the 900001 USDC needed; nothing moved');
        const floor = await ledger.accumulate({ ...req, minPumpOut: 1_000_000n * PUMP });
        expect(floor.applied).toBe(false);
        expect(floor.error).toMatch(/^fill below the floor/);
        expect((await ledger.balances()).usdc).toBe(900_000n * 1_000_000n);
        expect((await ledger.entries()).map((e) => e.kind)).toEqual(['init']);
      });
    });

    describe('PaperLedger.rebalance', () => {
      it('re-centers a pool keeping its value, once per UTC day', async () => {
        const ledger = await ledgerOn(store);
        const at = NOW + 3_600_000;
        const poolPrice = market.pstrPrice(at) / market.solPrice(at);
        const [before] = await ledger.positions();
        const newRange = rangeAround(poolPrice * 0.97, 0.1);
        const result = await ledger.rebalance('SOL/PSTR', newRange, at);
        expect(result).toMatchObject({ applied: true, alreadyDone: false, reference: 'rebalance/SOL/PSTR/2025-06-01' });
        const after = result.position;
        expect(after.range).toEqual(newRange);
        expect(after).toMatchObject({ rebalances: 1, lastRebalanceAt: at });
        expect(positionValue(after.liquidity, after.range, poolPrice))
          .toBeCloseTo(positionValue(before?.liquidity ?? NaN, before?.range ?? newRange, poolPrice), 9);

        const again = await ledger.rebalance('SOL/PSTR', rangeAround(poolPrice, 0.1), at + 60_000);
        expect(again).toMatchObject({ applied: false, alreadyDone: true });
        expect((await ledger.positions())[0]).toEqual(after);

        const nextDay = await ledger.rebalance('SOL/PSTR', rangeAround(poolPrice, 0.1), at + 86_400_000);
        expect(nextDay.position.rebalances).toBe(2);
        expect((await ledger.entries()).filter((e) => e.kind === 'rebalance')).toHaveLength(2);
      });

      it('refuses an unknown pool and records nothing', async () => {
        const ledger = await ledgerOn(store);
        await expect(ledger.rebalance('BONK/PSTR', rangeAround(1, 0.1), NOW)).rejects.toThrow(/no liquidity position in pool 'BONK\/PSTR'/);
        expect((await ledger.entries()).map((e) => e.kind)).toEqual(['init']);
      });
    });
  });
}

/**
 * A real store (a SQLite file, and a PostgreSQL database) holding a small recorded period (the rows of
 * src/report/figures.test.ts, written the way the agent writes them) →
 * the reportInputs activity → the workflow's figures, which must equal the
 * values computed by hand there.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { reportActivities, type ReportInputs } from '../../src/activities/report.ts';
import { defaultConfig, mergeConfig } from '../../src/config-schema.ts';
import { TreasuryStore } from '../../src/db/store.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import type { PositionView } from '../../src/ports.ts';
import { operatorReportLines } from '../../src/client/commands-monitor.ts';
import { operatorReportOf, type OperatorReport } from '../../src/workflows/report.ts';

const T = 'pstr-main';
const F = Date.UTC(2025, 2, 1);
const MIN = 60_000;
const H = 3_600_000;
const D = 86_400_000;
const NOW = F + 3 * D + 12 * H;

// Budget 1,000,000 × 0.9 / 375 = 2,400 USD a day, 100 an hour.
const config = mergeConfig(defaultConfig(), { treasuryId: T, strategy: { accumulationPeriodDays: 375 } });
const usdc = (whole: number) => BigInt(Math.round(whole * 10 ** config.tokens.usdc.decimals));

const positions: PositionView[] = [
  // Never rebalanced: its current range covers the whole period.
  { pool: 'USDC/PSTR', quote: 'USDC', liquidity: 10, lower: 81, upper: 121, center: 100, entryBase: 1 / 11, entryQuote: 10, lastRebalanceAt: null, rebalances: 0 },
  // Re-centred at F + 1 h; the ledger's rebalance entry says from which range.
  { pool: 'SOL/PSTR', quote: 'SOL', liquidity: 1, lower: 2.25, upper: 3.24, center: 2.7, entryBase: 5 / 153, entryQuote: 0.2, lastRebalanceAt: F + H, rebalances: 1 },
];

function cycleLog(n: number, at: number, consensus: number | null, vwap30: number | null, readings: [string, number][]) {
  const cycleId = `${T}/${n}`;
  return {
    treasuryId: T, cycleId, at,
    data: {
      summary: { cycleId, at, validPrice: consensus !== null, consensusPrice: consensus, vwap30 },
      balances: null,
      consensus: { ok: consensus !== null, readings: readings.map(([source, price]) => ({ source, price, confidence: 0.1, publishTime: at })) },
      decision: null, emergency: { latched: false, entered: false }, alerts: [],
    },
  };
}

async function record(store: TreasuryStore): Promise<void> {
  const snap = (id: string, at: number, value: number, rr: number, health: number) => store.recordSnapshot({
    treasuryId: T, snapshotId: id, at, pumpBalance: 1000n * 10n ** BigInt(config.tokens.pump.decimals), usdcBalance: usdc(100), solBalance: 0n,
    pstrRetired: 0n, treasuryValueUsd: value, marketCapUsd: value / rr, reserveRatio: rr, pumpConcentration: 0.5, health, healthLevel: 'good', emergencyStop: false,
  });
  await snap('s1', F + 10 * MIN, 1000, 2.0, 1.2);
  await snap('s2', F + 50 * MIN, 1100, 3.0, 1.6);
  await snap('s3', F + D + H, 990, 1.5, 0.9);
  await snap('s4', F + 3 * D + 2 * H, 1210, 2.5, 1.3);

  for (const l of [
    cycleLog(1, F + 10 * MIN, 100, 110, [['pyth', 101], ['switchboard', 98], ['dex', 100]]),
    cycleLog(2, F + 50 * MIN, 130, 120, [['pyth', 123.5], ['switchboard', 132.6], ['dex', 0]]),
    cycleLog(3, F + D + 30 * MIN, null, null, [['pyth', 500]]),
    cycleLog(4, F + 3 * D + 2 * H, 121, 60, [['pyth', 121], ['switchboard', 127.05], ['dex', 108.9]]),
  ]) await store.recordMonitoringLog(l);

  const sample = (id: string, timestamp: number, pstrPrice: number, solPrice: number | null, pumpPrice: number) =>
    store.recordPriceSample({ treasuryId: T, cycleId: id, timestamp, pstrPrice, pstrVolume: 1, pumpPrice, solPrice, consensus: {} });
  await sample('p0', F + 5 * MIN, 100, null, 1.0);
  await sample('p1', F + 10 * MIN, 100, 50, 1.0);
  await sample('p2', F + 50 * MIN, 130, 50, 1.1);
  await sample('p3', F + 3 * D + 2 * H, 121, 47.265625, 0.9);

  const iv = async (seq: number, startedAt: number, status: 'executed' | 'invalidated', roi: number | null | undefined) => {
    const id = `intervention/${T}/${seq}`;
    await store.upsertIntervention({ id, treasuryId: T, seq, startedAt, status, decidedPrice: 100, vwap30: 125, drawdown: 0.2, updatedAt: startedAt, executedAt: status === 'executed' ? startedAt : null, usdValue: 50 });
    if (roi !== undefined) await store.recordInterventionStep({ interventionId: id, step: 'track:168h', treasuryId: T, at: startedAt + 7 * D, inputs: {}, outcome: { price: 1, roi }, verdict: 'ROI' });
  };
  await iv(0, F - D, 'executed', -0.5);
  await iv(1, F + H, 'executed', 0.1);
  await iv(2, F + 2 * H, 'executed', -0.05);
  await iv(3, F + D, 'invalidated', undefined);
  await iv(4, F + 3 * D, 'executed', undefined);

  const run = async (at: number, bought: boolean, skip: string | null, spent?: number) => {
    const hour = new Date(at).toISOString().slice(0, 13);
    await store.recordMonitoringLog({ treasuryId: T, cycleId: `accumulation/${hour}`, at, data: { job: 'accumulation', bought, reason: bought ? 'hourly budget' : `skipped: ${skip}`, skip, running: true } });
    if (spent !== undefined) {
      await store.query((db, t) => db.insert(t.ledgerEntries).values({
        treasuryId: T, entryKey: `accumulation/${T}/${hour}`, at, kind: 'accumulation', pumpDelta: 1n, usdcDelta: -usdc(spent), solDelta: 0n, pstrDelta: 0n, price: 1, details: {},
      }));
    }
  };
  await run(F + H, true, null);
  await run(F + 2 * H, true, null, 99.5);
  await run(F + 3 * H, false, 'usdc');
  await run(F + 3 * D + H, true, null);
  await run(F + 3 * D + 2 * H, false, 'concentration');
  await run(F + 3 * D + 3 * H, true, null, 100);

  await store.query((db, t) => db.insert(t.ledgerEntries).values({
    treasuryId: T, entryKey: 'rebalance/SOL/PSTR/2025-03-01', at: F + H, kind: 'rebalance', pumpDelta: 0n, usdcDelta: 0n, solDelta: 0n, pstrDelta: 0n, price: 2.7,
    details: { pool: 'SOL/PSTR', from: { lower: 1.8, upper: 2.2, center: 2 }, to: { lower: 2.25, upper: 3.24, center: 2.7 }, valueInQuote: 1 },
  }));
}

let dir: string;
let store: TreasuryStore;
let inputs: ReportInputs;
let report: OperatorReport;

for (const backend of STORE_BACKENDS) {
  describe.skipIf(!backend.available)(`on ${backend.name}`, () => {
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-store-'));
      store = await TreasuryStore.at(await backend.freshLocation(dir));
      await record(store);
      const liquidity = { positions: () => Promise.resolve(positions), rebalance: () => Promise.resolve({ applied: false }) };
      // Outside an activity the activity's clock is Date.now(): pin it to the end of the period.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(NOW);
      inputs = await reportActivities({ store, config, liquidity }).reportInputs({ treasuryId: T, days: 3.5, maxPoints: 100 });
      vi.useRealTimers();
      report = operatorReportOf(inputs, config);
    });

    afterAll(async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    describe('the report from a recorded store', () => {
      it('reads the period, hourly buckets and the balances as strings', () => {
        expect([inputs.from, inputs.to, inputs.bucketMs]).toEqual([F, NOW, H]);
        expect(inputs.holdings).toEqual({ pump: (1000n * 10n ** BigInt(config.tokens.pump.decimals)).toString(), usdc: usdc(100).toString(), sol: '0', pstrRetired: '0' });
        expect(inputs.dailyValues).toEqual([{ day: '2025-03-01', value: 1100 }, { day: '2025-03-02', value: 990 }, { day: '2025-03-04', value: 1210 }]);
        expect(inputs.accumulation.map((r) => r.usdcSpent)).toEqual([null, usdc(99.5).toString(), null, null, null, usdc(100).toString()]);
        expect(JSON.parse(JSON.stringify(inputs))).toEqual(inputs); // crosses Temporal as JSON unchanged
      });

      it('gives the hand-computed intervention and performance figures', () => {
        const f = report.figures;
        // i/0 started before the period; settled i/1 (success), i/2, i/3 → 1/3; i/4 awaits its 7-day ROI.
        expect(f.interventions).toEqual({ count: 4, byStatus: { executed: 3, invalidated: 1 }, successRate: 1 / 3, awaitingRoi: 1 });
        // Daily closes 1100, 990, 1210 (03-03 missing): growth 1.1^10 − 1, Sharpe 11·√365/(29·√2), drawdown 0.1.
        expect(f.performance.growth30d).toBeCloseTo(1.5937424601, 9);
        expect(f.performance.sharpe).toBeCloseTo(5.124201, 5);
        expect(f.performance.maxDrawdown).toBeCloseTo(0.1, 12);
      });

      it('gives the hand-computed trends and oracle deviations', () => {
        const f = report.figures;
        expect(f.treasury.reserveRatio).toEqual({ start: 2, end: 2.5, change: 0.5, min: 1.5, max: 3, mean: 2.25, samples: 4 });
        expect(f.treasury.health?.mean).toBeCloseTo(1.25, 12);
        expect(f.treasury.healthLevel).toBe('good');
        // dex 0.05 / 0.1, pyth 0.02 / 0.05, switchboard 0.03 / 0.05 (mean / max).
        expect(f.oracle.map((o) => [o.source, o.readings, Number(o.mean.toFixed(12)), Number(o.max.toFixed(12))]))
          .toEqual([['dex', 2, 0.05, 0.1], ['pyth', 3, 0.02, 0.05], ['switchboard', 3, 0.03, 0.05]]);
        expect(f.period).toMatchObject({ cycles: 4, validCycles: 3 });
      });

      it('gives the hand-computed accumulation progress, with the ledger’s fills where it has them', () => {
        const a = report.figures.accumulation;
        expect(a.dailyBudgetUsd).toBe(2400);
        expect(a.today).toEqual({ day: '2025-03-04', usd: 200, buys: 2, runs: 3, shareOfBudget: 200 / 2400 });
        expect(a.period).toEqual({ days: 2, usd: 399.5, buys: 4, budgetUsd: 4800, shareOfBudget: 399.5 / 4800, skipped: { usdc: 1, concentration: 1 } });
      });

      it('gives the hand-computed in-range shares and impermanent losses, with the range history from the ledger', () => {
        const [u, s] = report.figures.liquidity;
        expect(u).toMatchObject({ pool: 'USDC/PSTR', samples: 4, inRangeShare: 0.75 });
        expect(u?.impermanentLoss).toBeCloseTo(20 / 21 - 1, 12);
        expect(s).toMatchObject({ pool: 'SOL/PSTR', samples: 3 });
        expect(s?.inRangeShare).toBeCloseTo(2 / 3, 12);
        expect(s?.impermanentLoss).toBeCloseTo(765 / 781.2 - 1, 9);
      });

      it('says the store holds too little history for VaR and volatility', () => {
        // Closes: 03-01 (PUMP 1.1) and 03-04 (PUMP 0.9): one return, 30 needed; one log return gives no stdev.
        expect(report.figures.risk).toEqual({ var: { kind: 'insufficient history', returns: 1, needed: 30 }, volatility: null, marketRisk: 'insufficient history', closeDays: 2 });
      });

      it('carries the chart series and the interventions of the period', () => {
        expect(report.series.t).toEqual([F, F + 24 * H, F + 25 * H, F + 74 * H].map((t) => t / 1000));
        expect(report.series.valueUsd).toEqual([1100, null, 990, 1210]);
        expect(report.interventions.map((i) => i.id)).toEqual([1, 2, 3, 4].map((n) => `intervention/${T}/${n}`));
      });
    });

    describe('the report as text (client.ts report)', () => {
      it('prints every figure', () => {
        const text = operatorReportLines('report/x', report).join('\n');
        expect(text).toContain('interventions 4 (3 executed, 1 invalidated) · success rate 33.33 % · 1 awaiting 7-day ROI');
        expect(text).toContain('treasury value 1,210.00 USD · 30-day growth 159.37 % · Sharpe 5.124 · max drawdown 10.00 %');
        expect(text).toContain('VaR95/ES95: insufficient history (1 of 30 daily returns)');
        expect(text).toContain('reserve ratio 2.50 (from 2.00, min 1.50, mean 2.25) · health 1.30 (from 1.20, min 0.90, mean 1.25) good');
        expect(text).toContain('dex mean 5.000 % max 10.000 % (2)');
        expect(text).toContain('accumulation today 200.00 USD of 2,400.00 USD (8.33 %) · period 399.50 USD of 4,800.00 USD (8.32 %), 4 buys over 2 day(s); skipped: 1 usdc, 1 concentration');
        expect(text).toContain('USDC/PSTR: in range 75.00 % of 4 samples · impermanent loss -4.76 % · 0 rebalance(s)');
      });
    });
  });
}

describe('a month of 5-minute cycles', () => {
  it('crosses Temporal in well under the 512 KB payload warning', async () => {
    const big = TreasuryStore.open(':memory:');
    try {
      const start = NOW - 30 * D;
      await big.transaction(async () => {
        for (let i = 0; i < 30 * 288; i++) {
          const at = start + i * 5 * MIN;
          const p = 0.0002 * (1 + 0.1 * Math.sin(i / 50));
          await big.recordMonitoringLog(cycleLog(i, at, p, p * 1.01, [['pyth', p * 1.001], ['switchboard', p * 0.998], ['dex', p * 1.0003]]));
          await big.recordPriceSample({ treasuryId: T, cycleId: `${T}/${i}`, timestamp: at, pstrPrice: p, pstrVolume: 1, pumpPrice: 0.004, solPrice: 150, consensus: {} });
          await big.recordSnapshot({
            treasuryId: T, snapshotId: `${i}`, at, pumpBalance: 1n, usdcBalance: 1n, solBalance: 0n, pstrRetired: 0n, treasuryValueUsd: 900_000 + i,
            marketCapUsd: 300_000, reserveRatio: 3 + i / 1e4, pumpConcentration: 0.5, health: 1.5 + i / 1e5, healthLevel: 'excellent', emergencyStop: false,
          });
        }
      });
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(NOW);
      const month = await reportActivities({ store: big, config, liquidity: null }).reportInputs({ treasuryId: T, days: 30 });
      vi.useRealTimers();
      const bytes = JSON.stringify(month).length;
      expect(month.buckets.length).toBeLessThanOrEqual(400);
      expect(bytes).toBeLessThan(512 * 1024);
      const f = operatorReportOf(month, config).figures;
      expect(f.period.cycles).toBe(30 * 288);
      expect(f.oracle.find((o) => o.source === 'switchboard')?.max).toBeCloseTo(0.002 / 1, 9);
    } finally {
      vi.useRealTimers();
      await big.close();
    }
  });
});

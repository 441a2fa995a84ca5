/**
 * Backtest scenarios written by hand from SPEC.md: each price path is built so
 * the expected decisions (times, tiers, statuses) follow from the rules alone.
 * Hourly rows, liquidity off, USDC short of nothing, PSTR at 1 USD unless said.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig, type ConfigInput } from '../config.ts';
import { runBacktest } from './engine.ts';
import type { PriceRow } from './types.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);
const iso = (h: number) => new Date(T0 + h * HOUR).toISOString();

/** Hourly rows for `hours` hours; `pstr(h)` overrides the PSTR price at hour h (default 1). */
function hourly(hours: number, pstr: (h: number) => number = () => 1, pump: (h: number) => number = () => 1): PriceRow[] {
  return Array.from({ length: hours }, (_, h) => ({
    timestamp: T0 + h * HOUR, pstrPrice: pstr(h), pstrVolume: 1000, pumpPrice: pump(h), solPrice: 150, line: h + 2,
  }));
}

const config = (over: ConfigInput = {}) =>
  parseConfig({
    liquidity: { enabled: false },
    // 1,000,000 PUMP at 1 USD + 900,000 USDC against 100,000 PSTR at 1 USD: RR ≈ 19, far from every RR rule.
    treasury: { initial: { pump: '1000000', usdc: '900000' }, pstrCirculatingSupply: '100000' },
    ...over,
  });

/** PSTR at `low` during the given hours, 1 otherwise. */
const dips = (low: number, ...ranges: [number, number][]) => (h: number) => (ranges.some(([a, b]) => h >= a && h <= b) ? low : 1);

describe('backtest scenarios', () => {
  it('does not intervene during the 7-day warm-up, then intervenes at the first trigger after it', () => {
    // A 40 % dip on day 3 (hours 72–73) is ignored: warming up. The same dip on day 10 (hours 240–241) acts:
    // VWAP = (238·1 + 3·0.6) / 241 ≈ 0.995, drawdown ≈ 0.397 → tier 3.
    const r = runBacktest(hourly(24 * 12, dips(0.6, [72, 73], [240, 241])), config());
    const s = r.summary;
    expect(s.interventions.map((i) => [i.decidedAt, i.status, i.tier])).toEqual([[iso(240), 'executed', 3]]);
    // Above the 10,000 USD timelock threshold: auto-approved after 60 min, swapped at the next hourly row.
    expect(s.interventions[0]?.executedAt).toBe(iso(241));
  });

  it('sizes tier 1, 2 and 3 at 10 %, 25 % and 40 % of the PUMP balance', () => {
    // Three dips 3 days apart, each past the 48 h cooldown; VWAP ≈ 1 (a few low rows barely move it).
    const r = runBacktest(hourly(24 * 20, dips(0.84, [200, 201]), ), config());
    const r2 = runBacktest(hourly(24 * 20, dips(0.79, [200, 201])), config());
    const r3 = runBacktest(hourly(24 * 20, dips(0.69, [200, 201])), config());
    expect([r, r2, r3].map((x) => [x.summary.interventions[0]?.tier, x.summary.interventions[0]?.fraction])).toEqual([
      [1, 0.1],
      [2, 0.25],
      [3, 0.4],
    ]);
    // 10 % of the PUMP held at hour 200: 1,000,000 + 201 hourly buys of 102.739726 USD at 1 USD each.
    const held = 1_000_000 + 201 * 102.739726;
    expect(Number(r.summary.interventions[0]?.pumpSpent)).toBeCloseTo(held * 0.1, 4);
    expect(Number(r.summary.interventions[0]?.pstrBought)).toBeCloseTo((held * 0.1) / 0.84, 3);
  });

  it('does not intervene below a 15 % drawdown', () => {
    const r = runBacktest(hourly(24 * 12, dips(0.86, [240, 250])), config());
    expect(r.summary.interventions).toEqual([]);
  });

  it('keeps the 48-hour cooldown from the last executed swap: 47 h later nothing, 49 h later it intervenes', () => {
    // First trigger at hour 240 swaps at 241. A dip at 240+47 (46 h after the swap) is ignored;
    // one at 240+49 (48 h after the swap) starts the second intervention.
    const r = runBacktest(hourly(24 * 16, dips(0.7, [240, 241], [287, 288], [289, 290])), config());
    expect(r.summary.interventions.map((i) => [i.decidedAt, i.status])).toEqual([
      [iso(240), 'executed'],
      [iso(289), 'executed'],
    ]);
  });

  it('counts an invalidated intervention against the trailing-24-hour limit', () => {
    // One low row at hour 240: the price is back at 1 when the timelock ends → invalidated.
    // Another dip 5 hours later is blocked by the daily limit; one 25 h after the first start acts.
    const r = runBacktest(hourly(24 * 14, dips(0.7, [240, 240], [245, 246], [265, 266])), config());
    expect(r.summary.interventions.map((i) => [i.decidedAt, i.status, i.executedAt])).toEqual([
      [iso(240), 'invalidated', null],
      [iso(265), 'executed', iso(266)],
    ]);
    expect(r.summary.interventions[0]?.reason).toMatch(/recovered above the trigger during the timelock/);
  });

  it('swaps at once, with no timelock, when the intervention is worth 10,000 USD or less', () => {
    const small = config({ treasury: { initial: { pump: '50000', usdc: '900000' }, pstrCirculatingSupply: '100000' } });
    const r = runBacktest(hourly(24 * 12, dips(0.84, [240, 240])), small);
    expect(r.summary.interventions.map((i) => [i.decidedAt, i.executedAt, i.status])).toEqual([[iso(240), iso(240), 'executed']]);
  });

  it('halves the fraction while the reserve ratio is below 2.0', () => {
    // A PSTR dip alone raises RR (the market cap falls), so PUMP falls with it: PSTR 0.65 and PUMP 0.5 at hours 240–241.
    // 1,000,000 PUMP + 900,000 USDC against 1,100,000 PSTR: RR ≈ 1.73 before (no emergency), and at the dip
    // (≈ 1,024,657 PUMP × 0.5 + 875,342 USDC) / (1,100,000 × 0.65) ≈ 1.94 < 2.0 → tier 3's 40 % halved to 20 %.
    const c = config({ treasury: { initial: { pump: '1000000', usdc: '900000' }, pstrCirculatingSupply: '1100000' } });
    const r = runBacktest(hourly(24 * 12, dips(0.65, [240, 241]), dips(0.5, [240, 241])), c);
    expect(r.summary.emergencyStops).toEqual([]);
    expect(r.summary.interventions[0]).toMatchObject({ tier: 3, fraction: 0.2, status: 'executed' });
  });

  it('latches the emergency stop when RR falls below 1.5 and stays stopped: no buys, no interventions', () => {
    // 1,000,000 PUMP and no USDC against 500,000 PSTR: RR = 2.0 at PUMP 1 USD; PUMP at 0.7 from hour 100 → RR 1.4.
    const c = config({ treasury: { initial: { pump: '1000000', usdc: '0' }, pstrCirculatingSupply: '500000' } });
    const r = runBacktest(hourly(24 * 12, dips(0.7, [240, 241]), (h) => (h >= 100 && h < 110 ? 0.7 : 1)), c);
    expect(r.summary.emergencyStops).toEqual([{ at: iso(100), reserveRatio: expect.closeTo(1.4, 9) as number }]);
    expect(r.summary.interventions).toEqual([]);
    expect(r.summary.accumulation.buys).toBe(0);
    expect(r.summary.accumulation.skipped).toEqual({ usdc: 100, emergency: 24 * 12 - 100 });
  });

  it('splits a swap that would breach the 2 % slippage bound into slices, one per cycle, recording what is unfilled', () => {
    // Pool depth 100,000 USD: 50,000 per side, so a slice may take at most 0.02/0.98 × 50,000 ≈ 1,020.41 USD of PUMP.
    // 10 % of 30,000 PUMP = 3,000 USD: three slices on three consecutive 10-minute rows.
    const tenMin = (n: number, low: (i: number) => boolean) =>
      Array.from({ length: n }, (_, i) => ({ timestamp: T0 + i * 600_000, pstrPrice: low(i) ? 0.84 : 1, pstrVolume: 1000, pumpPrice: 1, line: i + 2 }));
    const c = config({
      treasury: { initial: { pump: '30000', usdc: '900000' }, pstrCirculatingSupply: '100000' },
      strategy: { totalCapital: 1, treasuryAllocation: 0 },
      backtest: { poolDepthUsd: 100_000 },
    });
    const start = 6 * 24 * 8; // day 8 in 10-minute rows
    const r = runBacktest(tenMin(6 * 24 * 9, (i) => i >= start && i < start + 3), c);
    const i = r.summary.interventions[0];
    expect(i).toMatchObject({ status: 'executed', decidedAt: new Date(T0 + start * 600_000).toISOString(), pumpSpent: '3000', unfilledPump: '0' });
    expect(i?.executedAt).toBe(new Date(T0 + (start + 2) * 600_000).toISOString());
    expect(i?.slippage).toBeGreaterThan(0.019);
    expect(i?.slippage).toBeLessThanOrEqual(0.02);

    const short = config({ ...c, intervention: { sliceWindowMinutes: 10 } });
    const cut = runBacktest(tenMin(6 * 24 * 9, (i) => i >= start && i < start + 3), short).summary.interventions[0];
    expect(cut).toMatchObject({ status: 'executed', reason: expect.stringMatching(/PUMP unfilled within 10 min/) as string });
    expect(Number(cut?.pumpSpent) + Number(cut?.unfilledPump)).toBeCloseTo(3000, 6);
    expect(Number(cut?.unfilledPump)).toBeGreaterThan(900);
  });

  it('tracks ROI at +1 h, +24 h and +7 days and calls an executed intervention a success when its 7-day ROI ≥ 0', () => {
    const r = runBacktest(hourly(24 * 20, (h) => (h >= 240 && h <= 241 ? 0.7 : h >= 241 + 168 ? 0.75 : 1)), config());
    const i = r.summary.interventions[0];
    expect(i?.roi['1h']).toBeCloseTo(1 / 0.7 - 1, 9);
    expect(i?.roi['168h']).toBeCloseTo(0.75 / 0.7 - 1, 9);
    expect(r.summary.metrics.successRate).toBe(1);
  });

  it('reports accumulation, metrics and chart series for the whole run', () => {
    const r = runBacktest(hourly(48), config());
    expect(r.summary.samples).toBe(48);
    expect(r.summary.accumulation.buys).toBe(48);
    expect(r.summary.accumulation.usdSpent).toBeCloseTo(48 * 102.739726, 6);
    expect(r.charts.t).toHaveLength(48);
    expect(r.summary.metrics.finalReserveRatio).toBeCloseTo(1_900_000 / 100_000, 6);
    expect(r.details.finalBalances.usdc).toBe(String(900000 - 48 * 102.739726).slice(0, 13));
  });
});

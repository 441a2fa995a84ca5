import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config-schema.ts';
import { parseAmount } from './amount.ts';
import { dailyBudgetUsd, decideAccumulation, hourlyBudgetUsd, interventionCapacity, treasuryState, type Holdings } from './treasury.ts';

const config = defaultConfig();
const cap = { minRrThreshold: 1.5, minReserveRatio: 3.0 };
const holdings = (pump: string, usdc: string, sol = '0', pstrRetired = '0', lpValueUsd = 0): Holdings => ({
  pump: parseAmount('PUMP', pump, 6),
  usdc: parseAmount('USDC', usdc, 6),
  sol: parseAmount('SOL', sol, 9),
  pstrRetired: parseAmount('PSTR', pstrRetired, 6),
  lpValueUsd,
});
const supply = parseAmount('PSTR', '1000000000', 6);

describe('treasury state', () => {
  it('values PUMP, USDC, SOL and liquidity, and divides by the PSTR market cap', () => {
    // 1,000,000 PUMP × 0.005 + 100,000 USDC + 10 SOL × 150 + 20,000 LP = 126,500 USD
    const s = treasuryState(holdings('1000000', '100000', '10', '0', 20_000), { pstr: 0.0001, pump: 0.005, sol: 150 }, supply, cap);
    expect(s.valueUsd).toBeCloseTo(126_500, 6);
    expect(s.marketCapUsd).toBeCloseTo(100_000, 6);
    expect(s.reserveRatio).toBeCloseTo(1.265, 9);
    expect(s.pumpConcentration).toBeCloseTo(5_000 / 126_500, 12);
  });

  it('does not count PSTR bought back, and takes it out of the circulating supply', () => {
    const before = treasuryState(holdings('0', '300000'), { pstr: 0.0001, pump: 0.005, sol: 150 }, supply, cap);
    const after = treasuryState(holdings('0', '300000', '0', '250000000'), { pstr: 0.0001, pump: 0.005, sol: 150 }, supply, cap);
    expect(after.valueUsd).toBe(before.valueUsd);
    expect(after.marketCapUsd).toBeCloseTo(75_000, 6);
    expect(after.reserveRatio).toBeCloseTo(4, 9);
  });

  it('computes the daily budget as 1,000,000 × 0.90 / 365 and the hourly as a 24th of it', () => {
    expect(dailyBudgetUsd(config.strategy)).toBeCloseTo(2465.7534246575, 9);
    expect(hourlyBudgetUsd(config.strategy)).toBeCloseTo(2465.7534246575 / 24, 9);
  });

  it('clamps intervention capacity to [0, 1] between RR 1.5 and 3.0', () => {
    expect(interventionCapacity(1.5, cap)).toBe(0);
    expect(interventionCapacity(2.25, cap)).toBeCloseTo(0.5, 12);
    expect(interventionCapacity(3, cap)).toBe(1);
    expect(interventionCapacity(1, cap)).toBe(0);
    expect(interventionCapacity(9, cap)).toBe(1);
    fc.assert(fc.property(fc.double({ min: 0, max: 100, noNaN: true }), (rr) => {
      const c = interventionCapacity(rr, cap);
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThanOrEqual(1);
    }));
  });
});

describe('hourly accumulation', () => {
  const prices = { pstr: 0.0002, pump: 0.005, sol: 150 };
  // A 100M PSTR float (20k USD market cap) keeps these treasuries above RR 1.5, below which accumulation halts.
  const float = parseAmount('PSTR', '100000000', 6);
  const decide = (h: Holdings, paused = false, emergencyStop = false) =>
    decideAccumulation({ holdings: h, state: treasuryState(h, prices, float, cap), prices, paused, emergencyStop }, config);

  it('buys dailyBudget / 24 of PUMP from USDC, rounding down', () => {
    const d = decide(holdings('0', '900000'));
    expect(d.buy).toBe(true);
    if (!d.buy) return;
    expect(d.usdcIn.raw).toBe(102_739_726n); // 102.739726… USD, truncated to 6 decimals
    expect(d.pumpOut.raw).toBe(20_547_945_205n); // 102.7397… / 0.005 = 20,547.945205… PUMP
  });

  it('skips while paused or in emergency stop, naming the reason', () => {
    expect(decide(holdings('0', '900000'), true)).toMatchObject({ buy: false, skip: 'paused' });
    expect(decide(holdings('0', '900000'), false, true)).toMatchObject({ buy: false, skip: 'emergency' });
  });

  it('skips when USDC is short of the hourly budget', () => {
    // 10M PUMP (50k USD) and 100 USDC: RR 2.5, but 100 USDC is short of the hourly 102.74.
    expect(decide(holdings('10000000', '100'))).toMatchObject({ buy: false, skip: 'usdc' });
  });

  it('skips when the buy would lift PUMP concentration above 0.80', () => {
    // PUMP worth 80,000 of 100,000: one more hourly buy would pass 0.80.
    expect(decide(holdings('16000000', '20000'))).toMatchObject({ buy: false, skip: 'concentration' });
    // PUMP worth 70,000 of 100,000: 0.70 + 102.7/100,000 stays below.
    expect(decide(holdings('14000000', '30000')).buy).toBe(true);
  });
});

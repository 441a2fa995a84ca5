import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config-schema.ts';
import { atMostTimes, rationalOf, reachesDrawdown } from './exact.ts';
import { decideIntervention, interventionParams, isTriggered, tierAt, type DecisionInput } from './intervention.ts';
import { DAY_MS } from './vwap.ts';

const config = defaultConfig();
const tiers = config.strategy.tiers;
const params = interventionParams(config);

/** digits × 10^-scale as a plain decimal string, e.g. (8n, 1) → "0.8". */
function decimal(digits: bigint, scale: number): string {
  if (scale === 0) return digits.toString();
  const s = digits.toString().padStart(scale + 1, '0');
  return `${s.slice(0, -scale)}.${s.slice(-scale)}`;
}

describe('exact rationals of doubles', () => {
  it('reads a double as the decimal it prints as', () => {
    expect(rationalOf(0.8)).toEqual({ n: 8n, d: 10n });
    expect(rationalOf(85)).toEqual({ n: 85n, d: 1n });
    expect(rationalOf(1.5e-7)).toEqual({ n: 15n, d: 100_000_000n });
    expect(rationalOf(2e21)).toEqual({ n: 2_000_000_000_000_000_000_000n, d: 1n });
    expect(rationalOf(-0.25)).toEqual({ n: -25n, d: 100n });
    expect(() => rationalOf(Number.NaN)).toThrow(/NaN is not a finite number/);
  });

  it('decides ties the float arithmetic gets wrong', () => {
    // 1 − 0.8 is 0.19999999999999996 and 100 × 0.85 is 85 by luck; these are exact whatever the rounding.
    expect(1 - 0.8 >= 0.2).toBe(false);
    expect(reachesDrawdown(0.8, 1, 0.2)).toBe(true);
    expect(reachesDrawdown(0.7, 1, 0.3)).toBe(true);
    expect(atMostTimes(0.85, 1, 0.85)).toBe(true);
    expect(atMostTimes(0.07, 0.1, 0.7)).toBe(true);
    expect(0.1 * 0.7 >= 0.07).toBe(false);
  });

  it('keeps IEEE semantics for values that are not finite', () => {
    expect(reachesDrawdown(Number.NaN, 1, 0.2)).toBe(false);
    expect(atMostTimes(1, Number.NaN, 0.85)).toBe(false);
  });
});

describe('tier boundaries at exact ratios (SPEC §4)', () => {
  const cases: { price: number; vwap: number; tier: number | null }[] = [
    { price: 85, vwap: 100, tier: 1 },
    { price: 85.00000001, vwap: 100, tier: null },
    { price: 80, vwap: 100, tier: 2 },
    { price: 0.8, vwap: 1, tier: 2 },
    { price: 80.00000001, vwap: 100, tier: 1 },
    { price: 79.99999999, vwap: 100, tier: 2 },
    { price: 70, vwap: 100, tier: 3 },
    { price: 0.7, vwap: 1, tier: 3 },
    { price: 0.0007, vwap: 0.001, tier: 3 },
    { price: 70.00000001, vwap: 100, tier: 2 },
    { price: 0.000008, vwap: 0.00001, tier: 2 },
    { price: 0.0000085, vwap: 0.00001, tier: 1 },
    { price: 15, vwap: 100, tier: 3 },
  ];
  for (const c of cases) {
    it(`sizes price ${c.price} against VWAP ${c.vwap} at tier ${c.tier ?? 'none'}`, () => {
      expect(tierAt(c.price, c.vwap, tiers)?.tier ?? null).toBe(c.tier);
    });
  }

  it('triggers at exactly 85/100 of the VWAP and not a hair above', () => {
    expect(isTriggered(85, 100, 0.85)).toBe(true);
    expect(isTriggered(0.085, 0.1, 0.85)).toBe(true);
    expect(isTriggered(85.00000001, 100, 0.85)).toBe(false);
  });

  it('sizes a cycle at price/VWAP = 0.8 at tier 2 in the monitor decision too', () => {
    const input: DecisionInput = {
      now: Date.UTC(2026, 0, 1), price: 0.8, vwap: { vwap: 1, volumeless: false, samples: 100, historyMs: 10 * DAY_MS }, paused: false,
      emergencyStop: false, lastExecutedSwapAt: null, interventionStarts: [], inFlight: false, reserveRatio: 3,
    };
    expect(decideIntervention(input, params)).toMatchObject({ intervene: true, tier: { tier: 2, fraction: 0.25 } });
  });

  it('puts a price exactly at vwap·(1 − d), written as decimals, at that tier or above', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 1n, max: 999_999n }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 0, max: 2 }),
      (vDigits, vScale, dPercent, extra) => {
        // d = dPercent / 100 as a tier threshold; price = vwap × (1 − d), exact in decimals (≤ 15 significant digits, so it round-trips).
        const d = Number(decimal(BigInt(dPercent), 2));
        const vwap = Number(decimal(vDigits, vScale));
        const price = Number(decimal(vDigits * BigInt(100 - dPercent) * 10n ** BigInt(extra), vScale + 2 + extra));
        const custom = [{ drawdown: d, fraction: 0.1 }];
        expect(tierAt(price, vwap, custom)?.tier).toBe(1);
        expect(reachesDrawdown(price, vwap, d)).toBe(true);
        expect(isTriggered(price, vwap, Number(decimal(BigInt(100 - dPercent), 2)))).toBe(true);
        // One unit in the last printed digit above the boundary no longer reaches it.
        const above = Number(decimal(vDigits * BigInt(100 - dPercent) * 10n ** BigInt(extra) * 10n + 1n, vScale + 3 + extra));
        expect(reachesDrawdown(above, vwap, d)).toBe(false);
        for (const t of tiers) {
          if (t.drawdown <= d) expect(tierAt(price, vwap, tiers)?.drawdown ?? 0).toBeGreaterThanOrEqual(t.drawdown);
        }
      },
    ));
  });
});

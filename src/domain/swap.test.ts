import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { amount } from './amount.ts';
import { buybackRoi, constantProductOut, impliedOutput, maxInputWithinSlippage, planSlices, poolReserves, slippage, slippageFloor, withinSlippage } from './swap.ts';

describe('slippage guard', () => {
  it('accepts a quote exactly 2 % worse than implied and refuses one a unit worse', () => {
    expect(withinSlippage(98n, 100n, 0.02)).toBe(true);
    expect(withinSlippage(9_799n, 10_000n, 0.02)).toBe(false);
    expect(slippage(102n, 100n)).toBeCloseTo(-0.02, 12);
  });

  it('implies the output from the consensus prices, rounding down', () => {
    // 1,000 PUMP × 0.005 = 5 USD at PSTR 0.0002 = 25,000 PSTR
    expect(impliedOutput(amount('PUMP', 1_000_000_000n, 6), 0.005, 0.0002, 6).raw).toBe(25_000_000_000n);
  });
});

describe('constant-product fills', () => {
  it('fills out = reserveOut·in / (reserveIn + in)', () => {
    expect(constantProductOut(100n, 1000n, 1000n)).toBe(90n);
    expect(constantProductOut(0n, 1000n, 1000n)).toBe(0n);
  });

  it('sizes the largest slice that stays within the bound (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 10n ** 6n, max: 10n ** 18n }), fc.double({ min: 0.001, max: 0.2, noNaN: true }), (reserve, s) => {
        const cap = maxInputWithinSlippage(reserve, s);
        // Price impact of a constant-product fill is in / (reserveIn + in), before rounding the output down.
        const impact = (input: bigint) => Number(input) / Number(reserve + input);
        expect(impact(cap)).toBeLessThanOrEqual(s + 1e-12);
        expect(impact(cap + cap / 1000n + 1n)).toBeGreaterThan(s);
      }),
    );
  });

  it('splits a deployment into slices that add up to it exactly', () => {
    expect(planSlices(10n, 4n)).toEqual([4n, 4n, 2n]);
    expect(planSlices(0n, 4n)).toEqual([]);
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.bigInt({ min: 10n ** 9n, max: 10n ** 11n }), (total, cap) => {
      const slices = planSlices(total, cap);
      expect(slices.reduce((a, b) => a + b, 0n)).toBe(total);
      expect(slices.every((x) => x > 0n && x <= cap)).toBe(true);
    }));
  });
});

describe('ROI', () => {
  it('compares the PSTR bought at the later price with the USD spent', () => {
    expect(buybackRoi(amount('PSTR', 50_000_000_000n, 6), 0.00022, 10)).toBeCloseTo(0.1, 12);
    expect(buybackRoi(amount('PSTR', 1n, 6), 1, 0)).toBeNull();
  });
});

describe('slippage floor', () => {
  it('is the least output the guard accepts, rounded up', () => {
    expect(slippageFloor(10_000n, 0.02)).toBe(9_800n);
    expect(slippageFloor(101n, 0.02)).toBe(99n); // 98.98 → 99
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.constantFrom(0, 0.005, 0.02, 0.1), (implied, s) => {
      const floor = slippageFloor(implied, s);
      expect(withinSlippage(floor, implied, s)).toBe(true);
      if (floor > 0n) expect(withinSlippage(floor - 1n, implied, s)).toBe(false);
    }));
  });
});

describe('model pool', () => {
  it('holds half the depth in USD on each side at the current prices, rounded down', () => {
    // 100,000 USD deep: 50,000 USD of PUMP at 0.005 = 10,000,000 PUMP; of PSTR at 0.0002 = 250,000,000 PSTR.
    expect(poolReserves(100_000, 0.005, 0.0002, 6, 6)).toEqual({ pump: 10_000_000_000_000n, pstr: 250_000_000_000_000n });
  });
});

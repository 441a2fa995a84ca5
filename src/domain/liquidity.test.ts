import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfig } from '../config-schema.ts';
import {
  amountsAt,
  decideRebalance,
  impermanentLoss,
  inRange,
  liquidityForValue,
  poolBudgetsUsd,
  positionValue,
  rangeAround,
} from './liquidity.ts';

const HOUR_MS = 3_600_000;
const liquidity = defaultConfig().liquidity;
const params = { width: liquidity.rangeWidth, threshold: liquidity.rebalanceThreshold, minIntervalHours: liquidity.minRebalanceIntervalHours };

const priceArb = fc.double({ min: 1e-6, max: 1e4, noNaN: true });
const widthArb = fc.double({ min: 0.01, max: 0.9, noNaN: true });

describe('rangeAround and inRange', () => {
  it('spans center × (1 ± 0.10) and includes both edges', () => {
    const r = rangeAround(2, 0.1);
    expect(r.center).toBe(2);
    expect(r.lower).toBeCloseTo(1.8, 15);
    expect(r.upper).toBeCloseTo(2.2, 15);
    expect([inRange(r, r.lower), inRange(r, r.upper), inRange(r, 2)]).toEqual([true, true, true]);
    expect([inRange(r, r.lower * 0.999), inRange(r, r.upper * 1.001)]).toEqual([false, false]);
  });

  it('refuses a non-positive center or a width outside (0, 1), naming the value', () => {
    expect(() => rangeAround(0, 0.1)).toThrow(/center.*0/);
    expect(() => rangeAround(1, 1.2)).toThrow(/width.*1\.2/);
  });
});

describe('amountsAt', () => {
  // lower 1, upper 4 → √lower = 1, √upper = 2: every amount is a hand-checkable number.
  const r = { lower: 1, upper: 4, center: 2.5 };

  it('holds only PSTR at or below the range: L·(1/√lower − 1/√upper)', () => {
    expect(amountsAt(10, r, 0.5)).toEqual({ base: 5, quote: 0 });
    expect(amountsAt(10, r, 1)).toEqual({ base: 5, quote: 0 });
  });

  it('holds only the quote token at or above the range: L·(√upper − √lower)', () => {
    expect(amountsAt(10, r, 9)).toEqual({ base: 0, quote: 10 });
    expect(amountsAt(10, r, 4)).toEqual({ base: 0, quote: 10 });
  });

  it('holds both inside the range: L·(1/√p − 1/√upper) and L·(√p − √lower)', () => {
    // p = 2.25, √p = 1.5: base = 10·(1/1.5 − 0.5), quote = 10·0.5
    const { base, quote } = amountsAt(10, r, 2.25);
    expect(base).toBeCloseTo(10 / 6, 12);
    expect(quote).toBe(5);
  });

  it('refuses a negative liquidity or a non-positive price', () => {
    expect(() => amountsAt(-1, r, 2)).toThrow(/liquidity.*-1/);
    expect(() => amountsAt(1, r, 0)).toThrow(/price.*0/);
  });
});

describe('positionValue', () => {
  it('is continuous across both range edges', () => {
    fc.assert(
      fc.property(priceArb, widthArb, fc.double({ min: 1e-3, max: 1e6, noNaN: true }), (center, width, L) => {
        const r = rangeAround(center, width);
        for (const edge of [r.lower, r.upper]) {
          const atEdge = positionValue(L, r, edge);
          const eps = edge * 1e-9;
          // Value's slope is at most the base amount, so a 1e-9 step moves it by ~1e-9 relative.
          expect(Math.abs(positionValue(L, r, edge - eps) - atEdge)).toBeLessThanOrEqual(atEdge * 1e-8);
          expect(Math.abs(positionValue(L, r, edge + eps) - atEdge)).toBeLessThanOrEqual(atEdge * 1e-8);
        }
      }),
    );
  });

  it('is the value asked for when liquidity is sized with liquidityForValue', () => {
    fc.assert(
      fc.property(priceArb, widthArb, fc.double({ min: 0.2, max: 5, noNaN: true }), fc.double({ min: 1, max: 1e7, noNaN: true }), (center, width, offset, value) => {
        const r = rangeAround(center, width);
        const price = center * offset;
        const L = liquidityForValue(value, price, r);
        expect(positionValue(L, r, price)).toBeCloseTo(value, 6);
      }),
    );
  });
});

describe('impermanentLoss', () => {
  it('is 0 at the entry price and negative at any other price, for an entry inside the range', () => {
    fc.assert(
      fc.property(
        priceArb,
        widthArb,
        fc.double({ min: -0.99, max: 0.99, noNaN: true }),
        fc.double({ min: 0.01, max: 3, noNaN: true }),
        fc.boolean(),
        (center, width, entryPos, move, up) => {
          const r = rangeAround(center, width);
          const entryPrice = center * (1 + entryPos * width);
          const L = liquidityForValue(1000, entryPrice, r);
          const entry = amountsAt(L, r, entryPrice);
          expect(impermanentLoss(L, r, entry, entryPrice)).toBeCloseTo(0, 12);
          const later = up ? entryPrice * (1 + move) : entryPrice / (1 + move);
          expect(impermanentLoss(L, r, entry, later)).toBeLessThan(0);
        },
      ),
    );
  });

  it('is 0 when both prices are below the range, where LP and holding are both all PSTR', () => {
    const r = { lower: 1, upper: 4, center: 2.5 };
    const entry = amountsAt(10, r, 0.8);
    expect(impermanentLoss(10, r, entry, 0.5)).toBe(0);
  });

  it('matches a hand computation: enter at 2.25 in [1, 4], exit at 4', () => {
    const r = { lower: 1, upper: 4, center: 2.5 };
    // L = 6: entry base 6·(1/1.5 − 0.5) = 1, quote 6·0.5 = 3. At 4: LP = 6·(2 − 1) = 6; hold = 1·4 + 3 = 7.
    expect(impermanentLoss(6, r, amountsAt(6, r, 2.25), 4)).toBeCloseTo(6 / 7 - 1, 12);
  });
});

describe('decideRebalance', () => {
  const now = Date.UTC(2025, 5, 1);

  it('does not rebalance at exactly 15 % drift', () => {
    for (const price of [115, 85]) {
      const d = decideRebalance({ center: 100, price, lastRebalanceAt: null, now }, params);
      expect(d.rebalance).toBe(false);
      expect(d.reason).toMatch(/15\.00 %/);
    }
  });

  it('rebalances just above 15 % drift, re-centering the range on the price', () => {
    const d = decideRebalance({ center: 100, price: 115.001, lastRebalanceAt: null, now }, params);
    expect(d).toMatchObject({ rebalance: true, newRange: rangeAround(115.001, 0.1) });
    const down = decideRebalance({ center: 100, price: 84.999, lastRebalanceAt: null, now }, params);
    expect(down.rebalance).toBe(true);
  });

  it('does not rebalance twice within 24 h, and does again once 24 h have passed', () => {
    const last = now - 24 * HOUR_MS;
    const tooSoon = decideRebalance({ center: 100, price: 130, lastRebalanceAt: last + 1, now }, params);
    expect(tooSoon.rebalance).toBe(false);
    expect(tooSoon.reason).toMatch(/24\.0 h|minimum 24 h/);
    expect(decideRebalance({ center: 100, price: 130, lastRebalanceAt: last, now }, params).rebalance).toBe(true);
  });
});

describe('poolBudgetsUsd', () => {
  it('splits totalCapital × liquidityAllocation between the pools by their share', () => {
    // 1 000 000 × 0.10 = 100 000 → SOL/PSTR 60 000, USDC/PSTR 40 000
    const budgets = poolBudgetsUsd(defaultConfig());
    expect(budgets.map((b) => [b.name, b.quote])).toEqual([['SOL/PSTR', 'SOL'], ['USDC/PSTR', 'USDC']]);
    expect(budgets[0]!.usd).toBeCloseTo(60_000, 6);
    expect(budgets[1]!.usd).toBeCloseTo(40_000, 6);
  });

  it('funds no pool when liquidity provision is disabled', () => {
    expect(poolBudgetsUsd(parseConfig({ liquidity: { enabled: false } }))).toEqual([]);
  });
});

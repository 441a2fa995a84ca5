import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { amountForUsd, formatAmount, fromTokens, mulFraction, parseAmount, sub, add } from './amount.ts';

describe('token amounts', () => {
  it('parses whole-token decimal strings into exact base units', () => {
    expect(parseAmount('1234.5', 6).raw).toBe(1_234_500_000n);
    expect(parseAmount('0', 9).raw).toBe(0n);
    expect(parseAmount('123456789012345.123456789', 9).raw).toBe(123_456_789_012_345_123_456_789n);
  });

  it('refuses more decimal places than the token has, naming the field', () => {
    expect(() => parseAmount('1.1234567', 6, 'treasury.initial.pump')).toThrow(/treasury\.initial\.pump: "1.1234567" has 7 decimal places but the token has only 6/);
  });

  it('refuses negative, empty and non-numeric text', () => {
    for (const bad of ['-1', '', 'abc', '1e5', '1.', '.5']) expect(() => parseAmount(bad, 6)).toThrow(/not a non-negative decimal/);
  });

  it('formats back to the same decimal string (round trip)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 18 }), (raw, decimals) => {
        const text = formatAmount({ raw, decimals });
        expect(parseAmount(text, decimals).raw).toBe(raw);
      }),
    );
  });

  it('multiplies by a tier fraction exactly, rounding down', () => {
    expect(mulFraction({ raw: 1_000_001n, decimals: 6 }, 0.1).raw).toBe(100_000n);
    expect(mulFraction({ raw: 10n ** 24n, decimals: 6 }, 0.25).raw).toBe(25n * 10n ** 22n);
    expect(mulFraction({ raw: 999n, decimals: 6 }, 0.05).raw).toBe(49n);
  });

  it('never deploys more than the fraction of the balance', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 28n }), fc.constantFrom(0.05, 0.1, 0.125, 0.2, 0.25, 0.4), (raw, f) => {
        const part = mulFraction({ raw, decimals: 6 }, f).raw;
        expect(part * 1_000_000_000n).toBeLessThanOrEqual(raw * BigInt(Math.round(f * 1e9)));
        expect(part).toBeGreaterThanOrEqual(0n);
      }),
    );
  });

  it('converts USD to a token amount rounded down and refuses a non-positive price', () => {
    expect(amountForUsd(102.5, 0.005, 6).raw).toBe(20_500_000_000n);
    expect(() => amountForUsd(1, 0, 6)).toThrow(/price must be positive/);
    expect(fromTokens(1.5, 9).raw).toBe(1_500_000_000n);
  });

  it('refuses to add amounts of different decimals', () => {
    expect(() => add({ raw: 1n, decimals: 6 }, { raw: 1n, decimals: 9 })).toThrow(/decimals differ/);
    expect(sub({ raw: 5n, decimals: 6 }, { raw: 2n, decimals: 6 }).raw).toBe(3n);
  });
});

import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  AmountError, add, amount, amountForUsd, compare, formatAmount, fromTokens, min, mulFraction, parseAmount, sub,
  type TokenAmount, type TokenSymbol,
} from './amount.ts';

const pump = (raw: bigint) => amount('PUMP', raw, 6);
const pstr = (raw: bigint) => amount('PSTR', raw, 6);
const SYMBOLS: readonly TokenSymbol[] = ['PSTR', 'PUMP', 'USDC', 'SOL'];

describe('token amounts', () => {
  it('parses whole-token decimal strings into exact base units of the named token', () => {
    expect(parseAmount('PUMP', '1234.5', 6)).toEqual({ token: 'PUMP', raw: 1_234_500_000n, decimals: 6 });
    expect(parseAmount('SOL', '0', 9).raw).toBe(0n);
    expect(parseAmount('SOL', '123456789012345.123456789', 9).raw).toBe(123_456_789_012_345_123_456_789n);
  });

  it('refuses more decimal places than the token has, naming the field', () => {
    expect(() => parseAmount('PUMP', '1.1234567', 6, 'treasury.initial.pump')).toThrow(/treasury\.initial\.pump: "1.1234567" has 7 decimal places but the token has only 6/);
  });

  it('refuses negative, empty and non-numeric text', () => {
    for (const bad of ['-1', '', 'abc', '1e5', '1.', '.5']) expect(() => parseAmount('PUMP', bad, 6)).toThrow(/not a non-negative decimal/);
  });

  it('formats back to the same decimal string (round trip)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 18 }), fc.constantFrom(...SYMBOLS), (raw, decimals, token) => {
        const text = formatAmount(amount(token, raw, decimals));
        expect(parseAmount(token, text, decimals).raw).toBe(raw);
      }),
    );
  });

  it('multiplies by a tier fraction exactly, rounding down, and keeps the token', () => {
    expect(mulFraction(pump(1_000_001n), 0.1)).toEqual(pump(100_000n));
    expect(mulFraction(pump(10n ** 24n), 0.25).raw).toBe(25n * 10n ** 22n);
    expect(mulFraction(pump(999n), 0.05).raw).toBe(49n);
  });

  it('never deploys more than the fraction of the balance', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 28n }), fc.constantFrom(0.05, 0.1, 0.125, 0.2, 0.25, 0.4), (raw, f) => {
        const part = mulFraction(pump(raw), f).raw;
        expect(part * 1_000_000_000n).toBeLessThanOrEqual(raw * BigInt(Math.round(f * 1e9)));
        expect(part).toBeGreaterThanOrEqual(0n);
      }),
    );
  });

  it('converts USD to an amount of the named token rounded down and refuses a non-positive price', () => {
    expect(amountForUsd('PUMP', 102.5, 0.005, 6)).toEqual(pump(20_500_000_000n));
    expect(() => amountForUsd('PUMP', 1, 0, 6)).toThrow(/PUMP price must be positive/);
    expect(fromTokens('SOL', 1.5, 9)).toEqual({ token: 'SOL', raw: 1_500_000_000n, decimals: 9 });
  });

  it('refuses to add amounts of one token with different decimals', () => {
    expect(() => add(pump(1n), amount('PUMP', 1n, 9))).toThrow(/add: PUMP decimals differ: 6 vs 9/);
    expect(sub(pump(5n), pump(2n))).toEqual(pump(3n));
  });
});

describe('amounts of different tokens', () => {
  // Both 6 decimals: the decimals check alone would let these through.
  const untypedPump: TokenAmount = pump(1_500_000n);
  const untypedPstr: TokenAmount = pstr(2_000_000n);

  it('do not type-check when added, subtracted, compared or min-ed (checked by tsc)', () => {
    const guard = (f: () => unknown) => expect(f).toThrow(AmountError);
    // @ts-expect-error PSTR is not PUMP
    guard(() => add(pump(1n), pstr(1n)));
    // @ts-expect-error PSTR is not PUMP
    guard(() => sub(pump(1n), pstr(1n)));
    // @ts-expect-error USDC is not PUMP
    guard(() => min(pump(1n), amount('USDC', 1n, 6)));
    // @ts-expect-error PUMP is not PSTR
    guard(() => compare(pstr(1n), pump(1n)));
    expectTypeOf(add(pump(1n), pump(2n))).toEqualTypeOf<TokenAmount<'PUMP'>>();
    expectTypeOf(mulFraction(pstr(10n), 0.5)).toEqualTypeOf<TokenAmount<'PSTR'>>();
    expectTypeOf(parseAmount('USDC', '1', 6)).toEqualTypeOf<TokenAmount<'USDC'>>();
    expectTypeOf(pstr(1n)).not.toMatchTypeOf<TokenAmount<'PUMP'>>();
  });

  it('throw an AmountError naming both tokens when the types cannot tell (untyped values)', () => {
    expect(() => add(untypedPump, untypedPstr)).toThrow(new AmountError('add: amounts of different tokens, 1.5 PUMP and 2 PSTR'));
    expect(() => sub(untypedPstr, untypedPump)).toThrow(/sub: amounts of different tokens, 2 PSTR and 1.5 PUMP/);
    expect(() => min(untypedPump, untypedPstr)).toThrow(/min: .*PUMP.*PSTR/);
    expect(() => compare(untypedPump, untypedPstr)).toThrow(/compare: .*PUMP.*PSTR/);
  });

  it('refuse an amount that carries no known token rather than assume one', () => {
    const tokenless = { raw: 1n, decimals: 6 } as unknown as TokenAmount;
    const unknown = { token: 'BONK', raw: 1n, decimals: 6 } as unknown as TokenAmount;
    expect(() => add(tokenless, tokenless)).toThrow(new AmountError('add: amount 0.000001 has no known token (token: undefined)'));
    expect(() => sub(untypedPump, unknown)).toThrow(/sub: amount 0.000001 has no known token \(token: "BONK"\)/);
  });

  it('throw for every pair of distinct tokens, whatever the amounts (property)', () => {
    fc.assert(fc.property(
      fc.constantFrom(...SYMBOLS), fc.constantFrom(...SYMBOLS), fc.bigInt({ min: 0n, max: 10n ** 24n }), fc.bigInt({ min: 0n, max: 10n ** 24n }),
      (ta, tb, ra, rb) => {
        fc.pre(ta !== tb);
        const a: TokenAmount = amount(ta, ra, 6);
        const b: TokenAmount = amount(tb, rb, 6);
        for (const op of [add, sub, min, compare]) {
          expect(() => op(a, b)).toThrow(AmountError);
          expect(() => op(a, b)).toThrow(new RegExp(`${ta}.*${tb}`));
        }
      },
    ));
  });
});

describe('arithmetic on one token', () => {
  const raws = fc.bigInt({ min: 0n, max: 10n ** 30n });
  const symbols = fc.constantFrom(...SYMBOLS);
  const decimals = fc.integer({ min: 0, max: 18 });

  it('adds and subtracts exactly and keeps the token and decimals (property)', () => {
    fc.assert(fc.property(symbols, decimals, raws, raws, (token, d, x, y) => {
      const a = amount(token, x, d);
      const b = amount(token, y, d);
      expect(add(a, b)).toEqual({ token, raw: x + y, decimals: d });
      expect(sub(add(a, b), b)).toEqual(a);
      expect(add(sub(a, b), b)).toEqual(a);
    }));
  });

  it('orders like the base units, and min picks the smaller (property)', () => {
    fc.assert(fc.property(symbols, raws, raws, (token, x, y) => {
      const a = amount(token, x, 6);
      const b = amount(token, y, 6);
      expect(compare(a, b)).toBe(x < y ? -1 : x > y ? 1 : 0);
      expect(compare(a, b)).toBe(-compare(b, a) || 0);
      expect(min(a, b).raw).toBe(x <= y ? x : y);
    }));
  });
});

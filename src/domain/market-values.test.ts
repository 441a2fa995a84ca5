import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeConsensus } from './consensus.ts';
import { checkMarketValues, type MarketValues } from './market-values.ts';

const good: MarketValues = { pumpPrice: 0.005, solPrice: 150, volumeUsd: 1200, balances: { pump: '40000000000000', usdc: '700000000000', sol: '0', pstrRetired: '0', lpValueUsd: 0 } };
/** What NaN, ±∞ and a missing value look like after a Temporal payload (JSON): null, or absent. */
const broken = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null, undefined, -1, 0, '0.005'];

describe('the market values a cycle computes the treasury from', () => {
  it('accepts finite positive prices, whole base-unit balances and a finite volume', () => {
    expect(checkMarketValues(good)).toEqual({ ok: true, volumeUsd: 1200, notes: [] });
  });

  it.each(broken)('fails closed with a reason naming a PUMP price of %s', (bad) => {
    const v = checkMarketValues({ ...good, pumpPrice: bad });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(/^no valid price: PUMP price .* is not a positive finite number$/);
  });

  it('names every bad value at once: SOL price, a balance and the liquidity value', () => {
    const v = checkMarketValues({ ...good, solPrice: null, balances: { ...good.balances, usdc: '12.5', lpValueUsd: Number.NaN } });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.problems).toEqual(['SOL price null is not a positive finite number', 'usdc balance "12.5" is not a whole number of base units', 'liquidity value NaN is not a finite number ≥ 0']);
  });

  it('refuses missing balances', () => {
    expect(checkMarketValues({ ...good, balances: null as never }).ok).toBe(false);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, -5, null])('records a sample with volume 0 (weightless) when the volume is %s, and says so', (bad) => {
    const v = checkMarketValues({ ...good, volumeUsd: bad });
    expect(v).toMatchObject({ ok: true, volumeUsd: 0 });
    if (v.ok) expect(v.notes[0]).toMatch(/volume 0/);
  });

  it('never throws, and accepts only finite values (property)', () => {
    const anyValue = fc.oneof(fc.double(), fc.constant(null), fc.constant(undefined), fc.string(), fc.bigInt().map(String));
    fc.assert(fc.property(anyValue, anyValue, anyValue, anyValue, (pumpPrice, solPrice, volumeUsd, pump) => {
      const v = checkMarketValues({ pumpPrice, solPrice, volumeUsd, balances: { ...good.balances, pump } });
      if (v.ok) {
        expect(Number.isFinite(pumpPrice) && (pumpPrice as number) > 0).toBe(true);
        expect(Number.isFinite(solPrice) && (solPrice as number) > 0).toBe(true);
        expect(Number.isFinite(v.volumeUsd) && v.volumeUsd >= 0).toBe(true);
        expect(/^\d+$/.test(String(pump))).toBe(true);
      } else {
        expect(v.reason).toMatch(/^no valid price: /);
      }
    }));
  });
});

describe('consensus over non-finite readings', () => {
  const params = { maxStalenessSeconds: 60, maxPriceDeviation: 0.05, confidenceWeight: 0.3, minAgreeingSources: 2 };
  const now = 1_000_000;

  it('drops every reading whose price, confidence or time is not finite, with a reason, and never yields a non-finite price (property)', () => {
    const oddNumber = fc.oneof(fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null as unknown as number), fc.double({ min: 0.0001, max: 0.0003, noNaN: true }));
    const reading = fc.record({ source: fc.constantFrom('pyth', 'switchboard', 'dex-twap'), price: oddNumber, confidence: fc.oneof(oddNumber, fc.constant(0)), publishTime: fc.oneof(fc.constant(now - 1000), fc.constantFrom(Number.NaN, null as unknown as number)) });
    fc.assert(fc.property(fc.array(reading, { maxLength: 6 }), (readings) => {
      const c = computeConsensus(readings, now, params);
      const finite = (r: { price: number; confidence: number; publishTime: number }) => Number.isFinite(r.price) && Number.isFinite(r.confidence) && Number.isFinite(r.publishTime);
      for (const r of readings.filter((x) => !finite(x))) {
        const e = c.excluded.find((x) => x.source === r.source && Object.is(x.price, r.price));
        expect(e?.detail).toMatch(/not a (finite|positive finite)/);
      }
      if (c.ok) expect(Number.isFinite(c.price)).toBe(true);
      expect(c.agreeing.every(finite)).toBe(true);
    }));
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config-schema.ts';
import { priceConsensusAlert, ALERT_LEVEL } from './alerts.ts';
import { computeConsensus, consensusParams, type OracleReading } from './consensus.ts';
import { marketPriceProblem, marketPrices, PUMP_LABEL, SOL_LABEL } from './market-consensus.ts';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const params = consensusParams(defaultConfig());
const PUMP = 0.005;
const SOL = 150;

function r(source: string, price: number, over: Partial<OracleReading> = {}): OracleReading {
  return { source, price, confidence: price * 0.001, publishTime: NOW - 2_000, ...over };
}

const agreeing = { pump: [r('pyth', PUMP), r('jupiter', PUMP * 1.01)], sol: [r('pyth', SOL), r('jupiter', SOL * 0.995)] };

describe('marketPrices', () => {
  it('prices PUMP and SOL from two agreeing sources, by the same rule as PSTR', () => {
    const m = marketPrices(agreeing, NOW, params);
    const pump = computeConsensus(agreeing.pump, NOW, params);
    expect(m.pumpConsensus).toEqual(pump);
    expect(pump.ok && m.pumpPrice === pump.price).toBe(true);
    expect(m.pumpPrice).toBeGreaterThan(PUMP);
    expect(m.pumpPrice).toBeLessThan(PUMP * 1.01);
    expect(m.solPrice).toBeGreaterThan(SOL * 0.995);
    expect(m.solPrice).toBeLessThan(SOL);
    expect(marketPriceProblem(m)).toBeNull();
  });

  it('has no PUMP price when the Pyth PUMP feed reads 3× low: both readings are outliers of their median', () => {
    const m = marketPrices({ ...agreeing, pump: [r('pyth', PUMP / 3), r('jupiter', PUMP)] }, NOW, params);
    expect(m.pumpPrice).toBeNaN();
    expect(m.solPrice).toBeGreaterThan(0);
    const problem = marketPriceProblem(m);
    expect(problem?.assets).toEqual([PUMP_LABEL]);
    expect(problem?.reason).toMatch(/^no valid PUMP\/USD price: 0 source\(s\) agreed, 2 needed/);
    expect(problem?.outliers).toEqual([`${PUMP_LABEL} jupiter`, `${PUMP_LABEL} pyth`]);
    expect(problem?.excluded.map((e) => [e.source, e.reason])).toEqual([[`${PUMP_LABEL} jupiter`, 'outlier'], [`${PUMP_LABEL} pyth`, 'outlier']]);
  });

  it('has no price for an asset with one source left (the other missing or stale)', () => {
    const missing = marketPrices({ ...agreeing, pump: [r('pyth', PUMP)] }, NOW, params);
    expect(missing.pumpPrice).toBeNaN();
    expect(marketPriceProblem(missing)?.reason).toMatch(/^no valid PUMP\/USD price: 1 source\(s\) agreed, 2 needed \(1 reading/);
    const stale = marketPrices({ ...agreeing, sol: [r('pyth', SOL), r('jupiter', SOL, { publishTime: NOW - 61_000 })] }, NOW, params);
    expect(stale.solPrice).toBeNaN();
    expect(marketPriceProblem(stale)?.reason).toMatch(/^no valid SOL\/USD price: 1 source\(s\) agreed.*jupiter \(stale: published 61 s before now/);
  });

  it('names both assets when both fail, PUMP first', () => {
    const m = marketPrices({ pump: [], sol: [r('pyth', SOL)] }, NOW, params);
    const problem = marketPriceProblem(m);
    expect(problem?.assets).toEqual([PUMP_LABEL, SOL_LABEL]);
    expect(problem?.reason).toMatch(/^no valid PUMP\/USD price: 0 source\(s\).*; no valid SOL\/USD price: 1 source\(s\)/);
  });
});

describe('marketPriceProblem', () => {
  it('has nothing to say about an observation made before PUMP and SOL had sources (old histories)', () => {
    expect(marketPriceProblem({})).toBeNull();
  });
});

describe('priceConsensusAlert', () => {
  it('is critical, names the intervention, the stage and the reason, and says nothing moved', () => {
    const a = priceConsensusAlert('intervention/t/1', { stage: 'validate', reason: 'no valid PUMP/USD price: 0 source(s) agreed', assets: [PUMP_LABEL], outliers: [] });
    expect(a.level).toBe('critical');
    expect(ALERT_LEVEL['price-consensus']).toBe('critical');
    expect(a.kind).toBe('price-consensus');
    expect(a.message).toContain('intervention/t/1 stopped at validate with nothing moved: no valid PUMP/USD price');
  });
});

describe('PUMP consensus over two sources (property)', () => {
  // Two readings p and p·f have the median p(1+f)/2, from which each deviates |f−1|/(1+f): SPEC §2 keeps both
  // (and prices PUMP between them) exactly when that is within maxPriceDeviation, and otherwise has no price.
  it('is valid exactly when the two sources agree within maxPriceDeviation, and then lies between them', () => {
    fc.assert(fc.property(
      fc.double({ min: 1e-6, max: 1e3, noNaN: true }),
      fc.double({ min: 0.2, max: 5, noNaN: true }),
      fc.double({ min: 0, max: 0.01, noNaN: true }),
      (p, f, conf) => {
        const m = marketPrices({ pump: [r('pyth', p, { confidence: p * conf }), r('jupiter', p * f, { confidence: p * f * conf })], sol: agreeing.sol }, NOW, params);
        const mid = (p + p * f) / 2;
        const deviation = Math.max(Math.abs(p - mid) / mid, Math.abs(p * f - mid) / mid);
        if (deviation > params.maxPriceDeviation) {
          expect(m.pumpPrice).toBeNaN();
          expect(marketPriceProblem(m)?.assets).toEqual([PUMP_LABEL]);
        } else {
          const lo = Math.min(p, p * f);
          const hi = Math.max(p, p * f);
          expect(m.pumpPrice).toBeGreaterThanOrEqual(lo * (1 - 1e-12));
          expect(m.pumpPrice).toBeLessThanOrEqual(hi * (1 + 1e-12));
          expect(marketPriceProblem(m)).toBeNull();
        }
      },
    ), { numRuns: 300 });
  });

  it('never prices PUMP from a feed 3× off, whatever the other source and the confidences', () => {
    fc.assert(fc.property(
      fc.double({ min: 1e-6, max: 1e3, noNaN: true }),
      fc.constantFrom(3, 1 / 3),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      (p, off, conf) => {
        const m = marketPrices({ pump: [r('pyth', p * off, { confidence: p * conf }), r('jupiter', p)], sol: agreeing.sol }, NOW, params);
        expect(m.pumpPrice).toBeNaN();
      },
    ), { numRuns: 200 });
  });
});

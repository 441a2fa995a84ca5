/** RR = +∞ (no PSTR float): the stated rule of src/domain/treasury.ts, through health, alerts and the intervention gates. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config-schema.ts';
import { INITIAL_ALERT_STATE, alertParams, classifyCycle } from './alerts.ts';
import { amount, parseAmount } from './amount.ts';
import { diversification, healthLevel, healthScore } from './health.ts';
import { evaluateGates, interventionParams } from './intervention.ts';
import { UNBOUNDED_RESERVE_RATIO, classValues, isUnboundedReserveRatio, treasuryState, type Holdings } from './treasury.ts';

const config = defaultConfig();
const cap = { minRrThreshold: 1.5, minReserveRatio: 3.0 };
const holdings = (pump: string, usdc: string, pstrRetired = '0'): Holdings => ({
  pump: parseAmount('PUMP', pump, 6), usdc: parseAmount('USDC', usdc, 6), sol: parseAmount('SOL', '0', 9), pstrRetired: parseAmount('PSTR', pstrRetired, 6), lpValueUsd: 0,
});
const prices = { pstr: 0.0002, pump: 0.005, sol: 150 };

describe('a treasury with no PSTR float (RR = +∞)', () => {
  it('reports the reserve ratio as the finite unbounded ceiling, flagged, with full intervention capacity', () => {
    const s = treasuryState(holdings('40000000', '700000'), prices, parseAmount('PSTR', '0', 6), cap);
    expect(s.marketCapUsd).toBe(0);
    expect(s.reserveRatio).toBe(UNBOUNDED_RESERVE_RATIO);
    expect(Number.isFinite(s.reserveRatio)).toBe(true);
    expect(s.reserveRatioUnbounded).toBe(true);
    expect(s.interventionCapacity).toBe(1);
  });

  it('treats every PSTR bought back (retired ≥ configured supply) as no float too', () => {
    const s = treasuryState(holdings('1', '1', '2000000000'), prices, parseAmount('PSTR', '2000000000', 6), cap);
    expect(s.circulatingPstr).toBe(0);
    expect(s.reserveRatioUnbounded).toBe(true);
  });

  it('keeps an empty treasury with no float unbounded as well: nothing to defend', () => {
    const s = treasuryState(holdings('0', '0'), prices, parseAmount('PSTR', '0', 6), cap);
    expect(s.reserveRatio).toBe(UNBOUNDED_RESERVE_RATIO);
    expect(s.pumpConcentration).toBe(0);
  });

  it('survives a JSON round trip (a Temporal payload) unchanged, where +∞ would become null', () => {
    const s = treasuryState(holdings('40000000', '700000'), prices, parseAmount('PSTR', '0', 6), cap);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(JSON.parse(JSON.stringify({ rr: Number.POSITIVE_INFINITY }))).toEqual({ rr: null });
  });

  it('scores health excellent and raises no reserve-ratio alert', () => {
    const s = treasuryState(holdings('40000000', '700000'), prices, parseAmount('PSTR', '0', 6), cap);
    const score = healthScore({ reserveRatio: s.reserveRatio, interventionCapacity: s.interventionCapacity, diversification: diversification(classValues(s)) });
    expect(healthLevel(score)).toBe('excellent');
    const { alerts, state } = classifyCycle(INITIAL_ALERT_STATE, { validPrice: true, outliers: [], reserveRatio: s.reserveRatio, pumpConcentration: s.pumpConcentration, healthLevel: 'excellent' }, alertParams(config));
    expect(alerts.filter((a) => a.kind.startsWith('reserve-ratio'))).toEqual([]);
    expect(state.rrBand).toBe('ok');
  });

  it('passes the reserve-ratio gate of an intervention', () => {
    const gates = evaluateGates({ now: 0, paused: false, emergencyStop: false, lastExecutedSwapAt: null, interventionStarts: [], inFlight: false, reserveRatio: UNBOUNDED_RESERVE_RATIO }, interventionParams(config));
    expect(gates.filter((g) => !g.passed)).toEqual([]);
    expect(gates.find((g) => g.gate === 'reserve-ratio')?.passed).toBe(true);
  });

  it('never gives a non-finite reserve ratio, whatever the float and prices (property)', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.bigInt({ min: 0n, max: 10n ** 18n }),
      fc.double({ min: 1e-12, max: 1e6, noNaN: true }),
      (pump, usdc, supply, pstr) => {
        const h: Holdings = { pump: amount('PUMP', pump, 6), usdc: amount('USDC', usdc, 6), sol: amount('SOL', 0n, 9), pstrRetired: amount('PSTR', 0n, 6), lpValueUsd: 0 };
        const s = treasuryState(h, { ...prices, pstr }, amount('PSTR', supply, 6), cap);
        expect(Number.isFinite(s.reserveRatio)).toBe(true);
        expect(s.reserveRatio).toBeLessThanOrEqual(UNBOUNDED_RESERVE_RATIO);
        expect(s.reserveRatioUnbounded).toBe(isUnboundedReserveRatio(s.reserveRatio));
        if (supply === 0n) expect(s.reserveRatioUnbounded).toBe(true);
      },
    ));
  });
});

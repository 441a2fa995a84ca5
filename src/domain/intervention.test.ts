import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config-schema.ts';
import {
  HOUR_MS,
  decideIntervention,
  deploymentFraction,
  evaluateGates,
  interventionParams,
  nextEmergencyState,
  resumeVerdict,
  tierFor,
  type DecisionInput,
} from './intervention.ts';
import { DAY_MS } from './vwap.ts';

const config = defaultConfig();
const params = interventionParams(config);
const now = Date.UTC(2025, 3, 1);

const input = (over: Partial<DecisionInput> = {}): DecisionInput => ({
  now,
  price: 80,
  vwap: { vwap: 100, volumeless: false, samples: 1000, historyMs: 10 * DAY_MS },
  paused: false,
  emergencyStop: false,
  lastExecutedSwapAt: null,
  interventionStarts: [],
  inFlight: false,
  reserveRatio: 3,
  ...over,
});

describe('tiers', () => {
  it('starts each tier exactly at 15, 20 and 30 % drawdown', () => {
    const tiers = config.strategy.tiers;
    expect(tierFor(0.149999, tiers)).toBeNull();
    expect(tierFor(0.15, tiers)).toMatchObject({ tier: 1, fraction: 0.1 });
    expect(tierFor(0.199999, tiers)).toMatchObject({ tier: 1 });
    expect(tierFor(0.2, tiers)).toMatchObject({ tier: 2, fraction: 0.25 });
    expect(tierFor(0.3, tiers)).toMatchObject({ tier: 3, fraction: 0.4 });
    expect(tierFor(0.95, tiers)).toMatchObject({ tier: 3, fraction: 0.4 });
  });

  it('never deploys more than maxDeployment, and halves below RR 2.0', () => {
    expect(deploymentFraction(0.4, 2.0, params)).toEqual({ fraction: 0.4, reduced: false });
    expect(deploymentFraction(0.4, 1.99, params)).toEqual({ fraction: 0.2, reduced: true });
    expect(deploymentFraction(0.9, 5, params).fraction).toBe(0.4);
    fc.assert(fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true }), (f, rr) => {
      expect(deploymentFraction(f, rr, params).fraction).toBeLessThanOrEqual(0.4);
    }));
  });

  it('triggers at exactly 85 % of the VWAP (drawdown 0.15)', () => {
    expect(decideIntervention(input({ price: 85 }), params)).toMatchObject({ intervene: true, triggered: true, tier: { tier: 1 } });
    expect(decideIntervention(input({ price: 85.0001 }), params)).toMatchObject({ intervene: false, triggered: false });
  });
});

describe('warm-up', () => {
  it('does not intervene with less than 7 days of history, and says warming up', () => {
    const d = decideIntervention(input({ vwap: { vwap: 100, volumeless: false, samples: 10, historyMs: 7 * DAY_MS - 1 } }), params);
    expect(d.intervene).toBe(false);
    expect(d.warmingUp).toBe(true);
    expect(d.reason).toMatch(/warming up/);
    expect(decideIntervention(input({ vwap: { vwap: 100, volumeless: false, samples: 10, historyMs: 7 * DAY_MS } }), params).intervene).toBe(true);
    expect(decideIntervention(input({ vwap: null }), params).warmingUp).toBe(true);
  });
});

describe('gates', () => {
  const blockedBy = (over: Partial<DecisionInput>) =>
    decideIntervention(input(over), params).gates.filter((g) => !g.passed).map((g) => g.gate);

  it('measures the 48-hour cooldown from the last executed swap', () => {
    expect(blockedBy({ lastExecutedSwapAt: now - 47 * HOUR_MS })).toEqual(['cooldown']);
    expect(blockedBy({ lastExecutedSwapAt: now - 48 * HOUR_MS })).toEqual([]);
    expect(blockedBy({ lastExecutedSwapAt: now - 49 * HOUR_MS })).toEqual([]);
  });

  it('counts interventions started in the trailing 24 hours, whatever their outcome', () => {
    expect(blockedBy({ interventionStarts: [now - 23 * HOUR_MS] })).toEqual(['daily-limit']);
    expect(blockedBy({ interventionStarts: [now - 24 * HOUR_MS] })).toEqual([]);
  });

  it('blocks while paused, in emergency stop, with one in flight, or below RR 1.5', () => {
    expect(blockedBy({ paused: true })).toEqual(['not-paused']);
    expect(blockedBy({ emergencyStop: true })).toEqual(['no-emergency-stop']);
    expect(blockedBy({ inFlight: true })).toEqual(['none-in-flight']);
    expect(blockedBy({ reserveRatio: 1.4999 })).toEqual(['reserve-ratio']);
    expect(blockedBy({ reserveRatio: 1.5 })).toEqual([]);
  });

  it('records every gate with a reason even when the decision is to intervene', () => {
    const gates = evaluateGates(input(), params);
    expect(gates.map((g) => g.gate)).toEqual(['not-paused', 'no-emergency-stop', 'cooldown', 'daily-limit', 'none-in-flight', 'reserve-ratio']);
    expect(gates.every((g) => g.reason.length > 0)).toBe(true);
  });

  it('intervenes only when triggered, warm, and every gate passes (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 200, noNaN: true }),
        fc.boolean(),
        fc.boolean(),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (price, paused, inFlight, rr) => {
          const d = decideIntervention(input({ price, paused, inFlight, reserveRatio: rr }), params);
          expect(d.intervene).toBe(price <= 85 && !paused && !inFlight && rr >= 1.5);
          if (d.intervene) expect(d.fraction).toBeGreaterThan(0);
        },
      ),
    );
  });
});

describe('emergency stop', () => {
  it('latches when a cycle measures RR below 1.5 and stays latched whatever RR does', () => {
    expect(nextEmergencyState(false, 1.49, 1.5)).toEqual({ latched: true, entered: true });
    expect(nextEmergencyState(true, 5, 1.5)).toEqual({ latched: true, entered: false });
    expect(nextEmergencyState(false, 1.5, 1.5)).toEqual({ latched: false, entered: false });
    expect(nextEmergencyState(false, null, 1.5)).toEqual({ latched: false, entered: false });
  });

  it('resumes only once RR is back at or above 1.5', () => {
    expect(resumeVerdict(1.49, 1.5).ok).toBe(false);
    expect(resumeVerdict(1.49, 1.5).reason).toMatch(/restore reserves/);
    expect(resumeVerdict(1.5, 1.5).ok).toBe(true);
    expect(resumeVerdict(null, 1.5).ok).toBe(false);
  });
});

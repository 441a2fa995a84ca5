import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config-schema.ts';
import {
  ALERT_LEVEL,
  INITIAL_ALERT_STATE,
  alertParams,
  classifyCycle,
  governanceAlerts,
  interventionExecutedAlert,
  swapFailedAlert,
  swapQuoteOutOfBoundAlert,
  systemFailureAlert,
  type Alert,
  type CycleAlertState,
  type CycleObservation,
} from './alerts.ts';

const params = alertParams(defaultConfig());
const HOUR_MS = 3_600_000;

/** A calm cycle: valid price, healthy ratio, low concentration, no outliers. */
const calm: CycleObservation = { validPrice: true, outliers: [], reserveRatio: 3, pumpConcentration: 0.5, healthLevel: 'good' };

/** Runs the observations through classifyCycle in order; returns every cycle's alert kinds and the final state. */
function run(observations: readonly Partial<CycleObservation>[], start: CycleAlertState = INITIAL_ALERT_STATE) {
  let state = start;
  const perCycle: string[][] = [];
  const all: Alert[] = [];
  for (const o of observations) {
    const result = classifyCycle(state, { ...calm, ...o }, params);
    perCycle.push(result.alerts.map((a) => a.kind));
    all.push(...result.alerts);
    state = result.state;
  }
  return { perCycle, all, state };
}

describe('alertParams', () => {
  it('takes the thresholds from the config defaults', () => {
    expect(params).toEqual({ minRrThreshold: 1.5, reductionBelowRr: 2, maxPumpConcentration: 0.8, noValidPriceAlertCycles: 3 });
  });
});

describe('ALERT_LEVEL', () => {
  it('follows SPEC §7: critical, warning, info and governance kinds', () => {
    const byLevel = (level: string) => Object.entries(ALERT_LEVEL).filter(([, l]) => l === level).map(([k]) => k).sort();
    expect(byLevel('critical')).toEqual(['books-mismatch', 'no-valid-price', 'oracle-auth', 'price-consensus', 'proposal-abandoned', 'reserve-ratio-critical', 'swap-failed', 'system-failure']);
    expect(byLevel('warning')).toEqual(['concentration-high', 'oracle-outlier', 'oracle-source-failing', 'reserve-ratio-low', 'swap-quote-out-of-bound']);
    expect(byLevel('info')).toEqual(['health-improved', 'intervention-executed']);
    expect(byLevel('governance')).toEqual(['proposal-needs-votes', 'voting-deadline']);
  });
});

describe('reserve ratio alerts', () => {
  it('raises a critical alert with the ratio and the next step when RR falls below 1.5', () => {
    const { all } = run([{ reserveRatio: 1.42 }]);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ level: 'critical', kind: 'reserve-ratio-critical', data: { reserveRatio: 1.42, threshold: 1.5 } });
    expect(all[0]!.message).toMatch(/1\.42 fell below 1\.5: emergency stop latched.*Restore reserves.*resume/);
  });

  it('raises one warning for two consecutive low cycles', () => {
    const { perCycle } = run([{ reserveRatio: 3 }, { reserveRatio: 1.9 }, { reserveRatio: 1.8 }]);
    expect(perCycle).toEqual([[], ['reserve-ratio-low'], []]);
  });

  it('treats RR exactly 2.0 as ok and exactly 1.5 as low, not critical', () => {
    expect(run([{ reserveRatio: 2 }]).perCycle).toEqual([[]]);
    expect(run([{ reserveRatio: 1.5 }]).perCycle).toEqual([['reserve-ratio-low']]);
  });

  it('raises only the critical alert when RR drops from ok straight below 1.5', () => {
    expect(run([{ reserveRatio: 3 }, { reserveRatio: 1.2 }]).perCycle).toEqual([[], ['reserve-ratio-critical']]);
  });

  it('raises nothing when RR climbs from critical back into the low band, and critical again if it falls back', () => {
    const { perCycle } = run([{ reserveRatio: 1.9 }, { reserveRatio: 1.4 }, { reserveRatio: 1.7 }, { reserveRatio: 1.3 }]);
    expect(perCycle).toEqual([['reserve-ratio-low'], ['reserve-ratio-critical'], [], ['reserve-ratio-critical']]);
  });

  it('warns again after RR recovered to ok and then fell below 2.0 again', () => {
    const { perCycle } = run([{ reserveRatio: 1.9 }, { reserveRatio: 2.5 }, { reserveRatio: 1.9 }]);
    expect(perCycle).toEqual([['reserve-ratio-low'], [], ['reserve-ratio-low']]);
  });

  it('keeps the previous band through a cycle with no reserve ratio', () => {
    const { perCycle, state } = run([{ reserveRatio: 1.9 }, { reserveRatio: null }, { reserveRatio: 1.9 }]);
    expect(perCycle).toEqual([['reserve-ratio-low'], [], []]);
    expect(state.rrBand).toBe('low');
  });

  it('refuses a negative or non-finite reserve ratio, naming the field', () => {
    expect(() => classifyCycle(INITIAL_ALERT_STATE, { ...calm, reserveRatio: Number.NaN }, params)).toThrow(/reserveRatio.*NaN/);
  });
});

describe('no valid price', () => {
  it('raises the critical alert on exactly the third consecutive invalid cycle, and not again during the same outage', () => {
    const { perCycle, all } = run(Array.from({ length: 6 }, () => ({ validPrice: false })));
    expect(perCycle).toEqual([[], [], ['no-valid-price'], [], [], []]);
    expect(all[0]).toMatchObject({ level: 'critical', data: { cycles: 3 } });
    expect(all[0]!.message).toMatch(/3 consecutive cycles.*Check the oracle sources/);
  });

  it('starts counting again after a valid price', () => {
    const invalid = { validPrice: false };
    const { perCycle } = run([invalid, invalid, { validPrice: true }, invalid, invalid, invalid]);
    expect(perCycle.flat()).toEqual(['no-valid-price']);
    expect(perCycle[5]).toEqual(['no-valid-price']);
  });

  it('raises one alert per outage, whatever the pattern of valid and invalid cycles', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), (valid) => {
        const { all } = run(valid.map((v) => ({ validPrice: v })));
        // An outage is a maximal run of invalid cycles; it alerts iff it lasts ≥ 3 cycles.
        const outages = valid.map((v) => (v ? '1' : '0')).join('').split('1').filter((run) => run.length >= 3).length;
        expect(all.filter((a) => a.kind === 'no-valid-price')).toHaveLength(outages);
      }),
    );
  });
});

describe('oracle outliers', () => {
  it('warns once per outlier source, every cycle it is an outlier', () => {
    const { perCycle, all } = run([{ outliers: ['pyth', 'switchboard', 'pyth'] }, { outliers: ['pyth'] }, {}]);
    expect(perCycle).toEqual([['oracle-outlier', 'oracle-outlier'], ['oracle-outlier'], []]);
    expect(all.map((a) => a.data.source)).toEqual(['pyth', 'switchboard', 'pyth']);
    expect(all[0]!.level).toBe('warning');
    expect(all[0]!.message).toMatch(/pyth.*excluded.*check the pyth feed/);
  });
});

describe('PUMP concentration', () => {
  it('warns when concentration goes above 0.80, once, and again only after it came back down', () => {
    const { perCycle, all } = run([
      { pumpConcentration: 0.8 },
      { pumpConcentration: 0.85 },
      { pumpConcentration: 0.9 },
      { pumpConcentration: null },
      { pumpConcentration: 0.7 },
      { pumpConcentration: 0.81 },
    ]);
    expect(perCycle).toEqual([[], ['concentration-high'], [], [], [], ['concentration-high']]);
    expect(all[0]!.message).toMatch(/85\.0 % of treasury value, above the 80\.0 % limit/);
  });
});

describe('health level', () => {
  it('raises an info alert when the level improves, not when it stays or worsens, nor on the first reading', () => {
    const { perCycle, all } = run([
      { healthLevel: 'poor' },
      { healthLevel: 'poor' },
      { healthLevel: 'good' },
      { healthLevel: 'moderate' },
      { healthLevel: null },
      { healthLevel: 'excellent' },
    ]);
    expect(perCycle).toEqual([[], [], ['health-improved'], [], [], ['health-improved']]);
    expect(all.map((a) => [a.level, a.data.from, a.data.to])).toEqual([
      ['info', 'poor', 'good'],
      ['info', 'moderate', 'excellent'],
    ]);
  });
});

describe('event alerts', () => {
  it('reports a failed swap as critical, naming the intervention and the error', () => {
    const a = swapFailedAlert('int-7', 'slippage 3.1 % above 2 %');
    expect(a).toMatchObject({ level: 'critical', kind: 'swap-failed', data: { interventionId: 'int-7' } });
    expect(a.message).toMatch(/int-7 failed: slippage 3\.1 % above 2 %\. Check/);
  });

  it('reports an intervention aborted by the slippage floor as a warning that says nothing moved and why', () => {
    const a = swapQuoteOutOfBoundAlert('int-8', { pumpIn: '1000', quotedPstr: '90.5', floorPstr: '98', maxSlippage: 0.02 });
    expect(a).toMatchObject({ level: 'warning', kind: 'swap-quote-out-of-bound', data: { interventionId: 'int-8', quotedPstr: '90.5', floorPstr: '98' } });
    expect(a.message).toMatch(/^Intervention int-8 aborted, nothing moved: the best quote for 1000 PUMP was 90\.5 PSTR, below the floor of 98 PSTR .* 2\.00 % slippage bound\./);
  });

  it('reports a system failure as critical, naming the component', () => {
    const a = systemFailureAlert('oracle worker', 'Hermes unreachable');
    expect(a).toMatchObject({ level: 'critical', kind: 'system-failure', data: { component: 'oracle worker' } });
    expect(a.message).toMatch(/^oracle worker failed: Hermes unreachable\./);
  });

  it('reports an executed intervention as info with its amounts', () => {
    const a = interventionExecutedAlert({ id: 'int-8', pumpSpent: '1250.5', pstrBought: '98000', usdValue: 4321.987, price: 0.0441 });
    expect(a).toMatchObject({ level: 'info', kind: 'intervention-executed' });
    expect(a.message).toMatch(/spent 1250\.5 PUMP \(\$4321\.99\) for 98000 PSTR at \$0\.0441/);
  });
});

describe('governanceAlerts', () => {
  const createdAt = Date.UTC(2025, 0, 1);
  const proposal = { id: 'p-1', kind: 'parameterAdjustment' as const, createdAt, deadline: createdAt + 72 * HOUR_MS, deadlineWarned: false };

  it('asks for votes when the proposal is created', () => {
    const { alerts, deadlineWarned } = governanceAlerts(proposal, createdAt, 24);
    expect(alerts.map((a) => [a.level, a.kind])).toEqual([['governance', 'proposal-needs-votes']]);
    expect(alerts[0]!.message).toMatch(/p-1 \(Parameter Adjustment\) is open for voting until 2025-01-04T00:00:00\.000Z/);
    expect(deadlineWarned).toBe(false);
  });

  it('says nothing between creation and the warning window', () => {
    expect(governanceAlerts(proposal, createdAt + 48 * HOUR_MS - 1, 24).alerts).toEqual([]);
  });

  it('warns once when the deadline comes within 24 h', () => {
    const first = governanceAlerts(proposal, createdAt + 48 * HOUR_MS, 24);
    expect(first.alerts.map((a) => a.kind)).toEqual(['voting-deadline']);
    expect(first.alerts[0]!.message).toMatch(/closes in 24\.0 h/);
    expect(first.deadlineWarned).toBe(true);
    const later = governanceAlerts({ ...proposal, deadlineWarned: first.deadlineWarned }, createdAt + 60 * HOUR_MS, 24);
    expect(later).toEqual({ alerts: [], deadlineWarned: true });
  });

  it('does not warn about a deadline that has passed', () => {
    expect(governanceAlerts(proposal, proposal.deadline, 24).alerts).toEqual([]);
  });

  it('raises both alerts at creation of an Emergency Action, whose 24 h vote fits in the window', () => {
    const emergency = { ...proposal, kind: 'emergencyAction' as const, deadline: createdAt + 24 * HOUR_MS };
    expect(governanceAlerts(emergency, createdAt, 24).alerts.map((a) => a.kind)).toEqual(['proposal-needs-votes', 'voting-deadline']);
  });

  it('refuses a deadline that is not after creation', () => {
    expect(() => governanceAlerts({ ...proposal, deadline: createdAt }, createdAt, 24)).toThrow(/p-1: deadline/);
  });
});

describe('oracle source failures', () => {
  const params = { minRrThreshold: 1.5, reductionBelowRr: 2, maxPumpConcentration: 0.8, noValidPriceAlertCycles: 3 };
  const cycle = (failed: { source: string; error: string }[]) => ({ validPrice: true, outliers: [], reserveRatio: 3, pumpConcentration: 0.2, healthLevel: null, failedSources: failed });

  it('warns once when a source starts failing, and again only after it has answered in between', () => {
    const down = [{ source: 'pyth', error: 'rate-limited (HTTP 429)' }];
    const first = classifyCycle(INITIAL_ALERT_STATE, cycle(down), params);
    expect(first.alerts.map((a) => [a.kind, a.level])).toEqual([['oracle-source-failing', 'warning']]);
    expect(first.alerts[0]?.message).toMatch(/pyth could not be read: rate-limited \(HTTP 429\)/);
    const second = classifyCycle(first.state, cycle(down), params);
    expect(second.alerts).toEqual([]);
    const back = classifyCycle(second.state, cycle([]), params);
    expect(back.alerts).toEqual([]);
    expect(classifyCycle(back.state, cycle(down), params).alerts).toHaveLength(1);
  });

  it('treats a state carried over from an older run (no failing list) as none failing', () => {
    const { failingSources: _ignored, ...old } = INITIAL_ALERT_STATE;
    expect(classifyCycle(old, cycle([{ source: 'switchboard', error: 'timeout' }]), params).alerts).toHaveLength(1);
  });
});

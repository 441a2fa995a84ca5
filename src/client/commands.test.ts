// The commands' pure parts: id shorthands, picking out the operator's own event,
// and the lines printed after a decision and for a report. The commands
// themselves run against a real server in test/e2e/devserver.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InterventionState, OperatorEvent } from '../workflows/contract.ts';
import { proposalId } from './commands-governance.ts';
import { decisionLines, interventionId } from './commands-intervention.ts';
import { newEvents, reportLines } from './commands-monitor.ts';
import { explain, targetFromEnv, unreachable } from './connect.ts';
import { seqOf } from './context.ts';
import { CliError } from './errors.ts';

const T0 = Date.UTC(2025, 0, 1);

describe('workflow id shorthands', () => {
  it('expands a bare number to the treasury\'s intervention or to a proposal, and leaves a full id alone', () => {
    expect(interventionId({ treasuryId: 'pstr-main' }, '3')).toBe('intervention/pstr-main/3');
    expect(interventionId({ treasuryId: 'pstr-main' }, 'intervention/other/3')).toBe('intervention/other/3');
    expect(proposalId('12')).toBe('proposal/12');
    expect(proposalId('proposal/12')).toBe('proposal/12');
  });

  it('sorts by the trailing number of an id', () => {
    fc.assert(fc.property(fc.nat(), (n) => {
      expect(seqOf(`intervention/t/${n}`)).toBe(n);
    }));
    expect(seqOf('monitor/t')).toBe(0);
  });
});

describe('newEvents', () => {
  const event = fc.record({
    at: fc.integer({ min: T0, max: T0 + 1e9 }), action: fc.constantFrom('pause', 'resume', 'emergencyStop'), by: fc.option(fc.constantFrom('alice', 'bob')),
    reason: fc.constant(null), accepted: fc.boolean(), detail: fc.string(),
  }) as fc.Arbitrary<OperatorEvent>;

  it('returns what came after the last event seen before, even when the list was trimmed to its latest 20', () => {
    fc.assert(fc.property(fc.array(event, { minLength: 1, maxLength: 25 }), fc.array(event, { maxLength: 10 }), (before, added) => {
      fc.pre(!added.some((a) => JSON.stringify(a) === JSON.stringify(before.at(-1))));
      const after = [...before, ...added].slice(-20);
      expect(newEvents(before, after)).toEqual(added.slice(-20));
    }));
  });

  it('returns every event when there was none before', () => {
    const e: OperatorEvent = { at: T0, action: 'pause', by: 'bob', reason: null, accepted: true, detail: 'paused' };
    expect(newEvents([], [e])).toEqual([e]);
  });
});

describe('what approve and reject print', () => {
  const base = {
    id: 'intervention/t/1', stage: 'timelock', status: 'running', startedAt: T0,
    timelock: { required: true, unlockAt: T0 + 3_600_000, expiresAt: T0 + 86_400_000, verdict: { kind: 'waiting', until: T0 + 3_600_000, why: 'approved; the timelock has not run yet' } },
    approvals: { approvals: [{ operator: 'alice', at: T0 + 60_000 }], rejection: null, refused: [] },
  } as unknown as InterventionState;

  it('says who approved and how long the timelock still runs', () => {
    expect(decisionLines('intervention/t/1', 'approve', 'alice', base)).toEqual([
      'intervention/t/1: approved by alice; approvals so far: alice (2025-01-01T00:01:00.000Z)',
      '  still waiting until 2025-01-01T01:00:00.000Z: approved; the timelock has not run yet',
    ]);
  });

  it('says the swap proceeds once the timelock is satisfied, and that a rejection ends it', () => {
    const done = { ...base, timelock: { ...base.timelock, verdict: { kind: 'approved' } } } as InterventionState;
    expect(decisionLines('intervention/t/1', 'approve', 'alice', done)[1]).toMatch(/the timelock is satisfied/);
    expect(decisionLines('intervention/t/1', 'reject', 'bob', base)).toEqual(['intervention/t/1: rejected by bob; it ends without a swap']);
  });
});

describe('the report', () => {
  it('prints VaR and ES when there is enough history, and says so when there is not', () => {
    const perf = { workflowId: 'report/t/x/performance', result: { interventions: 2, successRate: 0.5, sharpe: 1.2345, maxDrawdown: 0.1, growth30d: null } };
    const ok = reportLines(perf, { workflowId: 'r', result: { var: { kind: 'ok', var95: 1878.9, es95: 2019.8, quantile: -0.002, returns: 30 }, volatility: 0.676, marketRisk: 'medium', days: 31 } });
    expect(ok[1]).toBe('  interventions 2 · success rate 50.00 % · Sharpe 1.234 · max drawdown 10.00 % · 30-day growth —');
    expect(ok[3]).toBe('  VaR95 1,878.90 USD · ES95 2,019.80 USD (one day, over 30 daily returns)');
    expect(ok[4]).toBe('  PSTR 30-day volatility 0.676 annualized · market risk medium · 31 day(s) of closes');
    const thin = reportLines(perf, { workflowId: 'r', result: { var: { kind: 'insufficient history', returns: 3, needed: 30 }, volatility: null, marketRisk: 'insufficient history', days: 4 } });
    expect(thin[3]).toBe('  VaR95/ES95: insufficient history (3 of 30 daily returns)');
  });
});

describe('connection settings and errors', () => {
  it('reads the address and namespace from the environment with local defaults', () => {
    expect(targetFromEnv({})).toEqual({ address: '127.0.0.1:7233', namespace: 'default', apiKey: null });
    expect(targetFromEnv({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'treasury' })).toMatchObject({ address: 'temporal:7233', namespace: 'treasury' });
  });

  it('turns an unavailable server into the one-line hint, and a deadline into "is a worker running"', () => {
    const target = targetFromEnv({});
    expect(explain(Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }), target, 'query')).toEqual(unreachable('127.0.0.1:7233'));
    const late = explain(Object.assign(new Error('x'), { cause: { code: 4 } }), target, 'monitor/t (query status)');
    expect(late).toBeInstanceOf(CliError);
    expect((late as CliError).message).toBe('monitor/t (query status): no answer within 10 s; is a worker running (`npm start`)?');
    const other = new Error('something else');
    expect(explain(other, target, 'x')).toBe(other);
  });
});

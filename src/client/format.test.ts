import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAmount } from '../domain/amount.ts';
import type { InterventionState, MonitorHealth, MonitorStatus, ProposalTally } from '../workflows/contract.ts';
import { operatorsLine } from '../domain/operators.ts';
import { decisionText, interventionLines, pct, proposalLines, seconds, statusLine, statusReport, tokens, usd, utc } from './format.ts';

const T0 = Date.UTC(2025, 2, 1, 10, 15, 0, 250);

function status(over: Partial<MonitorStatus> = {}): MonitorStatus {
  return {
    treasuryId: 'pstr-main', mode: 'paper', paused: false, emergencyStop: false, cycles: 12, pendingInterventions: [], interventionCount: 0,
    lastExecutedSwapAt: null, noValidPriceStreak: 0, recentOperatorEvents: [], cycleIntervalSeconds: 15,
    undeliveredCritical: { count: 0, oldest: null },
    lastCycle: {
      cycleId: 'pstr-main/12', at: T0, validPrice: true, consensusPrice: 0.000166, consensusReason: null, vwap30: 0.0002, volumeless: false,
      warmingUp: false, drawdown: 0.17, reserveRatio: 2.5, pumpConcentration: 0.22, treasuryValueUsd: 900_000, marketCapUsd: 332_000,
      health: 1.3, healthLevel: 'good', decision: 'intervene: tier 1', startedIntervention: 'intervention/pstr-main/1',
    },
    ...over,
  };
}
const health: MonitorHealth = { score: 1.3, level: 'good', reserveRatio: 2.5, interventionCapacity: 0.66, diversification: null, at: T0 };

describe('number and time formats', () => {
  it('writes times in UTC with milliseconds and a Z, and a dash when there is none', () => {
    expect(utc(T0)).toBe('2025-03-01T10:15:00.250Z');
    expect(utc(null)).toBe('—');
  });

  it('writes fractions as percentages and amounts of USD with two decimals', () => {
    expect(pct(0.17)).toBe('17.00 %');
    expect(pct(null)).toBe('—');
    expect(usd(20067.174)).toBe('20,067.17 USD');
  });

  it('writes base units as whole tokens exactly, for any amount', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 18 }), (raw, decimals) => {
      const text = tokens(raw.toString(), decimals, 'PUMP');
      expect(text.endsWith(' PUMP')).toBe(true);
      expect(parseAmount('PUMP', text.slice(0, -5), decimals).raw).toBe(raw);
    }));
    expect(tokens('4000000000000', 6, 'PUMP')).toBe('4000000 PUMP');
    expect(tokens('12.5', 6, 'PUMP')).toBe('12.5 (base units) PUMP');
  });

  it('writes durations in the unit that reads best', () => {
    expect(seconds(3000)).toBe('3.0 s');
    expect(seconds(59_999)).toBe('60 s');
    expect(seconds(60_000)).toBe('1.0 min');
    expect(seconds(3_600_000)).toBe('1.00 h');
  });

  it('says "no valid price" once when the monitor doubled it', () => {
    expect(decisionText('no valid price: no valid price: 1 source(s) agreed')).toBe('no valid price: 1 source(s) agreed');
    expect(decisionText('intervene: tier 1')).toBe('intervene: tier 1');
  });
});

describe('the status report', () => {
  it('shows the mode, the last cycle, the health and the pending interventions', () => {
    const lines = statusReport(status({ pendingInterventions: ['intervention/pstr-main/1'] }), health, T0 + 4000);
    expect(lines[0]).toBe('Treasury pstr-main · paper mode · a cycle every 15 s');
    expect(lines[1]).toBe('State: running');
    expect(lines).toContain('Last cycle pstr-main/12 at 2025-03-01T10:15:00.250Z (4.0 s ago)');
    expect(lines).toContain('  price 0.000166000 · VWAP 0.000200000 · drawdown 17.00 %');
    expect(lines).toContain('Pending interventions: intervention/pstr-main/1');
    expect(lines).toContain('Health: good (score 1.300) · RR 2.500 · intervention capacity 0.660 · as of 2025-03-01T10:15:00.250Z');
  });

  it('puts an emergency stop and a pause first, and lists refused operator events as refused', () => {
    const s = status({
      paused: true, emergencyStop: true,
      recentOperatorEvents: [{ at: T0, action: 'resume', by: 'carol', reason: null, accepted: false, detail: 'refused: reserve ratio 1.2 is still below 1.5' }],
    });
    const lines = statusReport(s, health, T0);
    expect(lines[1]).toBe('State: EMERGENCY STOP + PAUSED');
    expect(lines.at(-1)).toBe('  2025-03-01T10:15:00.250Z  resume by carol: REFUSED — refused: reserve ratio 1.2 is still below 1.5');
    expect(statusLine(s)).toMatch(/^pstr-main: EMERGENCY STOP \+ PAUSED · cycle 12 · /);
  });

  it('names who may act, and says so when nobody may', () => {
    expect(statusReport(status({ operators: 'alice, bob' }), health, T0)).toContain('Operators: alice, bob');
    const none = statusReport(status({ operators: operatorsLine([]) }), health, T0);
    expect(none).toContain('Operators: none configured (intervention.operators is empty): every operator action is refused');
  });

  it('says when no cycle has run yet and when prices were missing', () => {
    const lines = statusReport(status({ lastCycle: null, noValidPriceStreak: 3 }), { ...health, score: null, level: null, at: null }, T0);
    expect(lines).toContain('No cycle has run yet');
    expect(lines).toContain('No valid price for the last 3 cycle(s)');
  });
});

describe('intervention and proposal rows', () => {
  const state = {
    id: 'intervention/t/1', stage: 'timelock', status: 'running', startedAt: T0, tier: 1, fraction: 0.1, pumpAmount: '4000000000000', usdSize: 20000,
    timelock: { required: true, unlockAt: T0 + 3_600_000, expiresAt: T0 + 86_400_000, verdict: null },
    approvals: { approvals: [{ operator: 'alice', at: T0 }], rejection: null, refused: [] }, steps: [], result: null, roi: {}, reason: null,
  } as InterventionState;

  it('shows a waiting intervention with its size, its unlock time and who approved', () => {
    expect(interventionLines({ id: state.id, execution: 'RUNNING', startTime: T0, state }, 6)).toEqual([
      'intervention/t/1  running  stage timelock  tier 1  size 4000000 PUMP ≈ 20,000.00 USD  started 2025-03-01T10:15:00.250Z',
      '    waiting: unlocks 2025-03-01T11:15:00.250Z, expires 2025-03-02T10:15:00.250Z; approvals: alice',
    ]);
  });

  it('shows an ended intervention with its reason, and a terminated one without state', () => {
    const ended = { ...state, stage: 'done', status: 'rejected', reason: 'rejected by bob' } as InterventionState;
    expect(interventionLines({ id: state.id, execution: 'COMPLETED', startTime: T0, state: ended }, 6)[1]).toBe('    rejected by bob');
    expect(interventionLines({ id: state.id, execution: 'TERMINATED', startTime: T0, state: null }, 6)[0]).toContain('terminated');
  });

  it('shows a proposal with its tally against the thresholds and its refused votes', () => {
    const t: ProposalTally = {
      id: 'proposal/1', kind: 'parameterAdjustment', description: 'longer cooldown', change: { action: 'updateConfig', patch: { strategy: { cooldownHours: 72 } } },
      status: 'voting', deadline: T0, executeAt: null, votes: { alice: 'yes' }, outcome: null,
      refused: [{ voter: 'zed', choice: 'no', why: 'not a holder', at: T0 }],
      tally: { yes: 10, no: 0, abstain: 0, cast: 10, total: 40, quorum: 0.25, approval: 1, quorumRequired: 0.1, approvalRequired: 0.51, quorumMet: true, approvalMet: true, passed: true },
    };
    const lines = proposalLines(t);
    expect(lines[0]).toBe('proposal/1  parameterAdjustment  voting  deadline 2025-03-01T10:15:00.250Z');
    expect(lines).toContain('    quorum 25.00 % (needs 10 %) · approval 100.00 % (needs 51 %) · passing');
    expect(lines).toContain('    votes: alice=yes');
    expect(lines.at(-1)).toBe('    refused vote zed=no at 2025-03-01T10:15:00.250Z: not a holder');
  });
});

describe('undelivered critical alerts in the status', () => {
  it('are shown with the oldest one and each failed sink', () => {
    const lines = statusReport(status({ undeliveredCritical: { count: 2, oldest: { kind: 'reserve-ratio-critical', at: T0, message: 'RR low', failures: ['slack: HTTP 503'] } } }), health, T0);
    expect(lines.join('\n')).toMatch(/ALERT DELIVERY: 2 critical alert\(s\) not delivered to any sink \(oldest: reserve-ratio-critical at .*; slack: HTTP 503\)/);
    expect(statusReport(status(), health, T0).join('\n')).not.toMatch(/ALERT DELIVERY/);
  });
});

import { describe, expect, it } from 'vitest';
import { NO_APPROVALS } from '../domain/approval.ts';
import type { InterventionState } from '../workflows/contract.ts';
import { liveLines, NOTHING_SEEN } from './live-lines.ts';

const T = Date.UTC(2026, 11, 4, 2, 0, 0);
const base: InterventionState = {
  id: 'intervention/pstr-main/1', stage: 'timelock', status: 'running', startedAt: T, tier: 1, fraction: 0.1, pumpAmount: '4000000000000', usdSize: 20_000,
  timelock: { required: true, unlockAt: T + 120_000, expiresAt: T + 86_400_000, verdict: null }, approvals: NO_APPROVALS,
  plan: { treasuryId: 'pstr-main', interventionId: 'intervention/pstr-main/1', revision: 1, tier: 1, pumpIn: '4000000000000', minPstrOut: '1', consensusPrice: 1e-4, configVersion: 1, expiresAt: T + 86_400_000 },
  steps: [{ step: 'validate', at: T, verdict: 'still triggered at 0.0001', inputs: {}, outcome: {} }, { step: 'size', at: T + 1000, verdict: 'tier 1: 10.00 % of PUMP', inputs: {}, outcome: {} }],
  result: null, roi: {}, reason: null,
};

describe('the live lines of an intervention', () => {
  it('print each new step once, and say it waits for approval of its plan', () => {
    const first = liveLines(base.id, NOTHING_SEEN, base, T + 2000);
    expect(first.lines).toEqual([
      '[02:00:00] intervention/pstr-main/1 step validate: still triggered at 0.0001',
      '[02:00:01] intervention/pstr-main/1 step size: tier 1: 10.00 % of PUMP',
      '[02:00:02] intervention/pstr-main/1 waits for approval of plan 1: approve with `npx pstr approve intervention/pstr-main/1 --operator <name>`',
    ]);
    expect(liveLines(base.id, first.seen, base, T + 3000).lines).toEqual([]);
  });

  it('print the approval, each swap slice and the end with what moved', () => {
    const seen = liveLines(base.id, NOTHING_SEEN, base, T).seen;
    const done: InterventionState = {
      ...base, stage: 'done', status: 'executed', reason: 'executed',
      approvals: { ...NO_APPROVALS, approvals: [{ operator: 'alice', at: T + 5000, signature: 'x', plan: 1 }] },
      steps: [...base.steps, { step: 'swap:0', at: T + 130_000, verdict: 'filled 98.7 PSTR for 1,000 PUMP', inputs: {}, outcome: {} }],
      result: { pumpSpent: '1000', pstrBought: '987', realizedPrice: 1e-4, slippage: 0.01, unfilledPump: '0' },
    };
    expect(liveLines(base.id, seen, done, T + 131_000).lines).toEqual([
      '[02:02:10] intervention/pstr-main/1 SWAP slice 0: filled 98.7 PSTR for 1,000 PUMP',
      '[02:00:05] intervention/pstr-main/1 approved by alice (signed)',
      '[02:02:11] intervention/pstr-main/1 ENDED EXECUTED: executed · spent 1000 PUMP base units for 987 PSTR base units',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { authorize, canonicalJson, proposalActionVerdict, proposalMayDo, resumeDecision } from './operators.ts';

describe('authorize', () => {
  it('allows a configured operator and refuses anyone else, naming them', () => {
    expect(authorize('pause', 'alice', ['alice', 'bob']).ok).toBe(true);
    const r = authorize('emergencyStop', 'mallory', ['alice', 'bob']);
    expect(r).toEqual({ ok: false, why: 'emergencyStop refused: "mallory" is not a configured operator (intervention.operators)' });
  });

  it('refuses every action when no operator is configured, and says so', () => {
    for (const action of ['pause', 'resume', 'emergencyStop', 'updateConfig', 'cancelIntervention'] as const) {
      const r = authorize(action, 'alice', []);
      expect(r.ok).toBe(false);
      expect(r.why).toContain('no operators are configured (intervention.operators is empty)');
    }
  });

  it('compares names exactly (no case folding: "Alice" is not alice)', () => {
    expect(authorize('resume', 'Alice', ['alice']).ok).toBe(false);
  });
});

describe('resumeDecision', () => {
  const base = { emergencyStop: true, lastReserveRatio: 1.6, minRrThreshold: 1.5, fromOperator: true, fromEmergencyProposal: false };

  it('lifts the latch for an operator at RR ≥ 1.5 only', () => {
    expect(resumeDecision(base).ok).toBe(true);
    expect(resumeDecision({ ...base, lastReserveRatio: 1.5 }).ok).toBe(true);
    expect(resumeDecision({ ...base, lastReserveRatio: 1.49 })).toEqual({ ok: false, why: 'resume refused: reserve ratio 1.4900 is still below 1.5: restore reserves, then resume' });
    expect(resumeDecision({ ...base, lastReserveRatio: null }).ok).toBe(false);
  });

  it('lifts the latch for an Emergency Action proposal, but not for another proposal kind', () => {
    expect(resumeDecision({ ...base, fromOperator: false, fromEmergencyProposal: true }).ok).toBe(true);
    expect(resumeDecision({ ...base, fromOperator: false }).why).toContain('only by an operator or an Emergency Action proposal');
  });

  it('just resumes when nothing is latched, whatever the reserve ratio', () => {
    expect(resumeDecision({ ...base, emergencyStop: false, lastReserveRatio: null }).ok).toBe(true);
  });
});

describe('proposalActionVerdict', () => {
  const row = { id: 'proposal/3', treasuryId: 'pstr-main', kind: 'emergencyAction', status: 'passed-waiting', change: { action: 'pause' } };
  const claim = { proposalId: 'proposal/3', treasuryId: 'pstr-main', change: { action: 'pause' } };

  it('accepts the passed proposal of this treasury carrying the same change', () => {
    expect(proposalActionVerdict(row, claim).ok).toBe(true);
    expect(proposalActionVerdict({ ...row, status: 'executed' }, claim).ok).toBe(true);
  });

  it('refuses a proposal the store does not hold, of another treasury, not passed, of the wrong kind, or with another change', () => {
    expect(proposalActionVerdict(undefined, claim).why).toBe('no proposal proposal/3 in the store');
    expect(proposalActionVerdict({ ...row, treasuryId: 'other' }, claim).why).toContain('belongs to treasury other');
    expect(proposalActionVerdict({ ...row, status: 'voting' }, claim).why).toBe('proposal proposal/3 is voting, not passed');
    expect(proposalActionVerdict({ ...row, status: 'rejected' }, claim).ok).toBe(false);
    expect(proposalActionVerdict(row, { ...claim, change: { action: 'resume' } }).why).toBe('the change differs from what proposal proposal/3 carries');
    expect(proposalActionVerdict({ ...row, kind: 'parameterAdjustment' }, claim).why).toBe('a parameterAdjustment proposal may not pause');
    expect(proposalActionVerdict(row, { ...claim, change: { action: 'emergencyStop' } }).ok).toBe(false);
  });

  it('compares config patches whatever their key order', () => {
    const patch = { risk: { maxSlippage: 0.01, minRrThreshold: 1.6 }, strategy: { cooldownHours: 72 } };
    const r = { ...row, kind: 'parameterAdjustment', change: { action: 'updateConfig', patch } };
    const reordered = { strategy: { cooldownHours: 72 }, risk: { minRrThreshold: 1.6, maxSlippage: 0.01 } };
    expect(proposalActionVerdict(r, { ...claim, change: { patch: reordered, action: 'updateConfig' } }).ok).toBe(true);
    expect(proposalActionVerdict(r, { ...claim, change: { action: 'updateConfig', patch: { ...reordered, strategy: { cooldownHours: 73 } } } }).ok).toBe(false);
  });
});

describe('proposalMayDo and canonicalJson', () => {
  it('lets only an Emergency Action pause, resume or cancel, and no kind latch a stop', () => {
    expect(proposalMayDo('emergencyAction', 'cancelIntervention')).toBe(true);
    expect(proposalMayDo('treasuryStrategy', 'pause')).toBe(false);
    expect(proposalMayDo('emergencyAction', 'emergencyStop')).toBe(false);
    expect(proposalMayDo('constructor', 'pause')).toBe(false);
  });

  it('writes equal objects identically', () => {
    expect(canonicalJson({ b: [1, { d: 2, c: 3 }], a: null })).toBe('{"a":null,"b":[1,{"c":3,"d":2}]}');
  });
});

import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config-schema.ts';
import { applySignal, needsTimelock, NO_APPROVALS, timelockParams, timelockVerdict, type ApprovalState } from './approval.ts';

const base = defaultConfig();
const p = timelockParams({ intervention: { ...base.intervention, operators: ['alice', 'bob'], approvalsRequired: 2 } });
const t0 = Date.UTC(2025, 5, 1);
const MIN = 60_000;

const signal = (kind: 'approve' | 'reject', operator: string, at = t0) => ({ kind, operator, at });

describe('timelock', () => {
  it('applies only above 10,000 USD', () => {
    expect(needsTimelock(10_000, p)).toBe(false);
    expect(needsTimelock(10_000.01, p)).toBe(true);
  });

  it('refuses and records an approval from a name not on the operator list', () => {
    const r = applySignal(NO_APPROVALS, signal('approve', 'mallory'), p);
    expect(r.accepted).toBe(false);
    expect(r.why).toMatch(/"mallory" is not a configured operator/);
    expect(r.state.approvals).toEqual([]);
    expect(r.state.refused).toHaveLength(1);
  });

  it('counts approvals once per distinct operator', () => {
    let s: ApprovalState = NO_APPROVALS;
    s = applySignal(s, signal('approve', 'alice'), p).state;
    const again = applySignal(s, signal('approve', 'alice'), p);
    expect(again.accepted).toBe(false);
    expect(again.state.approvals).toHaveLength(1);
    expect(timelockVerdict(again.state, t0, t0 + 61 * MIN, p).kind).toBe('waiting');
    s = applySignal(again.state, signal('approve', 'bob'), p).state;
    expect(timelockVerdict(s, t0, t0 + 61 * MIN, p).kind).toBe('approved');
  });

  it('waits for the 60 minutes even when approved earlier, then proceeds', () => {
    let s = applySignal(NO_APPROVALS, signal('approve', 'alice'), p).state;
    s = applySignal(s, signal('approve', 'bob'), p).state;
    expect(timelockVerdict(s, t0, t0 + 59 * MIN, p)).toMatchObject({ kind: 'waiting', until: t0 + 60 * MIN });
    expect(timelockVerdict(s, t0, t0 + 60 * MIN, p).kind).toBe('approved');
  });

  it('lets any operator reject, ending the wait at once', () => {
    let s = applySignal(NO_APPROVALS, signal('approve', 'alice'), p).state;
    s = applySignal(s, signal('reject', 'bob'), p).state;
    expect(timelockVerdict(s, t0, t0 + 1, p)).toEqual({ kind: 'rejected', by: 'bob' });
    expect(applySignal(s, signal('approve', 'alice'), p).accepted).toBe(false);
  });

  it('expires when no decision arrives within 24 hours', () => {
    const s = applySignal(NO_APPROVALS, signal('approve', 'alice'), p).state;
    expect(timelockVerdict(s, t0, t0 + 24 * 60 * MIN - 1, p).kind).toBe('waiting');
    expect(timelockVerdict(s, t0, t0 + 24 * 60 * MIN, p).kind).toBe('expired');
  });
});

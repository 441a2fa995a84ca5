import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadFixture } from '../../test/fixtures/histories/load.ts';
import type { WireSwapResult } from '../activities/intervention.ts';
import { parseConfig } from '../config-schema.ts';
import { formatAmount } from '../domain/amount.ts';
import type { ApprovalState } from '../domain/approval.ts';
import type { InterventionInput, InterventionState, RecordCycleInput, RecordStepInput } from '../workflows/contract.ts';
import { initialMonitorState } from '../workflows/monitor.ts';
import { auditTimeline } from './audit.ts';
import type { DecodedEvent } from './history.ts';

const intervention = loadFixture('intervention').events;
const monitor = loadFixture('monitor').events;

const stepsOf = (events: readonly DecodedEvent[]) =>
  events.flatMap((e) => (e.kind === 'activityScheduled' && e.activityType === 'recordInterventionStep' ? [(e.input[0] as RecordStepInput).step] : []));
const cyclesOf = (events: readonly DecodedEvent[]) =>
  events.flatMap((e) => (e.kind === 'activityScheduled' && e.activityType === 'recordCycle' ? [(e.input[0] as RecordCycleInput).cycle] : []));

/** Indices of the first line containing each text, searched in order; -1 when one is missing or out of order. */
function inOrder(lines: readonly string[], texts: readonly string[]): number[] {
  let from = 0;
  return texts.map((t) => {
    const i = lines.findIndex((l, k) => k >= from && l.includes(t));
    if (i >= 0) from = i + 1;
    return i;
  });
}

describe('the audit of a recorded intervention', () => {
  const lines = auditTimeline('intervention/e2e/1', 'run-1', intervention);

  it('names the workflow and its run, and says it is still running when the history has no end', () => {
    expect(lines[0]).toBe(`Audit of intervention/e2e/1 (run run-1): intervention, ${intervention.length} events, times in UTC`);
    expect(lines[1]).toMatch(/^\(still running: the history so far, up to \d{4}-\d\d-\d\dT[\d:.]+Z\)$/);
  });

  it('shows every recorded step with its verdict, in the order the workflow recorded them', () => {
    const steps = stepsOf(intervention);
    expect(steps.map((s) => s.step)).toEqual(['validate', 'assess', 'size', 'timelock', 'recheck', 'swap:0']);
    expect(inOrder(lines, steps.map((s) => `step ${s.step}: ${s.verdict}`)).every((i) => i >= 0)).toBe(true);
  });

  it('lists each gate of the assess step with its verdict and reason', () => {
    const assess = stepsOf(intervention).find((s) => s.step === 'assess');
    const gates = (assess?.outcome as { gates: { gate: string; passed: boolean; reason: string }[] }).gates;
    expect(gates).toHaveLength(6);
    for (const g of gates) expect(lines).toContain(`${' '.repeat(26)}${g.passed ? '✓' : '✗'} ${g.gate}: ${g.reason}`);
  });

  it('judges each approve signal as the workflow did: the refusal and the approval agree with the recorded timelock step', () => {
    const timelock = stepsOf(intervention).find((s) => s.step === 'timelock');
    const approvals = (timelock?.outcome as { approvals: ApprovalState }).approvals;
    const refused = approvals.refused[0];
    const approved = approvals.approvals[0];
    expect(refused?.signal.operator).toBe('mallory');
    expect(approved?.operator).toBe('alice');
    const signalLines = lines.filter((l) => / signal by /.test(l));
    expect(signalLines).toHaveLength(2);
    expect(signalLines[0]).toContain(`approve signal by mallory (from client.ts`);
    expect(signalLines[0]).toContain(`REFUSED — ${refused?.why}`);
    expect(signalLines[1]).toMatch(/approve signal by alice \("e2e"\) \(from client\.ts [^)]+\): approved by alice$/);
  });

  it('shows the swap request and its confirmed result in whole tokens', () => {
    const result = intervention.find((e) => e.kind === 'activityCompleted' && e.activityType === 'executeSwap');
    const r = (result?.kind === 'activityCompleted' ? result.result : null) as WireSwapResult;
    const tokens = (raw: string) => formatAmount({ raw: BigInt(raw), decimals: 6 });
    const i = inOrder(lines, ['swap requested: slice 0, ', `swap result: confirmed — ${tokens(r.pumpIn)} PUMP → ${tokens(r.pstrOut)} PSTR (reference ${r.reference})`]);
    expect(i.every((k) => k >= 0)).toBe(true);
  });

  it('shows every durable timer that started, and those a signal cancelled', () => {
    const started = intervention.filter((e) => e.kind === 'timerStarted').length;
    const cancelled = intervention.filter((e) => e.kind === 'timerCanceled').length;
    expect(lines.filter((l) => / timer \d+ started: fires in /.test(l))).toHaveLength(started);
    expect(lines.filter((l) => / timer \d+ cancelled /.test(l))).toHaveLength(cancelled);
  });

  it('writes every timestamp in UTC', () => {
    for (const l of lines.slice(2)) if (!l.startsWith(' ')) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}/);
  });
});

describe('the audit of a recorded monitor run', () => {
  const cycles = cyclesOf(monitor);

  it('shows one block per cycle with every reading, the exclusions, the decision and the gates', () => {
    const lines = auditTimeline('monitor/e2e', null, monitor);
    expect(inOrder(lines, cycles.map((c) => ` cycle ${c.summary.cycleId}`)).every((i) => i >= 0)).toBe(true);
    expect(lines.filter((l) => /^\s+reading /.test(l))).toHaveLength(cycles.reduce((n, c) => n + c.consensus.readings.length, 0));
    expect(lines.filter((l) => /^\s+excluded /.test(l))).toHaveLength(cycles.reduce((n, c) => n + c.consensus.excluded.length, 0));
    expect(lines.filter((l) => /^\s+gates: /.test(l))).toHaveLength(cycles.filter((c) => c.decision).length);
    expect(lines.filter((l) => /^\s+decision: /.test(l))).toHaveLength(cycles.length);
  });

  it('shows the intervention it started and the operator signal it received', () => {
    const lines = auditTimeline('monitor/e2e', null, monitor);
    expect(lines.filter((l) => l.endsWith('→ started intervention/e2e/1'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('intervention/e2e/1 settled: executed'))).toBe(true);
    expect(lines.some((l) => /operator pause by bob \("e2e pause"\) \(from [^)]+\): accepted$/.test(l))).toBe(true);
  });

  it('with --last n shows exactly the last n cycles and says how many it left out', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: cycles.length + 2 }), (n) => {
      const lines = auditTimeline('monitor/e2e', null, monitor, { lastCycles: n });
      const shown = lines.filter((l) => / cycle \S+$/.test(l)).map((l) => l.split(' cycle ')[1]);
      expect(shown).toEqual(cycles.slice(-n).map((c) => c.summary.cycleId));
      const note = lines.find((l) => l.startsWith('… '));
      if (n >= cycles.length) expect(note).toBeUndefined();
      else expect(note).toBe(`… ${cycles.length - n} earlier cycle(s) of this run not shown (--last ${n})`);
    }));
  });
});

/* ---------- synthetic histories for what one run does not show ---------- */

const config = parseConfig({ treasuryId: 't', intervention: { operators: ['alice', 'bob'] } });
let nextId = 1;
const ev = (at: number, body: Record<string, unknown>): DecodedEvent => ({ id: nextId++, at, ...body }) as DecodedEvent;
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const firstCycle = cyclesOf(monitor)[0];
if (!firstCycle) throw new Error('the monitor fixture has no cycle');

function cycleEvent(at: number, n: number, reserveRatio: number, latched: boolean): DecodedEvent {
  const cycle = { ...firstCycle!, summary: { ...firstCycle!.summary, cycleId: `t/${n}`, at, reserveRatio }, emergency: { latched, entered: false } };
  return ev(at, { kind: 'activityScheduled', activityId: String(n), activityType: 'recordCycle', input: [{ treasuryId: 't', cycle }] });
}

describe('the monitor audit judges operator signals the way the monitor does', () => {
  it('marks a resume refused while the emergency stop is latched and RR is below 1.5, and accepted once RR is back', () => {
    const events = [
      ev(T0, { kind: 'workflowStarted', workflowType: 'strategyMonitor', input: [{ config }], continuedFromRunId: null, identity: null }),
      cycleEvent(T0 + 1000, 1, 1.2, true),
      ev(T0 + 2000, { kind: 'signaled', name: 'resume', input: [{ by: 'alice', reason: 'too early' }], identity: null }),
      cycleEvent(T0 + 3000, 2, 1.6, true),
      ev(T0 + 4000, { kind: 'signaled', name: 'resume', input: [{ by: 'alice' }], identity: null }),
      ev(T0 + 5000, { kind: 'signaled', name: 'resume', input: [{ by: 'bob' }], identity: null }),
    ];
    const lines = auditTimeline('monitor/t', null, events).filter((l) => l.includes('operator resume'));
    expect(lines).toEqual([
      '2025-01-01T12:00:02.000Z  operator resume by alice ("too early"): REFUSED — reserve ratio 1.2000 is still below 1.5: restore reserves, then resume',
      '2025-01-01T12:00:04.000Z  operator resume by alice: accepted',
      '2025-01-01T12:00:05.000Z  operator resume by bob: accepted',
    ]);
  });

  it('refuses an operator stop-then-resume while RR is unknown, and an invalid configuration change naming the field', () => {
    const events = [
      ev(T0, { kind: 'workflowStarted', workflowType: 'strategyMonitor', input: [{ config }], continuedFromRunId: null, identity: null }),
      ev(T0 + 1000, { kind: 'signaled', name: 'emergencyStop', input: [{ by: 'bob' }], identity: null }),
      ev(T0 + 2000, { kind: 'signaled', name: 'resume', input: [{ by: 'bob' }], identity: null }),
      ev(T0 + 3000, { kind: 'signaled', name: 'updateConfig', input: [{ patch: { risk: { maxSlippage: 2 } }, by: 'alice' }], identity: null }),
      ev(T0 + 4000, { kind: 'signaled', name: 'updateConfig', input: [{ patch: { risk: { maxSlippage: 0.01 } }, by: 'alice' }], identity: null }),
    ];
    const lines = auditTimeline('monitor/t', null, events);
    expect(lines.find((l) => l.includes('operator resume'))).toContain('REFUSED — no valid reserve ratio measured yet');
    expect(lines.find((l) => l.includes('maxSlippage":2'))).toMatch(/REFUSED — .*risk\.maxSlippage = 2/);
    expect(lines.find((l) => l.includes('maxSlippage":0.01'))).toMatch(/ — accepted$/);
  });

  it('refuses a non-operator\'s stop, resume and config change, and a payload the monitor cannot parse, as the monitor does', () => {
    const events = [
      ev(T0, { kind: 'workflowStarted', workflowType: 'strategyMonitor', input: [{ config }], continuedFromRunId: null, identity: null }),
      ev(T0 + 1, { kind: 'patch', patchId: 'operator-messages-checked' }),
      ev(T0 + 1000, { kind: 'signaled', name: 'emergencyStop', input: [{ by: 'mallory' }], identity: null }),
      ev(T0 + 2000, { kind: 'signaled', name: 'pause', input: [null], identity: null }),
      ev(T0 + 3000, { kind: 'signaled', name: 'updateConfig', input: [{ patch: { risk: { maxSlippage: 0.01 } }, by: 'erin' }], identity: null }),
      ev(T0 + 4000, { kind: 'signaled', name: 'pause', input: [{ by: 'governance proposal/3', proposalId: 'proposal/3' }], identity: null }),
    ];
    const lines = auditTimeline('monitor/t', null, events).filter((l) => l.includes('operator '));
    expect(lines[0]).toBe('2025-01-01T12:00:01.000Z  operator emergencyStop by mallory: REFUSED — emergencyStop refused: "mallory" is not a configured operator (intervention.operators)');
    expect(lines[1]).toMatch(/operator pause: REFUSED — malformed pause: \(the payload\): .*\(got null\)$/);
    expect(lines[2]).toContain('REFUSED — updateConfig refused: "erin" is not a configured operator');
    expect(lines[3]).toContain('governance proposal/3: applied only if the store holds it passed');
  });

  it('judges config changes by the key classes from the message that recorded their patch marker, as the monitor does', () => {
    const events = [
      ev(T0, { kind: 'workflowStarted', workflowType: 'strategyMonitor', input: [{ config }], continuedFromRunId: null, identity: null }),
      ev(T0 + 1000, { kind: 'signaled', name: 'updateConfig', input: [{ patch: { risk: { maxSlippage: 0.03 } }, by: 'alice' }], identity: null }),
      ev(T0 + 2000, { kind: 'signaled', name: 'updateConfig', input: [{ patch: { risk: { maxSlippage: 0.04 } }, by: 'alice' }], identity: null }),
      ev(T0 + 2001, { kind: 'patch', patchId: 'config-key-classes' }),
      ev(T0 + 3000, { kind: 'signaled', name: 'updateConfig', input: [{ patch: { risk: { maxSlippage: 0.01 } }, by: 'alice' }], identity: null }),
    ];
    const lines = auditTimeline('monitor/t', null, events).filter((l) => l.includes('operator updateConfig'));
    expect(lines[0]).toMatch(/ — accepted$/);
    expect(lines[1]).toMatch(/REFUSED — risk\.maxSlippage \(tightening\) 0\.03 → 0\.04: looser/);
    expect(lines[2]).toMatch(/ — accepted$/);
  });

  it('says when earlier runs exist and what the run carried over', () => {
    const state = { ...initialMonitorState(config), cycles: 200, nextSeq: 3, paused: true };
    const events = [ev(T0, { kind: 'workflowStarted', workflowType: 'strategyMonitor', input: [{ config, state }], continuedFromRunId: 'run-0', identity: null })];
    const lines = auditTimeline('monitor/t', 'run-1', events);
    expect(lines).toContain(`${' '.repeat(26)}continued from run run-0: earlier runs exist (audit one with --run run-0)`);
    expect(lines).toContain(`${' '.repeat(26)}carried over: 200 cycles so far, 2 intervention(s) started, PAUSED, in flight: none`);
  });
});

describe('the intervention audit of a rejection and of an ending', () => {
  const input = { treasuryId: 't', seq: 1, config, decidedInCycle: 't/9', decision: { drawdown: 0.17, tier: { tier: 1 }, fraction: 0.1, reduced: false }, consensus: { ok: true, price: 0.000166 }, vwap30: 0.0002, startedAt: T0 } as unknown as InterventionInput;

  it('shows a rejection with its reason, and refuses a later approval because of it', () => {
    const events = [
      ev(T0, { kind: 'workflowStarted', workflowType: 'intervention', input: [input], continuedFromRunId: null, identity: null }),
      ev(T0 + 1000, { kind: 'signaled', name: 'reject', input: [{ operator: 'bob', reason: 'market is thin' }], identity: null }),
      ev(T0 + 2000, { kind: 'signaled', name: 'approve', input: [{ operator: 'alice' }], identity: null }),
    ];
    const lines = auditTimeline('intervention/t/1', null, events);
    expect(lines).toContain('2025-01-01T12:00:01.000Z  reject signal by bob ("market is thin"): rejected by bob');
    expect(lines).toContain('2025-01-01T12:00:02.000Z  approve signal by alice: REFUSED — already rejected by bob');
  });

  it('ends with the final status, what was spent and bought, and the ROI so far', () => {
    const result: Partial<InterventionState> = {
      status: 'executed', reason: 'executed', roi: { '1h': 0.0123 },
      result: { pumpSpent: '4000000000000', pstrBought: '120000000000000', realizedPrice: 0.000167, slippage: 0.004, unfilledPump: '0' },
    };
    const events = [
      ev(T0, { kind: 'workflowStarted', workflowType: 'intervention', input: [input], continuedFromRunId: null, identity: null }),
      ev(T0 + 9000, { kind: 'workflowCompleted', result }),
    ];
    const lines = auditTimeline('intervention/t/1', null, events);
    expect(lines[1]).not.toMatch(/still running/);
    expect(lines.slice(-3)).toEqual([
      '2025-01-01T12:00:09.000Z  ended executed: executed',
      `${' '.repeat(26)}spent 4000000 PUMP, bought 120000000 PSTR at 0.000167000 USD, slippage 0.40 %, unfilled 0 PUMP`,
      `${' '.repeat(26)}ROI: 1h 1.23 %`,
    ]);
  });
});

describe('the audit of anything else', () => {
  it('says so when the history does not begin with a workflow start', () => {
    expect(auditTimeline('x', null, [])).toEqual(["Audit of x: the history is empty or does not begin with the workflow's start"]);
  });

  it('lists a proposal\'s activities, votes and timers generically', () => {
    const events = [
      ev(T0, { kind: 'workflowStarted', workflowType: 'governanceProposal', input: [{ seq: 1 }], continuedFromRunId: null, identity: 'client.ts 1@host' }),
      ev(T0 + 1, { kind: 'timerStarted', timerId: '1', durationMs: 72 * 3_600_000 }),
      ev(T0 + 2, { kind: 'signaled', name: 'vote', input: [{ voter: 'alice', choice: 'yes' }], identity: null }),
      ev(T0 + 3, { kind: 'activityFailed', scheduledId: 9, activityType: 'recordVote', message: 'disk full' }),
    ];
    expect(auditTimeline('proposal/1', null, events).slice(2)).toEqual([
      '2025-01-01T12:00:00.000Z  started by client.ts 1@host: [{"seq":1}]',
      '2025-01-01T12:00:00.001Z  timer 1 started: fires in 72.00 h',
      '2025-01-01T12:00:00.002Z  signal vote: [{"voter":"alice","choice":"yes"}]',
      '2025-01-01T12:00:00.003Z  activity recordVote failed: disk full',
    ]);
  });
});

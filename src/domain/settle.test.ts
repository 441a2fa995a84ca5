import { describe, expect, it } from 'vitest';
import { describeFill, deterministicSwapError, haltReason, sliceHalt } from './settle.ts';

const d = { pump: 6, pstr: 6 };

describe('which swap errors are deterministic', () => {
  it('names argument errors by their class', () => {
    expect(deterministicSwapError('RangeError', 'swap: pumpIn must be a bigint > 0, got 0')).toBe('RangeError');
    expect(deterministicSwapError('TypeError', 'x is not a function')).toBe('TypeError');
    expect(deterministicSwapError('StoreValueError', "swap s slice 0: status cannot go from 'confirmed' to 'failed'")).toBe('StoreValueError');
  });

  it('recognizes the executor\'s plain errors by their wording', () => {
    expect(deterministicSwapError('Error', 'swap i/1 slice 0: recorded pumpIn 5 differs from the requested 6')).toBe('SwapAmountMismatch');
    expect(deterministicSwapError('Error', 'address lookup table 9xQ named by Jupiter does not exist')).toBe('MissingLookupTable');
    expect(deterministicSwapError('Error', 'swap record details.attempts is malformed: ✖ expected array')).toBe('MalformedSwapRecord');
  });

  it('leaves outages and timeouts retryable', () => {
    expect(deterministicSwapError('Error', 'database is locked')).toBeNull();
    expect(deterministicSwapError('Error', 'transaction 5x still unconfirmed after 30 polls; the record keeps it and a retry resumes it')).toBeNull();
    expect(deterministicSwapError('JupiterError', 'Jupiter quote: HTTP 503: unavailable')).toBeNull();
  });
});

describe('what halts the next slice', () => {
  it('an emergency stop first, then a pause, else nothing', () => {
    expect(sliceHalt({ paused: true, emergencyStop: true })).toBe('emergency stop');
    expect(sliceHalt({ paused: true, emergencyStop: false })).toBe('monitor paused');
    expect(sliceHalt({ paused: false, emergencyStop: false })).toBeNull();
  });

  it('a state nobody could tell is a halt that says so', () => {
    expect(sliceHalt({ paused: true, emergencyStop: false, failClosed: true, reason: 'store unreadable' })).toBe('an unknown pause/stop state (read as paused: store unreadable)');
  });
});

describe('what a halted swap says it filled', () => {
  it('counts slices and amounts, and what was left', () => {
    const f = { slices: 2, pumpSpent: 5_000_000n, pstrBought: 12_500_000n, unfilled: 15_000_000n };
    expect(describeFill(f, d)).toBe('filled 2 slices: 12.5 PSTR for 5 PUMP; 15 PUMP unfilled');
    expect(haltReason('emergency stop', 2, f, d)).toBe('halted by emergency stop before slice 2; filled 2 slices: 12.5 PSTR for 5 PUMP; 15 PUMP unfilled');
  });

  it('says nothing moved when no slice ran', () => {
    expect(describeFill({ slices: 0, pumpSpent: 0n, pstrBought: 0n, unfilled: 20_000_000n }, d)).toBe('nothing moved; 20 PUMP unfilled');
  });
});

/** The replay-check gate's pure parts: its --since windows, its query literals, and how it shortens a replay error. */
import { ReplayError } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { literal, parseWindow, summarizeReplayError } from '../../src/ops/replay-check.ts';

describe('replay-check helpers', () => {
  it('reads windows in seconds, minutes, hours, days and weeks, and refuses anything else', () => {
    expect([parseWindow('90s'), parseWindow('30m'), parseWindow('12h'), parseWindow('7d'), parseWindow('2w')])
      .toEqual([90_000, 1_800_000, 43_200_000, 604_800_000, 1_209_600_000]);
    expect([parseWindow('0d'), parseWindow('7'), parseWindow('d'), parseWindow('1.5h'), parseWindow('-1d'), parseWindow('7 days')]).toEqual([null, null, null, null, null, null]);
  });

  it('quotes a workflow type for a visibility query, escaping quotes and backslashes', () => {
    expect(literal('strategyMonitor')).toBe("'strategyMonitor'");
    expect(literal("it's\\x")).toBe("'it\\'s\\\\x'");
  });

  it('keeps the determinism error\'s own first line out of the SDK\'s wrapping, and names its kind', () => {
    const wrapped = new DeterminismViolationError('Replay failed with a nondeterminism error. This means that the workflow code as written is not compatible with the history that was fed in. '
      + 'Details: Workflow activation completion failed: Failure { failure: Some(Failure { message: "[TMPRL1100] Nondeterminism error: Timer machine does not handle \\"ActivityTaskScheduled\\"\\nsecond line", source: "" }) }');
    expect(summarizeReplayError(wrapped)).toEqual({ kind: 'nondeterminism', error: '[TMPRL1100] Nondeterminism error: Timer machine does not handle "ActivityTaskScheduled"' });
    expect(summarizeReplayError(new ReplayError('Replay failed due workflow task failure. Details: boom\nat line 2'))).toEqual({ kind: 'workflow-task-failed', error: 'boom' });
    expect(summarizeReplayError(new ReplayError(`Replay failed due to internal SDK issue. Code: FATAL, Details: ${'x'.repeat(400)}`)).error).toHaveLength(300);
  });
});

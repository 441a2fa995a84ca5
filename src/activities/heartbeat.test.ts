import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withProgressHeartbeat, type Heartbeat } from './heartbeat.ts';

/** Runs `withProgressHeartbeat` in an activity context and collects every heartbeat it sends. */
function inActivity() {
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  return { beats, run: <T>(work: (h: Heartbeat | undefined) => Promise<T>) => env.run(() => withProgressHeartbeat(work, 1_000)) };
}

describe('withProgressHeartbeat', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('heartbeats on a timer for a call that never reports progress (a paper ledger, a quick send)', async () => {
    const { beats, run } = inActivity();
    let finish!: () => void;
    const done = run(() => new Promise<string>((resolve) => (finish = () => resolve('ok'))));
    await vi.advanceTimersByTimeAsync(5_000);
    finish();
    expect(await done).toBe('ok');
    expect(beats).toEqual(Array(6).fill({ alive: true }));
  });

  it('stops the timer at the first progress report, so a call wedged between polls stops heartbeating', async () => {
    const { beats, run } = inActivity();
    let report!: Heartbeat;
    let finish!: () => void;
    const done = run((heartbeat) => new Promise<void>((resolve) => {
      report = heartbeat ?? (() => undefined);
      finish = resolve;
    }));
    await vi.advanceTimersByTimeAsync(2_000);
    report({ poll: 1 });
    await vi.advanceTimersByTimeAsync(10_000);
    report({ poll: 2 });
    await vi.advanceTimersByTimeAsync(10_000);
    finish();
    await done;
    expect(beats).toEqual([{ alive: true }, { alive: true }, { alive: true }, { poll: 1 }, { poll: 2 }]);
  });

  it('passes no heartbeat outside an activity (a direct call from a script or test)', async () => {
    expect(await withProgressHeartbeat(async (heartbeat) => heartbeat)).toBeUndefined();
  });
});

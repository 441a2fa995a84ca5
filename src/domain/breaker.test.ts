import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CLOSED_BREAKER, recordFailure, recordSuccess, releaseTrial, requestPermission, type BreakerParams, type BreakerState } from './breaker.ts';

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
const params: BreakerParams = { failureThreshold: 3, cooldownMs: 60_000 };

function failTimes(state: BreakerState, n: number, at = T0): BreakerState {
  let s = state;
  for (let i = 0; i < n; i++) s = recordFailure(s, at, params);
  return s;
}

describe('circuit breaker', () => {
  it('lets reads through while closed', () => {
    expect(requestPermission(CLOSED_BREAKER, T0, params).allowed).toBe(true);
  });

  it('stays closed after two consecutive failures when the threshold is three', () => {
    const s = failTimes(CLOSED_BREAKER, 2);
    expect(s).toEqual({ status: 'closed', consecutiveFailures: 2 });
    expect(requestPermission(s, T0, params).allowed).toBe(true);
  });

  it('opens on the third consecutive failure and refuses reads with the time of the next trial', () => {
    const s = failTimes(CLOSED_BREAKER, 3);
    expect(s).toEqual({ status: 'open', openedAt: T0, consecutiveFailures: 3 });
    const d = requestPermission(s, T0 + 59_999, params);
    expect(d.allowed).toBe(false);
    if (!d.allowed) {
      expect(d.retryAt).toBe(T0 + 60_000);
      expect(d.reason).toMatch(/circuit open after 3 consecutive failure\(s\); next trial in 0.001 s/);
    }
  });

  it('a success in between resets the count, so failures must be consecutive', () => {
    const s = failTimes(recordSuccess(failTimes(CLOSED_BREAKER, 2)), 2);
    expect(s.status).toBe('closed');
  });

  it('allows exactly one trial once the cooldown has elapsed, at the boundary', () => {
    const open = failTimes(CLOSED_BREAKER, 3);
    const first = requestPermission(open, T0 + 60_000, params);
    expect(first.allowed).toBe(true);
    expect(first.state).toEqual({ status: 'half-open', trialInFlight: true, consecutiveFailures: 3 });
    const second = requestPermission(first.state, T0 + 60_001, params);
    expect(second.allowed).toBe(false);
    if (!second.allowed) expect(second.reason).toMatch(/trial read is already in flight/);
  });

  it('closes when the half-open trial succeeds', () => {
    const trial = requestPermission(failTimes(CLOSED_BREAKER, 3), T0 + 60_000, params).state;
    expect(recordSuccess(trial)).toEqual(CLOSED_BREAKER);
  });

  it('re-opens for a fresh cooldown when the half-open trial fails', () => {
    const trial = requestPermission(failTimes(CLOSED_BREAKER, 3), T0 + 60_000, params).state;
    const reopened = recordFailure(trial, T0 + 61_000, params);
    expect(reopened).toEqual({ status: 'open', openedAt: T0 + 61_000, consecutiveFailures: 4 });
    expect(requestPermission(reopened, T0 + 120_999, params).allowed).toBe(false);
    expect(requestPermission(reopened, T0 + 121_000, params).allowed).toBe(true);
  });

  it('a late failure reported while open counts but does not push the next trial back', () => {
    const open = failTimes(CLOSED_BREAKER, 3);
    const late = recordFailure(open, T0 + 30_000, params);
    expect(late).toEqual({ status: 'open', openedAt: T0, consecutiveFailures: 4 });
    expect(requestPermission(late, T0 + 60_000, params).allowed).toBe(true);
  });

  it('gives the trial slot back when the trial is released without an outcome', () => {
    const trial = requestPermission(failTimes(CLOSED_BREAKER, 3), T0 + 60_000, params).state;
    expect(requestPermission(releaseTrial(trial), T0 + 60_000, params).allowed).toBe(true);
  });

  it('refuses bad parameters and a bad clock, naming the field and the value', () => {
    expect(() => requestPermission(CLOSED_BREAKER, T0, { failureThreshold: 0, cooldownMs: 1 })).toThrow(/failureThreshold = 0/);
    expect(() => recordFailure(CLOSED_BREAKER, T0, { failureThreshold: 1, cooldownMs: -5 })).toThrow(/cooldownMs = -5/);
    expect(() => requestPermission(CLOSED_BREAKER, Number.NaN, params)).toThrow(/now = NaN/);
  });

  // A reference model: the breaker is open exactly when the last `threshold` outcomes since the
  // last success were failures (or a half-open trial failed), and it refuses reads only within cooldown.
  it('never lets a read through while open within the cooldown, and always lets one through after it (property)', () => {
    const event = fc.oneof(
      fc.record({ kind: fc.constant('request' as const), dt: fc.integer({ min: 0, max: 90_000 }) }),
      fc.record({ kind: fc.constant('success' as const), dt: fc.integer({ min: 0, max: 90_000 }) }),
      fc.record({ kind: fc.constant('failure' as const), dt: fc.integer({ min: 0, max: 90_000 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 120_000 }), fc.array(event, { maxLength: 60 }), (threshold, cooldownMs, events) => {
        const p = { failureThreshold: threshold, cooldownMs };
        let s: BreakerState = CLOSED_BREAKER;
        let now = T0;
        let lastOpenedAt: number | null = null;
        for (const e of events) {
          now += e.dt;
          if (e.kind === 'request') {
            const before = s;
            const d = requestPermission(s, now, p);
            if (before.status === 'open') {
              expect(d.allowed).toBe(now >= (lastOpenedAt as number) + cooldownMs);
            }
            if (before.status === 'closed') expect(d.allowed).toBe(true);
            s = d.state;
          } else if (e.kind === 'success') {
            s = recordSuccess(s);
            expect(s.status).toBe('closed');
          } else {
            const wasHalfOpen = s.status === 'half-open';
            const wasOpen = s.status === 'open';
            s = recordFailure(s, now, p);
            if (wasHalfOpen || (!wasOpen && s.consecutiveFailures >= threshold)) {
              expect(s.status).toBe('open');
              lastOpenedAt = now;
            }
          }
          if (s.status === 'closed') expect(s.consecutiveFailures).toBeLessThan(threshold);
        }
      }),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countSuffix, decideDedupe, dedupeKey, type PreviousNotice } from './alert-dedupe.ts';

const MIN = 60_000;
const T0 = 1_700_000_000_000;

/** A notice sent at `at` that reached someone, with nothing collapsed into it yet. */
const sent = (at: number, extra: Partial<PreviousNotice> = {}): PreviousNotice => ({
  at, reached: true, count: 1, since: at, collapsed: 0, firstCollapsedAt: null, ...extra,
});

/**
 * Feeds occurrences (increasing times) through decideDedupe the way the
 * activity does, every notice reaching its sinks or none; returns each
 * delivery and how many were collapsed after the last one.
 */
function simulate(times: readonly number[], windowSeconds: number, reached: boolean) {
  let previous: PreviousNotice | null = null;
  const deliveries: { at: number; count: number; since: number }[] = [];
  for (const now of times) {
    const d = decideDedupe(previous, now, windowSeconds);
    if (d.action === 'deliver') {
      deliveries.push({ at: now, count: d.count, since: d.since });
      previous = { at: now, reached, count: d.count, since: d.since, collapsed: 0, firstCollapsedAt: null };
    } else if (previous !== null) {
      const p: PreviousNotice = previous;
      previous = { ...p, collapsed: p.collapsed + 1, firstCollapsedAt: p.firstCollapsedAt ?? now };
    }
  }
  return { deliveries, trailingCollapsed: previous?.collapsed ?? 0 };
}

const increasingTimes = fc.array(fc.integer({ min: 0, max: 30 * MIN }), { minLength: 1, maxLength: 40 })
  .map((gaps) => gaps.reduce<number[]>((acc, g) => [...acc, (acc.at(-1) ?? T0) + g], []));

describe('dedupeKey', () => {
  it('tells two outliers apart by their oracle source', () => {
    const pyth = dedupeKey({ level: 'warning', kind: 'oracle-outlier', data: { source: 'pyth' } });
    const dex = dedupeKey({ level: 'warning', kind: 'oracle-outlier', data: { source: 'dex' } });
    expect(pyth).toBe('warning|oracle-outlier|pyth');
    expect(dex).not.toBe(pyth);
  });

  it('ignores data that changes between occurrences, such as a cycle count or a ratio', () => {
    const a = dedupeKey({ level: 'critical', kind: 'reserve-ratio-critical', data: { reserveRatio: 1.2, threshold: 1.5 } });
    const b = dedupeKey({ level: 'critical', kind: 'reserve-ratio-critical', data: { reserveRatio: 1.1, threshold: 1.5 } });
    expect(a).toBe(b);
  });

  it('keys a failed swap by its intervention', () => {
    expect(dedupeKey({ level: 'critical', kind: 'swap-failed', data: { interventionId: 'i-1', error: 'x' } })).toBe('critical|swap-failed|i-1');
  });

  it('falls back to a known subject field for a kind it does not list', () => {
    expect(dedupeKey({ level: 'warning', kind: 'future-kind', data: { component: 'oracle' } })).toBe('warning|future-kind|oracle');
  });

  it('refuses an empty kind, naming it', () => {
    expect(() => dedupeKey({ level: 'info', kind: '', data: {} })).toThrow(/kind/);
  });
});

describe('decideDedupe', () => {
  it('delivers the first occurrence alone', () => {
    expect(decideDedupe(null, T0, 600)).toEqual({ action: 'deliver', count: 1, since: T0 });
  });

  it('collapses an occurrence 1 ms before the window closes', () => {
    expect(decideDedupe(sent(T0), T0 + 10 * MIN - 1, 600)).toEqual({ action: 'collapse' });
  });

  it('delivers an occurrence exactly when the window closes, with the collapsed count', () => {
    const previous = sent(T0, { collapsed: 4, firstCollapsedAt: T0 + 2 * MIN });
    expect(decideDedupe(previous, T0 + 10 * MIN, 600)).toEqual({ action: 'deliver', count: 5, since: T0 + 2 * MIN });
  });

  it('never collapses into a notice that reached nobody, and carries its count forward', () => {
    const unreached = sent(T0, { reached: false, count: 3, since: T0 - 5 * MIN });
    expect(decideDedupe(unreached, T0 + MIN, 600)).toEqual({ action: 'deliver', count: 4, since: T0 - 5 * MIN });
  });

  it('collapses a late occurrence older than the notice but inside the window', () => {
    expect(decideDedupe(sent(T0), T0 - MIN, 600)).toEqual({ action: 'collapse' });
  });

  it('with a zero window delivers everything singly', () => {
    fc.assert(fc.property(increasingTimes, (times) => {
      const { deliveries } = simulate(times, 0, true);
      expect(deliveries.map((d) => d.count)).toEqual(times.map(() => 1));
    }));
  });

  it('accounts for every occurrence once: delivered counts plus those still collapsed equal the total', () => {
    fc.assert(fc.property(increasingTimes, fc.integer({ min: 0, max: 3600 }), (times, window) => {
      const { deliveries, trailingCollapsed } = simulate(times, window, true);
      const reported = deliveries.reduce((s, d) => s + d.count, 0);
      expect(reported + trailingCollapsed).toBe(times.length);
    }));
  });

  it('sends at most one notice per window when every notice reaches someone', () => {
    fc.assert(fc.property(increasingTimes, fc.integer({ min: 0, max: 3600 }), (times, window) => {
      const { deliveries } = simulate(times, window, true);
      for (let i = 1; i < deliveries.length; i++) {
        expect((deliveries[i]?.at ?? 0) - (deliveries[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(window * 1000);
      }
    }));
  });

  it('sends every occurrence when no notice reaches anyone, the last one counting them all', () => {
    fc.assert(fc.property(increasingTimes, fc.integer({ min: 1, max: 3600 }), (times, window) => {
      const { deliveries } = simulate(times, window, false);
      expect(deliveries).toHaveLength(times.length);
      expect(deliveries.at(-1)?.count).toBe(times.length);
      expect(deliveries.at(-1)?.since).toBe(times[0]);
    }));
  });

  it('refuses a negative window, naming the field and the value', () => {
    expect(() => decideDedupe(null, T0, -1)).toThrow(/dedupeWindowSeconds.*-1/);
  });

  it('refuses a fractional time, naming the field', () => {
    expect(() => decideDedupe(null, 1.5, 60)).toThrow(/now.*1\.5/);
  });
});

describe('countSuffix', () => {
  it('adds nothing for a single occurrence', () => {
    expect(countSuffix(1, T0, T0)).toBe('');
  });

  it('reports five occurrences over ten minutes', () => {
    expect(countSuffix(5, T0, T0 + 10 * MIN)).toBe(' (×5 in the last 10 min)');
  });

  it('rounds the span up so every counted occurrence is inside it', () => {
    expect(countSuffix(2, T0, T0 + 10 * MIN + 1)).toBe(' (×2 in the last 11 min)');
  });

  it('names at least one minute for a burst within the same second', () => {
    expect(countSuffix(3, T0, T0)).toBe(' (×3 in the last 1 min)');
  });

  it('switches to hours from 120 minutes', () => {
    expect(countSuffix(2, T0, T0 + 119 * MIN)).toBe(' (×2 in the last 119 min)');
    expect(countSuffix(2, T0, T0 + 120 * MIN)).toBe(' (×2 in the last 2 h)');
  });
});

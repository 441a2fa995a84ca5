/** The liveness gauge: the last recorded cycle's time per treasury, which a stalled monitor leaves behind. */
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/ops/metrics.ts';
import type { CycleRecord } from '../../src/workflows/contract.ts';

function cycle(cycleId: string, at: number): CycleRecord {
  return {
    summary: {
      cycleId, at, validPrice: false, consensusPrice: null, consensusReason: 'no valid price', vwap30: null, volumeless: false, warmingUp: false,
      drawdown: null, reserveRatio: null, pumpConcentration: null, treasuryValueUsd: null, marketCapUsd: null, health: null, healthLevel: null,
      decision: 'no valid price', startedIntervention: null,
    },
    balances: null, consensus: { ok: false, reason: 'no valid price', readings: [], agreeing: [], excluded: [], outliers: [] },
    decision: null, emergency: { latched: false, entered: false }, alerts: [],
  };
}

const gauge = (text: string, treasury: string): number | undefined => {
  const m = new RegExp(`^pstr_last_cycle_timestamp_seconds\\{treasury="${treasury}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

describe('the last-cycle liveness gauge', () => {
  it('holds the Unix time in seconds of the latest recorded cycle of each treasury', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.observeCycle('a', cycle('a/1', 1_700_000_000_000), null, 1_700_000_000_100);
    metrics.observeCycle('b', cycle('b/1', 1_700_000_030_000), null, 1_700_000_030_100);
    metrics.observeCycle('a', cycle('a/2', 1_700_000_015_500), null, 1_700_000_015_600);
    const text = await metrics.text();
    expect(text).toMatch(/# TYPE pstr_last_cycle_timestamp_seconds gauge/);
    expect(gauge(text, 'a')).toBe(1_700_000_015.5);
    expect(gauge(text, 'b')).toBe(1_700_000_030);
  });

  it('has no series for a treasury that never recorded a cycle, so an absent() alert fires', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.interventionEnded('c', 'running');
    expect(gauge(await metrics.text(), 'c')).toBeUndefined();
  });
});

import { describe, it, expect } from 'vitest';
import { computeConsensus } from '../domain/consensus.ts';
import { rowReadings } from './row-readings.ts';
import { READING_SOURCE, type PriceRow } from './types.ts';

const T0 = Date.UTC(2025, 0, 1);
const base: PriceRow = { timestamp: T0, pstrPrice: 1, pstrVolume: 10, pumpPrice: 0.005, line: 2 };
const PARAMS = { maxStalenessSeconds: 60, maxPriceDeviation: 0.05, confidenceWeight: 0.3, minAgreeingSources: 2 };

describe('rowReadings', () => {
  it('maps every present source to a reading published its lag before the row, in pyth, switchboard, dex order', () => {
    const row: PriceRow = {
      ...base,
      sources: {
        dex: { price: 1.02, conf: 0.003, lagSeconds: 6 },
        pyth: { price: 1.01, conf: 0.001, lagSeconds: 2.5 },
        switchboard: { price: 0.99, conf: 0, lagSeconds: 0 },
      },
    };
    expect(rowReadings(row)).toEqual([
      { source: 'pyth', price: 1.01, confidence: 0.001, publishTime: T0 - 2_500 },
      { source: 'switchboard', price: 0.99, confidence: 0, publishTime: T0 },
      { source: 'dex-twap', price: 1.02, confidence: 0.003, publishTime: T0 - 6_000 },
    ]);
  });

  it('leaves out a source that did not answer that cycle', () => {
    const row: PriceRow = { ...base, sources: { pyth: { price: 1, conf: 0.01, lagSeconds: 2 } } };
    expect(rowReadings(row).map((r) => r.source)).toEqual(['pyth']);
  });

  it('gives no readings for a row without per-source cells, or with every source silent', () => {
    expect(rowReadings(base)).toEqual([]);
    expect(rowReadings({ ...base, sources: {} })).toEqual([]);
  });

  it('feeds the consensus so that an outlier source is excluded and one lagging past the staleness limit is stale', () => {
    const row: PriceRow = {
      ...base,
      sources: {
        pyth: { price: 1, conf: 0.01, lagSeconds: 2 },
        switchboard: { price: 1.01, conf: 0.01, lagSeconds: 4 },
        dex: { price: 1.2, conf: 0.01, lagSeconds: 6 },
      },
    };
    const outlier = computeConsensus(rowReadings(row), row.timestamp, PARAMS);
    expect(outlier).toMatchObject({ ok: true, outliers: ['dex-twap'] });
    const late: PriceRow = { ...row, sources: { ...row.sources, dex: { price: 1.005, conf: 0.01, lagSeconds: 61 } } };
    const stale = computeConsensus(rowReadings(late), late.timestamp, PARAMS);
    expect(stale).toMatchObject({ ok: true, outliers: [] });
    expect(stale.excluded.map((e) => [e.source, e.reason])).toEqual([['dex-twap', 'stale']]);
  });
});

describe('reading source names', () => {
  it('are the names the live sources give their readings', async () => {
    const [{ PYTH_SOURCE }, { SWITCHBOARD_SOURCE }, { DEX_SOURCE }] = await Promise.all([
      import('../oracles/pyth.ts'), import('../oracles/switchboard.ts'), import('../oracles/dex-twap.ts'),
    ]);
    expect(READING_SOURCE).toEqual({ pyth: PYTH_SOURCE, switchboard: SWITCHBOARD_SOURCE, dex: DEX_SOURCE });
  });
});

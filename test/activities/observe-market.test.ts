/**
 * observeMarket over a paper world (real SQLite store, simulated market):
 * the pool's traded volume is read beside the prices, and a volume read that
 * fails (an RPC error, a pool whose counters stopped moving) costs the sample
 * its weight, never the cycle its price.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorActivities } from '../../src/activities/monitor.ts';
import { demoConfig } from '../../src/runtime/demo.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import type { OracleSource } from '../../src/ports.ts';

const config = { ...demoConfig(), treasuryId: 'observe-volume' };
let dir: string;
let world: PaperWorld;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pstr-observe-'));
  world = await buildPaperWorld(config, { dataDir: dir });
});

afterAll(async () => {
  await world.store.close();
  rmSync(dir, { recursive: true, force: true });
});

function activities(volumeUsd: () => Promise<number>, warnings: string[]) {
  const logger = pino({ level: 'warn' }, {
    write: (line: string) => {
      const entry = JSON.parse(line) as { msg: string; err?: string };
      warnings.push(`${entry.msg} / ${entry.err}`);
    },
  });
  return monitorActivities({
    config, store: world.store, sources: world.sources, market: { ...world.marketData, volumeUsd }, treasury: world.ledger, liquidity: null,
    monitorStatus: () => Promise.resolve(null), workflowState: () => Promise.resolve(null), logger,
  });
}

describe('observeMarket', () => {
  it('reports the pool volume the market data gives', async () => {
    const warnings: string[] = [];
    const obs = await activities(() => Promise.resolve(1234.5), warnings).observeMarket({ treasuryId: config.treasuryId });
    expect(obs.volumeUsd).toBe(1234.5);
    expect(obs.readings.length).toBeGreaterThanOrEqual(2);
    expect(warnings).toEqual([]);
  });

  it('records volume 0 and warns, keeping the prices, when the volume read fails', async () => {
    const warnings: string[] = [];
    const obs = await activities(() => Promise.reject(new Error('dex-twap: pool counters frozen while the price moved')), warnings)
      .observeMarket({ treasuryId: config.treasuryId });
    expect(obs.volumeUsd).toBe(0);
    expect(obs.readings.length).toBeGreaterThanOrEqual(2);
    expect(obs.pumpPrice).toBeGreaterThan(0);
    expect(warnings).toEqual(['pool volume unavailable this cycle; the sample is recorded with volume 0 / dex-twap: pool counters frozen while the price moved']);
  });
});

describe('observeMarket: PUMP and SOL under SPEC §2', () => {
  const volume = () => Promise.resolve(0);

  it('prices PUMP and SOL from the consensus of the paper world\'s two sources each (Pyth and a Jupiter quote)', async () => {
    const obs = await activities(volume, []).observeMarket({ treasuryId: config.treasuryId });
    expect(obs.pumpConsensus?.ok).toBe(true);
    expect(obs.solConsensus?.ok).toBe(true);
    expect(obs.pumpConsensus?.agreeing.map((r) => r.source)).toEqual(['jupiter', 'pyth']);
    expect(obs.pumpConsensus?.ok && obs.pumpPrice === obs.pumpConsensus.price).toBe(true);
    expect(obs.solConsensus?.ok && obs.solPrice === obs.solConsensus.price).toBe(true);
    const fair = world.market.pumpPrice(obs.at);
    expect(Math.abs(obs.pumpPrice / fair - 1)).toBeLessThan(0.01);
  });

  it('has no PUMP price (NaN) when its Pyth feed reads 3× low, and names the outliers', async () => {
    const priced = world.marketData.priceSources;
    if (!priced) throw new Error('the paper world has PUMP/SOL sources');
    const [pyth, jupiter] = priced.pump as [OracleSource, OracleSource];
    const low: OracleSource = { name: pyth.name, read: async () => { const r = await pyth.read(); return { ...r, price: r.price / 3, confidence: r.confidence / 3 }; } };
    const acts = monitorActivities({
      config, store: world.store, sources: world.sources, market: { ...world.marketData, volumeUsd: volume, priceSources: { pump: [low, jupiter], sol: priced.sol } }, treasury: world.ledger, liquidity: null,
      monitorStatus: () => Promise.resolve(null), workflowState: () => Promise.resolve(null), logger: pino({ level: 'silent' }),
    });
    const obs = await acts.observeMarket({ treasuryId: config.treasuryId });
    expect(obs.pumpPrice).toBeNaN();
    expect(obs.solPrice).toBeGreaterThan(0);
    expect(obs.pumpConsensus).toMatchObject({ ok: false, outliers: ['jupiter', 'pyth'] });
  });

  it('reports a PUMP source that fails under its label, and has no PUMP price with one source left', async () => {
    const priced = world.marketData.priceSources;
    if (!priced) throw new Error('the paper world has PUMP/SOL sources');
    const down: OracleSource = { name: 'jupiter', read: () => Promise.reject(new Error('Jupiter quote: HTTP 503')) };
    const acts = monitorActivities({
      config, store: world.store, sources: world.sources, market: { ...world.marketData, volumeUsd: volume, priceSources: { pump: [priced.pump[0] as OracleSource, down], sol: priced.sol } }, treasury: world.ledger, liquidity: null,
      monitorStatus: () => Promise.resolve(null), workflowState: () => Promise.resolve(null), logger: pino({ level: 'silent' }),
    });
    const obs = await acts.observeMarket({ treasuryId: config.treasuryId });
    expect(obs.failures).toContainEqual({ source: 'PUMP/USD jupiter', error: 'Jupiter quote: HTTP 503' });
    expect(obs.pumpPrice).toBeNaN();
    expect(obs.pumpConsensus?.ok === false && obs.pumpConsensus.reason).toMatch(/^no valid price: 1 source\(s\) agreed, 2 needed/);
  });
});

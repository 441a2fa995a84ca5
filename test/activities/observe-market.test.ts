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

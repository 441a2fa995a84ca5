/**
 * observeMarket over a paper world when a source answers with something that
 * is not a reading: that source is reported failing with the reason, the
 * others still make the cycle, and nothing malformed reaches the consensus
 * (where it would throw inside the monitor's workflow code).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorActivities } from '../../src/activities/monitor.ts';
import type { OracleReading } from '../../src/domain/consensus.ts';
import { demoConfig } from '../../src/runtime/demo.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';

const config = { ...demoConfig(), treasuryId: 'observe-malformed' };
let dir: string;
let world: PaperWorld;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pstr-malformed-'));
  world = await buildPaperWorld(config, { dataDir: dir });
});

afterAll(async () => {
  await world.store.close();
  rmSync(dir, { recursive: true, force: true });
});

function observeWith(odd: unknown) {
  const [first, ...rest] = world.sources;
  if (!first) throw new Error('the paper world has no sources');
  const broken = { ...first, name: first.name, read: () => Promise.resolve(odd as OracleReading) };
  return monitorActivities({
    config, store: world.store, sources: [broken, ...rest], market: world.marketData, treasury: world.ledger, liquidity: null,
    monitorStatus: () => Promise.resolve(null), workflowState: () => Promise.resolve(null), logger: pino({ level: 'silent' }),
  }).observeMarket({ treasuryId: config.treasuryId });
}

describe('observeMarket with a source that answers garbage', () => {
  it.each([
    [null, 'null is not an object'],
    ['0.0002', '"0.0002" is not an object'],
    [{ price: 0.0002, confidence: 0, publishTime: 1 }, 'source undefined is not a string'],
    [{ source: 'pyth', price: '0.0002', confidence: 0, publishTime: 1 }, 'price "0.0002" is not a number'],
  ])('reports %j as that source failing (%s) and keeps the other readings', async (odd, why) => {
    const obs = await observeWith(odd);
    const name = world.sources[0]?.name;
    expect(obs.failures).toContainEqual({ source: name, error: `malformed reading: ${why}` });
    expect(obs.readings.length).toBe(world.sources.length - 1);
    expect(obs.readings.every((r) => typeof r.source === 'string' && typeof r.price === 'number')).toBe(true);
  });

  it('passes a NaN price through as a number, for the consensus to exclude with its reason', async () => {
    const obs = await observeWith({ source: 'pyth', price: Number.NaN, confidence: 0, publishTime: 1 });
    expect(obs.readings.length).toBe(world.sources.length);
  });
});

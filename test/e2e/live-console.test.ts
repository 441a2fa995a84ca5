/**
 * `npm start`'s terminal prints each intervention's steps, its swap and its
 * end as they happen (issue #11), on the real dev server: a paper treasury
 * whose drawdown starts at once and whose size needs no timelock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { parseConfig } from '../../src/config.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { operateLines, watchLive } from '../../src/runtime/live-console.ts';
import { waitFor } from './fixtures/e2e.ts';
import { startPaperRig, type PaperRig } from './fixtures/paper-rig.ts';

describe("the agent's terminal", () => {
  let rig: PaperRig;
  const printed: string[] = [];
  let stop = () => undefined as void;
  const config = parseConfig({
    treasuryId: 'pstr-live',
    monitor: { cycleIntervalSeconds: 1 },
    intervention: { operators: ['alice'], timelockThresholdUsd: 1e12, trackHorizonsHours: [1] },
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
    liquidity: { enabled: false },
    paper: { drawdown: { startInSeconds: 0, depth: 0.17, rampSeconds: 1, holdSeconds: 3600 } },
  });

  beforeAll(async () => {
    rig = await startPaperRig(config, { prefix: 'pstr-live' });
    stop = watchLive(rig.client, config.treasuryId, (s) => `cycle ${s.cycles}`, (line) => printed.push(line));
    await ensureMonitor(rig.client, config);
  }, 120_000);

  afterAll(async () => {
    stop();
    await rig?.stop();
  }, 30_000);

  it('prints the cycles, then the swap and the outcome of the intervention they start', async () => {
    await waitFor('the end of intervention 1 printed', () => printed.find((l) => l.includes('intervention/pstr-live/1 ENDED')), { timeoutMs: 90_000 });
    const mine = printed.filter((l) => l.includes('intervention/pstr-live/1'));
    expect(printed.some((l) => /^cycle \d+$/.test(l))).toBe(true);
    expect(mine.some((l) => / step validate: still triggered at /.test(l))).toBe(true);
    expect(mine.some((l) => / SWAP slice 0: filled [\d,.]+ PSTR for [\d,.]+ PUMP/.test(l))).toBe(true);
    expect(mine.at(-1)).toMatch(/ ENDED EXECUTED: executed.* · spent \d+ PUMP base units for \d+ PSTR base units$/);
    expect(mine.filter((l) => l.includes(' ENDED '))).toHaveLength(1);
  }, 120_000);

  it('tells the operator the exact TEMPORAL_ADDRESS when it is not the default', () => {
    expect(operateLines(rig.server.address, resolve('data'))[0]).toBe(`In another terminal, first: export TEMPORAL_ADDRESS=${rig.server.address}`);
    expect(operateLines('127.0.0.1:7233', resolve('data'))[0]).toMatch(/^Operate it with: npx pstr status/);
  });
});

/**
 * Crash: kill the worker process while the swap activity runs, start a new
 * worker: the intervention completes and the paper ledger shows exactly one
 * swap. Real dev server, real worker.ts processes; the store is one SQLite
 * file both workers open, or one PostgreSQL database shared by two workers
 * that each have their own data directory, as on two machines.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type ConfigInput } from '../../src/config.ts';
import { TreasuryStore } from '../../src/db/store.ts';
import { swapEntryKey } from '../../src/paper/ledger.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import type { DevServer } from '../../src/temporal/server.ts';
import { interventionStateQuery, interventionWorkflowId, monitorWorkflowId, type InterventionState } from '../../src/workflows/contract.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { ephemeralDevServer, spawnWorker, waitFor, type WorkerProcess } from './fixtures/e2e.ts';

const SWAP_DELAY_MS = 4000;
/**
 * How long a swap lost with its worker may take to finish on the next one:
 * the swap activity heartbeats (every 2 s, timeout 10 s), so the server
 * retries it seconds after the worker dies, not after the 5-minute start-to-close.
 */
const RETRY_BUDGET_MS = 60_000;

const inputFor = (treasuryId: string): ConfigInput => ({
  treasuryId,
  mode: 'paper',
  monitor: { cycleIntervalSeconds: 1 },
  // 40M PUMP ≈ 200k USD: a tier-1 (10 %) intervention of ≈ 20k USD, far below the timelock threshold.
  treasury: { initial: { pump: '40000000', usdc: '700000' } },
  intervention: { operators: ['alice', 'bob'], timelockThresholdUsd: 1e12 },
  liquidity: { enabled: false },
  paper: { swapDelayMs: SWAP_DELAY_MS, drawdown: { startInSeconds: 0, rampSeconds: 1, depth: 0.17 } },
});

let dir: string;
let server: DevServer;
const workers: WorkerProcess[] = [];
const worlds: PaperWorld[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pstr-crash-'));
  server = await ephemeralDevServer(dir);
}, 60_000);

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(worlds.map((w) => w.store.close()));
  await server?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

for (const backend of STORE_BACKENDS) describe.skipIf(!backend.available)(`a worker killed in the middle of a swap (store on ${backend.name})`, () => {
  const treasuryId = `crash-${backend.name.toLowerCase()}`;
  const input = inputFor(treasuryId);
  const config = parseConfig(input);
  const interventionId = interventionWorkflowId(treasuryId, 1);
  const preparedSwap = (store: TreasuryStore) => store.swap(interventionId, 0);

  it('leaves the intervention to a new worker, which completes it with exactly one swap in the paper ledger', async () => {
    const client = server.env.client;
    const base = join(dir, treasuryId);
    mkdirSync(base);
    const configPath = join(base, 'config.json');
    writeFileSync(configPath, JSON.stringify(input, null, 2));
    // SQLite: both workers open the one file in one data directory. PostgreSQL: each worker has its own
    // data directory (its own "machine") and they meet only in the database.
    const shared = backend.name === 'PostgreSQL';
    const location = shared ? await backend.freshLocation(base) : TreasuryStore.defaultPath(join(base, 'data'), treasuryId);
    const machine = (name: string) => {
      const dataDir = join(base, shared ? name : 'data');
      mkdirSync(dataDir, { recursive: true });
      return { address: server.address, configPath, dataDir, ...(shared ? { env: { DATABASE_URL: location } } : {}) };
    };
    const first = spawnWorker(machine('machine-a'));
    workers.push(first);
    await first.ready;

    // The worker built the paper world (balances, history, market anchor); open the same store to watch it.
    const world = await buildPaperWorld(config, { dataDir: join(base, 'observer'), store: await TreasuryStore.at(location) });
    worlds.push(world);
    const { store, ledger } = world;
    const before = await ledger.balances();
    expect(await ledger.swapCount()).toBe(0);

    expect(await ensureMonitor(client, config)).toBe('started');
    const prepared = await waitFor(`the swap of ${interventionId} to be prepared`, async () => {
      const row = await preparedSwap(store);
      return row?.status === 'prepared' ? row : undefined;
    }, { timeoutMs: 90_000, intervalMs: 100 });
    expect(prepared.pumpIn).toBeGreaterThan(0n);
    expect(prepared.pstrOut).toBeNull();
    const state = await client.workflow.getHandle(interventionId).query(interventionStateQuery);
    expect(state.stage).toBe('swap');

    // The paper swap is still waiting out its simulated latency: nothing has moved yet.
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect(await first.exited).toBe('SIGKILL');
    expect(await ledger.swapCount()).toBe(0);
    expect(await ledger.balances()).toEqual(before);

    const second = spawnWorker(machine('machine-b'));
    workers.push(second);
    await second.ready;

    const done = await waitFor<InterventionState | false>('the intervention to execute on the second worker', async () => {
      const s = await client.workflow.getHandle(interventionId).query(interventionStateQuery);
      return s.status === 'executed' ? s : false;
    }, { timeoutMs: RETRY_BUDGET_MS, intervalMs: 500 });
    const executedAfterMs = Date.now() - killedAt;
    // The paper ledger stamps the retried attempt with its scheduled time: when the server gave up on the lost one.
    const retryScheduledAfterMs = ((await preparedSwap(store))?.updatedAt ?? Number.NaN) - killedAt;
    console.log(`crash test: lost swap retried (attempt scheduled) ${(retryScheduledAfterMs / 1000).toFixed(1)} s and intervention executed ${(executedAfterMs / 1000).toFixed(1)} s after the kill`);

    // Exactly one swap entry, and the balances moved by it once.
    expect(await ledger.swapCount()).toBe(1);
    const swaps = (await ledger.entries()).filter((e) => e.kind === 'swap');
    expect(swaps.map((e) => e.entryKey)).toEqual([swapEntryKey(interventionId, 0)]);
    const [entry] = swaps;
    if (!entry) throw new Error('no swap entry');
    const record = await preparedSwap(store);
    expect(record?.status).toBe('confirmed');
    expect(record?.pstrOut).toBe(entry.pstrDelta);
    expect(record?.pumpIn).toBe(-entry.pumpDelta);
    expect(await store.swaps(interventionId)).toHaveLength(1);
    expect(done.result?.pumpSpent).toBe((-entry.pumpDelta).toString());
    expect(done.result?.pstrBought).toBe(entry.pstrDelta.toString());
    expect(entry.pstrDelta).toBeGreaterThan(0n);

    const after = await ledger.balances();
    expect(after.pump).toBe(before.pump + entry.pumpDelta);
    expect(after.pstrRetired).toBe(before.pstrRetired + entry.pstrDelta);
    expect(after.usdc).toBe(before.usdc);
    expect(after.sol).toBe(before.sol);

    // A worker asked to stop drains and exits cleanly.
    await client.workflow.getHandle(monitorWorkflowId(treasuryId)).terminate('test over');
    await client.workflow.getHandle(interventionId).terminate('test over');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, RETRY_BUDGET_MS + 120_000);
});

/**
 * The whole intervention workflow on the real Temporal dev server with the
 * live adapters pointed at local servers: a worker in this process whose
 * dependencies come from `openWorld` for a `mode: 'devnet'` config, exactly
 * as worker.ts builds them, with only the edges that would leave the machine
 * injected:
 *   - Pyth: the real HermesClient and parser against the fixture server,
 *     serving the recorded Hermes payload re-stamped fresh at every request;
 *   - Switchboard: an injected FeedLoader returning loadData()-shaped fields;
 *   - the DEX TWAP: an injected pool-price probe, the TWAP source itself real
 *     and given 30 minutes of earlier samples (on-chain observations would
 *     give them in production) so it answers from the first cycle;
 *   - Solana: LiteSVM with the real SPL Token program as the chain, the
 *     treasury key loaded from a 600 keypair file (solana.keypairPath), and
 *     the real Jupiter client against a fake Jupiter on 127.0.0.1 whose route
 *     is a real two-leg token transfer.
 * The store is seeded with 30 days of prices 20 % above the oracles, so the
 * first cycle with a valid price is a 16.65 % drawdown: tier 1 (15 %), 10 % of the PUMP.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config.ts';
import type { OracleReading } from '../../src/domain/consensus.ts';
import { DAY_MS } from '../../src/domain/vwap.ts';
import { DexTwapSource } from '../../src/oracles/dex-twap.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { createWorker } from '../../src/runtime/worker.ts';
import { openWorld, type OpenWorld } from '../../src/runtime/world.ts';
import type { DevServer } from '../../src/temporal/server.ts';
import {
  interventionStateQuery, monitorWorkflowId, statusQuery, type CycleRecord, type InterventionState, type MonitorStatus,
} from '../../src/workflows/contract.ts';
import { FixtureServer } from '../oracles/fixture-server.ts';
import { spyChain, type Spy } from '../solana/litesvm-chain.ts';
import { UNIT, fakeJupiter, makeWorld, type FakeJupiter, type World } from '../solana/world.ts';
import { ephemeralDevServer, repoRoot, waitFor } from './fixtures/e2e.ts';
import { DexProbeStub, FEEDS, PythFixture, SOL_PRICE, SWITCHBOARD_FEED, SwitchboardStub } from './fixtures/live-oracles.ts';
import { TEST_OPERATOR_KEYS } from '../support/operator-keys.ts';

/** The oracles' PSTR price, the seeded history's (20 % above), and PUMP's. */
const PSTR_USD = 0.01;
const HISTORY_USD = 0.012;
const PUMP_USD = 0.005;
/** Funded on top of the 1,000,000 PUMP makeWorld mints, so the treasury holds 4,000,000 PUMP. */
const FUNDED_PUMP = 3_000_000n * UNIT;
const PUMP_BALANCE = 4_000_000n * UNIT;

interface Live {
  treasuryId: string;
  config: Config;
  world: World;
  jup: FakeJupiter;
  spy: Spy;
  pyth: PythFixture;
  switchboard: SwitchboardStub;
  dex: DexProbeStub;
  open: OpenWorld;
  worker: Worker;
  running: Promise<void>;
  close(): Promise<void>;
}

let server: DevServer;
let fixtures: FixtureServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pstr-live-e2e-'));
  [server, fixtures] = await Promise.all([ephemeralDevServer(dir), FixtureServer.start()]);
}, 60_000);

afterAll(async () => {
  await fixtures?.close();
  await server?.shutdown();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** Everything a live worker needs, on its own treasury, task queue, LiteSVM world and fake Jupiter. */
async function startLive(treasuryId: string, setup: (live: Omit<Live, 'open' | 'worker' | 'running' | 'close'>) => void = () => {}): Promise<Live> {
  const dataDir = join(dir, treasuryId);
  const world = makeWorld();
  world.mintTo(world.treasury.publicKey, world.mints.pump, FUNDED_PUMP);
  const jup = await fakeJupiter(world);
  // The pool pays PUMP_USD / PSTR_USD PSTR per PUMP: the consensus-implied output, well inside the 2 % bound.
  jup.rate = { num: 1n, den: 2n };
  const keypairPath = join(dir, `${treasuryId}-treasury.json`);
  writeFileSync(keypairPath, JSON.stringify(Array.from(world.treasury.secretKey)));
  chmodSync(keypairPath, 0o600);

  const pyth = new PythFixture(fixtures, { pstr: PSTR_USD, pump: PUMP_USD });
  const switchboard = new SwitchboardStub(PSTR_USD);
  const dex = new DexProbeStub(PSTR_USD);
  const config = parseConfig({
    treasuryId,
    mode: 'devnet',
    tokens: { pstr: { mint: world.mints.pstr.toBase58() }, pump: { mint: world.mints.pump.toBase58() }, usdc: { mint: world.mints.usdc.toBase58() } },
    oracle: {
      pyth: { endpoint: pyth.endpoint, requiresKey: false, feeds: { pstr: FEEDS.pstr, pump: FEEDS.pump, sol: FEEDS.sol } },
      switchboard: { pstrFeed: SWITCHBOARD_FEED },
      dex: { pool: world.pool.publicKey.toBase58() },
    },
    // Never dialled: the chain is injected (LiteSVM).
    solana: { rpcUrl: 'http://127.0.0.1:9/', keypairPath, jupiter: { api: 'v1', baseUrl: jup.baseUrl } },
    monitor: { cycleIntervalSeconds: 1 },
    // 400,000 PUMP at $0.005 is $2,000: far under this, so no timelock.
    intervention: { operators: ['alice'], operatorKeys: { alice: TEST_OPERATOR_KEYS.alice }, timelockThresholdUsd: 1_000_000 },
    // Market cap $50,000 against ~$135,000 of treasury: RR ≈ 2.7, above the 2.0 below which sizes halve.
    treasury: { pstrCirculatingSupply: '5000000' },
  });
  const spy: Spy = { sends: [] };
  const partial = { treasuryId, config, world, jup, spy, pyth, switchboard, dex };
  setup(partial);

  const open = await openWorld(config, {
    dataDir, client: server.env.client, logger: pino({ level: 'silent' }),
    overrides: {
      chain: spyChain(world.chain, spy),
      cosigners: [world.pool],
      feedLoader: switchboard.loader,
      priceProbe: dex.probe,
      // The second PUMP and SOL source of SPEC §2 (a Jupiter USDC → token quote live): agreeing with Pyth here.
      marketProbes: { pump: () => Promise.resolve(pyth.prices.pump), sol: () => Promise.resolve(SOL_PRICE) },
      // Short attempts and a short breaker cooldown keep a faulty source's cycles near the 1 s cadence.
      resilience: { timeoutMs: 400, retries: 1, retryBackoffMs: 20, breaker: { failureThreshold: 3, cooldownMs: 500 } },
    },
  });
  // The TWAP's window before the worker started: a sample a minute at the pool price.
  const twap = open.deps.sources.find((s): s is DexTwapSource => s instanceof DexTwapSource);
  if (!twap) throw new Error(`no DEX TWAP among the live sources: ${open.deps.sources.map((s) => s.name).join(', ')}`);
  const now = Date.now();
  for (let m = 30; m >= 1; m--) twap.addSample({ at: now - m * 60_000, price: PSTR_USD });
  // 30 days of hourly samples 20 % above the oracles (no volume: the VWAP is their plain mean, SPEC §1).
  const seeded = await open.store.recordPriceSamples(Array.from({ length: 720 }, (_, i) => ({
    treasuryId, cycleId: `seed/${i}`, timestamp: now - 30 * DAY_MS + (i + 1) * 3_600_000 - 60_000, pstrPrice: HISTORY_USD,
    pstrVolume: 0, pumpPrice: PUMP_USD, solPrice: 148, consensus: { seeded: true },
  })));
  expect(seeded).toBe(720);

  const taskQueue = `live-${treasuryId}`;
  const worker = await createWorker({ connection: server.env.nativeConnection, namespace: 'default', deps: open.deps, taskQueue });
  const running = worker.run();
  await ensureMonitor(server.env.client, config, taskQueue);
  return {
    ...partial, open, worker, running,
    async close() {
      await server.env.client.workflow.getHandle(monitorWorkflowId(treasuryId)).terminate('test over').catch(() => undefined);
      worker.shutdown();
      await running.catch(() => undefined);
      await open.close();
      await jup.close();
    },
  };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `client.ts` as its own process, the way an operator runs it. */
function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'client.ts', ...args], {
      cwd: repoRoot, env: { ...process.env, TEMPORAL_ADDRESS: server.address }, timeout: 30_000,
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

const monitorStatus = (client: Client, treasuryId: string) => client.workflow.getHandle(monitorWorkflowId(treasuryId)).query(statusQuery);
const cycles = async (live: Live) => (await live.open.store.monitoringLogs(live.treasuryId, 0, Date.now() + DAY_MS)).map((row) => row.data as CycleRecord);
const sourcesOf = (readings: readonly OracleReading[]) => readings.map((r) => r.source).sort();

describe('the intervention workflow on Temporal with the live adapters against local servers', () => {
  it('starts an intervention from the first cycle, validates it on a fresh three-source consensus, sizes it from the on-chain PUMP balance and swaps once on LiteSVM', async () => {
    const live = await startLive('live-happy');
    try {
      const client = server.env.client;
      const { world, treasuryId } = live;
      const iv = `intervention/${treasuryId}/1`;
      const treasury = world.treasury.publicKey;
      const pool = world.pool.publicKey;
      expect(await world.balance(treasury, world.mints.pump)).toBe(PUMP_BALANCE);
      expect(await world.balance(treasury, world.mints.pstr)).toBe(0n);
      const poolBefore = { pump: await world.balance(pool, world.mints.pump), pstr: await world.balance(pool, world.mints.pstr) };

      const status = await waitFor('the first intervention to start', async () => {
        const s = await monitorStatus(client, treasuryId);
        return s.interventionCount >= 1 ? s : undefined;
      }, { timeoutMs: 20_000 });
      const handle = client.workflow.getHandle(iv);
      // The workflow's state says executed a moment before its record is saved: wait for both.
      const done = await waitFor('the intervention to execute and be recorded', async () => {
        const st = await handle.query(interventionStateQuery);
        if (st.status !== 'running' && st.status !== 'executed') throw new Error(`intervention ended ${st.status}: ${st.reason}`);
        return st.status === 'executed' && (await live.open.store.intervention(iv))?.status === 'executed' ? st : undefined;
      }, { timeoutMs: 30_000 });

      // The cycle that started it: a valid three-source consensus at the oracles' price, a tier-1 (15 %) drawdown.
      expect(status.interventionCount).toBe(1);
      const starter = (await cycles(live)).find((c) => c.summary.startedIntervention === iv);
      expect(starter, `no cycle started ${iv}; cycles: ${JSON.stringify((await cycles(live)).map((c) => c.summary.decision))}`).toBeDefined();
      const cycle = starter as CycleRecord;
      expect(cycle.summary.cycleId).toBe(`${treasuryId}/1`);
      expect(cycle.consensus.ok).toBe(true);
      expect(sourcesOf(cycle.consensus.readings)).toEqual(['dex-twap', 'pyth', 'switchboard']);
      expect(cycle.summary.consensusPrice).toBeCloseTo(PSTR_USD, 12);
      // 720 samples at 0.012 and this cycle's at 0.01: VWAP 8.65/721, drawdown 1 − 0.01·721/8.65 ≈ 16.65 %.
      expect(cycle.summary.vwap30).toBeCloseTo(8.65 / 721, 12);
      expect(cycle.summary.drawdown).toBeCloseTo(1 - (0.01 * 721) / 8.65, 9);
      expect(cycle.summary.decision).toMatch(/^intervene: tier 1, drawdown 16\.65 %, deploy 10\.00 % of PUMP$/);

      // 1. Validate: a consensus of three readings taken after the cycle's, by the same adapters.
      const steps = done.steps;
      const validate = steps.find((s) => s.step === 'validate');
      const validateReadings = (validate?.inputs as { readings: OracleReading[] }).readings;
      expect(validate?.verdict).toMatch(/^still triggered at 0\.0(09999|1)/);
      expect(sourcesOf(validateReadings)).toEqual(['dex-twap', 'pyth', 'switchboard']);
      const cycleDex = cycle.consensus.readings.find((r) => r.source === 'dex-twap') as OracleReading;
      const freshDex = validateReadings.find((r) => r.source === 'dex-twap') as OracleReading;
      expect(freshDex.publishTime).toBeGreaterThan(cycleDex.publishTime);
      for (const r of validateReadings) expect((validate?.at ?? 0) - r.publishTime).toBeLessThanOrEqual(live.config.oracle.maxStalenessSeconds * 1000);
      expect(live.pyth.pstrRequests.some((r) => r.at >= done.startedAt)).toBe(true);
      expect(live.switchboard.calls.some((c) => c.at >= done.startedAt)).toBe(true);

      // 2. Assess, 3. Size: every gate passed; 10 % (tier 1: drawdown at least 15 %) of the 4,000,000 PUMP on chain.
      expect(steps.find((s) => s.step === 'assess')?.verdict).toBe('every gate passed');
      const size = steps.find((s) => s.step === 'size');
      expect(size?.verdict).toBe('tier 1: 10.00 % of PUMP');
      expect((size?.inputs as { pumpBalance: string }).pumpBalance).toBe(PUMP_BALANCE.toString());
      expect(done.pumpAmount).toBe((400_000n * UNIT).toString());
      expect(steps.some((s) => s.step === 'timelock')).toBe(false);

      // 5. Swap: one real transaction moved exactly 400,000 PUMP out and 200,000 PSTR in.
      const signatures = [...new Set(live.spy.sends)];
      expect(signatures).toHaveLength(1);
      const signature = signatures[0] as string;
      expect(done.result).toMatchObject({ pumpSpent: (400_000n * UNIT).toString(), pstrBought: (200_000n * UNIT).toString(), unfilledPump: '0' });
      expect(await world.balance(treasury, world.mints.pump)).toBe(3_600_000n * UNIT);
      expect(await world.balance(treasury, world.mints.pstr)).toBe(200_000n * UNIT);
      expect(await world.balance(pool, world.mints.pump)).toBe(poolBefore.pump + 400_000n * UNIT);
      expect(await world.balance(pool, world.mints.pstr)).toBe(poolBefore.pstr - 200_000n * UNIT);
      expect(await world.chain.signatureStatus(signature)).toMatchObject({ err: null });
      expect(live.jup.swapInstructionCalls).toBe(1);

      const swaps = await live.open.store.swaps(iv);
      expect(swaps).toHaveLength(1);
      expect(swaps[0]).toMatchObject({ slice: 0, status: 'confirmed', signature, pumpIn: 400_000n * UNIT, pstrOut: 200_000n * UNIT });
      expect((await live.open.store.intervention(iv))?.status).toBe('executed');
      expect(done.status).toBe('executed');

      // Later cycles (cooldown) move nothing more.
      const after = (await monitorStatus(client, treasuryId)).cycles;
      await waitFor('two more cycles', async () => (await monitorStatus(client, treasuryId)).cycles >= after + 2, { timeoutMs: 10_000 });
      expect(await world.balance(treasury, world.mints.pump)).toBe(3_600_000n * UNIT);
      expect(new Set(live.spy.sends).size).toBe(1);

      const audit = await cli(['--treasury', treasuryId, 'audit', iv]);
      expect(audit.stderr).toBe('');
      expect(audit.code).toBe(0);
      const order = ['step validate: still triggered', 'step assess: every gate passed', 'step size: tier 1', 'swap requested: slice 0', `swap result: confirmed — 400000 PUMP → 200000 PSTR (reference ${signature})`];
      const positions = order.map((text) => audit.stdout.indexOf(text));
      expect(positions.every((p) => p >= 0), `${order.filter((_, i) => (positions[i] ?? -1) < 0).join(' | ')} missing from:\n${audit.stdout}`).toBe(true);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    } finally {
      await live.close();
    }
  }, 60_000);

  it('fails closed with one source left and alerts after three cycles, then reaches consensus from two sources while Pyth is rate limited or times out', async () => {
    const live = await startLive('live-faults', (l) => {
      // From the first cycle: Switchboard rate limited, the DEX probe hanging, only Pyth answering.
      l.switchboard.mode = 'rate-limited';
      l.dex.mode = 'timeout';
    });
    try {
      const client = server.env.client;
      const { treasuryId, open } = live;
      const alertKind = async (kind: string) => (await open.store.alerts(treasuryId, { level: 'critical' })).filter((a) => a.kind === kind);

      const alert = await waitFor('the no-valid-price alert', async () => (await alertKind('no-valid-price'))[0], { timeoutMs: 25_000 });
      expect(alert.data).toMatchObject({ cycleId: `${treasuryId}/3` });
      const invalid = await cycles(live);
      expect(invalid.length).toBeGreaterThanOrEqual(3);
      for (const c of invalid.slice(0, 3)) {
        expect(c.summary.validPrice).toBe(false);
        expect(c.summary.decision).toMatch(/^no valid price: 1 source\(s\) agreed, 2 needed/);
        expect(sourcesOf(c.consensus.readings)).toEqual(['pyth']);
        expect(c.decision).toBeNull();
      }
      const statusA: MonitorStatus = await monitorStatus(client, treasuryId);
      expect(statusA.noValidPriceStreak).toBeGreaterThanOrEqual(3);
      expect(statusA.interventionCount).toBe(0);
      expect(await open.store.interventions(treasuryId)).toHaveLength(0);
      // No sample recorded from an invalid cycle: the latest is still the seeded history.
      expect((await open.store.latestPriceSample(treasuryId))?.cycleId).toBe('seed/719');
      expect(live.switchboard.calls.some((c) => c.answered === 'rate-limited')).toBe(true);
      expect(live.dex.calls.some((c) => c.answered === 'timeout')).toBe(true);
      // Raised once at the third cycle, not again while the streak lasts.
      expect(await alertKind('no-valid-price')).toHaveLength(1);

      // Switchboard and the DEX recover; Pyth's PSTR feed is rate limited (429) by the fixture server.
      const cyclesBefore = statusA.cycles;
      live.pyth.pstrMode = 'rate-limited';
      live.switchboard.mode = 'ok';
      live.dex.mode = 'ok';
      const iv = `intervention/${treasuryId}/1`;
      // Waits for the cycle's record, not the status: the sequence number is taken (and counted) before the cycle is written.
      const starter: CycleRecord = await waitFor('an intervention from a two-source consensus', async () => (await cycles(live)).find((c) => c.summary.startedIntervention === iv), { timeoutMs: 20_000 });
      expect(Number(starter.summary.cycleId.split('/')[1])).toBeGreaterThan(cyclesBefore);
      expect(starter.consensus.ok).toBe(true);
      expect(sourcesOf(starter.consensus.readings)).toEqual(['dex-twap', 'switchboard']);
      expect(starter.summary.consensusPrice).toBeCloseTo(PSTR_USD, 12);
      expect(live.pyth.pstrRequests.filter((r) => r.answered === 'rate-limited').length).toBeGreaterThan(0);

      // Now Pyth's PSTR feed hangs past the attempt timeout: cycles still get their consensus from the other two.
      live.pyth.pstrMode = 'timeout';
      const switched = (await monitorStatus(client, treasuryId)).cycles;
      const later = await waitFor('a valid cycle while Pyth times out', async () => (await cycles(live)).find((c) => Number(c.summary.cycleId.split('/')[1]) > switched + 1), { timeoutMs: 20_000 });
      expect(later.consensus.ok).toBe(true);
      expect(sourcesOf(later.consensus.readings)).toEqual(['dex-twap', 'switchboard']);
      expect(live.pyth.pstrRequests.some((r) => r.answered === 'timeout')).toBe(true);

      // The intervention validated on a fresh two-source consensus and swapped once.
      const done = await waitFor('the intervention to execute', async () => {
        const st: InterventionState = await client.workflow.getHandle(iv).query(interventionStateQuery);
        if (st.status !== 'running' && st.status !== 'executed') throw new Error(`intervention ended ${st.status}: ${st.reason}`);
        return st.status === 'executed' ? st : undefined;
      }, { timeoutMs: 20_000 });
      const validate = done.steps.find((s) => s.step === 'validate');
      expect(sourcesOf((validate?.inputs as { readings: OracleReading[] }).readings)).toEqual(['dex-twap', 'switchboard']);
      expect(new Set(live.spy.sends).size).toBe(1);
      expect(await live.world.balance(live.world.treasury.publicKey, live.world.mints.pstr)).toBe(200_000n * UNIT);
    } finally {
      await live.close();
    }
  }, 60_000);
});

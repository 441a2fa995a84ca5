/**
 * Secrets never reach a workflow history (issue #10, item 6). Two runs on the
 * real dev server, each with its secrets configured as `{ env: NAME }`
 * references whose values are distinctive strings set in the worker's
 * environment:
 *   - a demo (paper) run whose alert sinks' webhook URL and Authorization
 *     header are secrets, through a monitor cycle, an intervention and
 *     alert deliveries;
 *   - a live-mode (devnet) run against local servers: Hermes with its API key
 *     (Bearer), Jupiter Swap API V2 with its x-api-key, a credentialed RPC URL;
 *     LiteSVM as the chain, through an executed intervention.
 * Each run proves the secrets were used (the local servers received them),
 * then every history in the namespace is fetched and searched for them.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { DAY_MS } from '../../src/domain/vwap.ts';
import { DexTwapSource } from '../../src/oracles/dex-twap.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { buildPaperWorld } from '../../src/runtime/paper-world.ts';
import { createWorker, paperDeps } from '../../src/runtime/worker.ts';
import { openWorld } from '../../src/runtime/world.ts';
import type { DevServer } from '../../src/temporal/server.ts';
import { interventionStateQuery, monitorWorkflowId } from '../../src/workflows/contract.ts';
import { startReceiver, type Receiver } from '../alerts/receiver.ts';
import { FixtureServer } from '../oracles/fixture-server.ts';
import { UNIT, fakeJupiter, makeWorld } from '../solana/world.ts';
import { ephemeralDevServer, waitFor } from './fixtures/e2e.ts';
import { DexProbeStub, FEEDS, LATEST_PATH, PythFixture, SWITCHBOARD_FEED, SwitchboardStub, SOL_PRICE } from './fixtures/live-oracles.ts';
import { TEST_OPERATOR_KEYS } from '../support/operator-keys.ts';

const SECRETS = {
  PSTR_SCAN_WEBHOOK_URL: 'whk-path-5e1c0a-secret',
  PSTR_SCAN_WEBHOOK_AUTH: 'Bearer whk-auth-93d2b7-secret',
  PSTR_SCAN_PYTH_KEY: 'pyth-key-a41f6e-secret',
  PSTR_SCAN_JUPITER_KEY: 'jup-key-c70d28-secret',
  PSTR_SCAN_RPC_URL: 'rpc-key-1b9e44-secret',
} as const;

let server: DevServer;
let fixtures: FixtureServer;
let receiver: Receiver;
let dir: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pstr-secrets-'));
  [server, fixtures, receiver] = await Promise.all([ephemeralDevServer(dir), FixtureServer.start(), startReceiver()]);
  // Where a worker reads its secrets: its environment.
  for (const k of Object.keys(SECRETS)) saved[k] = process.env[k];
  process.env.PSTR_SCAN_WEBHOOK_URL = `${receiver.base}/hook/${SECRETS.PSTR_SCAN_WEBHOOK_URL}`;
  process.env.PSTR_SCAN_WEBHOOK_AUTH = SECRETS.PSTR_SCAN_WEBHOOK_AUTH;
  process.env.PSTR_SCAN_PYTH_KEY = SECRETS.PSTR_SCAN_PYTH_KEY;
  process.env.PSTR_SCAN_JUPITER_KEY = SECRETS.PSTR_SCAN_JUPITER_KEY;
  // Never dialled (the chain is LiteSVM), but resolved by the worker as a live one would be.
  process.env.PSTR_SCAN_RPC_URL = `http://127.0.0.1:9/?api-key=${SECRETS.PSTR_SCAN_RPC_URL}`;
}, 60_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  await receiver?.close();
  await fixtures?.close();
  await server?.shutdown();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

const alerts = {
  dedupeWindowSeconds: 0,
  sinks: [{ type: 'webhook', name: 'ops', url: { env: 'PSTR_SCAN_WEBHOOK_URL' }, headers: { Authorization: { env: 'PSTR_SCAN_WEBHOOK_AUTH' } } }],
};

/**
 * All the text in a history: payloads are bytes (JSON encoded by the data converter), so every byte array is
 * decoded as UTF-8 alongside every string; a plain JSON.stringify would show the bytes as numbers and find nothing.
 */
function historyText(node: unknown, out: string[] = []): string[] {
  if (typeof node === 'string') out.push(node);
  else if (node instanceof Uint8Array) out.push(Buffer.from(node).toString('utf8'));
  else if (Array.isArray(node)) for (const n of node) historyText(n, out);
  else if (node && typeof node === 'object') for (const v of Object.values(node)) historyText(v, out);
  return out;
}

/** Every history in the namespace as its text, by workflow id (closed and running alike). */
async function allHistories(client: Client): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const wf of client.workflow.list()) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    out.set(`${wf.workflowId}/${wf.runId}`, historyText(history).join('\n'));
  }
  return out;
}

function leaks(histories: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [id, text] of histories) for (const [name, value] of Object.entries(SECRETS)) if (text.includes(value)) found.push(`${name} in ${id}`);
  return found;
}

describe('workflow histories of a run', () => {
  it('of a demo run hold none of the alert sinks\' secrets, which the webhook received', async () => {
    const treasuryId = 'scan-demo';
    const config = parseConfig({
      treasuryId, mode: 'paper', alerts,
      monitor: { cycleIntervalSeconds: 1 },
      treasury: { initial: { pump: '40000000', usdc: '700000' } },
      intervention: { operators: ['alice', 'bob'], timelockThresholdUsd: 1_000_000_000 },
      liquidity: { enabled: false },
      paper: { drawdown: { startInSeconds: 0, depth: 0.17, rampSeconds: 1 } },
    });
    const world = await buildPaperWorld(config, { dataDir: join(dir, treasuryId) });
    const taskQueue = `scan-${treasuryId}`;
    const worker = await createWorker({ connection: server.env.nativeConnection, namespace: 'default', deps: paperDeps(config, world, server.env.client, pino({ level: 'silent' })), taskQueue });
    const running = worker.run();
    try {
      await ensureMonitor(server.env.client, config, taskQueue);
      const iv = server.env.client.workflow.getHandle(`intervention/${treasuryId}/1`);
      await waitFor('the demo intervention to execute', async () => (await iv.query(interventionStateQuery)).status === 'executed', { timeoutMs: 40_000 });
      const hooks = await waitFor('an alert at the secret webhook', () => receiver.to(`/hook/${SECRETS.PSTR_SCAN_WEBHOOK_URL}`).length > 0 && receiver.to('/hook/'), { timeoutMs: 20_000 });
      expect(hooks.every((r) => r.headers.authorization === SECRETS.PSTR_SCAN_WEBHOOK_AUTH)).toBe(true);
      const histories = await allHistories(server.env.client);
      expect([...histories.keys()].some((k) => k.startsWith(monitorWorkflowId(treasuryId)))).toBe(true);
      expect([...histories.keys()].some((k) => k.startsWith(`intervention/${treasuryId}/1`))).toBe(true);
      // The config did travel in them: its references, by name.
      expect([...histories.values()].some((h) => h.includes('PSTR_SCAN_WEBHOOK_URL'))).toBe(true);
      expect(leaks(histories)).toEqual([]);
    } finally {
      await server.env.client.workflow.getHandle(monitorWorkflowId(treasuryId)).terminate('test over').catch(() => undefined);
      worker.shutdown();
      await running.catch(() => undefined);
      await world.store.close();
    }
  }, 90_000);

  it('of a live-mode run against local servers hold neither the Pyth nor the Jupiter key nor the RPC URL, which the servers received', async () => {
    const treasuryId = 'scan-live';
    const world = makeWorld();
    world.mintTo(world.treasury.publicKey, world.mints.pump, 3_000_000n * UNIT);
    const jup = await fakeJupiter(world);
    jup.rate = { num: 1n, den: 2n };
    const keypairPath = join(dir, `${treasuryId}-treasury.json`);
    writeFileSync(keypairPath, JSON.stringify(Array.from(world.treasury.secretKey)));
    chmodSync(keypairPath, 0o600);
    const pyth = new PythFixture(fixtures, { pstr: 0.01, pump: 0.005 });
    const switchboard = new SwitchboardStub(0.01);
    const dex = new DexProbeStub(0.01);
    const config = parseConfig({
      treasuryId, mode: 'devnet', alerts,
      tokens: { pstr: { mint: world.mints.pstr.toBase58() }, pump: { mint: world.mints.pump.toBase58() }, usdc: { mint: world.mints.usdc.toBase58() } },
      oracle: {
        pyth: { endpoint: pyth.endpoint, apiKey: { env: 'PSTR_SCAN_PYTH_KEY' }, feeds: { pstr: FEEDS.pstr, pump: FEEDS.pump, sol: FEEDS.sol } },
        switchboard: { pstrFeed: SWITCHBOARD_FEED },
        dex: { pool: world.pool.publicKey.toBase58() },
      },
      solana: { rpcUrl: { env: 'PSTR_SCAN_RPC_URL' }, keypairPath, jupiter: { api: 'v2', baseUrl: jup.v2BaseUrl, apiKey: { env: 'PSTR_SCAN_JUPITER_KEY' } } },
      monitor: { cycleIntervalSeconds: 1 },
      intervention: { operators: ['alice'], operatorKeys: { alice: TEST_OPERATOR_KEYS.alice }, timelockThresholdUsd: 1_000_000 },
      treasury: { pstrCirculatingSupply: '5000000' },
    });
    const open = await openWorld(config, {
      dataDir: join(dir, treasuryId), client: server.env.client, logger: pino({ level: 'silent' }),
      overrides: {
        chain: world.chain, cosigners: [world.pool], feedLoader: switchboard.loader, priceProbe: dex.probe,
        // The second PUMP and SOL source of SPEC §2 (a Jupiter quote live), agreeing with Pyth, as in live-adapters.test.ts.
        marketProbes: { pump: () => Promise.resolve(pyth.prices.pump), sol: () => Promise.resolve(SOL_PRICE) },
        resilience: { timeoutMs: 400, retries: 1, retryBackoffMs: 20, breaker: { failureThreshold: 3, cooldownMs: 500 } },
      },
    });
    // As in live-adapters.test.ts: the TWAP's earlier window, and 30 days of prices 20 % above, so the first cycle intervenes.
    const twap = open.deps.sources.find((s): s is DexTwapSource => s instanceof DexTwapSource);
    const now = Date.now();
    for (let m = 30; m >= 1; m--) twap?.addSample({ at: now - m * 60_000, price: 0.01 });
    await open.store.recordPriceSamples(Array.from({ length: 720 }, (_, i) => ({
      treasuryId, cycleId: `seed/${i}`, timestamp: now - 30 * DAY_MS + (i + 1) * 3_600_000 - 60_000, pstrPrice: 0.012, pstrVolume: 0, pumpPrice: 0.005, solPrice: 148, consensus: { seeded: true },
    })));
    const taskQueue = `scan-${treasuryId}`;
    const worker = await createWorker({ connection: server.env.nativeConnection, namespace: 'default', deps: open.deps, taskQueue });
    const running = worker.run();
    try {
      await ensureMonitor(server.env.client, config, taskQueue);
      const iv = server.env.client.workflow.getHandle(`intervention/${treasuryId}/1`);
      await waitFor('the live intervention to execute', async () => {
        const st = await iv.query(interventionStateQuery);
        if (st.status !== 'running' && st.status !== 'executed') throw new Error(`intervention ended ${st.status}: ${st.reason}`);
        return st.status === 'executed';
      }, { timeoutMs: 40_000 });
      // The secrets were used: Hermes got the Bearer key, Jupiter's /build the x-api-key.
      const hermes = fixtures.requestsTo(LATEST_PATH);
      expect(hermes.length).toBeGreaterThan(0);
      expect(hermes.every((r) => r.headers.authorization === `Bearer ${SECRETS.PSTR_SCAN_PYTH_KEY}`)).toBe(true);
      expect(jup.builds.length).toBeGreaterThan(0);
      expect(jup.builds.every((b) => b.apiKey === SECRETS.PSTR_SCAN_JUPITER_KEY && b.taker === world.treasury.publicKey.toBase58())).toBe(true);
      const histories = await allHistories(server.env.client);
      expect([...histories.keys()].some((k) => k.startsWith(`intervention/${treasuryId}/1`))).toBe(true);
      expect([...histories.values()].some((h) => h.includes('PSTR_SCAN_PYTH_KEY') && h.includes('PSTR_SCAN_JUPITER_KEY'))).toBe(true);
      expect(leaks(histories)).toEqual([]);
    } finally {
      await server.env.client.workflow.getHandle(monitorWorkflowId(treasuryId)).terminate('test over').catch(() => undefined);
      worker.shutdown();
      await running.catch(() => undefined);
      await open.close();
      await jup.close();
    }
  }, 90_000);
});

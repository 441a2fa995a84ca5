/**
 * Two workers on two data directories, two processes, one PostgreSQL store,
 * one Temporal dev server, one task queue, and one chain (LiteSVM in this
 * process, reached by both through the chain shim). The accumulation buy's
 * first attempt sends its transaction, which lands, and then its confirmation
 * read is held: the attempt stops heartbeating, Temporal retries it after the
 * heartbeat timeout, and since the held worker's only activity slot is busy
 * the retry runs on the other worker. With a journal per worker the retry
 * would find nothing and buy again; with the shared money journal it finds
 * the attempt's signature landed and settles it. Then the held attempt is let
 * go and finishes too. Exactly one transaction was ever sent and one buy
 * moved the balances; one journal row, confirmed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TreasuryStore } from '../../src/db/store.ts';
import { attemptsOf } from '../../src/solana/executor.ts';
import type { DevServer } from '../../src/temporal/server.ts';
import { UNIT, fakeJupiter, makeWorld, type FakeJupiter, type World } from '../solana/world.ts';
import { freshDatabase, postgresUrl } from '../support/pg.ts';
import { serveChain, type ChainShim, type ShimCall } from './fixtures/chain-shim.ts';
import { ephemeralDevServer, repoRoot, waitFor } from './fixtures/e2e.ts';
import { FEEDS, SWITCHBOARD_FEED } from './fixtures/live-oracles.ts';
import { TEST_OPERATOR_KEYS } from '../support/operator-keys.ts';

const T = 'pstr-two';
const QUEUE = 'money-two-workers';
const KEY = `accumulation/${T}/2026-12-03T18`;
const entry = fileURLToPath(new URL('./fixtures/money-worker.ts', import.meta.url));

interface Child {
  name: string;
  proc: ChildProcess;
  output(): string;
}

let dir: string;
let server: DevServer;
let world: World;
let jup: FakeJupiter;
let shim: ChainShim;
let databaseUrl: string;
const children: Child[] = [];

function startWorker(name: string, env: Record<string, string>): Child {
  const dataDir = join(dir, name);
  mkdirSync(dataDir, { recursive: true });
  const proc = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, WORKER_NAME: name, DATA_DIR: dataDir },
  });
  let text = '';
  proc.stdout?.on('data', (b: Buffer) => (text += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (text += b.toString()));
  const child = { name, proc, output: () => text };
  children.push(child);
  return child;
}

/**
 * A chain whose blockhash moves on, as a real one does every ~400 ms: each
 * build gets a fresh one. (LiteSVM's stays put otherwise, and a rebuilt
 * transaction would be byte-identical to the landed one, hiding a second buy.)
 */
function movingChain(w: World): World['chain'] {
  return {
    ...w.chain,
    latestBlockhash: () => {
      w.svm.expireBlockhash();
      return w.chain.latestBlockhash();
    },
  };
}

describe.skipIf(!postgresUrl)('two worker processes sharing one PostgreSQL store', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'money-two-'));
    world = makeWorld();
    [server, jup, shim, databaseUrl] = await Promise.all([ephemeralDevServer(dir), fakeJupiter(world), serveChain(movingChain(world)), freshDatabase('money')]);
    jup.rate = { num: 50n, den: 1n }; // 1 USDC → 50 PUMP
  }, 90_000);

  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.proc.exitCode === null ? new Promise((r) => c.proc.once('exit', r)) : Promise.resolve())));
    await shim?.close();
    await jup?.close();
    await server?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('move money once when the first attempt is held past its heartbeat timeout and the retry runs on the other worker', async () => {
    const keypairPath = join(dir, 'treasury.json');
    writeFileSync(keypairPath, JSON.stringify(Array.from(world.treasury.secretKey)));
    chmodSync(keypairPath, 0o600);
    const cosignerPath = join(dir, 'pool.json');
    writeFileSync(cosignerPath, JSON.stringify(Array.from(world.pool.secretKey)));
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify({
      treasuryId: T, mode: 'devnet',
      tokens: { pstr: { mint: world.mints.pstr.toBase58() }, pump: { mint: world.mints.pump.toBase58() }, usdc: { mint: world.mints.usdc.toBase58() } },
      // Never read: this test runs only the buy.
      oracle: { pyth: { endpoint: 'http://127.0.0.1:9/', requiresKey: false, feeds: { pstr: FEEDS.pstr, pump: FEEDS.pump, sol: FEEDS.sol } }, switchboard: { pstrFeed: SWITCHBOARD_FEED }, dex: { pool: world.pool.publicKey.toBase58() } },
      // Never dialled: the chain is the shim.
      solana: { rpcUrl: 'http://127.0.0.1:9/', keypairPath, jupiter: { api: 'v1', baseUrl: jup.baseUrl } },
      intervention: { operators: ['alice'], operatorKeys: { alice: TEST_OPERATOR_KEYS.alice } },
    }));

    // The first confirmation read of the first transaction sent, by the worker that sent it, waits until released.
    let held: ShimCall | null = null;
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    const sendsOf = () => shim.calls.filter((c) => c.method === 'sendRawTransaction');
    shim.hold = (call) => {
      const first = sendsOf()[0];
      if (held || !first?.sent || call.method !== 'signatureStatus' || call.worker !== first.worker || call.args[0] !== first.sent) return undefined;
      held = call;
      return released;
    };

    const env = { TEMPORAL_ADDRESS: server.address, DATABASE_URL: databaseUrl, CHAIN_URL: shim.url, TASK_QUEUE: QUEUE, CONFIG_FILE: configPath, COSIGNER_FILE: cosignerPath };
    const workers = [startWorker('worker-a', env), startWorker('worker-b', env)];
    for (const w of workers) {
      const how = await waitFor(`${w.name} polling`, () => (w.output().includes(`money worker ${w.name} polling`) ? 'polling' : w.proc.exitCode !== null ? 'exited' : false), { timeoutMs: 120_000 });
      if (how === 'exited') throw new Error(`${w.name} exited before polling:\n${w.output()}`);
    }

    const usdcBefore = await world.balance(world.treasury.publicKey, world.mints.usdc);
    const pumpBefore = await world.balance(world.treasury.publicKey, world.mints.pump);
    const handle = await server.env.client.workflow.start('accumulationBuy', {
      taskQueue: QUEUE, workflowId: `money-two/${Date.now()}`,
      args: [{ treasuryId: T, key: KEY, usdcIn: (100n * UNIT).toString(), minPumpOut: (4_900n * UNIT).toString() }],
    });
    const result = (await handle.result()) as { applied: boolean; pumpOut: string };
    expect(result).toMatchObject({ applied: true, pumpOut: (5_000n * UNIT).toString() });

    // The first attempt was held on the worker that sent; the attempt that completed ran on the other one.
    const heldCall = held as ShimCall | null;
    expect(heldCall).not.toBeNull();
    const other = workers.find((w) => w.name !== heldCall?.worker)?.name;
    const started = (await handle.fetchHistory()).events?.filter((e) => e.activityTaskStartedEventAttributes) ?? [];
    expect(started.map((e) => e.activityTaskStartedEventAttributes?.identity)).toEqual([other]);
    expect(Number(started[0]?.activityTaskStartedEventAttributes?.attempt)).toBeGreaterThan(1);
    expect(shim.calls.some((c) => c.worker === other && c.method === 'signatureStatus')).toBe(true);

    // Let the held attempt go, and wait until it has finished its call (its worker logs the buy).
    release();
    const heldWorker = workers.find((w) => w.name === heldCall?.worker) as Child;
    await waitFor('the held attempt to finish', () => heldWorker.output().includes('"msg":"accumulation"'), { timeoutMs: 60_000 });

    const sends = sendsOf();
    expect(sends).toHaveLength(1);
    expect(sends[0]?.worker).toBe(heldCall?.worker);
    expect(await world.balance(world.treasury.publicKey, world.mints.usdc)).toBe(usdcBefore - 100n * UNIT);
    expect(await world.balance(world.treasury.publicKey, world.mints.pump)).toBe(pumpBefore + 5_000n * UNIT);

    const store = await TreasuryStore.connect(databaseUrl);
    try {
      const row = await store.moneyRecord(T, 'accumulation', KEY);
      expect(row).toMatchObject({ status: 'confirmed', amountIn: 100n * UNIT, amountOut: 5_000n * UNIT, signature: sends[0]?.sent });
      const attempts = attemptsOf({ status: 'confirmed', amountIn: 0n, amountOut: 0n, signature: null, details: row?.details as Record<string, unknown> });
      expect(attempts.map((a) => a.signature)).toEqual([sends[0]?.sent]);
    } finally {
      await store.close();
    }
  }, 240_000);
});

/**
 * A real Temporal test server (time-skipping) with a real worker running our
 * workflows and activities over a paper world on a real SQLite file. Only the
 * market is simulated: it is the edge we cannot reach from a test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import pino from 'pino';
import type { ActivityDeps } from '../../src/activities/index.ts';
import { parseConfig, type Config, type ConfigInput } from '../../src/config.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import { createWorker, paperDeps } from '../../src/runtime/worker.ts';
import { startTimeSkippingServer } from '../../src/temporal/server.ts';
import { TASK_QUEUE } from '../../src/workflows/contract.ts';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** The test treasury: 40M PUMP (≈ 200k USD) and 700k USDC against 2B PSTR (≈ 400k USD cap), RR ≈ 2.5. */
export function testConfig(over: ConfigInput = {}): Config {
  return parseConfig({
    treasuryId: 'test',
    monitor: { cycleIntervalSeconds: 300 },
    intervention: { operators: ['alice', 'bob'] },
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
    liquidity: { enabled: false },
    ...over,
  });
}

export interface Harness {
  env: TestWorkflowEnvironment;
  world: PaperWorld;
  config: Config;
  worker: Worker;
  dir: string;
  taskQueue: string;
  treasuryId: string;
  /** Runs `fn` while the worker polls; stops the worker after. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

let shared: Promise<TestWorkflowEnvironment> | null = null;
let runtimeInstalled = false;

/** One time-skipping server per test file (time skipped is global to a server: tests in a file run in sequence). */
export function sharedEnv(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    // Keep test output to what matters: the SDK logs only warnings and errors.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  shared ??= startTimeSkippingServer();
  return shared;
}

let harnessCount = 0;

/**
 * A worker over a fresh paper world, on its own task queue and treasury id:
 * workflow ids (intervention/<treasury>/<n>) never collide between tests.
 */
export async function harness(
  config: Config,
  opts: { drawdownInMinutes?: number; depth?: number; holdMinutes?: number; wrapDeps?: (deps: ActivityDeps) => ActivityDeps } = {},
): Promise<Harness> {
  const env = await sharedEnv();
  const now = await env.currentTimeMs();
  const dir = mkdtempSync(join(tmpdir(), 'pstr-wf-'));
  harnessCount += 1;
  const treasuryId = `${config.treasuryId}-${process.pid}-${harnessCount}`;
  const taskQueue = `${TASK_QUEUE}-${treasuryId}`;
  const cfg = opts.drawdownInMinutes === undefined
    ? parseConfig({ ...config, treasuryId })
    : parseConfig({ ...config, treasuryId, paper: { ...config.paper, drawdown: { startInSeconds: opts.drawdownInMinutes * 60, depth: opts.depth ?? 0.17, rampSeconds: 60, holdSeconds: (opts.holdMinutes ?? 600) * 60, recoverSeconds: 600 } } });
  const world = await buildPaperWorld(cfg, { dataDir: dir, now });
  const logger = pino({ level: 'silent' });
  const worker = await createWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', deps: (opts.wrapDeps ?? ((d) => d))(paperDeps(cfg, world, env.client, logger)), taskQueue });
  return {
    env, world, config: cfg, worker, dir, taskQueue, treasuryId,
    run: (fn) => worker.runUntil(fn),
    async close() {
      await world.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

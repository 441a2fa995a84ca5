/**
 * A real Temporal test server (time-skipping) with a real worker running our
 * workflows and activities over a paper world on a real SQLite file. Only the
 * market is simulated: it is the edge we cannot reach from a test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import pino from 'pino';
import type { ActivityDeps } from '../../src/activities/index.ts';
import { mergeConfig, parseConfig, type Config, type ConfigInput } from '../../src/config.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import { createWorker, paperDeps } from '../../src/runtime/worker.ts';
import { startTimeSkippingServer } from '../../src/temporal/server.ts';
import { TASK_QUEUE, type InterventionState } from '../../src/workflows/contract.ts';
import type { intervention } from '../../src/workflows/index.ts';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** The test treasury: 40M PUMP (≈ 200k USD) and 700k USDC against 2B PSTR (≈ 400k USD cap), RR ≈ 2.5. */
export function testConfig(over: ConfigInput = {}): Config {
  // Deep-merged, as a config file is: an override of `intervention.timelockThresholdUsd` keeps the operators.
  return mergeConfig(parseConfig({
    treasuryId: 'test',
    monitor: { cycleIntervalSeconds: 300 },
    intervention: { operators: ['alice', 'bob'] },
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
    liquidity: { enabled: false },
  }), over, 'test config');
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

/**
 * Replaces the shared server with a new one. For tests whose workflows end right after starting abandoned
 * children (alert deliveries): the time-skipping server can keep its clock locked after them, so such a test
 * gets a server of its own, and nothing it leaves behind holds the next test's clock.
 */
export async function freshEnv(): Promise<TestWorkflowEnvironment> {
  const prior = shared;
  shared = null;
  if (prior) await (await prior).teardown();
  return sharedEnv();
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
  // No alert outbox on the shared time-skipping server: a workflow left running (its hourly sweep, a delivery
  // retrying) would hold the clock for the next test. Alerts stay stored; test/e2e/events-per-cycle.test.ts delivers them.
  const deps: ActivityDeps = { ...paperDeps(cfg, world, env.client, logger) };
  delete deps.wakeAlertOutbox;
  const worker = await createWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', deps: (opts.wrapDeps ?? ((d) => d))(deps), taskQueue });
  return {
    env, world, config: cfg, worker, dir, taskQueue, treasuryId,
    run: (fn) => worker.runUntil(fn),
    async close() {
      await world.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * An intervention's end, waited for the way a time-skipping client does (the server skips time while it waits):
 * first until a cycle after `startsAfterMs` has started it, in short steps, so that a step the intervention ends
 * in is short too (see freshEnv: the clock may stay locked after that).
 */
export async function interventionEnd(h: Harness, iv: WorkflowHandle<typeof intervention>, startsAfterMs = 55 * MINUTE): Promise<InterventionState> {
  await h.env.sleep(startsAfterMs);
  for (let i = 0; i < 360; i++) {
    if (await iv.describe().then(() => true, () => false)) return iv.result();
    await h.env.sleep(10_000);
  }
  throw new Error(`${iv.workflowId} never started`);
}

// Integration: the real `temporal` dev server and the real time-skipping test
// server, driven by a real Worker that bundles TypeScript workflow files.
import { freePort, quietRuntime } from '../e2e/fixtures/e2e.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectOrStart, startDevServer, startTimeSkippingServer } from '../../src/temporal/server.ts';
import { hello } from './fixtures/hello.workflow.ts';
import { sleepTwoDays } from './fixtures/sleep.workflow.ts';

const helloPath = fileURLToPath(new URL('./fixtures/hello.workflow.ts', import.meta.url));
const sleepPath = fileURLToPath(new URL('./fixtures/sleep.workflow.ts', import.meta.url));

quietRuntime();


let helloBundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  // Bundle once (webpack + swc compile the .ts file) and reuse it for every worker.
  helloBundle = await bundleWorkflowCode({ workflowsPath: helloPath, logger: new DefaultLogger('WARN') });
});

describe('the dev server', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'temporal-dev-'));
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs a workflow with a real worker and, after a restart on the same data directory, keeps its history and resumes a pending one', async () => {
    const port = await freePort();
    const uiPort = await freePort();
    const workflowId = `hello-${Date.now()}`;
    const pendingId = `pending-${Date.now()}`;

    const first = await startDevServer({ dataDir, port, uiPort });
    try {
      expect(first.address).toBe(`127.0.0.1:${port}`);
      expect(first.uiUrl).toBe(`http://127.0.0.1:${uiPort}`);
      expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);
      const worker = await Worker.create({
        connection: first.env.nativeConnection,
        taskQueue: 'hello',
        workflowBundle: helloBundle,
      });
      const result = await worker.runUntil(
        first.env.client.workflow.execute(hello, { args: ['world'], taskQueue: 'hello', workflowId }),
      );
      expect(result).toBe('hello world');
      // No worker polls this queue yet: the workflow stays open across the restart.
      await first.env.client.workflow.start(hello, { args: ['again'], taskQueue: 'later', workflowId: pendingId });
    } finally {
      await first.shutdown();
    }
    await first.shutdown(); // a second call is harmless

    const second = await startDevServer({ dataDir, port, uiPort });
    try {
      const handle = second.env.client.workflow.getHandle(workflowId);
      expect(await handle.result()).toBe('hello world');
      const history = await handle.fetchHistory();
      const events = history.events ?? [];
      expect(events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name).toBe('hello');
      expect(events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();

      const worker = await Worker.create({
        connection: second.env.nativeConnection,
        taskQueue: 'later',
        workflowBundle: helloBundle,
      });
      const pending = second.env.client.workflow.getHandle(pendingId);
      expect(await worker.runUntil(pending.result())).toBe('hello again');
    } finally {
      await second.shutdown();
    }
  }, 60_000);

  it('refuses to start on a port that is already taken', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => {
      blocker.listen(0, '127.0.0.1', () => {
        const address = blocker.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
    try {
      await expect(startDevServer({ dataDir, port, ui: false })).rejects.toThrow(`port ${port} on 127.0.0.1 is not available (EADDRINUSE)`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('connectOrStart', () => {
  it('starts an embedded server without TEMPORAL_ADDRESS, and connects a client and a worker to TEMPORAL_ADDRESS when set', async () => {
    const saved = process.env.TEMPORAL_ADDRESS;
    delete process.env.TEMPORAL_ADDRESS;
    const embedded = await connectOrStart({ dataDir: '', port: await freePort(), ephemeral: true, ui: false, namespace: 'treasury' });
    try {
      expect(embedded.uiUrl).toBeNull();
      process.env.TEMPORAL_ADDRESS = embedded.address;
      const external = await connectOrStart({ dataDir: '', namespace: 'treasury' });
      try {
        expect(external.address).toBe(embedded.address);
        expect(external.namespace).toBe('treasury');
        const worker = await Worker.create({
          connection: external.nativeConnection,
          namespace: external.namespace,
          taskQueue: 'external',
          workflowBundle: helloBundle,
        });
        const result = await worker.runUntil(
          external.client.workflow.execute(hello, { args: ['cluster'], taskQueue: 'external', workflowId: `external-${Date.now()}` }),
        );
        expect(result).toBe('hello cluster');
      } finally {
        await external.shutdown();
      }
    } finally {
      if (saved === undefined) delete process.env.TEMPORAL_ADDRESS;
      else process.env.TEMPORAL_ADDRESS = saved;
      await embedded.shutdown();
    }
  }, 30_000);
});

describe('the time-skipping test server', () => {
  it('completes a workflow that sleeps two days in a few seconds of wall time', async () => {
    const env = await startTimeSkippingServer();
    try {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: 'sleepy',
        workflowsPath: sleepPath,
      });
      const serverTimeBefore = await env.currentTimeMs();
      const wallStart = Date.now();
      const result = await worker.runUntil(
        env.client.workflow.execute(sleepTwoDays, { taskQueue: 'sleepy', workflowId: `sleep-${wallStart}` }),
      );
      const wallMs = Date.now() - wallStart;
      const serverTimeAfter = await env.currentTimeMs();
      expect(result).toBe('awake');
      expect(serverTimeAfter - serverTimeBefore).toBeGreaterThanOrEqual(2 * 24 * 60 * 60 * 1000);
      expect(wallMs).toBeLessThan(5_000);
    } finally {
      await env.teardown();
    }
  }, 60_000);
});

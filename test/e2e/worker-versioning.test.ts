/**
 * Versioned deploys (issue #13 item 4) on the real dev server: two versioned
 * workers of one Worker Deployment on the treasury's task queue, as a rolling
 * deploy runs them. The intervention started under v1 stays pinned to v1 (it
 * finishes on the code it began with) and still answers; once v2 is made
 * current, the monitor moves to v2 at its next continue-as-new, with its
 * memory and cycle count.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeVersioningBehavior } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import { createWorker, paperDeps, promoteDeploymentVersion, type DeploymentVersion } from '../../src/runtime/worker.ts';
import type { DevServer } from '../../src/temporal/server.ts';
import { interventionStateQuery, interventionWorkflowId, monitorWorkflowId, statusQuery } from '../../src/workflows/contract.ts';
import { ephemeralDevServer, waitFor } from './fixtures/e2e.ts';

const TREASURY = 'versions';
const V1: DeploymentVersion = { name: 'pstr-agent', buildId: 'v1' };
const V2: DeploymentVersion = { name: 'pstr-agent', buildId: 'v2' };

describe('a rolling deploy with Worker Versioning on the dev server', () => {
  let server: DevServer;
  let world: PaperWorld;
  const workers: { worker: Worker; running: Promise<void> }[] = [];
  let dir: string;
  const config = parseConfig({
    treasuryId: TREASURY,
    monitor: { cycleIntervalSeconds: 1 },
    intervention: { operators: ['alice'], timelockMinutes: 60 },
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
    liquidity: { enabled: false },
    paper: { drawdown: { startInSeconds: 0, depth: 0.17, rampSeconds: 1 } },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pstr-versions-'));
    server = await ephemeralDevServer(dir);
    world = await buildPaperWorld(config, { dataDir: dir });
  }, 60_000);

  afterAll(async () => {
    const client = server?.env.client;
    await client?.workflow.getHandle(monitorWorkflowId(TREASURY)).terminate().catch(() => undefined);
    await client?.workflow.getHandle(interventionWorkflowId(TREASURY, 1)).terminate().catch(() => undefined);
    for (const w of workers) w.worker.shutdown();
    await Promise.all(workers.map((w) => w.running.catch(() => undefined)));
    await world?.store.close();
    await server?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  async function startVersion(version: DeploymentVersion): Promise<void> {
    const worker = await createWorker({
      connection: server.env.nativeConnection, namespace: 'default', deployment: version,
      deps: paperDeps(config, world, server.env.client, pino({ level: 'silent' })),
    });
    workers.push({ worker, running: worker.run() });
    await promoteDeploymentVersion(server.env.client, 'default', version, `test ${version.buildId}`);
  }

  const versionOf = async (workflowId: string) => {
    const d = await server.env.client.workflow.getHandle(workflowId).describe();
    const v = d.raw.workflowExecutionInfo?.versioningInfo;
    return { runId: d.runId, buildId: v?.deploymentVersion?.buildId ?? null, pinned: decodeVersioningBehavior(v?.behavior) === 'PINNED' };
  };

  it('keeps the intervention on the version that started it and moves the monitor to the new one at continue-as-new', async () => {
    const client = server.env.client;
    await startVersion(V1);
    await ensureMonitor(client, config);
    const monitor = client.workflow.getHandle(monitorWorkflowId(TREASURY));
    const iv = interventionWorkflowId(TREASURY, 1);
    await waitFor('intervention 1 in its timelock', async () => (await client.workflow.getHandle(iv).query(interventionStateQuery).catch(() => null))?.stage === 'timelock', { timeoutMs: 60_000 });
    expect(await versionOf(iv)).toMatchObject({ buildId: 'v1', pinned: true });
    const firstRun = await versionOf(monitorWorkflowId(TREASURY));
    expect(firstRun.buildId).toBe('v1');
    const cyclesBefore = (await monitor.query(statusQuery)).cycles;

    await startVersion(V2);
    const upgraded = await waitFor('the monitor on v2', async () => {
      const v = await versionOf(monitorWorkflowId(TREASURY));
      return v.buildId === 'v2' ? v : undefined;
    }, { timeoutMs: 60_000 });
    expect(upgraded.runId).not.toBe(firstRun.runId);
    // The new run carries the old one's memory: its cycle count goes on, and intervention 1 is still its own.
    const status = await waitFor('a cycle on v2', async () => {
      const s = await monitor.query(statusQuery);
      return s.cycles > cyclesBefore ? s : undefined;
    }, { timeoutMs: 30_000 });
    expect(status.pendingInterventions).toContain(iv);

    // The intervention stays pinned to v1, running, and answers (served by the v1 worker).
    expect(await versionOf(iv)).toMatchObject({ buildId: 'v1', pinned: true });
    expect((await client.workflow.getHandle(iv).query(interventionStateQuery)).stage).toBe('timelock');
    const history = await monitor.fetchHistory();
    expect(history.events?.filter((e) => e.workflowTaskFailedEventAttributes) ?? []).toEqual([]);
  }, 180_000);
});

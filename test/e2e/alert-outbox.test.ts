/**
 * The alert outbox on the real dev server (issue #13 item 1): stored alert
 * rows are delivered by one `alertOutbox` workflow per treasury, woken by the
 * activity that stored them. A sink that keeps refusing one alert does not
 * hold back the next, and whatever a UI or CLI sends as the wake signal's
 * payload neither fails a workflow task nor stops delivery.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import { alertOutboxWaker, createWorker, paperDeps } from '../../src/runtime/worker.ts';
import type { DevServer } from '../../src/temporal/server.ts';
import { alertOutboxWakeSignal, alertOutboxWorkflowId } from '../../src/workflows/contract.ts';
import { ephemeralDevServer, waitFor } from './fixtures/e2e.ts';

const TREASURY = 'outbox';
const TASK_QUEUE = 'outbox-test';

/** A webhook that refuses (503) every notice whose text says "stuck", and takes every other. */
function startSink(): Promise<{ server: Server; url: string; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push(body);
      res.writeHead(body.includes('stuck') ? 503 : 200).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies })));
}

describe('the alert outbox on the dev server', () => {
  let server: DevServer;
  let world: PaperWorld;
  let worker: Worker;
  let running: Promise<void>;
  let sink: Awaited<ReturnType<typeof startSink>>;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pstr-outbox-'));
    [server, sink] = await Promise.all([ephemeralDevServer(dir), startSink()]);
    const config = parseConfig({
      treasuryId: TREASURY, liquidity: { enabled: false },
      alerts: { dedupeWindowSeconds: 0, sinks: [{ type: 'webhook', name: 'ops', url: sink.url }] },
    });
    world = await buildPaperWorld(config, { dataDir: dir });
    worker = await createWorker({ connection: server.env.nativeConnection, namespace: 'default', taskQueue: TASK_QUEUE, deps: paperDeps(config, world, server.env.client, pino({ level: 'silent' })) });
    running = worker.run();
  }, 60_000);

  afterAll(async () => {
    await server?.env.client.workflow.getHandle(alertOutboxWorkflowId(TREASURY)).terminate().catch(() => undefined);
    worker?.shutdown();
    await running?.catch(() => undefined);
    await world?.store.close();
    await new Promise((resolve) => sink?.server.close(resolve));
    await server?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const store = async (key: string, message: string) => {
    await world.store.recordAlert({ treasuryId: TREASURY, alertKey: key, at: Date.now(), level: 'critical', kind: `test-${key}`, message, data: {} });
    await alertOutboxWaker(server.env.client, TASK_QUEUE)(TREASURY);
  };
  const row = async (key: string) => (await world.store.alerts(TREASURY)).find((a) => a.alertKey === key);

  it('delivers the next alert while a sink keeps refusing an earlier one, and survives any wake payload', async () => {
    await store('a', 'stuck: the sink refuses this one');
    await waitFor('the sink refusing the first alert', () => sink.bodies.some((b) => b.includes('stuck')), { timeoutMs: 30_000 });
    await store('b', 'the sink takes this one');
    await waitFor('the second alert delivered', async () => (await row('b'))?.delivered === true, { timeoutMs: 30_000 });
    // The first is still being retried: refused by its sink, not delivered, and not in anyone's way.
    expect((await row('a'))?.delivered).toBe(false);

    // A wake from the Temporal UI or CLI with whatever payload: null, a string, an object, nothing.
    const outbox = server.env.client.workflow.getHandle(alertOutboxWorkflowId(TREASURY));
    for (const payload of [[null], ['{"garbage":'], [{ treasuryId: 'other' }], []] as unknown[][]) await outbox.signal(alertOutboxWakeSignal, ...payload);
    await store('c', 'delivered after the odd wakes');
    await waitFor('the third alert delivered', async () => (await row('c'))?.delivered === true, { timeoutMs: 30_000 });

    const d = await outbox.describe();
    expect(d.status.name).toBe('RUNNING');
    const history = await outbox.fetchHistory();
    expect(history.events?.filter((e) => e.workflowTaskFailedEventAttributes) ?? []).toEqual([]);
    // One outbox for the treasury: every alert went through it, none through a workflow of its own.
    const deliveries: string[] = [];
    for await (const w of server.env.client.workflow.list({ query: `WorkflowType = 'alertDelivery'` })) deliveries.push(w.workflowId);
    expect(deliveries).toEqual([]);
  }, 120_000);
});

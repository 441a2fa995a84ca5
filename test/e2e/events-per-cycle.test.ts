/**
 * What a monitoring cycle costs in history events (issue #13 item 1: at most
 * 12 for an ordinary cycle, goal 8), read from a real monitor's history on the
 * real dev server: a worker over a paper world, the monitor cycling every
 * second through ordinary cycles, a cycle that raises an alert (one oracle
 * source stops answering) and the cycle that starts an intervention (a 17 %
 * drawdown). Each cycle is matched to its record in the store by its number.
 * The alert reaches its sink through the alert outbox, with no workflow of its
 * own per alerting cycle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import { createWorker, paperDeps } from '../../src/runtime/worker.ts';
import type { DevServer } from '../../src/temporal/server.ts';
import { alertOutboxWorkflowId, monitorWorkflowId, type CycleRecord } from '../../src/workflows/contract.ts';
import type { OracleSource } from '../../src/ports.ts';
import { startReceiver, type Receiver } from '../alerts/receiver.ts';
import { cyclesOfHistory } from '../support/history-cycles.ts';
import { ephemeralDevServer, waitFor } from './fixtures/e2e.ts';

const TREASURY = 'events';

describe('history events per monitoring cycle on the dev server', () => {
  let server: DevServer;
  let world: PaperWorld;
  let worker: Worker;
  let running: Promise<void>;
  let receiver: Receiver;
  let dir: string;
  let failing = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pstr-events-'));
    [server, receiver] = await Promise.all([ephemeralDevServer(dir), startReceiver()]);
  }, 60_000);

  afterAll(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await world?.store.close();
    await receiver?.close();
    await server?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('costs 8 events for an ordinary cycle and at most 12 for an alerting one, with no child workflow per alert', async () => {
    const config = parseConfig({
      treasuryId: TREASURY,
      monitor: { cycleIntervalSeconds: 1 },
      intervention: { operators: ['alice'], timelockMinutes: 60 },
      treasury: { initial: { pump: '40000000', usdc: '700000' } },
      liquidity: { enabled: false },
      paper: { drawdown: { startInSeconds: 14, depth: 0.17, rampSeconds: 1 } },
      alerts: { dedupeWindowSeconds: 0, sinks: [{ type: 'webhook', name: 'ops', url: `${receiver.base}/hook` }] },
    });
    world = await buildPaperWorld(config, { dataDir: dir });
    const deps = paperDeps(config, world, server.env.client, pino({ level: 'silent' }));
    // The first source stops answering while `failing` is set: the cycle that sees it raises an oracle-source-failing alert.
    const [first, ...rest] = deps.sources;
    const flaky: OracleSource = { name: first?.name ?? 'pyth', read: () => (failing ? Promise.reject(new Error('unavailable (HTTP 503)')) : (first as OracleSource).read()) };
    worker = await createWorker({ connection: server.env.nativeConnection, namespace: 'default', deps: { ...deps, sources: [flaky, ...rest] } });
    running = worker.run();
    const client = server.env.client;
    await ensureMonitor(client, config);

    const records = async (): Promise<CycleRecord[]> => (await world.store.monitoringLogs(TREASURY, 0, Number.MAX_SAFE_INTEGER)).map((r) => r.data as CycleRecord);
    await waitFor('four ordinary cycles', async () => (await records()).length >= 4, { timeoutMs: 60_000 });
    failing = true;
    await waitFor('a cycle with the failing source alerted', async () => (await records()).some((r) => r.alerts.some((a) => a.kind === 'oracle-source-failing')), { timeoutMs: 60_000 });
    failing = false;
    await waitFor('the alert at the sink', () => receiver.requests.length > 0, { timeoutMs: 60_000 });
    await waitFor('the cycle that starts an intervention', async () => (await records()).some((r) => r.summary.startedIntervention !== null), { timeoutMs: 90_000 });
    const all = await records();
    // Two cycles after it, so the intervention's cycle has a successor to end it.
    await waitFor('two more cycles', async () => (await records()).length >= all.length + 2, { timeoutMs: 60_000 });

    const history = await client.workflow.getHandle(monitorWorkflowId(TREASURY)).fetchHistory();
    const cycles = cyclesOfHistory(history.events ?? []);
    const byNumber = new Map((await records()).map((r) => [Number(r.summary.cycleId.split('/').pop()), r]));
    const costs = cycles.slice(0, -1).map((c, i) => ({ ...c, record: byNumber.get(i + 1) }));
    // Cycle 1 carries the run's start (patch markers, the store's safety state and configuration loads).
    const steady = costs.slice(1);
    const ordinary = steady.filter((c) => c.record && c.record.alerts.length === 0 && c.record.summary.startedIntervention === null);
    const alerting = steady.filter((c) => c.record?.alerts.some((a) => a.kind === 'oracle-source-failing'));
    const starting = steady.filter((c) => c.record?.summary.startedIntervention !== null && c.record !== undefined);
    expect(ordinary.length).toBeGreaterThanOrEqual(3);
    expect(alerting.length).toBe(1);
    expect(starting.length).toBe(1);
    for (const c of ordinary) expect(c.events, c.types.join(' ')).toBe(8);
    for (const c of alerting) expect(c.events, c.types.join(' ')).toBeLessThanOrEqual(12);
    // Starting an intervention is the child start (initiated, started) and the task that sees it started.
    for (const c of starting) expect(c.events, c.types.join(' ')).toBeLessThanOrEqual(16);
    console.log(`events per cycle: ordinary ${ordinary.map((c) => c.events).join(',')}; alerting ${alerting[0]?.events}; starting an intervention ${starting[0]?.events} (${starting[0]?.types.join(' ')})`);

    // No alert child workflow: the monitor's history starts only the intervention, and one outbox delivered the alert.
    const children = (history.events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
    expect(children.map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name)).toEqual(['intervention']);
    const outbox = await client.workflow.getHandle(alertOutboxWorkflowId(TREASURY)).describe();
    expect(outbox.status.name).toBe('RUNNING');
    const row = (await world.store.alerts(TREASURY)).find((a) => a.kind === 'oracle-source-failing');
    expect(row?.delivered).toBe(true);
  }, 300_000);
});

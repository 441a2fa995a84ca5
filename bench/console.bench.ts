/**
 * The console's status endpoint (issue #11): latency of
 * GET /api/treasuries/<id>/status (three monitor queries and a store read)
 * beside GET /api/treasuries (no I/O: the server and HTTP alone), both on
 * the same console, dev server and paper world in this run; medians and p95
 * of sequential requests after a warm-up, and their ratio.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig } from '../src/config.ts';
import { startConsole } from '../src/console/server.ts';
import { ensureMonitor } from '../src/runtime/ensure.ts';
import { buildPaperWorld } from '../src/runtime/paper-world.ts';
import { createWorker, paperDeps } from '../src/runtime/worker.ts';
import { monitorWorkflowId, statusQuery } from '../src/workflows/contract.ts';
import { ephemeralDevServer } from '../test/e2e/fixtures/e2e.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const T = 'pstr-bench';

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] as number;
}

async function timed(url: string): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(url);
  await r.arrayBuffer();
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pstr-bench-console-'));
  const config = parseConfig({ treasuryId: T, monitor: { cycleIntervalSeconds: 5 }, liquidity: { enabled: false } });
  const server = await ephemeralDevServer(dir);
  const world = await buildPaperWorld(config, { dataDir: dir });
  const worker = await createWorker({ connection: server.env.nativeConnection, namespace: 'default', deps: paperDeps(config, world, server.env.client, pino({ level: 'silent' })) });
  const running = worker.run();
  const web = await startConsole({ client: server.env.client, treasuries: [T], store: world.store, host: '127.0.0.1', port: 0 });
  try {
    await ensureMonitor(server.env.client, config);
    const monitor = server.env.client.workflow.getHandle(monitorWorkflowId(T));
    for (;;) {
      const s = await monitor.query(statusQuery).catch(() => null);
      if (s?.lastCycle) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const status = `${web.url}api/treasuries/${T}/status`;
    const trivial = `${web.url}api/treasuries`;
    for (let i = 0; i < 20; i++) {
      await timed(status);
      await timed(trivial);
    }
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      b.push(await timed(trivial));
      a.push(await timed(status));
    }
    const [p50, p95, t50, t95] = [percentile(a, 0.5), percentile(a, 0.95), percentile(b, 0.5), percentile(b, 0.95)];
    console.log(`Console status endpoint (${REQUESTS} sequential requests): p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms · /api/treasuries p50 ${t50.toFixed(1)} ms, p95 ${t95.toFixed(1)} ms · ratio ${(p50 / t50).toFixed(1)}× at the median`);
  } finally {
    await web.close();
    worker.shutdown();
    await running.catch(() => undefined);
    await world.store.close();
    await server.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);

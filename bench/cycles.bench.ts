/**
 * npm run bench:cycles — what one monitoring cycle costs on Temporal, and how
 * many treasuries one worker keeps on cadence.
 *
 * On the embedded dev server (in memory) with one in-process worker:
 *  (a) history events per cycle: one monitor, 1 s interval, ~20 cycles;
 *  (b) cycle latency p50/p99 of that monitor, from history event times;
 *  (c) N monitors at a 2 s interval, N = 1, 2, 4, … until p99 exceeds the interval.
 *
 * Cycle latency is read from each monitor's history:
 *  - due → done: from the moment the cycle was due (the TimerFired event of
 *    the previous wait; the workflow start for the first cycle) to its
 *    record written (recordCycle's local-activity marker). Includes every queue on the way
 *    (workflow task dispatch, activity dispatch), so it is the cadence criterion:
 *    a cycle that takes longer than the interval makes the next one late.
 *  - work: from its observation (the workflow task that runs its local
 *    activities; before them, observeMarket's ActivityTaskScheduled) to the
 *    record written (the task's completion; before, recordCycle's
 *    ActivityTaskCompleted).
 *
 * The N monitors share ONE paper world (one store, one ledger, one market):
 * a worker's activities are built for one set of dependencies. Each treasury
 * id gets its own 30 days of seeded price history in the shared store, so each
 * cycle does the full work (3 oracle reads, balances, the 30-day VWAP over
 * ~8,640 samples, read as two prefix rows since issue #13 item 2, the cycle
 * log and snapshot). No drawdown is simulated,
 * so no intervention starts: this measures the monitoring loop alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import pino from 'pino';
import { parseConfig, type Config } from '../src/config.ts';
import { seedPriceHistory } from '../src/paper/history.ts';
import { ensureMonitor } from '../src/runtime/ensure.ts';
import { buildPaperWorld } from '../src/runtime/paper-world.ts';
import { createWorker, paperDeps } from '../src/runtime/worker.ts';
import { monitorWorkflowId, statusQuery } from '../src/workflows/contract.ts';
import { MAX_CYCLES_PER_RUN } from '../src/workflows/monitor.ts';
import { timedCycles as cyclesOf } from '../test/support/history-cycles.ts';
import { mapLimited, monitorHistory, pct, sleep } from './fleet-support.ts';
import { ephemeralDevServer } from '../test/e2e/fixtures/e2e.ts';

const SCALE_INTERVAL_S = 2;
const SCALE_LEVELS = [1, 2, 4, 8, 16, 32, 64, 128];
const WARMUP_MS = 4_000;
const WINDOW_MS = 16_000;
/** Stop raising N once the bench has run this long, whatever p99 says. */
const BUDGET_MS = 4.5 * 60_000;


type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Long, number or string to a number (event ids and seconds arrive as Long). */
const num = (x: unknown): number => (typeof x === 'number' ? x : Number(String(x)));
const timeOf = (e: HistoryEvent): number => num(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;

/** Per activity type: queue wait (scheduled → started) and run time (started → completed), in ms. */
function activityTimes(events: HistoryEvent[]): Map<string, { wait: number[]; run: number[] }> {
  const byId = new Map<number, { type: string; scheduledAt: number; startedAt: number | null }>();
  const out = new Map<string, { wait: number[]; run: number[] }>();
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) byId.set(num(e.eventId), { type: s.activityType?.name ?? '', scheduledAt: timeOf(e), startedAt: null });
    const st = e.activityTaskStartedEventAttributes;
    const a = st ? byId.get(num(st.scheduledEventId)) : undefined;
    if (a) a.startedAt = timeOf(e);
    const c = e.activityTaskCompletedEventAttributes;
    const done = c ? byId.get(num(c.scheduledEventId)) : undefined;
    if (done && done.startedAt !== null) {
      const t = out.get(done.type) ?? { wait: [], run: [] };
      t.wait.push(done.startedAt - done.scheduledAt);
      t.run.push(timeOf(e) - done.startedAt);
      out.set(done.type, t);
    }
  }
  return out;
}

const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '—');
const ratio = (x: number, base: number) => (Number.isFinite(x) && base > 0 ? `${(x / base).toFixed(2)}×` : '—');
function benchConfig(treasuryId: string, cycleIntervalSeconds: number): Config {
  return parseConfig({
    treasuryId, mode: 'paper', monitor: { cycleIntervalSeconds },
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
  });
}

async function main(): Promise<void> {
  const began = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'pstr-bench-cycles-'));
  console.log(`bench:cycles — ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, Node ${process.version}; dev server, worker and bench share this machine`);
  const server = await ephemeralDevServer(dir);
  const client = server.env.client;
  const base = benchConfig('bench-a', 1);
  const world = await buildPaperWorld(base, { dataDir: dir });
  const worker = await createWorker({
    connection: server.env.nativeConnection, namespace: 'default',
    deps: paperDeps(base, world, client, pino({ level: 'silent' })),
  });
  /** Every monitor this bench started, terminated at the end. */
  const started: string[] = [];
  const seed = (treasuryId: string) => seedPriceHistory(world.store, { treasuryId, market: world.market, nowMs: Date.now(), days: 30 });

  try {
    await worker.runUntil(async () => {
      /* (a) and (b): one monitor, 1 s interval, ~20 cycles. */
      const CYCLES = 20;
      await ensureMonitor(client, base);
      started.push(base.treasuryId);
      const handle = client.workflow.getHandle(monitorWorkflowId(base.treasuryId));
      for (;;) {
        const s = await handle.query(statusQuery);
        if (s.cycles >= CYCLES + 1) break;
        await sleep(250);
      }
      const events = await monitorHistory(client, base.treasuryId);
      const all = cyclesOf(events);
      const done = all.filter((c) => c.doneAt !== null).slice(0, CYCLES + 1);
      // Marginal events per cycle: between the first and the (CYCLES+1)th cycle's observeMarket, so start-up overhead is left out.
      const first = done[0];
      const last = done[CYCLES];
      const perCycle = first && last ? (last.index - first.index) / CYCLES : Number.NaN;
      const measured = done.slice(0, CYCLES);
      const dueToDone = measured.map((c) => (c.doneAt as number) - c.dueAt);
      const work = measured.map((c) => (c.doneAt as number) - c.startedAt);
      console.log('\n(a) history events per monitoring cycle (1 monitor, 1 s interval)');
      console.log(`    ${events.length} events after ${all.length} cycles begun (${(events.length / all.length).toFixed(1)} per cycle overall, start-up included)`);
      console.log(`    ${perCycle.toFixed(1)} events per cycle at steady state (cycles 1–${CYCLES + 1})`);
      console.log(`    → the monitor continues as new when the server suggests it (4,096 events ≈ cycle ${Math.floor(4096 / perCycle)}), at most every ${MAX_CYCLES_PER_RUN} cycles (≈ ${Math.round(perCycle * MAX_CYCLES_PER_RUN)} events; hard limit 51,200)`);
      console.log(`\n(b) cycle latency over ${measured.length} cycles (1 monitor, 1 s interval)`);
      console.log(`    due → recordCycle done: p50 ${ms(pct(dueToDone, 0.5))}  p99 ${ms(pct(dueToDone, 0.99))}  max ${ms(Math.max(...dueToDone))}`);
      console.log(`    observation → record written: p50 ${ms(pct(work, 0.5))}  p99 ${ms(pct(work, 0.99))}`);
      for (const [type, t] of activityTimes(events)) {
        console.log(`    ${type.padEnd(14)} queue p50 ${ms(pct(t.wait, 0.5)).padStart(6)}, run p50 ${ms(pct(t.run, 0.5)).padStart(6)} p99 ${ms(pct(t.run, 0.99)).padStart(6)}`);
      }
      await handle.terminate('bench (a)/(b) done');

      /* (c): N monitors at SCALE_INTERVAL_S, raised until p99 exceeds the interval. */
      console.log(`\n(c) treasuries per worker at a ${SCALE_INTERVAL_S} s cadence (shared paper world; ${WINDOW_MS / 1000} s window after ${WARMUP_MS / 1000} s warm-up per step)`);
      const rows: { n: number; cycles: number; p50: number; p99: number; max: number; workP99: number; rate: number; late: number }[] = [];
      const running: string[] = [];
      for (const n of SCALE_LEVELS) {
        if (Date.now() - began > BUDGET_MS) {
          console.log(`    (time budget reached before N = ${n})`);
          break;
        }
        while (running.length < n) {
          const id = `bench-${running.length + 1}`;
          await seed(id);
          await ensureMonitor(client, benchConfig(id, SCALE_INTERVAL_S));
          running.push(id);
          started.push(id);
        }
        const t0 = Date.now() + WARMUP_MS;
        const t1 = t0 + WINDOW_MS;
        await sleep(t1 - Date.now() + SCALE_INTERVAL_S * 1000);
        const fetchedAt = Date.now();
        const histories = await mapLimited(running, 16, (id) => monitorHistory(client, id));
        const cycles = histories.flatMap(cyclesOf).filter((c) => c.dueAt >= t0 && c.dueAt < t1);
        // A cycle still running when the history was read counts with a lower bound on its latency.
        const lat = cycles.map((c) => (c.doneAt ?? fetchedAt) - c.dueAt);
        const workLat = cycles.filter((c) => c.doneAt !== null).map((c) => (c.doneAt as number) - c.startedAt);
        const row = {
          n, cycles: cycles.length, p50: pct(lat, 0.5), p99: pct(lat, 0.99), max: Math.max(...lat), workP99: pct(workLat, 0.99),
          rate: cycles.length / (WINDOW_MS / 1000), late: lat.filter((x) => x > SCALE_INTERVAL_S * 1000).length,
        };
        rows.push(row);
        console.log(`    N = ${String(n).padStart(3)}: ${cycles.length} cycles, p50 ${ms(row.p50)}, p99 ${ms(row.p99)}`);
        if (row.p99 > SCALE_INTERVAL_S * 1000) break;
      }

      const b = rows[0];
      const header = ['N', 'cycles', 'cycles/s (target)', 'p50 due→done', 'p99 due→done', 'max', 'p99 work', 'late (> interval)', 'p50 vs N=1', 'p99 vs N=1'];
      const table = rows.map((r) => [
        String(r.n), String(r.cycles), `${r.rate.toFixed(1)} (${(r.n / SCALE_INTERVAL_S).toFixed(1)})`, ms(r.p50), ms(r.p99), ms(r.max), ms(r.workP99),
        String(r.late), ratio(r.p50, b?.p50 ?? Number.NaN), ratio(r.p99, b?.p99 ?? Number.NaN),
      ]);
      const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? '').length)));
      const line = (cells: string[]) => `    ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ')}`;
      console.log('');
      console.log(line(header));
      for (const r of table) console.log(line(r));
      const kept = rows.filter((r) => r.p99 <= SCALE_INTERVAL_S * 1000).at(-1);
      const broke = rows.find((r) => r.p99 > SCALE_INTERVAL_S * 1000);
      console.log(`\n    one worker keeps a ${SCALE_INTERVAL_S} s cadence (p99 ≤ interval) for up to ${kept?.n ?? 0} treasuries${broke ? `; at N = ${broke.n} p99 is ${ms(broke.p99)}` : ' (the largest N tried)'}`);
    });
  } finally {
    // Terminated once the worker is stopped, so it does not log completions of tasks that vanished.
    await Promise.all(started.map((id) => client.workflow.getHandle(monitorWorkflowId(id)).terminate('bench done').catch(() => undefined)));
    await world.store.close();
    await server.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nbench:cycles took ${((Date.now() - began) / 1000).toFixed(0)} s`);
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});

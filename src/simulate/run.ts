/**
 * `simulate`: the real worker, the real workflows and the real activities on
 * the Java time-skipping test server, over a paper world whose market is a
 * price file (csv-market.ts, world.ts).
 *
 * How time runs. The server's clock is set ahead of the file's by a whole
 * number of days (file time = server time − offset), so hours and days line
 * up. The monitor is started at the first row's time and cycles at its
 * configured interval, as the backtest's monitor does: rows finer than that
 * are the market between its observations; a file coarser than it has one
 * cycle per row (`monitor.cycleIntervalSeconds` = the rows' interval).
 * cadence.ts refuses uneven files. The Java test server has no Schedules (creating one fails:
 * checked here), so the simulator does what the Schedules would: at every
 * whole hour of the file it starts `accumulationJob`, and at every whole UTC
 * day `liquidityRebalanceJob` (when liquidity is enabled), each under the id
 * a Schedule gives its runs (`accumulation/<treasury>/run-<time>`). A job
 * starts just after the monitor's cycle of that hour's row has been recorded
 * (and, when the cycle started an intervention, after its sizing): live, the
 * schedule's phase against the monitor's is arbitrary; this one is the
 * backtest's (the hour's buy after the cycle), so the two size an
 * intervention on the same balance. Between those moments the client sleeps
 * on the server (env.sleep), which skips through the monitor's and the
 * interventions' timers as fast as the worker handles them. The report, risk,
 * watchdog and reconcile schedules are not driven: they record figures but
 * move nothing the document reports.
 *
 * A Schedule created just before the first row fires at every whole hour
 * from it, so a file starting at 00:00 gets a buy at its first row, as the
 * backtest does; a file starting at 00:20 gets its first at 01:00 (the
 * backtest buys at its first row whatever the minute).
 *
 * The end: once the monitor has recorded the cycle that read the last row,
 * nothing more is simulated. Interventions still running are reported as the
 * backtest reports them (a running one as expired, "the price data ended
 * before the intervention finished"; one tracking its ROI as executed, the
 * horizons not reached as null). The monitor and every intervention are then
 * terminated, the worker stopped, and the server (when this run started it)
 * torn down.
 *
 * Speed (measured on this 2-core machine): 30 days of 5-minute rows (8,640
 * cycles, 720 hourly buys) take about 15 minutes, against the issue's 60 s.
 * A cycle is three activities and a timer; each activity costs about 10 ms of
 * Temporal round trips (workflow task, activity task, back) against 1–6 ms of
 * our own work, so a cycle starts at ~35 ms; and the Java test server gets
 * slower as a run goes on (its CPU per simulated day rose 2.7× over 12 days
 * while the worker's stayed flat: it keeps every clock lock and unlock in a
 * list that never shrinks, SelfAdvancingTimerImpl.lockEvents), so cycles cost
 * ~120 ms by the month's end. Worker options were measured and change nothing
 * (two pollers each and a larger cache, debugMode: within noise of the SDK
 * defaults), so the defaults are kept; shorter monitor runs (continue-as-new more often) do not help either.
 * What would: fewer server round trips per cycle, i.e. workflow changes
 * (local activities for the cycle's store writes), which are not this
 * module's to make. Start-up is ~1 s once the workflow bundle is cached
 * (bundle.ts).
 */
import { Client, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, makeTelemetryFilterString, type LogEntry } from '@temporalio/worker';
import type { BacktestResult, PriceRow } from '../backtest/types.ts';
import type { Config } from '../config.ts';
import { HOUR_MS } from '../domain/intervention.ts';
import { DAY_MS } from '../domain/vwap.ts';
import { scheduleInput } from '../runtime/ensure.ts';
import { startTimeSkippingServer } from '../temporal/server.ts';
import { monitorWorkflowId, scheduleId, type CycleRecord, type ScheduledJob, type StepRecord } from '../workflows/contract.ts';
import { cachedWorkflowBundle } from './bundle.ts';
import { rowInterval } from './cadence.ts';
import { CsvMarket } from './csv-market.ts';
import { ClockLeaks } from './clock-leaks.ts';
import { buildDocument } from './document.ts';
import { gatherFacts, type SimulationFacts } from './facts.ts';
import { ScriptedOperator, scriptedOperators } from './operator.ts';
import { buildSimWorld, simulationConfig, type SimWorld } from './world.ts';

export interface SimulationProgress {
  /** File time reached. */
  fileTime: number;
  /** Share of the file simulated, 0..1. */
  share: number;
}

export interface SimulateOptions {
  rows: readonly PriceRow[];
  /** The price file's name, for error messages. */
  file: string;
  config: Config;
  /** A time-skipping environment to run on; default: a fresh Java test server, torn down at the end. */
  env?: TestWorkflowEnvironment;
  onProgress?: (p: SimulationProgress) => void;
  /** Cycles per monitor run before it continues as new (default: the monitor's own, 150); tests use a few. */
  cyclesPerRun?: number;
}

export interface Simulation {
  result: BacktestResult;
  /** Each intervention's step records from its workflow state, in start order (the differential test prints where runs part). */
  interventionSteps: (readonly StepRecord[])[];
  /** What the reader of the document should know (refused approvals, rows a late cycle skipped). */
  notes: string[];
  stats: {
    cycles: number;
    /** Wall time: starting the server and the worker (bundle included), simulating, reading back. */
    setupMs: number;
    runMs: number;
    collectMs: number;
    /** The latest a cycle started after its row's time, on the server. */
    maxCycleLagMs: number;
    /** Clock locks the test server leaked (a child closing after its parent) and the simulation released (clock-leaks.ts). */
    clockLocksReleased: number;
  };
}

let simulations = 0;

export async function simulate(opts: SimulateOptions): Promise<Simulation> {
  const t0 = performance.now();
  // The backtest's cadence (engine.ts cycleEvery): the configured interval, or the rows' when they are coarser.
  const interval = Math.max(rowInterval(opts.rows, opts.file), opts.config.monitor.cycleIntervalSeconds * 1000);
  quietRuntime();
  const ownEnv = opts.env === undefined;
  const env = opts.env ?? (await startTimeSkippingServer());
  // Activities and the operator talk through a plain client: only env.sleep may skip time.
  const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  simulations += 1;
  // On a shared server, workflow ids must not meet an earlier simulation's (interventions refuse a duplicate id).
  const treasuryId = ownEnv ? opts.config.treasuryId : `${opts.config.treasuryId}-sim${process.pid}-${simulations}`;
  const scripted = scriptedOperators({ ...opts.config, treasuryId });
  const config = simulationConfig(scripted.config, interval / 1000);
  const parts = { env, client, config, operator: new ScriptedOperator(client, config, scripted.seeds), leaks: new ClockLeaks(env, client) };
  let world: SimWorld | null = null;
  try {
    const market = CsvMarket.forConfig(opts.rows, await offsetFor(env, opts.rows), config);
    world = await buildSimWorld({ config, market, client, operator: parts.operator, leaks: parts.leaks });
    const out = await runOnWorker({ ...parts, market, world, opts, t0 });
    const lag = maxCycleLag(out.facts.cycles.map((c) => c.summary.at), market, interval);
    return {
      result: buildDocument(out.facts, market, config),
      interventionSteps: out.facts.interventions.map((i) => i.state?.steps ?? []),
      notes: [...notesOf(parts.operator, lag, interval), ...parts.leaks.problems.map((p) => `test server clock watch: ${p}`)],
      stats: { ...out.stats, cycles: out.facts.cycles.length, maxCycleLagMs: lag, clockLocksReleased: parts.leaks.released },
    };
  } finally {
    await world?.close();
    if (ownEnv) await env.teardown();
  }
}

/** One worker on its own task queue: drives the file through it, then reads back what it recorded and ends what still runs. */
async function runOnWorker(p: {
  env: TestWorkflowEnvironment; client: Client; config: Config; leaks: ClockLeaks; market: CsvMarket; world: SimWorld; opts: SimulateOptions; t0: number;
}): Promise<{ facts: SimulationFacts; stats: Pick<Simulation['stats'], 'setupMs' | 'runMs' | 'collectMs'> }> {
  const taskQueue = `pstr-simulate-${process.pid}-${simulations}`;
  const worker = await Worker.create({
    connection: p.env.nativeConnection, namespace: p.env.namespace ?? 'default', taskQueue, workflowBundle: await cachedWorkflowBundle(), activities: p.world.activities,
  });
  const setupMs = performance.now() - p.t0;
  return worker.runUntil(async () => {
    const started = performance.now();
    await drive({ ...p, taskQueue, onProgress: p.opts.onProgress, cyclesPerRun: p.opts.cyclesPerRun });
    const collectStarted = performance.now();
    await p.leaks.settle();
    const facts = await gatherFacts(p.world.store, p.world.ledger, p.client, p.config.treasuryId);
    await terminateAll(p.client, p.config.treasuryId, facts.interventions.map((i) => i.row.id));
    return { facts, stats: { setupMs, runMs: collectStarted - started, collectMs: performance.now() - collectStarted } };
  });
}

/**
 * Server time − file time: the first whole number of days that puts the first row a minute or more
 * ahead of the server's clock (the server's clock cannot go back), so hours and UTC days line up.
 */
async function offsetFor(env: TestWorkflowEnvironment, rows: readonly PriceRow[]): Promise<number> {
  const first = (rows[0] as PriceRow).timestamp;
  const now = await env.currentTimeMs();
  return Math.ceil((now + 60_000 - first) / DAY_MS) * DAY_MS;
}

interface DriveContext {
  env: TestWorkflowEnvironment;
  client: Client;
  market: CsvMarket;
  config: Config;
  taskQueue: string;
  world: SimWorld;
  onProgress: ((p: SimulationProgress) => void) | undefined;
  cyclesPerRun: number | undefined;
}

/**
 * Starts the monitor at the first row, then each scheduled job right after the monitor's cycle of the row at its
 * time (and after the sizing of an intervention that cycle started): the hour's buy comes after the cycle, as the
 * backtest orders them. Runs until the last row's cycle is recorded.
 */
async function drive(ctx: DriveContext): Promise<void> {
  const { env, client, market, config, taskQueue } = ctx;
  const first = (market.rows[0] as PriceRow).timestamp;
  const last = (market.rows.at(-1) as PriceRow).timestamp;
  await sleepUntil(env, market.serverTime(first));
  await client.workflow.start('strategyMonitor', { taskQueue, workflowId: monitorWorkflowId(config.treasuryId), args: [{ config, ...(ctx.cyclesPerRun ? { cyclesPerRun: ctx.cyclesPerRun } : {}) }] });
  let lag = 0;
  let started: WorkflowHandle[] = [];
  for (const [fileTime, runs] of scheduledRuns(first, last, config)) {
    lag = await afterCycleOf(ctx, market.serverTime(fileTime), lag);
    started = [];
    for (const run of runs) {
      const at = market.serverTime(run.fileTime);
      started.push(await client.workflow.start(run.workflowType, {
        taskQueue, workflowId: `${scheduleId(config.treasuryId, run.job)}/run-${new Date(at).toISOString().slice(0, 19)}Z`, args: [scheduleInput(config)],
      }));
    }
    ctx.onProgress?.({ fileTime, share: (fileTime - first) / Math.max(1, last - first) });
  }
  await afterCycleOf(ctx, market.serverTime(last), lag);
  // The last hour's jobs may still be running: their buy belongs to the file (a plain client waits without skipping time).
  await Promise.all(started.map((h) => h.result()));
  ctx.onProgress?.({ fileTime: last, share: 1 });
}

interface ScheduledRun {
  fileTime: number;
  job: ScheduledJob;
  workflowType: string;
}

/** Every whole hour of the file (accumulation) and every whole UTC day (liquidity rebalance), grouped by time, in time order. */
export function scheduledRuns(first: number, last: number, config: Config): Map<number, ScheduledRun[]> {
  const runs = new Map<number, ScheduledRun[]>();
  for (let t = Math.ceil(first / HOUR_MS) * HOUR_MS; t <= last; t += HOUR_MS) {
    const at: ScheduledRun[] = [{ fileTime: t, job: 'accumulation', workflowType: 'accumulationJob' }];
    if (config.liquidity.enabled && t % DAY_MS === 0) at.push({ fileTime: t, job: 'liquidity-rebalance', workflowType: 'liquidityRebalanceJob' });
    runs.set(t, at);
  }
  return runs;
}

async function sleepUntil(env: TestWorkflowEnvironment, serverMs: number): Promise<void> {
  const now = await env.currentTimeMs();
  if (serverMs > now) await watchedSleep(env, serverMs - now);
}

/** How long (wall time) the server's clock may run no faster than a wall clock before a sleep on it counts as stuck. */
const STALL_WINDOW_MS = 20_000;

/**
 * env.sleep, failing loudly instead of hanging when the server's clock has stopped skipping (it then runs at wall
 * speed: a lock the server leaked and clock-leaks.ts did not release). A healthy sleep skips hours in milliseconds.
 */
async function watchedSleep(env: TestWorkflowEnvironment, ms: number): Promise<void> {
  const woke = env.sleep(ms).then(() => true as const);
  for (;;) {
    const before = await env.currentTimeMs();
    let timer: NodeJS.Timeout | undefined;
    const window = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), STALL_WINDOW_MS);
    });
    const awake = await Promise.race([woke, window]).finally(() => clearTimeout(timer));
    if (awake) return;
    const advanced = (await env.currentTimeMs()) - before;
    if (advanced < 2 * STALL_WINDOW_MS) {
      woke.catch(() => undefined);
      throw new Error(`the test server's clock stopped skipping (it ran ${(advanced / 1000).toFixed(1)} s in ${STALL_WINDOW_MS / 1000} s of wall time): `
        + 'a lock the Java test server leaked; the simulation cannot go on');
    }
  }
}

/** Virtual time a poll for a cycle skips at once: a cycle starts a few ms later each cycle, so a lag grows slowly. */
const CYCLE_POLL_MS = 250;

/**
 * Skips time until the monitor has recorded its cycle of the row at `rowServerMs`, and, when that cycle started an
 * intervention, until the intervention has sized (or ended). Starts by skipping to the row's time plus the last
 * cycle's lag, then in short steps. Returns this cycle's lag (its start − the row's time).
 */
async function afterCycleOf(ctx: DriveContext, rowServerMs: number, lastLag: number): Promise<number> {
  const { env, store } = { env: ctx.env, store: ctx.world.store };
  const treasuryId = ctx.config.treasuryId;
  await sleepUntil(env, rowServerMs + lastLag);
  // A cycle starts late by its lag, well under one interval; give it two intervals before calling the monitor stuck.
  for (let waited = 0; waited <= 2 * ctx.config.monitor.cycleIntervalSeconds * 1000; waited += CYCLE_POLL_MS) {
    const logs = await store.monitoringLogs(treasuryId, rowServerMs, Number.MAX_SAFE_INTEGER);
    const cycle = logs.find((l) => l.cycleId.startsWith(`${treasuryId}/`))?.data as CycleRecord | undefined;
    if (cycle) {
      if (cycle.summary.startedIntervention) await untilSized(ctx, cycle.summary.startedIntervention);
      return cycle.summary.at - rowServerMs;
    }
    await watchedSleep(env, CYCLE_POLL_MS);
  }
  throw new Error(`the monitor recorded no cycle for the row at ${new Date(ctx.market.fileTime(rowServerMs)).toISOString()}: ${await monitorStatus(ctx)}`);
}

/** Waits in wall time (the server's clock is not skipped meanwhile) until an intervention has recorded its size step or ended. */
async function untilSized(ctx: DriveContext, interventionId: string): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    const row = await ctx.world.store.intervention(interventionId);
    if (row && (row.status !== 'running' || (await ctx.world.store.interventionSteps(interventionId)).some((s) => s.step === 'size'))) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${interventionId} neither sized nor ended within 30 s (wall time) of its start`);
}

async function monitorStatus(ctx: DriveContext): Promise<string> {
  try {
    const d = await ctx.client.workflow.getHandle(monitorWorkflowId(ctx.config.treasuryId)).describe();
    return `monitor ${d.status.name}`;
  } catch (err) {
    return `monitor not found (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** Ends what the simulation left running, so nothing holds a shared server's clock afterwards. */
async function terminateAll(client: Client, treasuryId: string, interventionIds: readonly string[]): Promise<void> {
  for (const id of [monitorWorkflowId(treasuryId), ...interventionIds]) {
    try {
      const handle = client.workflow.getHandle(id);
      if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('the simulation reached the end of its price file');
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
}

/** The latest a monitor cycle started after the row it was meant for (cycle i ↔ row i). */
function maxCycleLag(cycleTimes: readonly number[], market: CsvMarket, interval: number): number {
  let lag = 0;
  const first = market.serverTime((market.rows[0] as PriceRow).timestamp);
  cycleTimes.forEach((t, i) => {
    lag = Math.max(lag, t - (first + i * interval));
  });
  return lag;
}

function notesOf(operator: ScriptedOperator, maxLagMs: number, interval: number): string[] {
  const notes = operator.refusals.map((r) => `scripted operator: ${r}`);
  if (maxLagMs >= interval) {
    notes.push(`cycles started up to ${(maxLagMs / 1000).toFixed(1)} s after their row on the server, more than the ${interval / 1000} s interval: some rows were read by the next cycle`);
  }
  return notes;
}

/** Known harmless: the Java test server does not advertise a heartbeat capability the worker asks about. */
const IGNORED_CORE_WARNING = 'activity_failure_include_heartbeat';

/** The SDK's and the core's logs on stderr, warnings and errors only: stdout carries the document alone. */
function quietRuntime(): void {
  const write = (entry: LogEntry) => {
    if (entry.message.includes(IGNORED_CORE_WARNING)) return;
    process.stderr.write(`[temporal ${entry.level}] ${entry.message}${entry.meta ? ` ${JSON.stringify(entry.meta)}` : ''}\n`);
  };
  try {
    Runtime.install({ logger: new DefaultLogger('WARN', write), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } } });
  } catch {
    // Installed already (a test file or an earlier simulation in this process): keep that one.
  }
}

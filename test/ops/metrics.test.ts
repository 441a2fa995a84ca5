/**
 * The metrics endpoint, scraped over HTTP after three real monitoring cycles:
 * a paper world on a real SQLite file, its oracle sources and market data,
 * the recordSample activity for the VWAP, and the monitor's own decideCycle.
 * The third cycle loses the DEX TWAP source, as a failing oracle would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor } from '@temporalio/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorActivities } from '../../src/activities/monitor.ts';
import { toWire } from '../../src/activities/wire.ts';
import { INITIAL_ALERT_STATE } from '../../src/domain/alerts.ts';
import { parseConfig } from '../../src/config.ts';
import { activityInterceptors } from '../../src/ops/activity-interceptor.ts';
import { Metrics, serveMetrics, type MetricsServer } from '../../src/ops/metrics.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import type { CycleRecord, MarketObservation } from '../../src/workflows/contract.ts';
import { consensusOf, decideCycle, type MonitorMemory } from '../../src/workflows/monitor-cycle.ts';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
/** Cycles one and two minutes into the paper market, 15 s apart, clear of the DEX TWAP's outlier minute. */
const CYCLE_TIMES = [T0 + 60_000, T0 + 75_000, T0 + 90_000];
/** How long each cycle took from its observation to its record, in ms. */
const LATENCIES_MS = [120, 340, 2_600];

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (what a scraper reads). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    const raw = m[3] as string;
    samples.push({ name: m[1] as string, labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  return samples;
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return (found[0] as Sample).value;
}

describe('the metrics endpoint after three real monitoring cycles', () => {
  const config = parseConfig({ mode: 'paper', treasuryId: 'ops-test', paper: { seedHistoryDays: 30 } });
  const treasury = config.treasuryId;
  let dir: string;
  let world: PaperWorld;
  let clock = CYCLE_TIMES[0] as number;
  const cycles: CycleRecord[] = [];
  const observations: MarketObservation[] = [];
  const metrics = new Metrics({ defaultTreasury: treasury, processMetrics: false });
  let server: MetricsServer;
  let samples: Sample[];
  let response: Response;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pstr-metrics-'));
    world = await buildPaperWorld(config, { dataDir: dir, now: T0, clock: () => clock });
    const acts = monitorActivities({
      config, store: world.store, sources: world.sources, market: world.marketData, treasury: world.ledger, liquidity: null,
      monitorStatus: () => Promise.resolve(null), workflowState: () => Promise.resolve(null), logger: pino({ level: 'silent' }),
    });
    let memory: MonitorMemory = { paused: false, emergencyStop: false, lastExecutedSwapAt: null, interventionStarts: [], inFlight: [], alertState: INITIAL_ALERT_STATE };
    for (const [i, at] of CYCLE_TIMES.entries()) {
      clock = at;
      // observeMarket's work over the paper world, at our clock; the third cycle's DEX TWAP read fails.
      const failing = i === 2 ? 'dex-twap' : null;
      const readings = await Promise.all(world.sources.filter((s) => s.name !== failing).map((s) => s.read()));
      const obs: MarketObservation = {
        at, readings, failures: failing ? [{ source: failing, error: 'oracle dex-twap timed out after 5000 ms' }] : [],
        pumpPrice: await world.marketData.pumpPrice(), solPrice: await world.marketData.solPrice(),
        volumeUsd: await world.marketData.volumeUsd(at - 15_000, at), balances: toWire(await world.ledger.balances()),
      };
      const cycleId = `${treasury}/${i + 1}`;
      const consensus = consensusOf(obs, at, config);
      expect(consensus.ok, `cycle ${i + 1} consensus`).toBe(true);
      const vwap = await acts.recordSample({
        treasuryId: treasury, cycleId, at, pstrPrice: consensus.ok ? consensus.price : 0, volumeUsd: obs.volumeUsd,
        pumpPrice: obs.pumpPrice, solPrice: obs.solPrice, consensus, vwapWindowDays: config.strategy.vwapWindowDays,
      });
      const v = decideCycle(cycleId, at, obs, consensus, vwap, memory, config);
      memory = { ...memory, emergencyStop: v.emergency.latched, alertState: v.alertState };
      const cycle: CycleRecord = {
        summary: v.summary, balances: obs.balances, consensus, decision: v.decision, emergency: v.emergency,
        alerts: v.alerts.map((a) => ({ level: a.level, kind: a.kind, message: a.message })),
      };
      cycles.push(cycle);
      observations.push(obs);
      // As the worker will: observeMarket reports its observation, recordCycle its cycle (timed at the record's clock).
      metrics.marketObserved(treasury, obs);
      metrics.observeCycle(treasury, cycle, undefined, at + (LATENCIES_MS[i] as number));
    }
    metrics.interventionEnded(treasury, 'running', `intervention/${treasury}/1`);
    metrics.interventionEnded(treasury, 'executed', `intervention/${treasury}/1`);
    metrics.interventionEnded(treasury, 'executed', `intervention/${treasury}/1`); // a retried report
    metrics.interventionEnded(treasury, 'expired', `intervention/${treasury}/2`);
    metrics.accumulated(treasury, 12.5);
    metrics.accumulated(treasury, 7.25);
    metrics.activityFailed('observeMarket');

    server = await serveMetrics(metrics, 0, '127.0.0.1');
    response = await fetch(server.url);
    samples = parseExposition(await response.text());
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await world?.store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers GET /metrics on 127.0.0.1 in the Prometheus text format', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('exports the last cycle\'s consensus price, VWAP, drawdown, reserve ratio and health, labelled by treasury', () => {
    const last = (cycles[2] as CycleRecord).summary;
    expect(last.consensusPrice).toBeGreaterThan(0);
    expect(last.vwap30).toBeGreaterThan(0);
    expect(valueOf(samples, 'pstr_consensus_price_usd', { treasury })).toBe(last.consensusPrice);
    expect(valueOf(samples, 'pstr_vwap30_usd', { treasury })).toBe(last.vwap30);
    expect(valueOf(samples, 'pstr_drawdown_ratio', { treasury })).toBe(last.drawdown);
    expect(valueOf(samples, 'pstr_reserve_ratio', { treasury })).toBe(last.reserveRatio);
    expect(valueOf(samples, 'pstr_health_score', { treasury })).toBe(last.health);
    expect(valueOf(samples, 'pstr_valid_price', { treasury })).toBe(1);
    expect(valueOf(samples, 'pstr_emergency_stop', { treasury })).toBe(0);
    expect(valueOf(samples, 'pstr_cycles_total', { treasury })).toBe(3);
  });

  it('gives each source its staleness in seconds, still ageing for the source that failed', () => {
    // Paper sources publish 2 s (pyth), 4 s (switchboard) and 6 s (dex-twap) before the read.
    expect(valueOf(samples, 'pstr_source_staleness_seconds', { treasury, source: 'pyth' })).toBe(2);
    expect(valueOf(samples, 'pstr_source_staleness_seconds', { treasury, source: 'switchboard' })).toBe(4);
    // dex-twap last published at T0+75 s − 6 s = T0+69 s; the third cycle ran at T0+90 s.
    expect(valueOf(samples, 'pstr_source_staleness_seconds', { treasury, source: 'dex-twap' })).toBe(21);
  });

  it('gives each answering source its signed deviation from the consensus, and NaN to the one that did not answer', () => {
    const last = cycles[2] as CycleRecord;
    const price = last.summary.consensusPrice as number;
    for (const source of ['pyth', 'switchboard']) {
      const reading = last.consensus.readings.find((r) => r.source === source);
      expect(reading, source).toBeDefined();
      const deviation = valueOf(samples, 'pstr_source_deviation_ratio', { treasury, source });
      expect(deviation).toBeCloseTo(((reading?.price ?? 0) - price) / price, 15);
      // Paper noise is at most ±0.2 % per source, so two sources agree within 0.4 %.
      expect(Math.abs(deviation)).toBeLessThan(0.004);
    }
    expect(valueOf(samples, 'pstr_source_deviation_ratio', { treasury, source: 'dex-twap' })).toBeNaN();
  });

  it('times each cycle from its observation to its record in the latency histogram', () => {
    expect(valueOf(samples, 'pstr_cycle_latency_seconds_count', { treasury })).toBe(3);
    expect(valueOf(samples, 'pstr_cycle_latency_seconds_sum', { treasury })).toBeCloseTo(3.06, 12);
    expect(valueOf(samples, 'pstr_cycle_latency_seconds_bucket', { treasury, le: '0.25' })).toBe(1);
    expect(valueOf(samples, 'pstr_cycle_latency_seconds_bucket', { treasury, le: '0.5' })).toBe(2);
    expect(valueOf(samples, 'pstr_cycle_latency_seconds_bucket', { treasury, le: '2.5' })).toBe(2);
    expect(valueOf(samples, 'pstr_cycle_latency_seconds_bucket', { treasury, le: '5' })).toBe(3);
  });

  it('counts interventions by status once per intervention, with the other statuses at zero', () => {
    expect(valueOf(samples, 'pstr_interventions_total', { treasury, status: 'running' })).toBe(1);
    expect(valueOf(samples, 'pstr_interventions_total', { treasury, status: 'executed' })).toBe(1);
    expect(valueOf(samples, 'pstr_interventions_total', { treasury, status: 'expired' })).toBe(1);
    for (const status of ['invalidated', 'rejected', 'aborted']) expect(valueOf(samples, 'pstr_interventions_total', { treasury, status })).toBe(0);
  });

  it('adds up accumulation spending and counts activity failures by activity', () => {
    expect(valueOf(samples, 'pstr_accumulation_spent_usd_total', { treasury })).toBe(19.75);
    expect(valueOf(samples, 'pstr_activity_failures_total', { treasury, activity: 'observeMarket' })).toBe(1);
  });

  it('answers /healthz with ok and an unknown path with 404', async () => {
    const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok\n');
    expect((await fetch(`http://127.0.0.1:${server.port}/nope`)).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
  });
});

describe('Metrics on its own', () => {
  it('exports NaN for a cycle without a valid price, and 0 for valid_price', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const cycle: CycleRecord = {
      summary: {
        cycleId: 't/1', at: 1_000_000, validPrice: false, consensusPrice: null, consensusReason: 'no valid price: 1 source(s) agreed, 2 needed',
        vwap30: null, volumeless: false, warmingUp: false, drawdown: null, reserveRatio: null, pumpConcentration: null, treasuryValueUsd: null,
        marketCapUsd: null, health: null, healthLevel: null, decision: 'no valid price', startedIntervention: null,
      },
      balances: null,
      consensus: { ok: false, reason: 'no valid price', readings: [{ source: 'pyth', price: 2, confidence: 0.01, publishTime: 995_000 }, { source: 'switchboard', price: 3, confidence: 0.01, publishTime: 990_000 }], agreeing: [], excluded: [], outliers: [] },
      decision: null,
      emergency: { latched: true, entered: false },
      alerts: [],
    };
    metrics.observeCycle('t', cycle, null, 1_000_500);
    const samples = parseExposition(await metrics.text());
    expect(valueOf(samples, 'pstr_consensus_price_usd', { treasury: 't' })).toBeNaN();
    expect(valueOf(samples, 'pstr_health_score', { treasury: 't' })).toBeNaN();
    expect(valueOf(samples, 'pstr_valid_price', { treasury: 't' })).toBe(0);
    expect(valueOf(samples, 'pstr_emergency_stop', { treasury: 't' })).toBe(1);
    // No consensus: deviation is measured against the readings' median, (2 + 3) / 2 = 2.5.
    expect(valueOf(samples, 'pstr_source_deviation_ratio', { treasury: 't', source: 'pyth' })).toBe(-0.2);
    expect(valueOf(samples, 'pstr_source_deviation_ratio', { treasury: 't', source: 'switchboard' })).toBe(0.2);
    expect(valueOf(samples, 'pstr_source_staleness_seconds', { treasury: 't', source: 'switchboard' })).toBe(10);
    expect(valueOf(samples, 'pstr_cycle_latency_seconds_sum', { treasury: 't' })).toBe(0.5);
  });

  it('keeps two Metrics in one process apart (no global registry)', async () => {
    const a = new Metrics({ processMetrics: false });
    const b = new Metrics({ processMetrics: false });
    a.accumulated('x', 5);
    expect(valueOf(parseExposition(await a.text()), 'pstr_accumulation_spent_usd_total', { treasury: 'x' })).toBe(5);
    expect(parseExposition(await b.text()).filter((s) => s.name === 'pstr_accumulation_spent_usd_total')).toEqual([]);
  });

  it('includes the Node process metrics unless asked not to', async () => {
    expect(await new Metrics().text()).toMatch(/^process_cpu_user_seconds_total /m);
    expect(await new Metrics({ processMetrics: false }).text()).not.toMatch(/process_cpu_user_seconds_total/);
  });

  it('refuses an unknown intervention status, a negative spend and a bad port, naming the value', async () => {
    const metrics = new Metrics({ processMetrics: false });
    expect(() => metrics.interventionEnded('t', 'done')).toThrow(/status = "done"/);
    expect(() => metrics.accumulated('t', -1)).toThrow(/usd = -1/);
    await expect(serveMetrics(metrics, 70_000)).rejects.toThrow(/port = 70000/);
  });

  it('reports a port already in use as an error naming host and port', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const first = await serveMetrics(metrics, 0, '127.0.0.1');
    try {
      await expect(serveMetrics(metrics, first.port, '127.0.0.1')).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${first.port}: .*EADDRINUSE`));
    } finally {
      await first.close();
    }
  });
});

describe('the activity interceptor', () => {
  const info = { activityType: 'executeSwap', attempt: 2, workflowType: 'intervention', workflowExecution: { workflowId: 'intervention/t/1', runId: 'r1' } };
  const ctx = { info } as unknown as Context;

  it('times each attempt and counts the ones that throw, under the treasury the input names', async () => {
    const metrics = new Metrics({ defaultTreasury: 'fallback', processMetrics: false });
    let now = 0;
    const inbound = activityInterceptors(metrics, { clock: () => now }).call(null, ctx).inbound as Required<ActivityInboundCallsInterceptor>;
    const input = { args: [{ treasuryId: 't', interventionId: 'intervention/t/1', slice: 0 }], headers: {} };
    await expect(inbound.execute(input, () => { now += 1500; return Promise.reject(new Error('rpc down')); })).rejects.toThrow('rpc down');
    await expect(inbound.execute(input, () => { now += 250; return Promise.resolve('ok'); })).resolves.toBe('ok');
    const samples = parseExposition(await metrics.text());
    expect(valueOf(samples, 'pstr_activity_failures_total', { treasury: 't', activity: 'executeSwap' })).toBe(1);
    expect(valueOf(samples, 'pstr_activity_duration_seconds_sum', { treasury: 't', activity: 'executeSwap', outcome: 'failed' })).toBe(1.5);
    expect(valueOf(samples, 'pstr_activity_duration_seconds_sum', { treasury: 't', activity: 'executeSwap', outcome: 'ok' })).toBe(0.25);
  });

  it('falls back to the worker\'s treasury when the input names none', async () => {
    const metrics = new Metrics({ defaultTreasury: 'fallback', processMetrics: false });
    const inbound = activityInterceptors(metrics).call(null, ctx).inbound as Required<ActivityInboundCallsInterceptor>;
    await expect(inbound.execute({ args: [], headers: {} }, () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(valueOf(parseExposition(await metrics.text()), 'pstr_activity_failures_total', { treasury: 'fallback', activity: 'executeSwap' })).toBe(1);
  });
});

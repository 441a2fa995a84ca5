/**
 * Prometheus metrics of one worker process: what each monitoring cycle saw
 * and decided, how interventions ended, what accumulation spent, how long
 * cycles and activities take and how often activities fail. Kept in our own
 * Registry (not prom-client's global one), so several workers or tests in one
 * process never collide, and served over plain HTTP on `/metrics`.
 *
 * A value the cycle could not compute (no valid price, cold VWAP) is exported
 * as NaN rather than dropped: the series stays, and a dashboard shows a gap.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { median } from '../domain/consensus.ts';
import type { CycleRecord, MarketObservation } from '../workflows/contract.ts';

/** Every way an intervention can end (plus `running`, counted when one starts). */
export const INTERVENTION_STATUSES = ['running', 'executed', 'invalidated', 'expired', 'rejected', 'aborted'] as const;

/** Seconds: a paper cycle takes milliseconds, a live one waits on RPCs and oracles for seconds. */
const LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** How old an observation may be and still belong to the cycle recorded now (one cycle interval is 15 s to minutes). */
const OBSERVATION_MATCH_MS = 10 * 60_000;

export interface MetricsOptions {
  /** The treasury this worker serves: the label when a call does not name one (activity failures). */
  defaultTreasury?: string;
  /** Node process metrics (CPU, memory, event loop lag, GC) in the same registry. Default true. */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly defaultTreasury: string;

  private readonly consensusPrice: Gauge<'treasury'>;
  private readonly validPrice: Gauge<'treasury'>;
  private readonly sourceDeviation: Gauge<'treasury' | 'source'>;
  private readonly sourceStaleness: Gauge<'treasury' | 'source'>;
  private readonly vwap30: Gauge<'treasury'>;
  private readonly drawdown: Gauge<'treasury'>;
  private readonly reserveRatio: Gauge<'treasury'>;
  private readonly health: Gauge<'treasury'>;
  private readonly emergencyStop: Gauge<'treasury'>;
  private readonly lastCycle: Gauge<'treasury'>;
  private readonly cycles: Counter<'treasury'>;
  private readonly interventions: Counter<'treasury' | 'status'>;
  private readonly accumulationSpent: Counter<'treasury'>;
  private readonly cycleLatency: Histogram<'treasury'>;
  private readonly activityDuration: Histogram<'treasury' | 'activity' | 'outcome'>;
  private readonly activityFailures: Counter<'treasury' | 'activity'>;

  /** Last publish time seen per treasury and source: a source that stops answering keeps ageing. */
  private readonly lastPublish = new Map<string, Map<string, number>>();
  /** The last market observation per treasury, for the cycle recorded after it. */
  private readonly observations = new Map<string, MarketObservation>();
  /** (intervention, status) pairs already counted: a retried activity must not count twice. */
  private readonly countedInterventions = new Set<string>();
  private readonly knownTreasuries = new Set<string>();

  constructor(opts: MetricsOptions = {}) {
    this.defaultTreasury = opts.defaultTreasury ?? 'unknown';
    const registers = [this.registry];
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Gauge<L>({ name, help, labelNames, registers });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers });

    this.consensusPrice = gauge('pstr_consensus_price_usd', 'Oracle consensus PSTR price of the last cycle (NaN: no valid price).', ['treasury']);
    this.validPrice = gauge('pstr_valid_price', '1 when the last cycle had a valid consensus price, 0 when it failed closed.', ['treasury']);
    this.sourceDeviation = gauge('pstr_source_deviation_ratio', 'Signed (source price - consensus) / consensus of each source\'s last reading; against the readings\' median when no consensus (NaN: no reading this cycle).', ['treasury', 'source']);
    this.sourceStaleness = gauge('pstr_source_staleness_seconds', 'Seconds from the source\'s latest publish time to the last cycle; grows while a source fails.', ['treasury', 'source']);
    this.vwap30 = gauge('pstr_vwap30_usd', 'Trailing 30-day VWAP at the last cycle (NaN: not available).', ['treasury']);
    this.drawdown = gauge('pstr_drawdown_ratio', 'Drawdown of the consensus price below the VWAP at the last cycle, as a fraction (NaN: not computed).', ['treasury']);
    this.reserveRatio = gauge('pstr_reserve_ratio', 'Treasury value / PSTR market cap at the last cycle (NaN: no valid price).', ['treasury']);
    this.health = gauge('pstr_health_score', 'Treasury health score at the last cycle (NaN: no valid price).', ['treasury']);
    this.emergencyStop = gauge('pstr_emergency_stop', '1 while the emergency stop is latched.', ['treasury']);
    // Liveness (issue 9): alert on `time() - pstr_last_cycle_timestamp_seconds > 3 * interval`; a stalled monitor keeps it still.
    this.lastCycle = gauge('pstr_last_cycle_timestamp_seconds', 'Unix time (s) of the last monitoring cycle recorded for the treasury: its age is the monitor\'s liveness.', ['treasury']);
    this.cycles = counter('pstr_cycles_total', 'Monitoring cycles recorded by this process.', ['treasury']);
    this.interventions = counter('pstr_interventions_total', 'Interventions by status: started (running) and ended (executed, invalidated, expired, rejected, aborted).', ['treasury', 'status']);
    this.accumulationSpent = counter('pstr_accumulation_spent_usd_total', 'USD spent by hourly accumulation buys.', ['treasury']);
    this.cycleLatency = new Histogram({
      name: 'pstr_cycle_latency_seconds', help: 'From a cycle\'s market observation to its record (observe, VWAP, decide, start an intervention).',
      labelNames: ['treasury'], buckets: LATENCY_BUCKETS, registers,
    });
    this.activityDuration = new Histogram({
      name: 'pstr_activity_duration_seconds', help: 'Activity execution time per attempt, by outcome (ok | failed).',
      labelNames: ['treasury', 'activity', 'outcome'], buckets: LATENCY_BUCKETS, registers,
    });
    this.activityFailures = counter('pstr_activity_failures_total', 'Activity attempts that threw (each retry counts).', ['treasury', 'activity']);
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Counters start at 0 for a treasury the first time it is seen, so rate() and increase() work from its first event. */
  private ensureTreasury(treasury: string): void {
    if (this.knownTreasuries.has(treasury)) return;
    this.knownTreasuries.add(treasury);
    for (const status of INTERVENTION_STATUSES) this.interventions.inc({ treasury, status }, 0);
    this.accumulationSpent.inc({ treasury }, 0);
    this.cycles.inc({ treasury }, 0);
  }

  /** The observation a cycle starts from (called by observeMarket), so the cycle's record can be timed from it. */
  marketObserved(treasuryId: string, observation: MarketObservation): void {
    this.observations.set(treasuryId, observation);
  }

  /**
   * One recorded cycle. `observation` (default: the last one `marketObserved`
   * saw for this treasury, when it precedes the cycle by less than 10 min)
   * gives the sources that failed and the cycle's start; `now` is when the
   * record is written (the activity's server clock).
   */
  observeCycle(treasuryId: string, cycle: CycleRecord, observation?: MarketObservation | null, now: number = Date.now()): void {
    const treasury = treasuryId;
    this.ensureTreasury(treasury);
    const s = cycle.summary;
    const obs = observation === undefined ? this.matchingObservation(treasuryId, s.at) : observation;

    this.consensusPrice.set({ treasury }, orNaN(s.consensusPrice));
    this.validPrice.set({ treasury }, s.validPrice ? 1 : 0);
    this.vwap30.set({ treasury }, orNaN(s.vwap30));
    this.drawdown.set({ treasury }, orNaN(s.drawdown));
    this.reserveRatio.set({ treasury }, orNaN(s.reserveRatio));
    this.health.set({ treasury }, orNaN(s.health));
    this.emergencyStop.set({ treasury }, cycle.emergency.latched ? 1 : 0);
    if (Number.isFinite(s.at)) this.lastCycle.set({ treasury }, s.at / 1000);
    this.cycles.inc({ treasury });
    this.observeSources(treasury, cycle, obs ?? null);

    const startedAt = obs?.at ?? s.at;
    const latencySeconds = (now - startedAt) / 1000;
    // A negative or absurd span means clocks from different timelines (time-skipping tests): not a latency.
    if (Number.isFinite(latencySeconds) && latencySeconds >= 0 && latencySeconds < 3600) this.cycleLatency.observe({ treasury }, latencySeconds);
  }

  private matchingObservation(treasuryId: string, cycleAt: number): MarketObservation | null {
    const obs = this.observations.get(treasuryId);
    if (!obs || obs.at > cycleAt || cycleAt - obs.at > OBSERVATION_MATCH_MS) return null;
    return obs;
  }

  private observeSources(treasury: string, cycle: CycleRecord, obs: MarketObservation | null): void {
    const at = cycle.summary.at;
    const readings = cycle.consensus.readings;
    const published = this.lastPublish.get(treasury) ?? new Map<string, number>();
    this.lastPublish.set(treasury, published);
    // A source's latest reading this cycle: the one consensus saw last.
    const latest = new Map<string, { price: number; publishTime: number }>();
    for (const r of readings) {
      const prev = latest.get(r.source);
      if (!prev || r.publishTime >= prev.publishTime) latest.set(r.source, r);
      if (Number.isFinite(r.publishTime)) published.set(r.source, Math.max(published.get(r.source) ?? -Infinity, r.publishTime));
    }
    const positive = readings.map((r) => r.price).filter((p) => Number.isFinite(p) && p > 0);
    const reference = cycle.summary.consensusPrice ?? (positive.length ? median(positive) : null);
    const sources = new Set([...published.keys(), ...latest.keys(), ...(obs?.failures.map((f) => f.source) ?? [])]);
    for (const source of sources) {
      const r = latest.get(source);
      this.sourceDeviation.set({ treasury, source }, r && reference ? (r.price - reference) / reference : NaN);
      const last = published.get(source);
      this.sourceStaleness.set({ treasury, source }, last === undefined ? NaN : (at - last) / 1000);
    }
  }

  /**
   * An intervention reached `status` (`running` when it starts). With its id,
   * each (intervention, status) counts once in this process however often the
   * activity reporting it is retried.
   */
  interventionEnded(treasuryId: string, status: string, interventionId?: string): void {
    if (!(INTERVENTION_STATUSES as readonly string[]).includes(status)) {
      throw new RangeError(`interventionEnded: status = "${status}" is not one of ${INTERVENTION_STATUSES.join(', ')}`);
    }
    if (interventionId !== undefined) {
      const key = `${interventionId}\u0000${status}`;
      if (this.countedInterventions.has(key)) return;
      this.countedInterventions.add(key);
    }
    this.ensureTreasury(treasuryId);
    this.interventions.inc({ treasury: treasuryId, status });
  }

  /** An accumulation buy that was applied spent `usd`. */
  accumulated(treasuryId: string, usd: number): void {
    if (!Number.isFinite(usd) || usd < 0) throw new RangeError(`accumulated: usd = ${usd} must be a finite amount ≥ 0`);
    this.ensureTreasury(treasuryId);
    this.accumulationSpent.inc({ treasury: treasuryId }, usd);
  }

  /** One failed attempt of activity `name`. */
  activityFailed(name: string, treasuryId: string = this.defaultTreasury): void {
    this.activityFailures.inc({ treasury: treasuryId, activity: name });
  }

  /** One finished attempt of activity `name`, for the duration histogram (the interceptor calls it). */
  activityFinished(name: string, seconds: number, ok: boolean, treasuryId: string = this.defaultTreasury): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.activityDuration.observe({ treasury: treasuryId, activity: name, outcome: ok ? 'ok' : 'failed' }, seconds);
  }

  /** The exposition text, as `/metrics` serves it. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

function orNaN(x: number | null): number {
  return x === null ? NaN : x;
}

export interface MetricsServer {
  /** The bound port (the real one when asked for port 0). */
  readonly port: number;
  /** e.g. http://127.0.0.1:9464/metrics */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format) and `GET /healthz` (200 "ok").
 * Resolves once listening; rejects when the port cannot be bound.
 */
export async function serveMetrics(metrics: Metrics, port: number, host = '0.0.0.0'): Promise<MetricsServer> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`metrics port = ${port} must be an integer between 0 and 65535 (0: any free port)`);
  }
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(req.method === 'HEAD' ? undefined : 'ok\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot serve metrics on ${host}:${port}: ${err.message}`, { cause: err })));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | null = null;
  return {
    port: bound,
    url: `http://${shownHost}:${bound}/metrics`,
    close: () =>
      (closed ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive scrapers would otherwise hold close() open.
        server.closeAllConnections();
      })),
  };
}

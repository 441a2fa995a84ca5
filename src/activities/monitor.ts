/** Monitoring-cycle activities: observe the market, record the sample (and read the VWAP back), log the cycle. */
import { ApplicationFailure } from '@temporalio/common';
import { consensusParams, type OracleReading } from '../domain/consensus.ts';
import { marketPrices, PUMP_LABEL, SOL_LABEL } from '../domain/market-consensus.ts';
import type { OracleSource } from '../ports.ts';
import { DAY_MS, type VwapReading } from '../domain/vwap.ts';
import { readingOfPrefixes } from '../domain/vwap-prefix.ts';
import { undeliveredCritical } from '../db/alert-delivery.ts';
import type { CycleRecord, MarketObservation, RecordCycleInput, RecordCycleResult } from '../workflows/contract.ts';
import { atWorkflowTime, serverClock, wakeAlertOutbox, type ActivityDeps } from './deps.ts';
import { proposalFacts } from './proposals.ts';
import { toWire } from './wire.ts';

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Why a source's answer is not an OracleReading (numbers may still be NaN: the consensus excludes those with a reason). */
function malformed(r: unknown): string | null {
  if (r === null || typeof r !== 'object') return `${JSON.stringify(r) ?? String(r)} is not an object`;
  const x = r as Record<string, unknown>;
  if (typeof x.source !== 'string') return `source ${JSON.stringify(x.source) ?? String(x.source)} is not a string`;
  for (const k of ['price', 'confidence', 'publishTime'] as const) {
    if (typeof x[k] !== 'number') return `${k} ${JSON.stringify(x[k]) ?? String(x[k])} is not a number`;
  }
  return null;
}

/** Every source read in parallel, each bounded by its timeout; a failure (or a malformed answer) is reported under `prefix + name`, not fatal. */
async function readAll(sources: readonly OracleSource[], timeoutMs: number, prefix: string): Promise<{ readings: OracleReading[]; failures: { source: string; error: string; status?: number }[] }> {
  const settled = await Promise.allSettled(sources.map((s) => withTimeout(s.read(), timeoutMs, `oracle ${prefix}${s.name}`)));
  const readings: OracleReading[] = [];
  const failures: { source: string; error: string; status?: number }[] = [];
  settled.forEach((r, i) => {
    const name = `${prefix}${sources[i]?.name ?? `source-${i}`}`;
    if (r.status === 'fulfilled') {
      // A reading that is not even shaped like one (an adapter's bug, a changed API) is that source failing, not a cycle that throws.
      const problem = malformed(r.value);
      if (problem) failures.push({ source: name, error: `malformed reading: ${problem}` });
      else readings.push(r.value);
    } else failures.push({ source: name, error: r.reason instanceof Error ? r.reason.message : String(r.reason), ...httpStatusOf(r.reason) });
  });
  return { readings, failures };
}

/** The HTTP status a source's typed failure carries (OracleFailure.status), so the alerts can tell refused credentials apart. */
function httpStatusOf(reason: unknown): { status?: number } {
  const status = (reason as { status?: unknown } | null)?.status;
  return typeof status === 'number' && Number.isInteger(status) ? { status } : {};
}

/** The failure type observeMarket throws when the market prices' source refused our credentials (details: one `{ source, error, status }`). */
export const ORACLE_AUTH_FAILURE = 'OracleAuthRefused';

/**
 * A market read (PUMP/SOL, one Hermes request) that answered 401/403 fails the activity at once, not retryable:
 * the key will not fix itself between attempts, and the monitor raises the oracle-auth alert from the details.
 */
function authRefusal(err: unknown): never {
  const { status } = httpStatusOf(err);
  if (status !== 401 && status !== 403) throw err;
  const source = (err as { source?: unknown }).source;
  const error = err instanceof Error ? err.message : String(err);
  throw ApplicationFailure.create({ message: error, type: ORACLE_AUTH_FAILURE, nonRetryable: true, details: [{ source: typeof source === 'string' ? source : 'pyth-market', error, status }] });
}

export interface RecordSampleInput {
  treasuryId: string;
  cycleId: string;
  at: number;
  pstrPrice: number;
  volumeUsd: number;
  pumpPrice: number;
  solPrice: number;
  consensus: unknown;
  vwapWindowDays: number;
}

export function monitorActivities(deps: ActivityDeps) {
  const { store } = deps;
  /** Every source read in parallel, each bounded by its timeout; a failed source is reported, not fatal. */
  async function observe(input: { treasuryId: string }): Promise<MarketObservation> {
    const at = serverClock();
    const timeoutMs = deps.sourceTimeoutMs ?? 5_000;
    const priced = deps.market.priceSources;
    const [pstr, pump, sol] = await Promise.all([
      readAll(deps.sources, timeoutMs, ''),
      priced ? readAll(priced.pump, timeoutMs, `${PUMP_LABEL} `) : null,
      priced ? readAll(priced.sol, timeoutMs, `${SOL_LABEL} `) : null,
    ]);
    const last = await store.latestPriceSample(input.treasuryId);
    const [pumpPrice, solPrice, volumeUsd, balances] = await Promise.all([
      // With PUMP and SOL sources their prices come from the consensus below, never from one unchecked read.
      priced ? Number.NaN : deps.market.pumpPrice(),
      priced ? Number.NaN : deps.market.solPrice(),
      // A volume read that fails costs the sample its weight (0 volume), never the cycle its price.
      deps.market.volumeUsd(last ? last.timestamp : at - 60_000, at).catch((error: unknown) => {
        deps.logger.warn({ treasuryId: input.treasuryId, err: error instanceof Error ? error.message : String(error) }, 'pool volume unavailable this cycle; the sample is recorded with volume 0');
        return 0;
      }),
      deps.treasury.balances(),
    ]).catch(authRefusal);
    const failures = [...pstr.failures, ...(pump?.failures ?? []), ...(sol?.failures ?? [])];
    const facts = await proposalFacts(deps, input.treasuryId, at);
    const obs: MarketObservation = {
      at, readings: pstr.readings, failures, pumpPrice, solPrice, volumeUsd, balances: toWire(balances),
      ...(facts && { proposals: { live: facts.live, lastConfirmedAt: facts.confirmedAt.length ? Math.max(...facts.confirmedAt) : null } }),
    };
    if (pump && sol) {
      // SPEC §2 at the observation's time; the workflow fails the cycle closed on a missing one (consensusOf).
      const m = marketPrices({ pump: pump.readings, sol: sol.readings }, at, consensusParams(deps.config));
      Object.assign(obs, { pumpPrice: m.pumpPrice, solPrice: m.solPrice, pumpConsensus: m.pumpConsensus, solConsensus: m.solConsensus });
    }
    deps.metrics?.marketObserved(input.treasuryId, obs);
    return obs;
  }

  return {
    /** The market at `at` (the workflow's time; a local activity's own clock is the worker's) or at the activity's scheduled time. */
    observeMarket(input: { treasuryId: string; at?: number }): Promise<MarketObservation> {
      return atWorkflowTime(input.at, () => observe(input));
    },

    /** Records the cycle's sample (idempotent on the cycle id) and returns the 30-day VWAP at its time. */
    recordSample(input: RecordSampleInput): Promise<VwapReading | null> {
      return atWorkflowTime(input.at, () => recordSample(input));
    },

    /** Writes the cycle's log, its treasury snapshot and its alerts; every write keyed by the cycle id. */
    recordCycle(input: RecordCycleInput): Promise<RecordCycleResult> {
      return atWorkflowTime(input.at, () => recordCycle(input));
    },
  };

  async function recordSample(input: RecordSampleInput): Promise<VwapReading | null> {
    const windowMs = input.vwapWindowDays * DAY_MS;
    return store.transaction(async () => {
      await store.recordPriceSample({
        treasuryId: input.treasuryId,
        cycleId: input.cycleId,
        timestamp: input.at,
        pstrPrice: input.pstrPrice,
        pstrVolume: input.volumeUsd,
        pumpPrice: input.pumpPrice,
        solPrice: input.solPrice,
        consensus: input.consensus,
      });
      return readingOfPrefixes(await store.vwapPrefixes(input.treasuryId, input.at, windowMs), input.at);
    });
  }

  async function recordCycle(input: RecordCycleInput): Promise<RecordCycleResult> {
    const { treasuryId, cycle } = input;
    const s = cycle.summary;
    await store.transaction(() => writeCycle(deps, treasuryId, cycle));
    // The alert rows are the outbox, written in the cycle's transaction; its drainer delivers them.
    await wakeAlertOutbox(deps, treasuryId, cycle.alerts.length);
    deps.metrics?.observeCycle(treasuryId, cycle, undefined, serverClock());
    for (const a of cycle.alerts) {
      const log = a.level === 'critical' ? deps.logger.error.bind(deps.logger) : a.level === 'warning' ? deps.logger.warn.bind(deps.logger) : deps.logger.info.bind(deps.logger);
      log({ treasuryId, cycleId: s.cycleId, alert: a.kind, level: a.level }, a.message);
    }
    const pending = await undeliveredCritical(store, treasuryId, { sinceMs: s.at - 7 * DAY_MS });
    const oldest = pending[0];
    return {
      undeliveredCritical: {
        count: pending.length,
        oldest: oldest ? { kind: oldest.kind, at: oldest.at, message: oldest.message, failures: oldest.failures.map((f) => `${f.sink}: ${f.error ?? 'failed'}`) } : null,
      },
    };
  }
}

/**
 * Writes the cycle records the store refused while it was down (the monitor's
 * backlog), oldest first, in one transaction; each write is keyed by its cycle
 * id, so a retry or a record already written changes nothing.
 */
export function backlogActivities(deps: ActivityDeps) {
  return {
    recordCycleBacklog(input: { treasuryId: string; cycles: CycleRecord[]; at?: number }): Promise<{ written: number }> {
      return atWorkflowTime(input.at, () => recordBacklog(input));
    },
  };

  async function recordBacklog(input: { treasuryId: string; cycles: CycleRecord[] }): Promise<{ written: number }> {
    await deps.store.transaction(async () => {
      for (const cycle of input.cycles) await writeCycle(deps, input.treasuryId, cycle);
    });
    await wakeAlertOutbox(deps, input.treasuryId, input.cycles.reduce((n, c) => n + c.alerts.length, 0));
    deps.logger.info({ treasuryId: input.treasuryId, cycles: input.cycles.length, first: input.cycles[0]?.summary.cycleId ?? null }, 'cycle backlog recorded after a store outage');
    return { written: input.cycles.length };
  }
}

/** One cycle's log, snapshot and alert rows, each keyed by the cycle id (idempotent). */
async function writeCycle(deps: ActivityDeps, treasuryId: string, cycle: CycleRecord): Promise<void> {
  const s = cycle.summary;
  await deps.store.recordMonitoringLog({ treasuryId, cycleId: s.cycleId, at: s.at, data: cycle });
  await writeSnapshot(deps, treasuryId, cycle);
  for (const [i, a] of cycle.alerts.entries()) {
    await deps.store.recordAlert({ treasuryId, alertKey: `${s.cycleId}/${i}/${a.kind}`, at: s.at, level: a.level as never, kind: a.kind, message: a.message, data: { cycleId: s.cycleId, ...a.data } });
  }
}

async function writeSnapshot(deps: ActivityDeps, treasuryId: string, cycle: CycleRecord): Promise<void> {
  const s = cycle.summary;
  const b = cycle.balances;
  if (!b || s.reserveRatio === null || s.treasuryValueUsd === null || s.health === null || s.healthLevel === null) return;
  await deps.store.recordSnapshot({
    treasuryId,
    snapshotId: s.cycleId,
    at: s.at,
    pumpBalance: BigInt(b.pump),
    usdcBalance: BigInt(b.usdc),
    solBalance: BigInt(b.sol),
    pstrRetired: BigInt(b.pstrRetired),
    treasuryValueUsd: s.treasuryValueUsd,
    marketCapUsd: s.marketCapUsd ?? 0,
    reserveRatio: s.reserveRatio,
    pumpConcentration: s.pumpConcentration ?? 0,
    health: s.health,
    healthLevel: s.healthLevel,
    emergencyStop: cycle.emergency.latched,
  });
}

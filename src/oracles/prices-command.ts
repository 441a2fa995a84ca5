/**
 * `client.ts prices [--json]`: read every configured source once, in parallel,
 * and report each reading, each failure, what consensus excluded and why, and
 * the consensus itself (SPEC §2), with the configured endpoints.
 *
 * The DEX TWAP needs samples over its window: a one-shot command has only the
 * one it takes, so it reports that source as not available yet (insufficient
 * coverage) unless the caller passes a source that has been sampling.
 */
import type { Config } from '../config-schema.ts';
import { computeConsensus, consensusParams, type ConsensusResult, type OracleReading } from '../domain/consensus.ts';
import type { OracleSource } from '../ports.ts';
import { liveOracleSources, oracleReadBudgetMs, unconfiguredSources, type OracleDeps } from './index.ts';
import { classifyError, type OracleFailureInit } from './resilience.ts';

export interface PricesReport {
  /** Epoch ms the consensus was computed at. */
  at: number;
  readings: OracleReading[];
  /** Sources that gave no reading: typed failures, and sources left unconfigured (kind `unavailable`). */
  failures: OracleFailureInit[];
  consensus: ConsensusResult;
  /** How long each source took, ms. */
  latencyMs: Record<string, number>;
}

/** Reads all sources in parallel, each bounded by its resilience budget, then computes consensus. */
export async function readPricesReport(config: Config, deps: OracleDeps & { sources?: readonly OracleSource[] } = {}): Promise<PricesReport> {
  const clock = deps.clock ?? Date.now;
  const sources = deps.sources ?? liveOracleSources(config, deps);
  const budget = oracleReadBudgetMs(config);
  const latencyMs: Record<string, number> = {};
  const settled = await Promise.allSettled(
    sources.map(async (s) => {
      const started = performance.now();
      try {
        return await withDeadline(s, budget + 250);
      } finally {
        latencyMs[s.name] = Math.round(performance.now() - started);
      }
    }),
  );
  const readings: OracleReading[] = [];
  const failures: OracleFailureInit[] = [];
  settled.forEach((r, i) => {
    const name = sources[i]?.name ?? `source-${i}`;
    if (r.status === 'fulfilled') readings.push(r.value);
    else failures.push(classifyError(name, r.reason).toJSON());
  });
  // Sources settle in whatever order the network decides: report them by name.
  readings.sort((a, b) => a.source.localeCompare(b.source));
  failures.sort((a, b) => a.source.localeCompare(b.source));
  if (!deps.sources) {
    for (const u of unconfiguredSources(config, deps)) failures.push({ source: u.source, kind: 'unavailable', detail: `not configured: set ${u.missing}` });
  }
  const at = clock();
  return { at, readings, failures, consensus: computeConsensus(readings, at, consensusParams(config)), latencyMs };
}

/** A last guard in case a source ignores its own budget: the command never hangs on one source. */
function withDeadline(source: OracleSource, ms: number): Promise<OracleReading> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([source.read(), deadline]).finally(() => clearTimeout(timer));
}

/** The text `client.ts prices` prints (without --json). */
export function formatPricesReport(r: PricesReport): string {
  const lines: string[] = [`Oracle prices at ${new Date(r.at).toISOString()}`];
  const excluded = new Map(r.consensus.excluded.map((e) => [e.source, e]));
  for (const reading of r.readings) {
    const ex = excluded.get(reading.source);
    const age = Math.round((r.at - reading.publishTime) / 1000);
    const status = ex ? `EXCLUDED (${ex.reason}: ${ex.detail})` : 'ok';
    lines.push(`  ${reading.source.padEnd(12)} ${fmt(reading.price)} ± ${fmt(reading.confidence)}  age ${age} s  ${latency(r, reading.source)}${status}`);
  }
  for (const f of r.failures) {
    lines.push(`  ${f.source.padEnd(12)} FAILED ${f.kind}${f.status !== undefined ? ` (HTTP ${f.status})` : ''}: ${f.detail}  ${latency(r, f.source)}`.trimEnd());
  }
  const c = r.consensus;
  lines.push(c.ok
    ? `Consensus: ${fmt(c.price)} (median ${fmt(c.agreeingMedian)}, confidence-weighted ${fmt(c.weightedMean)}; ${c.agreeing.length} agreeing: ${c.agreeing.map((a) => a.source).join(', ')})`
    : `Consensus: NO VALID PRICE (${c.reason}); the monitor would not intervene`);
  return lines.join('\n');
}

function latency(r: PricesReport, source: string): string {
  const ms = r.latencyMs[source];
  return ms === undefined ? '' : `read in ${ms} ms  `;
}

function fmt(n: number): string {
  return Number.isFinite(n) ? Number(n.toPrecision(10)).toString() : String(n);
}

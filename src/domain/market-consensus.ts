/**
 * PUMP/USD and SOL/USD under SPEC §2's consensus, the same rule as PSTR's
 * (computeConsensus, not a copy of it). The PUMP price sets an intervention's
 * USD size (so whether it needs the timelock) and the slippage floor of every
 * slice; PUMP and SOL value the treasury (SPEC §3: reserve ratio, emergency
 * stop, gates) and bound the hourly buy. One unchecked read 3× low would skip
 * operator approval and set the floor ~66 % under fair, so: with fewer
 * agreeing sources than oracle.minAgreeingSources for PUMP or for SOL there is
 * no valid price, no sizing and no swap (fail closed).
 *
 * SOL is required as well as PUMP: it enters every treasury valuation (its
 * balance and the SOL-quoted pool), and a wrong SOL price can latch or lift
 * the emergency stop as surely as a wrong PUMP price.
 */
import { computeConsensus, type ConsensusParams, type ConsensusResult, type ExcludedReading, type OracleReading } from './consensus.ts';

/** How PUMP's and SOL's sources are named next to PSTR's in reasons, alerts and exclusions. */
export const PUMP_LABEL = 'PUMP/USD';
export const SOL_LABEL = 'SOL/USD';

export interface MarketConsensus {
  readonly pumpConsensus?: ConsensusResult | undefined;
  readonly solConsensus?: ConsensusResult | undefined;
}

export interface MarketPrices {
  readonly pumpConsensus: ConsensusResult;
  readonly solConsensus: ConsensusResult;
  /** The consensus prices, or NaN with no valid one (checkMarketValues then fails the cycle closed too). */
  readonly pumpPrice: number;
  readonly solPrice: number;
}

/** SPEC §2 over each asset's readings at `now`. */
export function marketPrices(readings: { pump: readonly OracleReading[]; sol: readonly OracleReading[] }, now: number, params: ConsensusParams): MarketPrices {
  const pumpConsensus = computeConsensus(readings.pump, now, params);
  const solConsensus = computeConsensus(readings.sol, now, params);
  return {
    pumpConsensus, solConsensus,
    pumpPrice: pumpConsensus.ok ? pumpConsensus.price : Number.NaN,
    solPrice: solConsensus.ok ? solConsensus.price : Number.NaN,
  };
}

export interface MarketPriceProblem {
  /** "no valid PUMP/USD price: 0 source(s) agreed, 2 needed (…)". */
  readonly reason: string;
  /** Which assets have no valid price. */
  readonly assets: readonly string[];
  /** The outlier sources, labelled ("PUMP/USD pyth"), for the outlier alerts. */
  readonly outliers: readonly string[];
  readonly excluded: readonly ExcludedReading[];
}

type Failed = Extract<ConsensusResult, { ok: false }>;

/**
 * Why the PUMP or SOL price of an observation is not valid, or null when both have a consensus. An observation
 * without them (made before PUMP and SOL had sources of their own: old histories) has nothing to say here.
 */
export function marketPriceProblem(m: MarketConsensus): MarketPriceProblem | null {
  const pairs: (readonly [string, ConsensusResult | undefined])[] = [[PUMP_LABEL, m.pumpConsensus], [SOL_LABEL, m.solConsensus]];
  const failed = pairs.filter((e): e is readonly [string, Failed] => e[1] !== undefined && e[1] !== null && !e[1].ok);
  if (failed.length === 0) return null;
  return {
    reason: failed.map(([label, c]) => relabel(c.reason, label)).join('; '),
    assets: failed.map(([label]) => label),
    outliers: failed.flatMap(([label, c]) => c.outliers.map((s) => `${label} ${s}`)),
    excluded: failed.flatMap(([label, c]) => c.excluded.map((e) => ({ ...e, source: `${label} ${e.source}` }))),
  };
}

/** "no valid price: …" → "no valid PUMP/USD price: …" (a reason without that prefix is prefixed). */
function relabel(reason: string, label: string): string {
  return reason.startsWith('no valid price') ? reason.replace(/^no valid price/, `no valid ${label} price`) : `no valid ${label} price: ${reason}`;
}

/**
 * One monitoring cycle's decisions, pure: given what the market looked like
 * and the monitor's memory, what the domain says. The workflow runs it
 * between its activities (monitor → consensus → intervention, as in
 * Olympus's Heart → PRICE → Operator).
 */
import type { Config } from '../config-schema.ts';
import { amount, parseAmount } from '../domain/amount.ts';
import { classifyCycle, alertParams, type Alert, type CycleAlertState } from '../domain/alerts.ts';
import { computeConsensus, consensusParams, type ConsensusResult } from '../domain/consensus.ts';
import { diversification, healthLevel, healthScore } from '../domain/health.ts';
import { decideIntervention, interventionParams, nextEmergencyState, type InterventionDecision } from '../domain/intervention.ts';
import { marketPriceProblem } from '../domain/market-consensus.ts';
import { checkMarketValues } from '../domain/market-values.ts';
import { classValues, treasuryState, type TreasuryState } from '../domain/treasury.ts';
import type { VwapReading } from '../domain/vwap.ts';
import type { CycleSummary, MarketObservation } from './contract.ts';

/**
 * The PSTR consensus, failed closed when PUMP or SOL has no consensus of its
 * own (SPEC §2, src/domain/market-consensus.ts) or the rest of the market a
 * cycle needs (PUMP and SOL prices, balances) is not finite: no treasury value
 * can be computed from it (src/domain/market-values.ts).
 */
export function consensusOf(obs: MarketObservation, now: number, config: Config): ConsensusResult {
  const consensus = computeConsensus(Array.isArray(obs.readings) ? obs.readings : [], now, consensusParams(config));
  // PUMP and SOL have a consensus of their own (observeMarket): without it the cycle has no valid price either
  // (no sizing, no swap, no buy), and their outliers are alerted with PSTR's, labelled (src/domain/market-consensus.ts).
  const priced = marketPriceProblem(obs);
  if (priced) {
    const reason = consensus.ok ? priced.reason : `${consensus.reason}; ${priced.reason}`;
    return { ok: false, reason, readings: consensus.readings, agreeing: consensus.agreeing, excluded: [...consensus.excluded, ...priced.excluded], outliers: [...consensus.outliers, ...priced.outliers] };
  }
  if (!consensus.ok) return consensus;
  const market = checkMarketValues(obs);
  if (market.ok) return consensus;
  return { ok: false, reason: market.reason, readings: consensus.readings, agreeing: consensus.agreeing, excluded: consensus.excluded, outliers: consensus.outliers };
}

/** The pool volume a sample is recorded with: 0 (weightless) when the market gave no finite volume. */
export function sampleVolumeOf(obs: MarketObservation): number {
  const market = checkMarketValues(obs);
  return market.ok ? market.volumeUsd : 0;
}

/** A cycle whose market observation failed after every retry: no valid price, and the reason (SPEC §2 fails closed). */
export function unobservedConsensus(error: string): ConsensusResult {
  return { ok: false, reason: `no valid price: the market could not be observed (${error})`, readings: [], agreeing: [], excluded: [], outliers: [] };
}

export function stateOf(obs: MarketObservation, pstrPrice: number, config: Config): TreasuryState {
  const t = config.tokens;
  const b = obs.balances;
  return treasuryState(
    {
      pump: amount('PUMP', BigInt(b.pump), t.pump.decimals),
      usdc: amount('USDC', BigInt(b.usdc), t.usdc.decimals),
      sol: amount('SOL', BigInt(b.sol), t.sol.decimals),
      pstrRetired: amount('PSTR', BigInt(b.pstrRetired), t.pstr.decimals),
      lpValueUsd: b.lpValueUsd,
    },
    { pstr: pstrPrice, pump: obs.pumpPrice, sol: obs.solPrice },
    parseSupply(config),
    { minRrThreshold: config.risk.minRrThreshold, minReserveRatio: config.risk.minReserveRatio },
  );
}

/** Parsed once per configuration object (every cycle needs it; a config change is a new object). */
const supplies = new WeakMap<Config, ReturnType<typeof parseAmount<'PSTR'>>>();

function parseSupply(config: Config) {
  let supply = supplies.get(config);
  if (!supply) {
    supply = parseAmount('PSTR', config.treasury.pstrCirculatingSupply, config.tokens.pstr.decimals, 'treasury.pstrCirculatingSupply');
    supplies.set(config, supply);
  }
  return supply;
}

export interface MonitorMemory {
  paused: boolean;
  emergencyStop: boolean;
  lastExecutedSwapAt: number | null;
  interventionStarts: number[];
  inFlight: string[];
  alertState: CycleAlertState;
}

export interface CycleVerdict {
  summary: CycleSummary;
  decision: InterventionDecision | null;
  emergency: { latched: boolean; entered: boolean };
  alerts: Alert[];
  alertState: CycleAlertState;
  state: TreasuryState | null;
}

/** The later of the monitor's last swap and a late multisig execution: the cooldown counts both. */
function lastSwapAt(memory: number | null, proposal: number | null): number | null {
  if (memory === null) return proposal;
  return proposal === null ? memory : Math.max(memory, proposal);
}

interface SummaryMarket {
  warmingUp: boolean;
  drawdown: number | null;
  state: TreasuryState;
  health: number;
  level: CycleSummary['healthLevel'];
}

/** A cycle's summary, as one literal (not `{ ...base, … }`: a spread plus keys is several times slower in V8, every cycle). */
function cycleSummary(cycleId: string, now: number, consensus: ConsensusResult, vwap: VwapReading | null, decision: string, market: SummaryMarket | null): CycleSummary {
  const summary: CycleSummary = {
    cycleId, at: now, validPrice: consensus.ok, consensusPrice: consensus.ok ? consensus.price : null,
    consensusReason: consensus.ok ? null : consensus.reason, vwap30: vwap?.vwap ?? null, volumeless: vwap?.volumeless ?? false,
    warmingUp: market?.warmingUp ?? false, drawdown: market?.drawdown ?? null, reserveRatio: market?.state.reserveRatio ?? null,
    pumpConcentration: market?.state.pumpConcentration ?? null, treasuryValueUsd: market?.state.valueUsd ?? null, marketCapUsd: market?.state.marketCapUsd ?? null,
    health: market?.health ?? null, healthLevel: market?.level ?? null, decision, startedIntervention: null,
  };
  if (market?.state.reserveRatioUnbounded) summary.reserveRatioUnbounded = true;
  return summary;
}

/** Everything a cycle decides once it has a consensus and (when valid) the VWAP. */
export function decideCycle(
  cycleId: string,
  now: number,
  obs: MarketObservation | null,
  consensus: ConsensusResult,
  vwap: VwapReading | null,
  memory: MonitorMemory,
  config: Config,
  /** Sources known to have failed when there is no observation (a refused key on the market read). */
  unobservedFailures: readonly { source: string; error: string; status?: number }[] = [],
): CycleVerdict {
  if (!consensus.ok || obs === null) {
    // Fail closed: no valid price, no decision (SPEC §2).
    const { alerts, state } = classifyCycle(memory.alertState, { validPrice: false, outliers: consensus.ok ? [] : consensus.outliers, reserveRatio: null, pumpConcentration: null, healthLevel: null, failedSources: obs?.failures ?? unobservedFailures }, alertParams(config));
    const reason = consensus.ok ? 'the market could not be observed' : consensus.reason;
    return { summary: cycleSummary(cycleId, now, consensus, vwap, reason.startsWith('no valid price') ? reason : `no valid price: ${reason}`, null), decision: null, emergency: { latched: memory.emergencyStop, entered: false }, alerts, alertState: state, state: null };
  }
  const state = stateOf(obs, consensus.price, config);
  const emergency = nextEmergencyState(memory.emergencyStop, state.reserveRatio, config.risk.minRrThreshold);
  const div = diversification(classValues(state));
  const health = healthScore({ reserveRatio: state.reserveRatio, interventionCapacity: state.interventionCapacity, diversification: div });
  const level = healthLevel(health);
  const decision = decideIntervention(
    {
      now, price: consensus.price, vwap, paused: memory.paused, emergencyStop: emergency.latched,
      lastExecutedSwapAt: lastSwapAt(memory.lastExecutedSwapAt, obs.proposals?.lastConfirmedAt ?? null), interventionStarts: memory.interventionStarts,
      inFlight: memory.inFlight.length > 0, ...(obs.proposals && { liveProposals: obs.proposals.live }), reserveRatio: state.reserveRatio,
    },
    interventionParams(config),
  );
  const { alerts, state: alertState } = classifyCycle(
    memory.alertState,
    { validPrice: true, outliers: consensus.outliers, reserveRatio: state.reserveRatio, pumpConcentration: state.pumpConcentration, healthLevel: level, failedSources: obs.failures },
    alertParams(config),
  );
  const summary = cycleSummary(cycleId, now, consensus, vwap, decision.reason, { warmingUp: decision.warmingUp, drawdown: decision.drawdown, state, health, level });
  return { summary, decision, emergency, alerts, alertState, state };
}

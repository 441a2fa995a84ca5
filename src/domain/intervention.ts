/**
 * When and how much to intervene (SPEC §4): the trigger, the tier, the
 * reduction rule, every gate with its verdict, and the emergency-stop latch.
 * A decision records every gate, passed or not, so an auditor sees why.
 */
import type { Config } from '../config-schema.ts';
import { atMostTimes, reachesDrawdown } from './exact.ts';
import { drawdown as drawdownOf, DAY_MS, type VwapReading } from './vwap.ts';

export const HOUR_MS = 3_600_000;

export interface Tier {
  /** 1 = the smallest tier (15 % drawdown by default). */
  readonly tier: number;
  readonly drawdown: number;
  readonly fraction: number;
}

/** The tier for a drawdown given as a number: the highest threshold it reaches (≥), or null below the lowest. */
export function tierFor(drawdown: number, tiers: Config['strategy']['tiers']): Tier | null {
  return highestTier(tiers, (d) => drawdown >= d);
}

/**
 * The tier of a price against its VWAP (SPEC §4): the highest tier whose drawdown it reaches, decided exactly
 * (price ≤ vwap × (1 − d) on the decimals the numbers stand for, src/domain/exact.ts), so price/VWAP = 0.8 is a
 * 20 % drawdown. Every decision that sizes an intervention uses this, never `tierFor(1 − price/vwap)`.
 */
export function tierAt(price: number, vwap: number, tiers: Config['strategy']['tiers']): Tier | null {
  return highestTier(tiers, (d) => reachesDrawdown(price, vwap, d));
}

function highestTier(tiers: Config['strategy']['tiers'], reaches: (drawdown: number) => boolean): Tier | null {
  const ascending = [...tiers].sort((a, b) => a.drawdown - b.drawdown);
  let found: Tier | null = null;
  ascending.forEach((t, i) => {
    if (reaches(t.drawdown)) found = { tier: i + 1, drawdown: t.drawdown, fraction: t.fraction };
  });
  return found;
}

/** Trigger: price ≤ triggerThreshold × vwap30, decided exactly (so 85/100 of the VWAP triggers at 0.85). */
export function isTriggered(price: number, vwap: number, triggerThreshold: number): boolean {
  return atMostTimes(price, vwap, triggerThreshold);
}

export interface SizingParams {
  readonly maxDeployment: number;
  readonly reductionBelowRr: number;
  readonly reductionFactor: number;
}

/** Fraction of the PUMP balance to deploy: tier fraction, capped at maxDeployment, halved when RR < 2.0. */
export function deploymentFraction(tierFraction: number, reserveRatio: number, p: SizingParams): { fraction: number; reduced: boolean } {
  const capped = Math.min(tierFraction, p.maxDeployment);
  const reduced = reserveRatio < p.reductionBelowRr;
  return { fraction: reduced ? capped * p.reductionFactor : capped, reduced };
}

export type GateName = 'not-paused' | 'no-emergency-stop' | 'cooldown' | 'daily-limit' | 'none-in-flight' | 'reserve-ratio';

export interface GateVerdict {
  readonly gate: GateName;
  readonly passed: boolean;
  readonly reason: string;
}

export interface GateContext {
  readonly now: number;
  readonly paused: boolean;
  readonly emergencyStop: boolean;
  /** When the last intervention that executed a swap executed it. */
  readonly lastExecutedSwapAt: number | null;
  /** Start times of interventions (any outcome), at least those of the trailing 24 hours. */
  readonly interventionStarts: readonly number[];
  /** An intervention of this treasury is in flight (the one being assessed excluded). */
  readonly inFlight: boolean;
  /** Multisig proposals that can still execute, named (address, index, status): each is an intervention in flight. */
  readonly liveProposals?: readonly string[];
  readonly reserveRatio: number;
}

export interface GateParams {
  readonly cooldownHours: number;
  readonly maxDailyInterventions: number;
  readonly minRrThreshold: number;
}

const hoursText = (ms: number) => `${(ms / HOUR_MS).toFixed(2)} h`;

/** None in flight: no other intervention running, and no multisig proposal of an earlier one that can still execute. */
function inFlightGate(c: GateContext): GateVerdict {
  const live = c.liveProposals ?? [];
  const reasons = [
    ...(c.inFlight ? ['another intervention of this treasury is in flight'] : []),
    ...(live.length ? [`${live.length} multisig proposal(s) can still execute: ${live.join('; ')}`] : []),
  ];
  return { gate: 'none-in-flight', passed: reasons.length === 0, reason: reasons.length ? reasons.join('; ') : 'none in flight' };
}

/** Every gate of SPEC §4 with its verdict and reason; all must pass. */
export function evaluateGates(c: GateContext, p: GateParams): GateVerdict[] {
  const cooldownMs = p.cooldownHours * HOUR_MS;
  const sinceSwap = c.lastExecutedSwapAt === null ? null : c.now - c.lastExecutedSwapAt;
  // Counted from the moment each intervention starts, whatever its outcome: window (now − 24 h, now].
  const startedLastDay = c.interventionStarts.filter((t) => t > c.now - DAY_MS && t <= c.now).length;
  return [
    { gate: 'not-paused', passed: !c.paused, reason: c.paused ? 'the monitor is paused' : 'not paused' },
    {
      gate: 'no-emergency-stop',
      passed: !c.emergencyStop,
      reason: c.emergencyStop ? 'emergency stop is latched' : 'no emergency stop',
    },
    {
      gate: 'cooldown',
      passed: sinceSwap === null || sinceSwap >= cooldownMs,
      reason:
        sinceSwap === null
          ? 'no swap executed yet'
          : `${hoursText(sinceSwap)} since the last executed swap; cooldown ${p.cooldownHours} h`,
    },
    {
      gate: 'daily-limit',
      passed: startedLastDay < p.maxDailyInterventions,
      reason: `${startedLastDay} intervention(s) started in the trailing 24 h; limit ${p.maxDailyInterventions}`,
    },
    inFlightGate(c),
    {
      gate: 'reserve-ratio',
      passed: c.reserveRatio >= p.minRrThreshold,
      reason: `reserve ratio ${c.reserveRatio.toFixed(4)}; minimum ${p.minRrThreshold}`,
    },
  ];
}

export interface DecisionInput extends GateContext {
  readonly price: number;
  readonly vwap: VwapReading | null;
}

export interface InterventionDecision {
  readonly intervene: boolean;
  /** One line for logs and the status: why (not). */
  readonly reason: string;
  readonly warmingUp: boolean;
  readonly triggered: boolean;
  readonly drawdown: number | null;
  readonly tier: Tier | null;
  readonly fraction: number;
  readonly reduced: boolean;
  readonly gates: readonly GateVerdict[];
}

export type InterventionParams = GateParams &
  SizingParams & {
    readonly triggerThreshold: number;
    readonly minVwapHistoryDays: number;
    readonly tiers: Config['strategy']['tiers'];
  };

export function interventionParams(config: Pick<Config, 'strategy' | 'risk'>): InterventionParams {
  return {
    triggerThreshold: config.strategy.triggerThreshold,
    minVwapHistoryDays: config.strategy.minVwapHistoryDays,
    tiers: config.strategy.tiers,
    cooldownHours: config.strategy.cooldownHours,
    maxDailyInterventions: config.risk.maxDailyInterventions,
    minRrThreshold: config.risk.minRrThreshold,
    maxDeployment: config.risk.maxDeployment,
    reductionBelowRr: config.risk.reductionBelowRr,
    reductionFactor: config.risk.reductionFactor,
  };
}

/** A decision not to intervene. A whole literal, not `{ ...base, … }`: a spread plus keys is several times slower in V8, and this runs every cycle. */
function notNow(gates: readonly GateVerdict[], reason: string, warmingUp: boolean, triggered: boolean, drawdown: number | null): InterventionDecision {
  return { intervene: false, reason, warmingUp, triggered, drawdown, tier: null, fraction: 0, reduced: false, gates };
}

/** The decision of one cycle with a valid consensus price (SPEC §1 warm-up, §4 trigger, tier and gates). */
export function decideIntervention(input: DecisionInput, p: InterventionParams): InterventionDecision {
  const gates = evaluateGates(input, p);
  if (input.vwap === null) return notNow(gates, 'warming up: no price history', true, false, null);
  const dd = drawdownOf(input.price, input.vwap.vwap);
  const triggered = isTriggered(input.price, input.vwap.vwap, p.triggerThreshold);
  if (input.vwap.historyMs < p.minVwapHistoryDays * DAY_MS) {
    const days = (input.vwap.historyMs / DAY_MS).toFixed(2);
    return notNow(gates, `warming up: ${days} of ${p.minVwapHistoryDays} days of history`, true, triggered, dd);
  }
  const tier = triggered ? tierAt(input.price, input.vwap.vwap, p.tiers) : null;
  if (!triggered || tier === null) {
    return notNow(gates, `no trigger: price ${input.price} is ${(dd * 100).toFixed(2)} % below VWAP ${input.vwap.vwap}; trigger at ${((1 - p.triggerThreshold) * 100).toFixed(0)} %`, false, false, dd);
  }
  const { fraction, reduced } = deploymentFraction(tier.fraction, input.reserveRatio, p);
  const failed = gates.filter((g) => !g.passed);
  const reason = failed.length
    ? `triggered at tier ${tier.tier} (drawdown ${(dd * 100).toFixed(2)} %) but blocked: ${failed.map((g) => `${g.gate} (${g.reason})`).join('; ')}`
    : `intervene: tier ${tier.tier}, drawdown ${(dd * 100).toFixed(2)} %, deploy ${(fraction * 100).toFixed(2)} % of PUMP${reduced ? ' (halved: RR below the reduction threshold)' : ''}`;
  return { intervene: failed.length === 0, reason, warmingUp: false, triggered: true, drawdown: dd, tier, fraction, reduced, gates };
}

export interface EmergencyTransition {
  readonly latched: boolean;
  /** True on the cycle that latched it (raise the critical alert once). */
  readonly entered: boolean;
}

/** A cycle that measures RR < minRrThreshold latches the emergency stop; only `resume` clears it. */
export function nextEmergencyState(latched: boolean, reserveRatio: number | null, minRrThreshold: number): EmergencyTransition {
  if (latched) return { latched: true, entered: false };
  const trips = reserveRatio !== null && reserveRatio < minRrThreshold;
  return { latched: trips, entered: trips };
}

/** An operator's resume (or an Emergency Action) clears the latch only once RR is back at or above the threshold. */
export function resumeVerdict(reserveRatio: number | null, minRrThreshold: number): { ok: boolean; reason: string } {
  if (reserveRatio === null) return { ok: false, reason: 'no valid reserve ratio measured yet: wait for a cycle with a valid price, then resume' };
  if (reserveRatio < minRrThreshold) {
    return {
      ok: false,
      reason: `reserve ratio ${reserveRatio.toFixed(4)} is still below ${minRrThreshold}: restore reserves, then resume`,
    };
  }
  return { ok: true, reason: `reserve ratio ${reserveRatio.toFixed(4)} ≥ ${minRrThreshold}` };
}

/**
 * Alert classification (SPEC §7). Conditions (a low reserve ratio, a price
 * outage, high concentration, a better health level) are edge-triggered: the
 * alert is raised on the cycle the condition is entered, and the state passed
 * from cycle to cycle remembers what was already said. Events (an outlier
 * reading, a failed swap, an executed intervention) raise one alert each.
 *
 * Reserve-ratio bands: ok (RR ≥ 2.0) → low (RR < 2.0) → critical (RR < 1.5).
 * Critical implies low, so the critical alert stands for both: entering
 * critical raises only the critical alert, and climbing from critical back
 * into the low band raises nothing (RR < 2.0 never stopped being true, and
 * the latched emergency stop still needs an operator resume). Only entering
 * the low band from ok (or from the unknown start) raises the warning.
 * A cycle with no reserve ratio or concentration (no valid price) keeps the
 * previous band, so a brief price outage does not re-raise old alerts.
 */
import type { Config, ProposalKind } from '../config-schema.ts';
import { healthRank, type HealthLevel } from './health.ts';

export type AlertLevel = 'critical' | 'warning' | 'info' | 'governance';

export type AlertKind =
  | 'reserve-ratio-critical'
  | 'no-valid-price'
  | 'price-consensus'
  | 'swap-failed'
  | 'books-mismatch'
  | 'system-failure'
  | 'reserve-ratio-low'
  | 'oracle-outlier'
  | 'oracle-source-failing'
  | 'oracle-auth'
  | 'concentration-high'
  | 'swap-quote-out-of-bound'
  | 'intervention-executed'
  | 'health-improved'
  | 'proposal-needs-votes'
  | 'voting-deadline'
  | 'proposal-abandoned';

export interface Alert {
  readonly level: AlertLevel;
  readonly kind: AlertKind;
  readonly message: string;
  readonly data: Record<string, unknown>;
}

/** SPEC §7: which level each kind of alert is raised at. */
export const ALERT_LEVEL: Readonly<Record<AlertKind, AlertLevel>> = Object.freeze({
  'reserve-ratio-critical': 'critical',
  'no-valid-price': 'critical',
  'price-consensus': 'critical',
  'swap-failed': 'critical',
  'books-mismatch': 'critical',
  'system-failure': 'critical',
  'reserve-ratio-low': 'warning',
  'oracle-outlier': 'warning',
  'oracle-source-failing': 'warning',
  'oracle-auth': 'critical',
  'concentration-high': 'warning',
  'swap-quote-out-of-bound': 'warning',
  'intervention-executed': 'info',
  'health-improved': 'info',
  'proposal-needs-votes': 'governance',
  'voting-deadline': 'governance',
  'proposal-abandoned': 'critical',
});

function alert(kind: AlertKind, message: string, data: Record<string, unknown>): Alert {
  return { level: ALERT_LEVEL[kind], kind, message, data };
}

export type RrBand = 'ok' | 'low' | 'critical' | 'unknown';

export interface CycleAlertState {
  readonly noValidPriceStreak: number;
  readonly rrBand: RrBand;
  readonly concentrationHigh: boolean;
  readonly healthLevel: HealthLevel | null;
  /** Sources whose read failed last cycle (absent in states carried over from older runs). */
  readonly failingSources?: readonly string[];
  /** Sources whose credentials were refused last cycle (absent in older states). */
  readonly authFailingSources?: readonly string[];
}

export const INITIAL_ALERT_STATE: CycleAlertState = Object.freeze({
  noValidPriceStreak: 0,
  rrBand: 'unknown',
  concentrationHigh: false,
  healthLevel: null,
  failingSources: [],
});

export interface CycleObservation {
  readonly validPrice: boolean;
  readonly outliers: readonly string[];
  readonly reserveRatio: number | null;
  readonly pumpConcentration: number | null;
  readonly healthLevel: HealthLevel | null;
  /** Sources that could not be read this cycle (timeout, HTTP 429/5xx, stale or malformed payload), with the error. */
  readonly failedSources?: readonly { source: string; error: string; status?: number }[];
}

/** A source that refused our credentials: HTTP 401 or 403 (a missing, wrong or expired API key). */
export function isAuthRefusal(f: { status?: number }): boolean {
  return f.status === 401 || f.status === 403;
}

export interface AlertParams {
  readonly minRrThreshold: number;
  readonly reductionBelowRr: number;
  readonly maxPumpConcentration: number;
  readonly noValidPriceAlertCycles: number;
}

export function alertParams(config: Config): AlertParams {
  return {
    minRrThreshold: config.risk.minRrThreshold,
    reductionBelowRr: config.risk.reductionBelowRr,
    maxPumpConcentration: config.risk.maxPumpConcentration,
    noValidPriceAlertCycles: config.oracle.noValidPriceAlertCycles,
  };
}

function requireMeasure(field: string, value: number | null): void {
  if (value !== null && !(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`${field} must be a finite number ≥ 0 or null, got ${value}`);
  }
}

/** SPEC §7: critical below minRrThreshold (1.5), warning below reductionBelowRr (2.0). */
function rrBandOf(rr: number, p: AlertParams): RrBand {
  if (rr < p.minRrThreshold) return 'critical';
  if (rr < p.reductionBelowRr) return 'low';
  return 'ok';
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

export function classifyCycle(prev: CycleAlertState, obs: CycleObservation, params: AlertParams): { alerts: Alert[]; state: CycleAlertState } {
  requireMeasure('reserveRatio', obs.reserveRatio);
  requireMeasure('pumpConcentration', obs.pumpConcentration);
  const alerts: Alert[] = [];

  // SPEC §2: critical after N consecutive cycles without a valid price; once per outage.
  const noValidPriceStreak = obs.validPrice ? 0 : prev.noValidPriceStreak + 1;
  if (noValidPriceStreak === params.noValidPriceAlertCycles) {
    alerts.push(alert('no-valid-price',
      `No valid consensus price for ${noValidPriceStreak} consecutive cycles (fewer than the required agreeing oracle sources): ` +
        'interventions are suspended until a valid price returns. Check the oracle sources (Pyth, Switchboard, DEX TWAP) and their connectivity.',
      { cycles: noValidPriceStreak }));
  }

  const rr = obs.reserveRatio;
  const rrBand = rr === null ? prev.rrBand : rrBandOf(rr, params);
  if (rr !== null && rrBand === 'critical' && prev.rrBand !== 'critical') {
    alerts.push(alert('reserve-ratio-critical',
      `Reserve ratio ${rr.toFixed(2)} fell below ${params.minRrThreshold}: emergency stop latched; interventions and accumulation halted. ` +
        `Restore reserves to a ratio of at least ${params.minRrThreshold}, then resume.`,
      { reserveRatio: rr, threshold: params.minRrThreshold }));
  } else if (rr !== null && rrBand === 'low' && (prev.rrBand === 'ok' || prev.rrBand === 'unknown')) {
    alerts.push(alert('reserve-ratio-low',
      `Reserve ratio ${rr.toFixed(2)} fell below ${params.reductionBelowRr}: intervention sizes are halved. ` +
        `Consider adding reserves; below ${params.minRrThreshold} the system stops all interventions and accumulation.`,
      { reserveRatio: rr, threshold: params.reductionBelowRr }));
  }

  // Outliers are events: one warning per distinct source, every cycle it is excluded.
  for (const source of new Set(obs.outliers)) {
    alerts.push(alert('oracle-outlier',
      `Oracle source ${source} deviated from the median of the other sources beyond the allowed deviation and was excluded from this cycle's consensus. ` +
        `If it keeps happening, check the ${source} feed.`,
      { source }));
  }

  const c = obs.pumpConcentration;
  const concentrationHigh = c === null ? prev.concentrationHigh : c > params.maxPumpConcentration;
  if (c !== null && concentrationHigh && !prev.concentrationHigh) {
    alerts.push(alert('concentration-high',
      `PUMP is ${pct(c)} of treasury value, above the ${pct(params.maxPumpConcentration)} limit: hourly PUMP accumulation buys are skipped while they would keep it there. ` +
        'Review the treasury mix; no action is needed for the limit to hold.',
      { pumpConcentration: c, threshold: params.maxPumpConcentration }));
  }

  const level = obs.healthLevel ?? prev.healthLevel;
  if (obs.healthLevel !== null && prev.healthLevel !== null && healthRank(obs.healthLevel) > healthRank(prev.healthLevel)) {
    alerts.push(alert('health-improved',
      `Treasury health improved from ${prev.healthLevel} to ${obs.healthLevel}. No action needed.`,
      { from: prev.healthLevel, to: obs.healthLevel }));
  }

  // A source that starts failing is a warning, once until it answers again (the cycle still has the others).
  // Refused credentials are critical and said as such: the source will not come back by itself, and the
  // consensus quietly runs on fewer sources (at the floor, one more failure and there is no price at all).
  const failing = obs.failedSources ?? [];
  const auth = failing.filter(isAuthRefusal);
  for (const f of auth) {
    if ((prev.authFailingSources ?? []).includes(f.source)) continue;
    alerts.push(oracleAuthAlert(f.source, f.status as number, f.error));
  }
  for (const f of failing) {
    if (isAuthRefusal(f) || (prev.failingSources ?? []).includes(f.source)) continue;
    alerts.push(alert('oracle-source-failing',
      `Oracle source ${f.source} could not be read: ${f.error}. The consensus uses the remaining sources; with fewer than the required agreeing sources there is no valid price. Check the ${f.source} endpoint and its credentials.`,
      { source: f.source, error: f.error }));
  }

  return {
    alerts,
    state: {
      noValidPriceStreak, rrBand, concentrationHigh, healthLevel: level, failingSources: failing.map((f) => f.source),
      ...(auth.length || prev.authFailingSources !== undefined ? { authFailingSources: auth.map((f) => f.source) } : {}),
    },
  };
}

/**
 * An oracle that answered 401/403: its API key is missing, wrong or expired (Pyth Hermes needs one since
 * 31 July 2026). Critical: the source stays out of the consensus until the key is fixed.
 */
export function oracleAuthAlert(source: string, status: number, error: string): Alert {
  return alert('oracle-auth',
    `Oracle source ${source} refused our credentials (HTTP ${status}): ${error}. It is left out of the consensus until this is fixed, ` +
      'so the price rests on fewer sources (with fewer than the required agreeing sources there is no valid price and no intervention). ' +
      'Check its API key: for Pyth Hermes, oracle.pyth.apiKey names the environment variable holding the key ({ "env": "NAME" }); set it in the worker\'s environment and restart the worker.',
    { source, status, error });
}

export function swapFailedAlert(interventionId: string, error: string): Alert {
  return alert('swap-failed',
    `Swap for intervention ${interventionId} failed: ${error}. ` +
      'Check the intervention record and the treasury wallet balances to confirm what moved before approving any retry.',
    { interventionId, error });
}

/**
 * Propose-only: the intervention gave up waiting on its multisig proposal,
 * but the proposal may still be executable on chain. Names it, says what the
 * agent's key did, and what the members must do; the agent keeps counting it
 * as an intervention in flight until the chain shows it dead or executed.
 */
export function proposalAbandonedAlert(
  interventionId: string,
  p: { proposal: string; transactionIndex: string | null; state: string; why: string; action: string; membersMust: string },
): Alert {
  return alert('proposal-abandoned',
    `Intervention ${interventionId} gave up on multisig proposal ${p.proposal} (#${p.transactionIndex ?? '?'}, ${p.state}): ${p.why}. ` +
      `The agent's key: ${p.action}. Members: ${p.membersMust}. Until the chain shows it rejected, cancelled, stale or executed, no new intervention starts.`,
    { interventionId, proposal: p.proposal, transactionIndex: p.transactionIndex, state: p.state, action: p.action });
}

/**
 * A swap slice that could not run at all (its activity failed after its
 * retries, or hit a deterministic error): the swap stopped there. Says what
 * moved before it, so the operator knows what to check on chain.
 */
export function swapSliceFailedAlert(interventionId: string, s: { slice: number; error: string; moved: string }): Alert {
  return alert('swap-failed',
    `Swap for intervention ${interventionId} stopped: slice ${s.slice} could not run (${s.error}). Before it: ${s.moved}. ` +
      `The intervention ended without further slices. Check the swap record of slice ${s.slice} and the treasury wallet balances to confirm what moved.`,
    { interventionId, slice: s.slice, error: s.error, moved: s.moved });
}

/**
 * The reconciler found the books (intervention rows, swap records) and the
 * ledger or chain disagreeing, or a row it could not close: money may have
 * moved without a record, or a record claims a move that did not happen.
 */
export function booksMismatchAlert(treasuryId: string, findings: readonly string[]): Alert {
  return alert('books-mismatch',
    `Reconciliation of ${treasuryId} found ${findings.length} mismatch(es) between the books and the ledger or chain: ${findings.join('; ')}. ` +
      'Check the named interventions\' swap records against the wallet before any new intervention.',
    { treasuryId, findings: [...findings] });
}

/**
 * An intervention that moved nothing because even its smallest slice was
 * quoted below the SPEC §5 floor (consensus-implied output × (1 − maxSlippage)):
 * the pool is too thin or off the oracles' price. A warning, not critical: the
 * guard did its job and the treasury is unchanged.
 */
export function swapQuoteOutOfBoundAlert(
  interventionId: string,
  q: { pumpIn: string; quotedPstr: string; floorPstr: string; maxSlippage: number },
): Alert {
  return alert('swap-quote-out-of-bound',
    `Intervention ${interventionId} aborted, nothing moved: the best quote for ${q.pumpIn} PUMP was ${q.quotedPstr} PSTR, below the floor of ` +
      `${q.floorPstr} PSTR set by the oracle consensus and the ${(q.maxSlippage * 100).toFixed(2)} % slippage bound. ` +
      'Check the pool\'s depth and price against the oracles; the next trigger will try again.',
    { interventionId, ...q });
}

/**
 * An intervention refused to size or swap because the PUMP or SOL price had
 * fewer agreeing sources than SPEC §2 needs (src/domain/market-consensus.ts):
 * nothing moved at that point (`moved` says what earlier slices did). Critical: a price feed is wrong or gone, and no trade can be
 * bounded until it is back.
 */
export function priceConsensusAlert(
  interventionId: string,
  p: { stage: string; reason: string; assets: readonly string[]; outliers: readonly string[]; moved?: string },
): Alert {
  const moved = p.moved === undefined ? 'with nothing moved' : `(before it: ${p.moved})`;
  return alert('price-consensus',
    `Intervention ${interventionId} stopped at ${p.stage} ${moved}: ${p.reason}. ` +
      'No size and no slippage floor are taken from an unconfirmed price. Check the PUMP and SOL sources (Pyth and the Jupiter quote) against each other.',
    { interventionId, stage: p.stage, reason: p.reason, assets: [...p.assets], outliers: [...p.outliers], moved: p.moved ?? null });
}

export function systemFailureAlert(component: string, error: string): Alert {
  return alert('system-failure',
    `${component} failed: ${error}. Its work is not being done until it recovers: check its logs and restart it once the cause is fixed.`,
    { component, error });
}

export function interventionExecutedAlert(i: { id: string; pumpSpent: string; pstrBought: string; usdValue: number; price: number }): Alert {
  return alert('intervention-executed',
    `Intervention ${i.id} executed: spent ${i.pumpSpent} PUMP ($${i.usdValue.toFixed(2)}) for ${i.pstrBought} PSTR at $${i.price}. ` +
      'Its price impact and ROI will be tracked at +1 h, +24 h and +7 days. No action needed.',
    { interventionId: i.id, pumpSpent: i.pumpSpent, pstrBought: i.pstrBought, usdValue: i.usdValue, price: i.price });
}

const KIND_LABEL: Readonly<Record<ProposalKind, string>> = {
  parameterAdjustment: 'Parameter Adjustment',
  treasuryStrategy: 'Treasury Strategy',
  protocolUpgrade: 'Protocol Upgrade',
  emergencyAction: 'Emergency Action',
};

const HOUR_MS = 3_600_000;

/**
 * SPEC §7: 'proposal-needs-votes' when a proposal opens (now === createdAt),
 * 'voting-deadline' once, the first time the deadline is within
 * `warningHours` and still ahead. A proposal whose whole voting period fits in
 * the window (Emergency Action: 24 h) gets both at creation.
 */
export function governanceAlerts(
  p: { id: string; kind: ProposalKind; createdAt: number; deadline: number; deadlineWarned: boolean },
  now: number,
  warningHours: number,
): { alerts: Alert[]; deadlineWarned: boolean } {
  if (!(p.deadline > p.createdAt)) throw new RangeError(`proposal ${p.id}: deadline ${p.deadline} must be after createdAt ${p.createdAt}`);
  if (!(warningHours > 0)) throw new RangeError(`warningHours must be > 0, got ${warningHours}`);
  const label = `proposal ${p.id} (${KIND_LABEL[p.kind]})`;
  const closes = new Date(p.deadline).toISOString();
  const alerts: Alert[] = [];
  if (now === p.createdAt) {
    alerts.push(alert('proposal-needs-votes',
      `New ${label} is open for voting until ${closes}: holders should review it and cast their votes.`,
      { proposalId: p.id, kind: p.kind, deadline: p.deadline }));
  }
  const remainingMs = p.deadline - now;
  const warnNow = !p.deadlineWarned && remainingMs > 0 && remainingMs <= warningHours * HOUR_MS;
  if (warnNow) {
    alerts.push(alert('voting-deadline',
      `Voting on ${label} closes in ${(remainingMs / HOUR_MS).toFixed(1)} h (${closes}): holders who have not voted should vote now.`,
      { proposalId: p.id, kind: p.kind, deadline: p.deadline, hoursLeft: remainingMs / HOUR_MS }));
  }
  return { alerts, deadlineWarned: p.deadlineWarned || warnNow };
}

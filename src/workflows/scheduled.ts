/**
 * The scheduled jobs, each a short workflow started by a Temporal Schedule
 * (visible and pausable in the UI): hourly accumulation, daily liquidity
 * rebalance, 6-hourly performance report, 2-hourly risk assessment. Each asks
 * the domain for the decision and writes its result to the store.
 */
import { ActivityFailure, log, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { raiseAlerts } from './alerts.ts';
import type { Config } from '../config-schema.ts';
import { decideRebalance, positionValue } from '../domain/liquidity.ts';
import { NON_RETRYABLE_SWAP_ERRORS } from '../domain/settle.ts';
import { slippageFloor } from '../domain/swap.ts';
import { decideAccumulation } from '../domain/treasury.ts';
import { systemFailureAlert } from '../domain/alerts.ts';
import { consensusOf, stateOf } from './monitor-cycle.ts';
import { checkInput } from './inputs.ts';
import { jobInputSchema } from './messages.ts';
import { operatorReport } from './report.ts';
import type { OperatorFigures } from '../report/figures.ts';
import type { MarketObservation } from './contract.ts';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/**
 * The hourly buy waits on the chain: the executor confirms each transaction
 * for up to confirmTimeoutMs (120 s) and builds at most maxAttempts (3), so one
 * attempt may need ~6 minutes; 10 minutes keeps Temporal from retrying a live
 * attempt. The executor heartbeats every poll (≈ 0.5 s), so a dead or wedged
 * worker's attempt is retried elsewhere after 20 s of silence; the retry
 * resumes the same record in the shared money journal, never a second buy.
 */
export const ACCUMULATE_ACTIVITY_OPTIONS = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_SWAP_ERRORS] },
} satisfies ActivityOptions;
const buyActs = proxyActivities<Activities>(ACCUMULATE_ACTIVITY_OPTIONS);

export interface JobInput {
  config: Config;
}

const hourKey = (t: number) => new Date(t).toISOString().slice(0, 13);

/**
 * Hourly: buy dailyBudget/24 of PUMP with USDC unless paused, stopped, short of
 * USDC or too concentrated (SPEC §3). Fails closed on its own: it reads the
 * latch and RR itself, skips when the pause/stop state cannot be told, and an
 * activity failure is a recorded skip with an alert, never a failed job.
 */
export async function accumulationJob(input: JobInput): Promise<{ bought: boolean; reason: string }> {
  const { config } = checkInput(jobInputSchema, input, 'accumulationJob');
  const treasuryId = config.treasuryId;
  const started = Date.now();
  const skip = async (reason: string, alert: boolean) => {
    if (alert) await bestEffort(() => raiseAlerts(treasuryId, `accumulation/${treasuryId}/${hourKey(started)}`, started, [systemFailureAlert('hourly accumulation', reason)]));
    await bestEffort(() => acts.recordJobResult({ treasuryId, job: 'accumulation', runKey: hourKey(started), at: started, data: { bought: false, reason, skip: 'failure' } }));
    return { bought: false, reason };
  };
  let control: Awaited<ReturnType<Activities['controlState']>>;
  let obs: MarketObservation;
  try {
    control = await acts.controlState({ treasuryId });
    obs = await acts.observeMarket({ treasuryId });
  } catch (err) {
    return skip(`skipped: ${failureText(err)}`, true);
  }
  const now = Date.now();
  const consensus = consensusOf(obs, now, config);
  const key = `accumulation/${treasuryId}/${hourKey(now)}`;
  if (!consensus.ok) {
    await bestEffort(() => acts.recordJobResult({ treasuryId, job: 'accumulation', runKey: hourKey(now), at: now, data: { bought: false, reason: `no valid price: ${consensus.reason}` } }));
    return { bought: false, reason: `no valid price: ${consensus.reason}` };
  }
  const state = stateOf(obs, consensus.price, config);
  const t = config.tokens;
  const holdings = {
    pump: { raw: BigInt(obs.balances.pump), decimals: t.pump.decimals }, usdc: { raw: BigInt(obs.balances.usdc), decimals: t.usdc.decimals },
    sol: { raw: BigInt(obs.balances.sol), decimals: t.sol.decimals }, pstrRetired: { raw: BigInt(obs.balances.pstrRetired), decimals: t.pstr.decimals },
    lpValueUsd: obs.balances.lpValueUsd,
  };
  const known = controlKnown(control);
  const d = decideAccumulation({
    holdings, state, prices: { pstr: consensus.price, pump: obs.pumpPrice, sol: obs.solPrice }, paused: control.paused, emergencyStop: control.emergencyStop,
    controlKnown: known.known, controlReason: known.reason,
  }, config);
  let result = { bought: false, reason: d.reason };
  if (d.buy) {
    // Accept a fill at most maxSlippage below the PUMP the budget buys at the observed price.
    const minPumpOut = slippageFloor(d.pumpOut.raw, config.risk.maxSlippage);
    try {
      const r = await buyActs.accumulate({ treasuryId, key, usdcIn: d.usdcIn.raw.toString(), minPumpOut: minPumpOut.toString() });
      result = { bought: true, reason: r.applied ? d.reason : `${d.reason} (already done this hour)` };
    } catch (err) {
      // Keyed by the hour: a later run of the same hour finds it done if it did move.
      return skip(`buy failed: ${failureText(err)}`, true);
    }
  }
  await bestEffort(() => acts.recordJobResult({ treasuryId, job: 'accumulation', runKey: hourKey(now), at: now, data: { ...result, skip: d.buy ? null : d.skip, running: control.running } }));
  return result;
}

/**
 * Whether controlState could tell the pause/stop flags: its fail-closed flag
 * when it has one (the store-backed reader), else whether a monitor answered
 * (the monitor-only reader cannot tell without one).
 */
function controlKnown(c: { running: boolean; failClosed?: boolean; reason?: string | null }): { known: boolean; reason: string | null } {
  if (c.failClosed !== undefined) return { known: !c.failClosed, reason: c.reason ?? null };
  return c.running ? { known: true, reason: null } : { known: false, reason: 'no monitor answered' };
}

function failureText(err: unknown): string {
  if (err instanceof ActivityFailure) return `${err.activityType ?? 'activity'} failed: ${err.cause?.message ?? err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** Recording and alerting are best effort here: the job must end with its result, not fail. */
async function bestEffort(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    log.error('accumulation: could not record or alert', { error: failureText(err) });
  }
}

/** Every 2 hours: VaR95/ES95 over 90 days of today's holdings, and PSTR's 30-day volatility level (SPEC §7), as the operator report computes them. */
export async function riskAssessmentJob(input: JobInput): Promise<OperatorFigures['risk']> {
  const { config } = checkInput(jobInputSchema, input, 'riskAssessmentJob');
  const report = await operatorReport({ config, days: 1 });
  const now = Date.now();
  await acts.recordJobResult({ treasuryId: config.treasuryId, job: 'risk', runKey: hourKey(now), at: now, data: report.figures.risk });
  return report.figures.risk;
}

/** Every 6 hours: success rate, 30-day compound growth, Sharpe, max drawdown. */
export async function performanceReportJob(input: JobInput): Promise<OperatorFigures> {
  const { config } = checkInput(jobInputSchema, input, 'performanceReportJob');
  // The same figures as `client.ts report`: success rate, 30-day growth, Sharpe, max drawdown, VaR/ES, trends, oracle deviation, accumulation, liquidity.
  const report = await operatorReport({ config });
  const now = Date.now();
  await acts.recordJobResult({ treasuryId: config.treasuryId, job: 'performance', runKey: hourKey(now), at: now, data: { from: report.from, to: report.to, figures: report.figures } });
  return report.figures;
}

/** Daily: re-center any pool whose price drifted more than 15 % from its range center (SPEC §8). */
export async function liquidityRebalanceJob(input: JobInput): Promise<unknown> {
  const { config } = checkInput(jobInputSchema, input, 'liquidityRebalanceJob');
  const treasuryId = config.treasuryId;
  const { positions } = await acts.liquidityPositions();
  const obs = await acts.observeMarket({ treasuryId });
  const now = Date.now();
  const consensus = consensusOf(obs, now, config);
  if (!consensus.ok) {
    await raiseAlerts(treasuryId, `liquidity/${treasuryId}/${hourKey(now)}`, now, [systemFailureAlert('liquidity rebalance', `no valid price: ${consensus.reason}`)]);
    return { rebalanced: [], reason: consensus.reason };
  }
  const l = config.liquidity;
  const results = [];
  for (const p of positions) {
    const price = consensus.price / (p.quote === 'SOL' ? obs.solPrice : 1);
    const d = decideRebalance({ center: p.center, price, lastRebalanceAt: p.lastRebalanceAt, now }, { width: l.rangeWidth, threshold: l.rebalanceThreshold, minIntervalHours: l.minRebalanceIntervalHours });
    const applied = d.rebalance ? (await acts.rebalancePosition({ pool: p.pool, range: d.newRange, at: now })).applied : false;
    results.push({ pool: p.pool, rebalance: d.rebalance, applied, reason: d.reason, valueQuote: positionValue(p.liquidity, p, price) });
  }
  await acts.recordJobResult({ treasuryId, job: 'liquidity', runKey: hourKey(now), at: now, data: { results } });
  return { results, state: stateOf(obs, consensus.price, config).lpValueUsd };
}

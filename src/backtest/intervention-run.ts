/**
 * One intervention inside a backtest: the production lifecycle
 * (src/programs/intervention.ts, the lines the Temporal workflow runs) bound
 * to the backtest's world. Its market is the price-file row at virtual time,
 * quotes and fills come from the model pool (constant product at
 * `backtest.poolDepthUsd`, or the row price without one), and a scripted
 * operator signs the published plan with test keys as soon as it appears, so
 * it counts once the timelock allows. Validate, assess, the recheck after the
 * wait (against the decision's VWAP), the gates before every slice, the
 * halving of a slice against quotes and the wait of a cycle between slices
 * are the production code's.
 */
import type { GateContextResult, WireSwapRequest, WireSwapResult } from '../activities/intervention.ts';
import type { Config } from '../config-schema.ts';
import { amount, formatAmount, toTokens } from '../domain/amount.ts';
import type { ConsensusResult } from '../domain/consensus.ts';
import type { InterventionDecision } from '../domain/intervention.ts';
import { planMessage, publicKeyOf, signMessage } from '../domain/operator-message.ts';
import { constantProductOut, impliedOutput, poolReserves } from '../domain/swap.ts';
import { startInterventionSession, type InterventionPorts, type InterventionSession } from '../programs/intervention.ts';
import type { FinalInterventionStatus, MarketObservation, StepRecord } from '../workflows/contract.ts';
import type { Scheduler } from './scheduler.ts';
import type { InterventionRecord } from './types.ts';

/** The row at virtual time, as the backtest's interventions see it. */
export interface RowMarket {
  readonly t: number;
  readonly pstr: number;
  readonly pump: number;
  readonly vwap: number | null;
}

/** What a run needs from the backtest that holds it. */
export interface BacktestWorld {
  readonly scheduler: Scheduler;
  market(): RowMarket;
  observation(): MarketObservation;
  consensus(obs: MarketObservation, now: number): ConsensusResult;
  gateContext(excludeId: string): GateContextResult;
  /** Moves PUMP out and PSTR in (retired). */
  settleFill(pumpIn: bigint, pstrOut: bigint): void;
  /** The monitor's side of the settle signal: the in-flight list and the cooldown. */
  settled(e: { interventionId: string; status: FinalInterventionStatus; executedAt: number | null }): void;
}

const iso = (t: number) => new Date(t).toISOString();

/**
 * Scripted operators (the backtest's and the simulation's): as many as approvals are required, each with a fixed test
 * key, listed as the only operators; the plans they sign are verified as live. Fixed seeds: a run is repeatable, and
 * the keys are test keys, never a person's.
 */
export function scriptedOperators(config: Config, opts: { name: string; seedBase: number } = { name: 'backtest-operator', seedBase: 0 }): { config: Config; seeds: Map<string, Uint8Array> } {
  const seeds = new Map<string, Uint8Array>();
  for (let i = 0; i < config.intervention.approvalsRequired; i++) seeds.set(`${opts.name}-${i + 1}`, new Uint8Array(32).fill(opts.seedBase + i + 1));
  const operatorKeys = Object.fromEntries([...seeds].map(([name, seed]) => [name, publicKeyOf(seed)]));
  return { config: { ...config, intervention: { ...config.intervention, operators: [...seeds.keys()], operatorKeys } }, seeds };
}

export class InterventionRun {
  readonly id: string;
  readonly startedAt: number;
  private readonly session: InterventionSession;
  private readonly steps: StepRecord[] = [];
  private settledAs: { status: FinalInterventionStatus; executedAt: number | null } | null = null;
  private usdValue = 0;
  private signedRevision = 0;

  constructor(
    seq: number,
    private readonly config: Config,
    private readonly decision: InterventionDecision,
    private readonly decided: RowMarket & { consensus: ConsensusResult },
    private readonly world: BacktestWorld,
    private readonly operators: Map<string, Uint8Array>,
  ) {
    this.id = `intervention/${config.treasuryId}/${seq}`;
    this.startedAt = decided.t;
    this.session = startInterventionSession({
      id: this.id, treasuryId: config.treasuryId, seq, config, decidedInCycle: `${config.treasuryId}/backtest`, decision,
      consensus: decided.consensus, vwap30: decided.vwap ?? 0, startedAt: decided.t,
    }, world.scheduler.env, this.ports());
  }

  /** Runs the lifecycle until it first waits (validate, assess and size happen at the deciding row). */
  start(): void {
    this.world.scheduler.spawn(this.session.program);
  }

  /** Until it settles with the monitor: counted in flight by the gates. */
  get inFlight(): boolean {
    return this.settledAs === null;
  }

  /** The moment its swap completed, for the cooldown; null unless something moved. */
  get swapCompletedAt(): number | null {
    return this.settledAs?.executedAt ?? null;
  }

  get outcome(): { executed: boolean; roi7d: number | null } {
    const last = this.config.intervention.trackHorizonsHours.at(-1) ?? 168;
    return { executed: this.session.state.status === 'executed', roi7d: this.session.state.roi[`${last}h`] ?? null };
  }

  /** The step records, as the workflow writes them (for diagnostics: the first diverging step of a differential run). */
  get recordedSteps(): readonly StepRecord[] {
    return this.steps;
  }

  /** The scripted operator: signs each new plan revision as every operator while the intervention is in its timelock. */
  operate(): void {
    const st = this.session.state;
    const plan = st.plan;
    if (st.stage !== 'timelock' || !plan || plan.revision === this.signedRevision) return;
    this.signedRevision = plan.revision;
    for (const [name, seed] of this.operators) {
      const signed = signMessage(planMessage(plan, 'approve', name, 'backtest: approved when the timelock allows'), seed);
      this.session.decide('approve', { operator: name, message: signed.message, signature: signed.signature });
    }
    this.world.scheduler.notify();
  }

  private ports(): InterventionPorts {
    const w = this.world;
    return {
      observe: () => w.observation(),
      consensus: (obs, now) => w.consensus(obs, now),
      recordStep: (step) => void this.steps.push(step),
      save: () => undefined,
      gateContext: () => w.gateContext(this.id),
      quote: (pumpIn) => this.poolOut(BigInt(pumpIn)).toString(),
      executeSlice: (request) => this.fill(request),
      raiseAlerts: () => undefined,
      settleWithMonitor: (e) => {
        this.settledAs = { status: e.status, executedAt: e.executedAt };
        w.settled(e);
      },
    };
  }

  /** The model pool's output now: constant product at the configured depth, or the row price without a pool model. */
  private poolOut(pumpIn: bigint): bigint {
    const m = this.world.market();
    const d = { pump: this.config.tokens.pump.decimals, pstr: this.config.tokens.pstr.decimals };
    const depth = this.config.backtest.poolDepthUsd;
    if (depth === undefined) return impliedOutput(amount('PUMP', pumpIn, d.pump), m.pump, m.pstr, d.pstr).raw;
    const reserves = poolReserves(depth, m.pump, m.pstr, d.pump, d.pstr);
    return constantProductOut(pumpIn, reserves.pump, reserves.pstr);
  }

  /** A fill at the pool's price, refused below the request's minimum (as the executor refuses it). */
  private fill(request: WireSwapRequest): WireSwapResult {
    const pumpIn = BigInt(request.pumpIn);
    const out = this.poolOut(pumpIn);
    const reference = `${this.id}/slice/${request.slice}`;
    if (out < BigInt(request.minPstrOut)) {
      return { status: 'failed', pumpIn: '0', pstrOut: '0', reference, alreadyDone: false, error: `the pool gives ${out} < the minimum ${request.minPstrOut}` };
    }
    this.world.settleFill(pumpIn, out);
    this.usdValue += toTokens({ raw: pumpIn, decimals: this.config.tokens.pump.decimals }) * this.world.market().pump;
    return { status: 'confirmed', pumpIn: pumpIn.toString(), pstrOut: out.toString(), reference, alreadyDone: false, error: null };
  }

  record(): InterventionRecord {
    const st = this.session.state;
    const pump = this.config.tokens.pump.decimals;
    const pstr = this.config.tokens.pstr.decimals;
    const result = st.result;
    // A run still waiting when the data ends never reached a verdict: it counts as expired.
    const running = st.status === 'running';
    const executed = st.status === 'executed';
    const roi = executed ? Object.fromEntries(this.config.intervention.trackHorizonsHours.map((h) => [`${h}h`, st.roi[`${h}h`] ?? null])) : {};
    return {
      decidedAt: iso(this.startedAt),
      executedAt: this.settledAs?.executedAt == null ? null : iso(this.settledAs.executedAt),
      status: st.status === 'running' ? 'expired' : st.status,
      price: this.decided.pstr,
      vwap30: this.decided.vwap ?? Number.NaN,
      drawdown: this.decision.drawdown ?? Number.NaN,
      tier: st.tier ?? this.decision.tier?.tier ?? 0,
      fraction: st.fraction ?? this.decision.fraction,
      pumpSpent: formatAmount({ raw: BigInt(result?.pumpSpent ?? '0'), decimals: pump }),
      pstrBought: formatAmount({ raw: BigInt(result?.pstrBought ?? '0'), decimals: pstr }),
      usdValue: this.usdValue,
      reason: running ? 'the price data ended before the intervention finished' : (st.reason ?? ''),
      slippage: result?.slippage ?? null,
      unfilledPump: formatAmount({ raw: executed ? BigInt(result?.unfilledPump ?? '0') : 0n, decimals: pump }),
      roi,
    };
  }
}

/**
 * StrategyMonitor: one per treasury (id `monitor/<treasuryId>`). Every
 * cycle: observe → consensus → record the sample (VWAP back) → state, health,
 * decision → start an intervention when due → log the cycle. Operators
 * pause, resume, stop and reconfigure it by signal or update; it continues
 * as new before its history grows large, carrying its memory and cycle count.
 */
import {
  ActivityFailure, ApplicationFailure, ParentClosePolicy, WorkflowIdReusePolicy, allHandlersFinished, condition, continueAsNew,
  getExternalWorkflowHandle, proxyActivities, setHandler, startChild, workflowInfo, log,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { ConfigError, mergeConfig, type Config } from '../config-schema.ts';
import { INITIAL_ALERT_STATE } from '../domain/alerts.ts';
import { HOUR_MS, resumeVerdict } from '../domain/intervention.ts';
import {
  cancelInterventionSignal, configQuery, emergencyStopSignal, healthQuery, interventionSettledSignal, interventionWorkflowId, pauseSignal,
  resumeSignal, statusQuery, updateConfigSignal, updateConfigUpdate, wakeSignal, type CycleSummary, type MonitorHealth, type MonitorStatus,
  type OperatorAction, type OperatorEvent,
} from './contract.ts';
import { intervention } from './intervention.ts';
import { deliverInBackground } from './alerts.ts';
import { consensusOf, decideCycle, unobservedConsensus, type MonitorMemory } from './monitor-cycle.ts';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/** Keeps a run's history to a few thousand events (about 20 a cycle), under the server's 4,096-event suggestion. */
export const CYCLES_PER_RUN = 150;

export interface MonitorState extends MonitorMemory {
  config: Config;
  cycles: number;
  nextSeq: number;
  lastCycle: CycleSummary | null;
  health: MonitorHealth;
  lastReserveRatio: number | null;
  noValidPriceStreak: number;
  operatorEvents: OperatorEvent[];
  wake: boolean;
  undeliveredCritical: MonitorStatus['undeliveredCritical'];
}

export interface MonitorInput {
  config: Config;
  /** Carried across continue-as-new. */
  state?: MonitorState;
  /** Cycles per run before continuing as new (default 150); tests use a small number. */
  cyclesPerRun?: number;
}

export function initialMonitorState(config: Config): MonitorState {
  return {
    config, paused: false, emergencyStop: false, lastExecutedSwapAt: null, interventionStarts: [], inFlight: [],
    alertState: INITIAL_ALERT_STATE, cycles: 0, nextSeq: 1, lastCycle: null,
    health: { score: null, level: null, reserveRatio: null, interventionCapacity: null, diversification: null, at: null },
    lastReserveRatio: null, noValidPriceStreak: 0, operatorEvents: [], wake: false, undeliveredCritical: { count: 0, oldest: null },
  };
}

export async function strategyMonitor(input: MonitorInput): Promise<void> {
  const s: MonitorState = input.state ?? initialMonitorState(input.config);
  const treasuryId = s.config.treasuryId;

  const note = (action: string, a: OperatorAction, accepted: boolean, detail: string) => {
    s.operatorEvents = [...s.operatorEvents, { at: Date.now(), action, by: a.by ?? null, reason: a.reason ?? null, accepted, detail }].slice(-20);
    log.info(`operator ${action}`, { treasuryId, by: a.by, accepted, detail });
  };

  setHandler(pauseSignal, (a) => {
    s.paused = true;
    note('pause', a, true, 'paused: no interventions or accumulation until resume');
  });
  setHandler(emergencyStopSignal, (a) => {
    s.emergencyStop = true;
    note('emergencyStop', a, true, 'emergency stop latched by an operator');
  });
  setHandler(resumeSignal, (a) => {
    if (s.emergencyStop) {
      const v = resumeVerdict(s.lastReserveRatio, s.config.risk.minRrThreshold);
      if (!v.ok) return note('resume', a, false, `refused: ${v.reason}`);
      s.emergencyStop = false;
    }
    s.paused = false;
    note('resume', a, true, 'resumed');
  });
  const applyConfig = (patch: unknown, a: OperatorAction): Config => {
    s.config = mergeConfig(s.config, patch, 'updateConfig');
    note('updateConfig', a, true, JSON.stringify(patch));
    s.wake = true;
    return s.config;
  };
  setHandler(updateConfigUpdate, ({ patch, ...a }) => applyConfig(patch, a), {
    validator: ({ patch }) => {
      try {
        const next = mergeConfig(s.config, patch, 'updateConfig');
        if (next.treasuryId !== s.config.treasuryId) throw new ConfigError('updateConfig', ['treasuryId cannot change on a running monitor']);
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidConfig');
      }
    },
  });
  setHandler(updateConfigSignal, ({ patch, ...a }) => {
    try {
      applyConfig(patch, a);
    } catch (err) {
      note('updateConfig', a, false, `refused: ${(err as Error).message}`);
    }
  });
  setHandler(wakeSignal, ({ reason }) => {
    log.info('woken for an early cycle', { treasuryId, reason });
    s.wake = true;
  });
  setHandler(interventionSettledSignal, (e) => {
    s.inFlight = s.inFlight.filter((id) => id !== e.interventionId);
    // Any settlement that moved PUMP (executed, or aborted after a partial fill) starts the cooldown.
    if (e.executedAt !== null && (s.lastExecutedSwapAt === null || e.executedAt > s.lastExecutedSwapAt)) {
      s.lastExecutedSwapAt = e.executedAt;
    }
  });
  setHandler(cancelInterventionSignal, async ({ interventionId, ...a }) => {
    note('cancelIntervention', a, true, interventionId);
    await getExternalWorkflowHandle(interventionId).cancel();
  });
  setHandler(statusQuery, (): MonitorStatus => ({
    treasuryId, mode: s.config.mode, paused: s.paused, emergencyStop: s.emergencyStop, cycles: s.cycles, lastCycle: s.lastCycle,
    pendingInterventions: [...s.inFlight], interventionCount: s.nextSeq - 1, lastExecutedSwapAt: s.lastExecutedSwapAt,
    noValidPriceStreak: s.noValidPriceStreak, recentOperatorEvents: s.operatorEvents, cycleIntervalSeconds: s.config.monitor.cycleIntervalSeconds,
    undeliveredCritical: s.undeliveredCritical ?? { count: 0, oldest: null },
  }));
  setHandler(healthQuery, () => s.health);
  setHandler(configQuery, () => s.config);

  for (let cyclesThisRun = 0; ; cyclesThisRun++) {
    const started = Date.now();
    await runCycle(s);
    s.wake = false;
    const next = started + s.config.monitor.cycleIntervalSeconds * 1000;
    await condition(() => s.wake, Math.max(1, next - Date.now()));
    if (cyclesThisRun + 1 >= (input.cyclesPerRun ?? CYCLES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof strategyMonitor>({ config: s.config, state: { ...s, wake: false }, ...(input.cyclesPerRun ? { cyclesPerRun: input.cyclesPerRun } : {}) });
    }
  }
}

async function runCycle(s: MonitorState): Promise<void> {
  const { config } = s;
  const treasuryId = config.treasuryId;
  const cycleId = `${treasuryId}/${s.cycles + 1}`;
  // A market that cannot be observed at all (every source and price feed down) is a cycle with no valid price, not the monitor's end.
  const obs = await acts.observeMarket({ treasuryId }).catch((err: unknown) => {
    if (err instanceof ActivityFailure) return null;
    throw err;
  });
  const now = Date.now();
  const consensus = obs ? consensusOf(obs, now, config) : unobservedConsensus('observeMarket failed after its retries');
  const vwap = consensus.ok && obs
    ? await acts.recordSample({
      treasuryId, cycleId, at: now, pstrPrice: consensus.price, volumeUsd: obs.volumeUsd, pumpPrice: obs.pumpPrice,
      solPrice: obs.solPrice, consensus, vwapWindowDays: config.strategy.vwapWindowDays,
    })
    : null;
  // Only starts of the trailing window matter to the daily-limit gate.
  s.interventionStarts = s.interventionStarts.filter((t) => t > now - 48 * HOUR_MS);
  const v = decideCycle(cycleId, now, obs, consensus, vwap, s, config);
  s.cycles += 1;
  s.emergencyStop = v.emergency.latched;
  s.alertState = v.alertState;
  s.noValidPriceStreak = v.alertState.noValidPriceStreak;
  if (v.state) {
    s.lastReserveRatio = v.state.reserveRatio;
    s.health = {
      score: v.summary.health, level: v.summary.healthLevel, reserveRatio: v.state.reserveRatio,
      interventionCapacity: v.state.interventionCapacity, diversification: null, at: now,
    };
  }
  let summary = v.summary;
  if (v.decision?.intervene) {
    const seq = s.nextSeq;
    const id = interventionWorkflowId(treasuryId, seq);
    // The deterministic id makes a second start of the same intervention impossible.
    await startChild(intervention, {
      workflowId: id,
      args: [{ treasuryId, seq, config, decidedInCycle: cycleId, decision: v.decision, consensus, vwap30: vwap?.vwap ?? 0, startedAt: now }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    s.nextSeq += 1;
    s.inFlight = [...s.inFlight, id];
    s.interventionStarts = [...s.interventionStarts, now];
    summary = { ...summary, startedIntervention: id };
  }
  s.lastCycle = summary;
  const recorded = await acts.recordCycle({
    treasuryId,
    cycle: { summary, balances: obs?.balances ?? null, consensus, decision: v.decision, emergency: v.emergency, alerts: v.alerts.map((a) => ({ level: a.level, kind: a.kind, message: a.message, data: a.data })) },
  });
  // Histories recorded before recordCycle reported this carry no result.
  if (recorded?.undeliveredCritical) s.undeliveredCritical = recorded.undeliveredCritical;
  await deliverInBackground(treasuryId, cycleId, now, v.alerts);
}

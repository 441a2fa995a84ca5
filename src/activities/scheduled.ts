/** Activities of the scheduled jobs: accumulation, risk, performance, liquidity. Rules stay in the workflows' domain calls. */
import { toTokens } from '../domain/amount.ts';
import type { PositionView } from '../ports.ts';
import { serverClock, type ActivityDeps } from './deps.ts';

const DAY = 86_400_000;

export interface DailyClose {
  day: string;
  pstr: number;
  pump: number;
  sol: number | null;
}

export interface InterventionOutcomeRow {
  id: string;
  status: string;
  startedAt: number;
  executedAt: number | null;
  usdValue: number | null;
  roi7d: number | null;
}

export function scheduledActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    async controlState(input: { treasuryId: string }): Promise<{ running: boolean; paused: boolean; emergencyStop: boolean; at: number }> {
      const s = await deps.monitorStatus(input.treasuryId);
      return { running: s !== null, paused: s?.paused ?? false, emergencyStop: s?.emergencyStop ?? false, at: serverClock() };
    },

    /** One hourly buy, at most once per key whatever retries happen. */
    async accumulate(input: { treasuryId: string; key: string; usdcIn: string; minPumpOut: string }): Promise<{ applied: boolean; pumpOut: string; usdcIn: string }> {
      const r = await deps.treasury.accumulate({ key: input.key, usdcIn: BigInt(input.usdcIn), minPumpOut: BigInt(input.minPumpOut) });
      // USDC counted at 1 USD.
      if (r.applied) deps.metrics?.accumulated(input.treasuryId, toTokens({ raw: r.usdcIn, decimals: deps.config.tokens.usdc.decimals }));
      deps.logger.info({ treasuryId: input.treasuryId, key: input.key, applied: r.applied }, 'accumulation');
      return { applied: r.applied, pumpOut: r.pumpOut.toString(), usdcIn: r.usdcIn.toString() };
    },

    /** The last sample of each UTC day over the lookback: what risk and volatility are computed from. */
    async dailyCloses(input: { treasuryId: string; days: number }): Promise<DailyClose[]> {
      const now = serverClock();
      const rows = store.priceSamples(input.treasuryId, now - input.days * DAY, now);
      const byDay = new Map<string, DailyClose>();
      for (const r of rows) {
        const day = new Date(r.timestamp).toISOString().slice(0, 10);
        byDay.set(day, { day, pstr: r.pstrPrice, pump: r.pumpPrice, sol: r.solPrice });
      }
      return [...byDay.values()];
    },

    /** Treasury value at the end of each UTC day (from snapshots) and every intervention's outcome. */
    async performanceInputs(input: { treasuryId: string; days: number }): Promise<{ dailyValues: { day: string; value: number }[]; interventions: InterventionOutcomeRow[] }> {
      const now = serverClock();
      const values = new Map<string, number>();
      for (const s of store.snapshots(input.treasuryId, now - input.days * DAY, now)) values.set(new Date(s.at).toISOString().slice(0, 10), s.treasuryValueUsd);
      const interventions = store.interventions(input.treasuryId).map((i) => {
        const track = store.interventionSteps(i.id).filter((s) => s.step.startsWith('track:')).at(-1);
        const outcome = track?.outcome as { roi?: number | null } | undefined;
        return { id: i.id, status: i.status, startedAt: i.startedAt, executedAt: i.executedAt, usdValue: i.usdValue, roi7d: track?.step === 'track:168h' ? (outcome?.roi ?? null) : null };
      });
      return { dailyValues: [...values].map(([day, value]) => ({ day, value })), interventions };
    },

    /** Stores a scheduled job's result, keyed by job and run so a retry writes it once. */
    async recordJobResult(input: { treasuryId: string; job: string; runKey: string; at: number; data: unknown }): Promise<void> {
      store.recordMonitoringLog({ treasuryId: input.treasuryId, cycleId: `${input.job}/${input.runKey}`, at: input.at, data: { job: input.job, ...(input.data as object) } });
      deps.logger.info({ treasuryId: input.treasuryId, job: input.job, runKey: input.runKey }, `${input.job} recorded`);
    },

    async liquidityPositions(): Promise<{ positions: PositionView[]; at: number }> {
      return { positions: deps.liquidity ? await deps.liquidity.positions() : [], at: serverClock() };
    },

    async rebalancePosition(input: { pool: string; range: { lower: number; upper: number; center: number }; at: number }): Promise<{ applied: boolean }> {
      if (!deps.liquidity) return { applied: false };
      return deps.liquidity.rebalance(input.pool, input.range, input.at);
    },
  };
}

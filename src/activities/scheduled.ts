/** Activities of the scheduled jobs: accumulation, risk, performance, liquidity. Rules stay in the workflows' domain calls. */
import { Context } from '@temporalio/activity';
import { toTokens } from '../domain/amount.ts';
import type { PositionView } from '../ports.ts';
import { readControlVerdict } from './control.ts';
import { serverClock, type ActivityDeps } from './deps.ts';
import { classifySwapError } from './intervention.ts';

/** Temporal's heartbeat for the running activity; undefined outside one (a direct call in a test or script). */
function activityHeartbeat(): ((details: Record<string, unknown>) => void) | undefined {
  try {
    const ctx = Context.current();
    return (details) => ctx.heartbeat(details);
  } catch {
    return undefined;
  }
}

export function scheduledActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /** The pause/stop flags for a scheduled job: the store's control record OR-ed with the live monitor; paused when neither can tell. */
    async controlState(input: { treasuryId: string }): Promise<{ running: boolean; paused: boolean; emergencyStop: boolean; at: number; failClosed: boolean; reason: string | null }> {
      const c = await readControlVerdict(deps, input.treasuryId);
      return { running: c.monitorRunning, paused: c.paused, emergencyStop: c.emergencyStop, at: serverClock(), failClosed: c.failClosed, reason: c.reason };
    },

    /**
     * One hourly buy, at most once per key whatever retries happen, on whichever worker (the journal is in the
     * shared store). Heartbeats with the executor's progress every poll, so a dead worker's attempt is retried
     * within the heartbeat timeout; a deterministic failure (needs-reconciliation among them) is not retried.
     */
    async accumulate(input: { treasuryId: string; key: string; usdcIn: string; minPumpOut: string }): Promise<{ applied: boolean; pumpOut: string; usdcIn: string }> {
      const heartbeat = activityHeartbeat();
      let r: Awaited<ReturnType<ActivityDeps['treasury']['accumulate']>>;
      try {
        r = await deps.treasury.accumulate({ key: input.key, usdcIn: BigInt(input.usdcIn), minPumpOut: BigInt(input.minPumpOut) }, heartbeat ? { heartbeat } : {});
      } catch (err) {
        throw classifySwapError(err);
      }
      // USDC counted at 1 USD.
      if (r.applied) deps.metrics?.accumulated(input.treasuryId, toTokens({ raw: r.usdcIn, decimals: deps.config.tokens.usdc.decimals }));
      deps.logger.info({ treasuryId: input.treasuryId, key: input.key, applied: r.applied }, 'accumulation');
      return { applied: r.applied, pumpOut: r.pumpOut.toString(), usdcIn: r.usdcIn.toString() };
    },

    /** Stores a scheduled job's result, keyed by job and run so a retry writes it once. */
    async recordJobResult(input: { treasuryId: string; job: string; runKey: string; at: number; data: unknown }): Promise<void> {
      await store.recordMonitoringLog({ treasuryId: input.treasuryId, cycleId: `${input.job}/${input.runKey}`, at: input.at, data: { job: input.job, ...(input.data as object) } });
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

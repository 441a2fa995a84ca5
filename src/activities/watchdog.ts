/** The watchdog's eyes: what Temporal says of the monitor's workflow and what the monitor answers (src/domain/watchdog.ts judges). */
import type { MonitorLiveness } from '../domain/watchdog.ts';
import { monitorWorkflowId } from '../workflows/contract.ts';
import { serverClock, type ActivityDeps } from './deps.ts';

/** A wedged monitor can leave its query unanswered for long: the watchdog waits this long, then says so. */
const QUERY_TIMEOUT_MS = 10_000;

export function watchdogActivities(deps: ActivityDeps) {
  return {
    async monitorLiveness(input: { treasuryId: string }): Promise<MonitorLiveness> {
      const at = serverClock();
      const workflow = await deps.workflowState(monitorWorkflowId(input.treasuryId));
      if (!workflow?.running) return { at, workflow, status: null, queryError: null };
      try {
        const s = await withTimeout(deps.monitorStatus(input.treasuryId), QUERY_TIMEOUT_MS);
        if (!s) return { at, workflow, status: null, queryError: 'the monitor did not answer its status query' };
        return { at, workflow, status: { cycles: s.cycles, lastCycleAt: s.lastCycle?.at ?? null, cycleIntervalSeconds: s.cycleIntervalSeconds }, queryError: null };
      } catch (err) {
        return { at, workflow, status: null, queryError: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `npm start`'s terminal: one line per monitoring cycle, and every step,
 * decision, swap and end of each intervention as it happens (issue #11). It
 * polls the monitor's status and its interventions' state once a second;
 * a failed poll is skipped (the next one tries again).
 */
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { DEFAULT_ADDRESS } from '../client/connect.ts';
import { liveLines, NOTHING_SEEN, type Seen } from '../client/live-lines.ts';
import { interventionStateQuery, interventionWorkflowId, monitorWorkflowId, statusQuery, type InterventionState, type MonitorStatus } from '../workflows/contract.ts';

export function watchLive(client: Client, treasuryId: string, cycleLine: (s: MonitorStatus) => string, print: (line: string) => void = console.log): () => void {
  let lastCycle = -1;
  const watched = new Map<string, Seen>();
  const monitor = client.workflow.getHandle(monitorWorkflowId(treasuryId));
  let busy = false;
  let known = -1;
  const done = new Set<string>();
  const since = Date.now();
  const stateOf = (id: string): Promise<InterventionState> => {
    const handle = client.workflow.getHandle(id);
    // A finished intervention no longer answers queries without a replay: its result is its final state.
    return handle.query(interventionStateQuery).catch(() => handle.result() as Promise<InterventionState>);
  };
  const poll = async () => {
    const s = await monitor.query(statusQuery);
    if (s.cycles !== lastCycle) {
      lastCycle = s.cycles;
      print(cycleLine(s));
    }
    // New interventions by count (one may start and end between two polls), and any still in flight at start-up.
    // The first status read may come late (a busy worker, a monitor that did not exist yet): the interventions that
    // started after the watch began are new too, even one already ended by then; older ones are not printed again.
    if (known < 0) {
      let older = s.interventionCount;
      while (older > 0 && (await stateOf(interventionWorkflowId(treasuryId, older))).startedAt >= since) older--;
      known = older;
    }
    for (; known < s.interventionCount; known++) watched.set(interventionWorkflowId(treasuryId, known + 1), NOTHING_SEEN);
    for (const id of s.pendingInterventions) if (!watched.has(id) && !done.has(id)) watched.set(id, NOTHING_SEEN);
    for (const [id, seen] of watched) {
      const state = await stateOf(id);
      const r = liveLines(id, seen, state, Date.now());
      r.lines.forEach(print);
      if (r.seen.ended) {
        watched.delete(id);
        done.add(id);
      }
      else watched.set(id, r.seen);
    }
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    poll().catch(() => undefined).finally(() => {
      busy = false;
    });
  }, 1000);
  return () => clearInterval(timer);
}

/** How to reach this agent from another terminal: the exact TEMPORAL_ADDRESS when it is not the CLI's default. */
export function operateLines(address: string, dataDir: string): string[] {
  const env = [address === DEFAULT_ADDRESS ? null : `TEMPORAL_ADDRESS=${address}`, dataDir === resolve('data') ? null : `PSTR_DATA_DIR=${dataDir}`].filter(Boolean).join(' ');
  return [
    ...(env ? [`In another terminal, first: export ${env}`] : []),
    'Operate it with: npx pstr status | interventions | approve <id> --operator alice | audit <id>   (add --json for a JSON document)',
  ];
}


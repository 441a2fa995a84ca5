/**
 * Faults injected at the edge the monitor cannot control: the store refusing
 * every call ("database is locked") for a window of server time, optionally
 * only inside one activity type. The time is the activity's (serverClock:
 * skipped time on the time-skipping server, wall time on the dev server).
 */
import { Context } from '@temporalio/activity';
import { serverClock } from '../../src/activities/deps.ts';
import type { ActivityDeps } from '../../src/activities/index.ts';
import type { TreasuryStore } from '../../src/db/store.ts';

export interface Outage {
  /** Server-time window [from, until) in epoch ms. */
  from: number;
  until: number;
  /** Only calls made inside activity types starting with this fail (recordCycle covers its backlog, recordCycleBacklog); every activity when absent. */
  activity?: string;
  /** Store calls refused, for the test to check the fault really happened. */
  refused: number;
}

export function outage(from: number, until: number, activity?: string): Outage {
  return { from, until, ...(activity ? { activity } : {}), refused: 0 };
}

function inOutage(o: Outage): boolean {
  let info;
  try {
    info = Context.current().info;
  } catch {
    return false;
  }
  if (o.activity !== undefined && !info.activityType.startsWith(o.activity)) return false;
  // The activity's time: the workflow's for the cycle's local activities (src/activities/deps.ts), else its scheduled time.
  const t = serverClock();
  return t >= o.from && t < o.until;
}

/** The same store, whose every method throws SQLite's lock error while the outage lasts. */
export function lockedStore(store: TreasuryStore, o: Outage): TreasuryStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (inOutage(o)) {
          o.refused += 1;
          throw new Error('SQLITE_BUSY: database is locked');
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

export const withOutage = (o: Outage) => (deps: ActivityDeps): ActivityDeps => ({ ...deps, store: lockedStore(deps.store, o) });

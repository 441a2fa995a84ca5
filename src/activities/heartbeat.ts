/**
 * Activity heartbeats for calls that wait on the chain. Temporal retries an
 * attempt on another worker once its heartbeats stop, so what heartbeats
 * decides what counts as alive: a timer proves only that the process runs, a
 * heartbeat from the executor's confirmation poll proves the call progresses.
 */
import { Context } from '@temporalio/activity';

export type Heartbeat = (details: Record<string, unknown>) => void;

/** Temporal's heartbeat for the running activity; undefined outside one (a direct call in a test or script). */
export function activityHeartbeat(): Heartbeat | undefined {
  try {
    const ctx = Context.current();
    return (details) => ctx.heartbeat(details);
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` with a heartbeat to pass down. Until `work` first reports
 * progress, a 2-second timer heartbeats for it (a treasury that does not wait
 * on the chain never reports, and is alive while the process is); from its
 * first report on, only its own reports count, so an executor wedged between
 * polls stops heartbeating and its attempt is retried elsewhere.
 */
export async function withProgressHeartbeat<T>(work: (heartbeat: Heartbeat | undefined) => Promise<T>, everyMs = 2_000): Promise<T> {
  const beat = activityHeartbeat();
  if (beat === undefined) return work(undefined);
  let reported = false;
  const timer = setInterval(() => {
    if (!reported) beat({ alive: true });
  }, everyMs);
  try {
    beat({ alive: true });
    return await work((details) => {
      reported = true;
      beat(details);
    });
  } finally {
    clearInterval(timer);
  }
}

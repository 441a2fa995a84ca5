/**
 * A monitor's history split into its cycles, for counting what a cycle costs
 * (every history event is a billed action on Temporal Cloud). A cycle begins
 * at its market observation (the observeMarket local-activity marker, or the
 * ActivityTaskScheduled of runs recorded before local activities) and ends
 * where the next one begins. Used by the events-per-cycle test and
 * `npm run bench:cycles`.
 */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface HistoryCycle {
  /** Index of its observeMarket event in the history. */
  index: number;
  /** Events from its observation to the next cycle's (the last cycle: to the end of the history). */
  events: number;
  /** The event types of the cycle, in order (for a failure's message). */
  types: string[];
}

const num = (x: unknown): number => (typeof x === 'number' ? x : Number(String(x)));

/** The activity type a local activity's marker records (its `data` detail is JSON with `activity_type`). */
export function localActivityType(e: HistoryEvent): string | null {
  const a = e.markerRecordedEventAttributes;
  if (a?.markerName !== 'core_local_activity') return null;
  const bytes = a.details?.data?.payloads?.[0]?.data;
  if (!bytes) return null;
  try {
    const data = JSON.parse(new TextDecoder().decode(bytes)) as { activity_type?: unknown };
    return typeof data.activity_type === 'string' ? data.activity_type : null;
  } catch {
    return null;
  }
}

/** What an event is, in a word: its attributes' name (`timerStarted`, `markerRecorded:observeMarket`, …). */
export function eventLabel(e: HistoryEvent): string {
  const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k] != null) ?? 'unknown';
  const base = key.replace(/EventAttributes$/, '');
  const la = localActivityType(e);
  if (la) return `${base}:${la}`;
  const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
  return scheduled ? `${base}:${scheduled}` : base;
}

function isObservation(e: HistoryEvent): boolean {
  return localActivityType(e) === 'observeMarket' || e.activityTaskScheduledEventAttributes?.activityType?.name === 'observeMarket';
}

export function cyclesOfHistory(events: readonly HistoryEvent[]): HistoryCycle[] {
  const starts = events.flatMap((e, i) => (isObservation(e) ? [i] : []));
  // A local activity's marker follows its workflow task; a cycle's first events (the timer that fired, the task) come before it.
  return starts.map((index, k) => {
    const end = starts[k + 1] ?? events.length;
    return { index, events: end - index, types: events.slice(index, end).map(eventLabel) };
  });
}

/** Event time in ms (seconds arrive as Long). */
export function eventTimeMs(e: HistoryEvent): number {
  return num(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
}

const durationMs = (d: { seconds?: unknown; nanos?: number | null } | null | undefined): number => num(d?.seconds ?? 0) * 1000 + (d?.nanos ?? 0) / 1e6;

/** A cycle's times, for lateness: when it was due (its timer's fire time as set, not as fired), when it began observing, when its record was written (null: not yet). */
export interface TimedCycle {
  index: number;
  dueAt: number;
  startedAt: number;
  doneAt: number | null;
}

/**
 * Splits a monitor's history into timed cycles: due (the timer that fired, or the start), the observation (the
 * workflow task that runs its local activities; before them, observeMarket's ActivityTaskScheduled), and its
 * record written (recordCycle's marker, recorded as its task completes; before, its ActivityTaskCompleted).
 */
export function timedCycles(events: readonly HistoryEvent[]): TimedCycle[] {
  const cycles: TimedCycle[] = [];
  const typeById = new Map<number, string>();
  /** Timer start events → when they were set to fire (a server behind fires them late: the lateness counts from here). */
  const fireAt = new Map<number, number>();
  let due: number | null = null;
  let taskStartedAt: number | null = null;
  let open: TimedCycle | null = null;
  for (const [index, e] of events.entries()) {
    const timer = e.timerStartedEventAttributes;
    if (timer) fireAt.set(num(e.eventId), eventTimeMs(e) + durationMs(timer.startToFireTimeout));
    if (e.workflowExecutionStartedEventAttributes) due = eventTimeMs(e);
    const fired = e.timerFiredEventAttributes;
    if (fired) due = fireAt.get(num(fired.startedEventId)) ?? eventTimeMs(e);
    if (e.workflowTaskStartedEventAttributes) taskStartedAt = eventTimeMs(e);
    const local = localActivityType(e);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeById.set(num(e.eventId), scheduled.activityType?.name ?? '');
    const type = local ?? scheduled?.activityType?.name ?? null;
    if (type === 'observeMarket' && due !== null) {
      open = { index, dueAt: due, startedAt: local ? (taskStartedAt ?? eventTimeMs(e)) : eventTimeMs(e), doneAt: null };
      cycles.push(open);
      due = null;
    }
    const completed = e.activityTaskCompletedEventAttributes;
    const recorded = local === 'recordCycle' || (completed != null && typeById.get(num(completed.scheduledEventId)) === 'recordCycle');
    if (recorded && open) {
      open.doneAt = eventTimeMs(e);
      open = null;
    }
  }
  return cycles;
}

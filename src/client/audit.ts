/**
 * `client.ts audit`: a workflow's history as a human timeline. Pure: decoded
 * events in, lines out, so it is tested on recorded histories. The monitor and
 * the intervention get their own readers (audit-monitor.ts,
 * audit-intervention.ts); any other workflow gets the generic one here.
 */
import { at, commonLine } from './audit-lines.ts';
import { brief, seconds, utc } from './format.ts';
import type { DecodedEvent } from './history.ts';
import { interventionTimeline } from './audit-intervention.ts';
import { monitorTimeline } from './audit-monitor.ts';

export interface AuditOptions {
  /** Monitor only: show the last N cycles of the run. */
  lastCycles?: number;
}

const CLOSING: ReadonlySet<DecodedEvent['kind']> = new Set(['workflowCompleted', 'workflowFailed', 'workflowClosed', 'continuedAsNew']);

export function auditTimeline(workflowId: string, runId: string | null, events: readonly DecodedEvent[], opts: AuditOptions = {}): string[] {
  const first = events[0];
  if (!first || first.kind !== 'workflowStarted') {
    return [`Audit of ${workflowId}: the history is empty or does not begin with the workflow's start`];
  }
  const last = events.at(-1) ?? first;
  const lines = [
    `Audit of ${workflowId}${runId ? ` (run ${runId})` : ''}: ${first.workflowType}, ${events.length} events, times in UTC`,
  ];
  if (!CLOSING.has(last.kind)) lines.push(`(still running: the history so far, up to ${utc(last.at)})`);
  const body =
    first.workflowType === 'intervention' ? interventionTimeline(events)
      : first.workflowType === 'strategyMonitor' ? monitorTimeline(events, opts)
        : genericTimeline(events);
  return [...lines, ...body];
}

export function genericTimeline(events: readonly DecodedEvent[]): string[] {
  const lines: string[] = [];
  for (const e of events) {
    const common = commonLine(e);
    if (common) {
      lines.push(...common);
      continue;
    }
    switch (e.kind) {
      case 'workflowStarted':
        lines.push(at(e.at, `started${e.identity ? ` by ${e.identity}` : ''}: ${brief(e.input)}`));
        break;
      case 'activityScheduled':
        lines.push(at(e.at, `activity ${e.activityType}: ${brief(e.input)}`));
        break;
      case 'activityCompleted':
        lines.push(at(e.at, `activity ${e.activityType} → ${brief(e.result)}`));
        break;
      case 'signaled':
        lines.push(at(e.at, `signal ${e.name}${e.identity ? ` from ${e.identity}` : ''}: ${brief(e.input)}`));
        break;
      case 'updateAccepted':
        lines.push(at(e.at, `update ${e.name}${e.identity ? ` from ${e.identity}` : ''}: ${brief(e.input)}`));
        break;
      case 'updateCompleted':
        lines.push(at(e.at, e.failure ? `update refused: ${e.failure}` : 'update applied'));
        break;
      case 'timerStarted':
        lines.push(at(e.at, `timer ${e.timerId} started: fires in ${seconds(e.durationMs)}`));
        break;
      case 'timerFired':
        lines.push(at(e.at, `timer ${e.timerId} fired`));
        break;
      case 'externalSignal':
        lines.push(at(e.at, `signal ${e.name} to ${e.workflowId}: ${brief(e.input)}`));
        break;
      case 'childStarting':
        lines.push(at(e.at, `starting ${e.workflowType} ${e.workflowId}`));
        break;
      case 'workflowCompleted':
        lines.push(at(e.at, `completed: ${brief(e.result, 400)}`));
        break;
      default:
        break;
    }
  }
  return lines;
}

/** The pieces every audit reader shares: the line layout, common events, and safe reads of loosely typed payloads. */
import { utc } from './format.ts';
import type { DecodedEvent } from './history.ts';

/** A timeline line: the event's UTC time, then the text; detail lines are indented under it. */
export const at = (ms: number, text: string) => `${utc(ms)}  ${text}`;
export const detail = (text: string) => `${' '.repeat(26)}${text}`;

/** Lines every reader shares: how the run ended, and failed activity attempts. */
export function commonLine(e: DecodedEvent): string[] | null {
  switch (e.kind) {
    case 'workflowFailed':
      return [at(e.at, `workflow FAILED: ${e.message}`)];
    case 'workflowClosed':
      return [at(e.at, `workflow ${e.how}${e.identity ? ` by ${e.identity}` : ''}${e.reason ? `: ${e.reason}` : ''}`)];
    case 'cancelRequested':
      return [at(e.at, `cancellation requested${e.identity ? ` by ${e.identity}` : ''}${e.cause ? `: ${e.cause}` : ''}`)];
    case 'continuedAsNew':
      return [at(e.at, `continued as new${e.newRunId ? ` → run ${e.newRunId}` : ''} (later events are in the next run)`)];
    case 'activityFailed':
      return [at(e.at, `activity ${e.activityType} failed: ${e.message}`)];
    case 'childStartFailed':
      return [at(e.at, `could not start ${e.workflowId}: ${e.cause}`)];
    default:
      return null;
  }
}

/** A loosely typed record read from history (payloads are plain JSON): field access without `any`. */
export function rec(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function numberOr(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

export function stringOr(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/**
 * A workflow history, decoded: the events `client.ts audit` reads, with their
 * payloads turned back into values and their times into epoch ms. Pure given
 * the history object (from `handle.fetchHistory()`, or from a JSON export
 * through `historyFromJSON`): no server, no clock.
 *
 * Event types come as numeric enums from the server and as strings from JSON
 * files, so each event is recognised by which `*EventAttributes` field is set.
 */
import { defaultPayloadConverter } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';

/** What decoding needs of a payload converter (the SDK's default one, unless a codec is configured). */
export type PayloadConverter = Pick<typeof defaultPayloadConverter, 'fromPayload'>;

type HistoryEvent = NonNullable<History['events']>[number];
type Payloads = { payloads?: Parameters<PayloadConverter['fromPayload']>[0][] | null } | null | undefined;

/** Protobuf int64 arrives as a Long (server), a string (JSON) or a number. */
type Int64 = number | string | { toNumber(): number } | null | undefined;

export type DecodedEvent = { id: number; at: number } & (
  | { kind: 'workflowStarted'; workflowType: string; input: unknown[]; continuedFromRunId: string | null; identity: string | null }
  | { kind: 'workflowCompleted'; result: unknown }
  | { kind: 'workflowFailed'; message: string }
  | { kind: 'workflowClosed'; how: 'terminated' | 'canceled' | 'timed out'; reason: string | null; identity: string | null }
  | { kind: 'cancelRequested'; cause: string | null; identity: string | null }
  | { kind: 'continuedAsNew'; newRunId: string | null }
  | { kind: 'signaled'; name: string; input: unknown[]; identity: string | null }
  | { kind: 'updateAccepted'; updateId: string; name: string; input: unknown[]; identity: string | null }
  | { kind: 'updateCompleted'; updateId: string; result: unknown; failure: string | null }
  | { kind: 'activityScheduled'; activityId: string; activityType: string; input: unknown[] }
  | { kind: 'activityCompleted'; scheduledId: number; activityType: string; result: unknown }
  | { kind: 'activityFailed'; scheduledId: number; activityType: string; message: string }
  | { kind: 'timerStarted'; timerId: string; durationMs: number }
  | { kind: 'timerFired'; timerId: string }
  | { kind: 'timerCanceled'; timerId: string }
  | { kind: 'childStarting'; workflowId: string; workflowType: string; input: unknown[] }
  | { kind: 'childStarted'; workflowId: string; runId: string }
  | { kind: 'childStartFailed'; workflowId: string; cause: string }
  | { kind: 'externalSignal'; workflowId: string; name: string; input: unknown[] }
  | { kind: 'externalCancel'; workflowId: string }
  /** A `patched()` marker: from here on the run follows the patched code path. */
  | { kind: 'patch'; patchId: string }
  | { kind: 'other'; attributes: string }
);

export function int64(v: Int64): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  return v.toNumber();
}

/** A protobuf Timestamp or Duration ({ seconds, nanos }) in ms. */
export function protoMs(t: { seconds?: Int64; nanos?: number | null } | null | undefined): number {
  if (!t) return 0;
  return int64(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

/** Every payload as a value; one the converter cannot read (an encrypted or binary one) says so instead of failing the audit. */
export function decodePayloads(p: Payloads, converter: PayloadConverter = defaultPayloadConverter): unknown[] {
  return (p?.payloads ?? []).map((payload) => {
    try {
      return converter.fromPayload(payload);
    } catch (err) {
      return { undecodable: err instanceof Error ? err.message : String(err) };
    }
  });
}

const str = (s: string | null | undefined): string | null => (s === null || s === undefined || s === '' ? null : s);

export function decodeHistory(history: History, converter: PayloadConverter = defaultPayloadConverter): DecodedEvent[] {
  const activityTypes = new Map<number, string>();
  const out: DecodedEvent[] = [];
  for (const e of history.events ?? []) {
    const base = { id: int64(e.eventId), at: protoMs(e.eventTime) };
    const d = decodeEvent(e, converter, activityTypes);
    if (d.kind === 'activityScheduled') activityTypes.set(base.id, d.activityType);
    out.push({ ...base, ...d });
  }
  return out;
}

type Body = DecodedEvent extends infer E ? (E extends DecodedEvent ? Omit<E, 'id' | 'at'> : never) : never;

function decodeEvent(e: HistoryEvent, c: PayloadConverter, activityTypes: Map<number, string>): Body {
  const payloads = (p: Payloads) => decodePayloads(p, c);
  const typeOf = (scheduled: Int64) => activityTypes.get(int64(scheduled)) ?? 'unknown activity';
  if (e.workflowExecutionStartedEventAttributes) {
    const a = e.workflowExecutionStartedEventAttributes;
    return { kind: 'workflowStarted', workflowType: a.workflowType?.name ?? '', input: payloads(a.input), continuedFromRunId: str(a.continuedExecutionRunId), identity: str(a.identity) };
  }
  if (e.workflowExecutionCompletedEventAttributes) {
    return { kind: 'workflowCompleted', result: payloads(e.workflowExecutionCompletedEventAttributes.result)[0] };
  }
  if (e.workflowExecutionFailedEventAttributes) {
    return { kind: 'workflowFailed', message: e.workflowExecutionFailedEventAttributes.failure?.message ?? 'failed' };
  }
  if (e.workflowExecutionTerminatedEventAttributes) {
    const a = e.workflowExecutionTerminatedEventAttributes;
    return { kind: 'workflowClosed', how: 'terminated', reason: str(a.reason), identity: str(a.identity) };
  }
  if (e.workflowExecutionCanceledEventAttributes) return { kind: 'workflowClosed', how: 'canceled', reason: null, identity: null };
  if (e.workflowExecutionTimedOutEventAttributes) return { kind: 'workflowClosed', how: 'timed out', reason: null, identity: null };
  if (e.workflowExecutionCancelRequestedEventAttributes) {
    const a = e.workflowExecutionCancelRequestedEventAttributes;
    return { kind: 'cancelRequested', cause: str(a.cause), identity: str(a.identity) };
  }
  if (e.workflowExecutionContinuedAsNewEventAttributes) {
    return { kind: 'continuedAsNew', newRunId: str(e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId) };
  }
  if (e.workflowExecutionSignaledEventAttributes) {
    const a = e.workflowExecutionSignaledEventAttributes;
    return { kind: 'signaled', name: a.signalName ?? '', input: payloads(a.input), identity: str(a.identity) };
  }
  if (e.workflowExecutionUpdateAcceptedEventAttributes) {
    const r = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest;
    return { kind: 'updateAccepted', updateId: r?.meta?.updateId ?? '', name: r?.input?.name ?? '', input: payloads(r?.input?.args), identity: str(r?.meta?.identity) };
  }
  if (e.workflowExecutionUpdateCompletedEventAttributes) {
    const a = e.workflowExecutionUpdateCompletedEventAttributes;
    return { kind: 'updateCompleted', updateId: a.meta?.updateId ?? '', result: payloads(a.outcome?.success)[0], failure: str(a.outcome?.failure?.message) };
  }
  if (e.activityTaskScheduledEventAttributes) {
    const a = e.activityTaskScheduledEventAttributes;
    return { kind: 'activityScheduled', activityId: a.activityId ?? '', activityType: a.activityType?.name ?? '', input: payloads(a.input) };
  }
  if (e.activityTaskCompletedEventAttributes) {
    const a = e.activityTaskCompletedEventAttributes;
    return { kind: 'activityCompleted', scheduledId: int64(a.scheduledEventId), activityType: typeOf(a.scheduledEventId), result: payloads(a.result)[0] };
  }
  if (e.activityTaskFailedEventAttributes) {
    const a = e.activityTaskFailedEventAttributes;
    return { kind: 'activityFailed', scheduledId: int64(a.scheduledEventId), activityType: typeOf(a.scheduledEventId), message: a.failure?.message ?? 'failed' };
  }
  if (e.activityTaskTimedOutEventAttributes) {
    const a = e.activityTaskTimedOutEventAttributes;
    return { kind: 'activityFailed', scheduledId: int64(a.scheduledEventId), activityType: typeOf(a.scheduledEventId), message: `timed out${a.failure?.message ? `: ${a.failure.message}` : ''}` };
  }
  if (e.timerStartedEventAttributes) {
    const a = e.timerStartedEventAttributes;
    return { kind: 'timerStarted', timerId: a.timerId ?? '', durationMs: protoMs(a.startToFireTimeout) };
  }
  if (e.timerFiredEventAttributes) return { kind: 'timerFired', timerId: e.timerFiredEventAttributes.timerId ?? '' };
  if (e.timerCanceledEventAttributes) return { kind: 'timerCanceled', timerId: e.timerCanceledEventAttributes.timerId ?? '' };
  if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
    const a = e.startChildWorkflowExecutionInitiatedEventAttributes;
    return { kind: 'childStarting', workflowId: a.workflowId ?? '', workflowType: a.workflowType?.name ?? '', input: payloads(a.input) };
  }
  if (e.childWorkflowExecutionStartedEventAttributes) {
    const w = e.childWorkflowExecutionStartedEventAttributes.workflowExecution;
    return { kind: 'childStarted', workflowId: w?.workflowId ?? '', runId: w?.runId ?? '' };
  }
  if (e.startChildWorkflowExecutionFailedEventAttributes) {
    const a = e.startChildWorkflowExecutionFailedEventAttributes;
    return { kind: 'childStartFailed', workflowId: a.workflowId ?? '', cause: String(a.cause ?? 'unknown') };
  }
  if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) {
    const a = e.signalExternalWorkflowExecutionInitiatedEventAttributes;
    return { kind: 'externalSignal', workflowId: a.workflowExecution?.workflowId ?? '', name: a.signalName ?? '', input: payloads(a.input) };
  }
  if (e.requestCancelExternalWorkflowExecutionInitiatedEventAttributes) {
    return { kind: 'externalCancel', workflowId: e.requestCancelExternalWorkflowExecutionInitiatedEventAttributes.workflowExecution?.workflowId ?? '' };
  }
  const marker = e.markerRecordedEventAttributes;
  if (marker?.markerName === 'core_patch') {
    const data = payloads(marker.details?.patch_data ?? null)[0] as { id?: unknown } | undefined;
    if (typeof data?.id === 'string') return { kind: 'patch', patchId: data.id };
  }
  const attributes = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]) ?? 'unknown';
  return { kind: 'other', attributes };
}

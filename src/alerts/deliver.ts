/**
 * Sends one alert notice to sinks: one attempt per sink, in parallel, each
 * bounded by a timeout. Nothing here retries: a failure is reported as
 * retryable (5xx, 429, timeout, network) or not (any other 4xx, a redirect),
 * and the Temporal activity's retry policy supplies the backoff. Every error
 * text is redacted of the sink's URL and token before it leaves this module.
 */
import type { AlertSinkType } from './config.ts';
import { buildRequest, redact, secretsOf, type AlertNotice, type ResolvedSink } from './sinks.ts';

export type SinkResult =
  | { readonly sink: string; readonly type: AlertSinkType; readonly ok: true; readonly status: number }
  | {
    readonly sink: string;
    readonly type: AlertSinkType;
    readonly ok: false;
    /** Worth another attempt later: the service was down, slow, or asked us to slow down. */
    readonly retryable: boolean;
    /** The HTTP status, or null when no answer came (timeout, network). */
    readonly status: number | null;
    /** What went wrong, redacted. */
    readonly error: string;
    /** The service's own Retry-After, when it gave one. */
    readonly retryAfterMs: number | null;
  };

export interface DeliverOptions {
  fetchImpl?: typeof fetch;
  /** One attempt at one sink, answer included. */
  timeoutMs?: number;
  /** Other sinks' secrets, redacted from this one's errors too (an answer may quote anything). */
  redactAlso?: readonly string[];
}

export const DEFAULT_SINK_TIMEOUT_MS = 5_000;
const SNIPPET_MAX = 200;

/** 5xx and 429 are the service's trouble and pass; every other refusal repeats itself. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/** Retry-After as seconds or an HTTP date, else Discord's `retry_after` / Telegram's `parameters.retry_after` (seconds). */
export function retryAfterMs(header: string | null, body: string, now: number = Date.now()): number | null {
  if (header !== null && header.trim() !== '') {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
    const date = Date.parse(header);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  try {
    const json = JSON.parse(body) as { retry_after?: unknown; parameters?: { retry_after?: unknown } };
    const seconds = json.retry_after ?? json.parameters?.retry_after;
    if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  } catch {
    // Not JSON: no hint.
  }
  return null;
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > SNIPPET_MAX ? `${flat.slice(0, SNIPPET_MAX)}…` : flat;
}

function describeThrown(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  if (!(err instanceof Error)) return `failed: ${String(err)}`;
  // undici says "fetch failed" and puts the reason (ECONNREFUSED, certificate…) in `cause`.
  const cause = err.cause instanceof Error ? `: ${(err.cause as Error & { code?: string }).code ?? err.cause.message}` : '';
  return `network error: ${err.message}${cause}`;
}

/** One attempt at one sink. Never throws: every outcome is a SinkResult. */
export async function sendToSink(sink: ResolvedSink, notice: AlertNotice, opts: DeliverOptions = {}): Promise<SinkResult> {
  const fetchImpl = opts.fetchImpl ?? fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SINK_TIMEOUT_MS;
  const secrets = [...secretsOf(sink), ...(opts.redactAlso ?? [])];
  const failed = (retryable: boolean, status: number | null, error: string, after: number | null = null): SinkResult => ({
    sink: sink.name, type: sink.type, ok: false, retryable, status, error: redact(error, secrets), retryAfterMs: after,
  });
  let req;
  try {
    req = buildRequest(sink, notice);
  } catch (err) {
    // The same notice would fail the same way again.
    return failed(false, null, `cannot build the request: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    // A redirect is not followed: it would send the alert somewhere nobody configured.
    const res = await fetchImpl(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    if (res.status >= 200 && res.status < 300) return { sink: sink.name, type: sink.type, ok: true, status: res.status };
    const text = snippet(body);
    const error = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${text ? `: ${text}` : ''}`;
    return failed(isRetryableStatus(res.status), res.status, error, retryAfterMs(res.headers.get('retry-after'), body));
  } catch (err) {
    return failed(true, null, describeThrown(err, timeoutMs));
  }
}

/**
 * Sends the notice to each of `sinks` (exactly those: the caller picks them)
 * in parallel; one result per sink, in order, each redacted of every sink's secrets.
 */
export async function deliverAlert(sinks: readonly ResolvedSink[], notice: AlertNotice, opts: DeliverOptions = {}): Promise<SinkResult[]> {
  const redactAlso = [...(opts.redactAlso ?? []), ...sinks.flatMap(secretsOf)];
  return Promise.all(sinks.map((s) => sendToSink(s, notice, { ...opts, redactAlso })));
}

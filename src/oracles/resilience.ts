/**
 * Timeout, bounded retries with backoff, and a circuit breaker around any
 * async read of an oracle, and the typed failure every adapter throws.
 *
 * Time budget. Each attempt is aborted after `timeoutMs`; the whole read,
 * retries and backoff included, is bounded by `budgetMs` (by default one
 * timeout plus every backoff: 3,000 + 200 + 400 = 3,600 ms with the defaults).
 * A slow source therefore uses its budget on one attempt and is not retried,
 * while a fast failure (429, 5xx, connection refused) is retried within it:
 * one slow source never holds a cycle past its budget.
 *
 * What is retried and what the breaker counts:
 *  - timeout, HTTP 5xx, 429, connection errors: retried, and a read that still
 *    fails after its retries counts once toward the breaker;
 *  - other HTTP 4xx: not retried (the request is wrong), counts;
 *  - stale or malformed payloads: not retried (the same payload would come
 *    back) and not counted: the endpoint answered, so the breaker, which
 *    protects the cycle from unreachable or slow endpoints, treats it as up;
 *  - circuit-open: the read never started.
 */
import type { Config } from '../config-schema.ts';
import type { OracleReading } from '../domain/consensus.ts';
import {
  CLOSED_BREAKER, recordFailure, recordSuccess, requestPermission, type BreakerParams, type BreakerState,
} from '../domain/breaker.ts';
import type { OracleSource } from '../ports.ts';

export type OracleFailureKind = 'timeout' | 'http' | 'rate-limited' | 'malformed' | 'stale' | 'circuit-open' | 'unavailable';

export interface OracleFailureInit {
  source: string;
  kind: OracleFailureKind;
  status?: number;
  detail: string;
}

/** Why a source gave no reading. The message names the source, so the monitor's failure record is self-explaining. */
export class OracleFailure extends Error {
  readonly source: string;
  readonly kind: OracleFailureKind;
  readonly status?: number;
  readonly detail: string;

  constructor(init: OracleFailureInit) {
    super(`${init.source}: ${init.kind}${init.status !== undefined ? ` (HTTP ${init.status})` : ''}: ${init.detail}`);
    this.name = 'OracleFailure';
    this.source = init.source;
    this.kind = init.kind;
    if (init.status !== undefined) this.status = init.status;
    this.detail = init.detail;
  }

  toJSON(): OracleFailureInit {
    return { source: this.source, kind: this.kind, ...(this.status !== undefined ? { status: this.status } : {}), detail: this.detail };
  }
}

export function isOracleFailure(err: unknown): err is OracleFailure {
  return err instanceof OracleFailure;
}

/** Maps whatever a client library threw to a typed failure (HermesClient, @jup-ag/api, fetch, web3.js). */
export function classifyError(source: string, err: unknown): OracleFailure {
  if (err instanceof OracleFailure) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const status = httpStatusOf(e);
  if (status !== undefined) {
    const body = e.message.replace(/^HTTP error! status: \d+(, body: )?/, '').slice(0, 200);
    return new OracleFailure({ source, kind: status === 429 ? 'rate-limited' : 'http', status, detail: body || `HTTP ${status}` });
  }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new OracleFailure({ source, kind: 'timeout', detail: e.message });
  if (e.name === 'ZodError') return new OracleFailure({ source, kind: 'malformed', detail: zodDetail(e) });
  if (e instanceof SyntaxError) return new OracleFailure({ source, kind: 'malformed', detail: `not JSON: ${oneLine(e.message)}` });
  const cause = (e as { cause?: unknown }).cause;
  const why = cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  return new OracleFailure({ source, kind: 'unavailable', detail: oneLine(why) });
}

function httpStatusOf(e: Error): number | undefined {
  // HermesClient: "HTTP error! status: 429, body: …"; @jup-ag/api: ResponseError with .response.status.
  const m = /^HTTP error! status: (\d{3})/.exec(e.message);
  if (m) return Number(m[1]);
  const response = (e as { response?: { status?: unknown } }).response;
  return typeof response?.status === 'number' ? response.status : undefined;
}

/** A client's schema rejected the payload: name each offending field (zod 3 and 4 both expose `issues`). */
function zodDetail(e: Error): string {
  const issues = (e as { issues?: { path?: (string | number)[]; message?: string }[] }).issues ?? [];
  const parts = issues.slice(0, 3).map((i) => `${(i.path ?? []).join('.') || '(root)'}: ${i.message ?? '?'}`);
  return parts.length ? `schema check failed: ${parts.join('; ')}` : oneLine(e.message);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').slice(0, 300);
}

export function isRetryable(f: OracleFailure): boolean {
  if (f.kind === 'timeout' || f.kind === 'rate-limited' || f.kind === 'unavailable') return true;
  return f.kind === 'http' && (f.status === undefined || f.status >= 500);
}

function countsTowardBreaker(f: OracleFailure): boolean {
  return f.kind !== 'stale' && f.kind !== 'malformed' && f.kind !== 'circuit-open';
}

export type ResilienceEvent =
  | { type: 'attempt-failed'; source: string; attempt: number; failure: OracleFailure; retryInMs: number | null }
  | { type: 'breaker'; source: string; from: BreakerState['status']; to: BreakerState['status'] }
  | { type: 'rejected'; source: string; failure: OracleFailure };

export interface ResilienceOptions {
  /** One attempt's timeout. */
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  /** Backoff before retry i (0-based) is up to retryBackoffMs · 2^i (half fixed, half jitter). */
  retryBackoffMs: number;
  breaker: BreakerParams;
  /** The whole read's bound; default timeoutMs + every backoff. */
  budgetMs?: number;
  /** Wall clock (epoch ms) for the breaker's cooldown; the time budget always uses the monotonic timer. */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onEvent?: (e: ResilienceEvent) => void;
}

export function resilienceOptions(config: Config): ResilienceOptions {
  const { timeoutMs, retries, retryBackoffMs, breaker } = config.oracle;
  return { timeoutMs, retries, retryBackoffMs, breaker: { failureThreshold: breaker.failures, cooldownMs: breaker.cooldownSeconds * 1000 } };
}

/** The longest one resilient read can take: give it to the monitor as its per-source timeout (ActivityDeps.sourceTimeoutMs). */
export function readBudgetMs(o: Pick<ResilienceOptions, 'timeoutMs' | 'retries' | 'retryBackoffMs' | 'budgetMs'>): number {
  if (o.budgetMs !== undefined) return o.budgetMs;
  let backoff = 0;
  for (let i = 0; i < o.retries; i++) backoff += o.retryBackoffMs * 2 ** i;
  return o.timeoutMs + backoff;
}

/** An attempt shorter than this is not worth starting. */
const MIN_ATTEMPT_MS = 25;

/** Wraps `read` (which should honour the abort signal) in the timeout, retries and breaker above. */
export class ResilientRead<T> {
  private state: BreakerState = CLOSED_BREAKER;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    readonly source: string,
    private readonly read: (signal: AbortSignal) => Promise<T>,
    private readonly options: ResilienceOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  get breakerState(): BreakerState {
    return this.state;
  }

  async call(): Promise<T> {
    const o = this.options;
    const permission = requestPermission(this.state, this.clock(), o.breaker);
    this.setState(permission.state);
    if (!permission.allowed) {
      const failure = new OracleFailure({ source: this.source, kind: 'circuit-open', detail: permission.reason });
      o.onEvent?.({ type: 'rejected', source: this.source, failure });
      throw failure;
    }
    // The budget runs on the monotonic timer: `clock` is the breaker's wall clock and may be pinned in tests.
    const deadline = performance.now() + readBudgetMs(o);
    for (let attempt = 0; ; attempt++) {
      const attemptMs = Math.min(o.timeoutMs, deadline - performance.now());
      try {
        const value = await withTimeout(this.source, this.read, attemptMs);
        this.setState(recordSuccess(this.state));
        return value;
      } catch (err) {
        const failure = classifyError(this.source, err);
        const backoff = o.retryBackoffMs * 2 ** attempt * (0.5 + 0.5 * this.random());
        const canRetry = isRetryable(failure) && attempt < o.retries && deadline - performance.now() - backoff >= MIN_ATTEMPT_MS;
        o.onEvent?.({ type: 'attempt-failed', source: this.source, attempt: attempt + 1, failure, retryInMs: canRetry ? Math.round(backoff) : null });
        if (!canRetry) {
          this.setState(countsTowardBreaker(failure) ? recordFailure(this.state, this.clock(), o.breaker) : recordSuccess(this.state));
          throw failure;
        }
        await this.sleep(backoff);
      }
    }
  }

  private setState(next: BreakerState): void {
    if (next.status !== this.state.status) this.options.onEvent?.({ type: 'breaker', source: this.source, from: this.state.status, to: next.status });
    this.state = next;
  }
}

/** Runs one attempt with an abort signal that fires after `ms`; resolves or rejects no later than that, even if `read` ignores the signal. */
async function withTimeout<T>(source: string, read: (signal: AbortSignal) => Promise<T>, ms: number): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const failure = new OracleFailure({ source, kind: 'timeout', detail: `no answer within ${Math.round(ms)} ms` });
      controller.abort(failure);
      reject(failure);
    }, Math.max(0, ms));
  });
  try {
    return await Promise.race([read(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** An OracleSource whose every read goes through ResilientRead. */
export interface ResilientOracleSource extends OracleSource {
  readonly breakerState: BreakerState;
}

export function resilientSource(name: string, read: (signal: AbortSignal) => Promise<OracleReading>, options: ResilienceOptions): ResilientOracleSource {
  const r = new ResilientRead(name, read, options);
  return {
    name,
    read: () => r.call(),
    get breakerState() {
      return r.breakerState;
    },
  };
}

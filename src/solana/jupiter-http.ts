/**
 * The transport both Jupiter API versions share: the `x-api-key` header, a
 * timeout, JSON bodies, errors that carry the status and the body's reason
 * (never the key), and Jupiter's rate limit.
 *
 * Rate limit (Jupiter portal docs, checked 2026-12): one bucket per account
 * over a 60 s window; every answer carries `x-ratelimit-remaining`,
 * `x-ratelimit-current` and `x-ratelimit-reset`, and an exhausted window
 * answers 429. We honour the headers instead of discovering the limit by
 * hammering it: once `remaining` reaches 0 (or a 429 arrives), no request is
 * sent until the reset. A wait up to `maxWaitMs` is taken; a longer one fails
 * at once with a retryable JupiterError naming when the window resets, so the
 * caller's own retry (the activity's) comes back after it. `x-ratelimit-reset`
 * is read as seconds until the reset, or as a Unix time in seconds when it is
 * that large (both forms are in use); `retry-after` (seconds) is honoured too.
 */
import { z } from 'zod';

export class JupiterError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly body: unknown,
    /** Worth trying again later (429, 5xx, transport, an exhausted rate-limit window); a 4xx or a bad body is not. */
    readonly retryable = status === null || status === 429 || status >= 500,
    /** When the rate-limit window resets (epoch ms), if known. */
    readonly retryAt?: number,
  ) {
    super(message);
    this.name = 'JupiterError';
  }
}

export interface JupiterHttpOptions {
  baseUrl: string;
  /** Sent as `x-api-key`; never logged or put in an error. */
  apiKey?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Longest wait for an exhausted window to reset before failing instead (default 2 s). */
  maxRateLimitWaitMs?: number;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RateLimitState {
  remaining: number | null;
  current: number | null;
  /** Epoch ms at which the window resets; null when not told. */
  resetAt: number | null;
}

export type JupiterCall = ((endpoint: string, init: RequestInit & { signal?: AbortSignal }) => Promise<unknown>) & { readonly rateLimit: RateLimitState };

const errorBodySchema = z.looseObject({ error: z.unknown().optional(), errorCode: z.string().optional(), message: z.string().optional(), code: z.unknown().optional() });

/** A readable reason from any of Jupiter's error bodies: `{ error, errorCode }`, `{ code, message }`, or a zod issue list under `error`. */
function reasonOf(body: unknown, text: string): string {
  const parsed = errorBodySchema.safeParse(body);
  if (!parsed.success) return String(text).slice(0, 300);
  const { error, errorCode, message } = parsed.data;
  let e = '';
  if (typeof error === 'string') e = error;
  else if (error && typeof error === 'object') {
    const issues = (error as { issues?: { path?: unknown[]; message?: string }[] }).issues ?? [];
    e = issues.length ? issues.map((i) => `${(i.path ?? []).join('.')}: ${i.message ?? '?'}`).join('; ') : JSON.stringify(error).slice(0, 300);
  }
  return [errorCode, e || message].filter(Boolean).join(': ') || String(text).slice(0, 300);
}

function headerNumber(h: Headers, name: string): number | null {
  const v = h.get(name);
  if (v === null || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** `x-ratelimit-reset` (or `retry-after`) → epoch ms. */
function resetAtOf(h: Headers, now: number): number | null {
  const reset = headerNumber(h, 'x-ratelimit-reset') ?? headerNumber(h, 'retry-after');
  if (reset === null || reset < 0) return null;
  // A Unix time in seconds is ≥ 10^9; seconds-until-reset within a 60 s window are small.
  return reset >= 1e9 ? reset * 1000 : now + reset * 1000;
}

export function jupiterHttp(opts: JupiterHttpOptions): JupiterCall {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxWaitMs = opts.maxRateLimitWaitMs ?? 2_000;
  const clock = opts.clock ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
  const rateLimit: RateLimitState = { remaining: null, current: null, resetAt: null };

  /** Before sending: an exhausted window is waited out (briefly) or refused; never sent into. */
  async function gate(label: string): Promise<void> {
    if (rateLimit.remaining !== 0) return;
    const now = clock();
    const resetAt = rateLimit.resetAt ?? now + 60_000; // told "0 left" but not when: one whole window
    const waitMs = resetAt - now;
    if (waitMs <= 0) {
      rateLimit.remaining = null;
      return;
    }
    if (waitMs > maxWaitMs) {
      throw new JupiterError(
        `${label}: not sent: Jupiter's rate limit is exhausted (0 requests left in its 60 s window${rateLimit.current !== null ? `, ${rateLimit.current} used` : ''}); ` +
          `it resets at ${new Date(resetAt).toISOString()} (in ${Math.ceil(waitMs / 1000)} s). Retry after that`,
        429, null, true, resetAt,
      );
    }
    await sleep(waitMs);
    rateLimit.remaining = null;
  }

  function observe(res: Response): void {
    const remaining = headerNumber(res.headers, 'x-ratelimit-remaining');
    const current = headerNumber(res.headers, 'x-ratelimit-current');
    const resetAt = resetAtOf(res.headers, clock());
    if (remaining !== null) rateLimit.remaining = remaining;
    if (current !== null) rateLimit.current = current;
    if (resetAt !== null) rateLimit.resetAt = resetAt;
    if (res.status === 429) rateLimit.remaining = 0;
  }

  const call = async (endpoint: string, init: RequestInit & { signal?: AbortSignal }): Promise<unknown> => {
    const url = `${base}${endpoint}`;
    const label = `Jupiter ${init.method ?? 'GET'} ${url.split('?')[0]}`;
    await gate(label);
    let res: Response;
    try {
      const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      res = await doFetch(url, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) }, signal });
    } catch (error) {
      throw new JupiterError(`${label}: request failed (${(error as Error).message})`, null, null);
    }
    observe(res);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Leave the body as text: the error below quotes it.
    }
    if (!res.ok) {
      const reason = reasonOf(body, text);
      const hint = res.status === 401 || res.status === 403
        ? ' (the x-api-key was refused or is missing: check solana.jupiter.apiKey and its environment variable)'
        : res.status === 429 && rateLimit.resetAt !== null ? ` (rate limited; the window resets at ${new Date(rateLimit.resetAt).toISOString()})` : '';
      throw new JupiterError(`${label}: HTTP ${res.status}: ${reason}${hint}`, res.status, body, undefined, res.status === 429 ? (rateLimit.resetAt ?? undefined) : undefined);
    }
    return body;
  };
  return Object.assign(call, { rateLimit });
}

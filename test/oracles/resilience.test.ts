import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config-schema.ts';
import {
  classifyError, OracleFailure, readBudgetMs, resilienceOptions, ResilientRead, type ResilienceEvent, type ResilienceOptions,
} from '../../src/oracles/resilience.ts';
import { FixtureServer } from './fixture-server.ts';

let server: FixtureServer;
beforeAll(async () => {
  server = await FixtureServer.start();
});
afterAll(async () => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

const base: ResilienceOptions = { timeoutMs: 150, retries: 2, retryBackoffMs: 20, breaker: { failureThreshold: 3, cooldownMs: 60_000 }, random: () => 1 };

/** A read over real HTTP: the body's `price` field, typed failures for status codes like an adapter would. */
function httpRead(path: string) {
  return async (signal: AbortSignal): Promise<number> => {
    const res = await fetch(`${server.url}${path}`, { signal });
    if (!res.ok) throw new Error(`HTTP error! status: ${res.status}, body: ${await res.text()}`);
    const body = (await res.json()) as { price?: unknown };
    if (typeof body.price !== 'number') throw new OracleFailure({ source: 'test', kind: 'malformed', detail: `price = ${JSON.stringify(body.price)}` });
    return body.price;
  };
}

describe('resilienceOptions', () => {
  it('takes timeout, retries, backoff and the breaker from config.oracle', () => {
    const o = resilienceOptions(defaultConfig());
    expect(o).toEqual({ timeoutMs: 3000, retries: 2, retryBackoffMs: 200, breaker: { failureThreshold: 3, cooldownMs: 60_000 } });
    // One timeout plus both backoffs: 3,000 + 200 + 400.
    expect(readBudgetMs(o)).toBe(3600);
  });
});

describe('classifyError', () => {
  it('reads the status out of a HermesClient HTTP error: 429 is rate-limited, 503 is http', () => {
    expect(classifyError('pyth', new Error('HTTP error! status: 429, body: slow down')).toJSON()).toEqual({ source: 'pyth', kind: 'rate-limited', status: 429, detail: 'slow down' });
    expect(classifyError('pyth', new Error('HTTP error! status: 503')).toJSON()).toEqual({ source: 'pyth', kind: 'http', status: 503, detail: 'HTTP 503' });
  });

  it('calls an abort a timeout, bad JSON malformed, and a refused connection unavailable with its cause', () => {
    expect(classifyError('x', new DOMException('The operation timed out.', 'TimeoutError')).kind).toBe('timeout');
    expect(classifyError('x', new SyntaxError('Unexpected token < in JSON')).kind).toBe('malformed');
    const refused = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') });
    expect(classifyError('x', refused).toJSON()).toEqual({ source: 'x', kind: 'unavailable', detail: 'fetch failed: connect ECONNREFUSED 127.0.0.1:1' });
  });

  it('names the source, the kind and the status in the message the monitor records', () => {
    expect(new OracleFailure({ source: 'pyth', kind: 'rate-limited', status: 429, detail: 'slow down' }).message).toBe('pyth: rate-limited (HTTP 429): slow down');
  });
});

describe('ResilientRead', () => {
  it('retries a 429 and a 503 with backoff, then returns the value', async () => {
    let n = 0;
    server.on('GET', '/flaky', () => (++n === 1 ? { status: 429, body: 'rate limited' } : n === 2 ? { status: 503 } : { json: { price: 42 } }));
    const events: ResilienceEvent[] = [];
    const r = new ResilientRead('test', httpRead('/flaky'), { ...base, onEvent: (e) => events.push(e) });
    await expect(r.call()).resolves.toBe(42);
    expect(server.requestsTo('/flaky')).toHaveLength(3);
    const failed = events.filter((e) => e.type === 'attempt-failed');
    expect(failed.map((e) => e.failure.kind)).toEqual(['rate-limited', 'http']);
    // Backoff doubles: 20 ms then 40 ms (jitter pinned at its maximum).
    expect(failed.map((e) => e.retryInMs)).toEqual([20, 40]);
    expect(r.breakerState).toEqual({ status: 'closed', consecutiveFailures: 0 });
  });

  it('gives up after the configured retries and reports the last failure', async () => {
    server.on('GET', '/down', { status: 500, body: 'boom' });
    const r = new ResilientRead('test', httpRead('/down'), base);
    await expect(r.call()).rejects.toMatchObject({ kind: 'http', status: 500, detail: 'boom' });
    expect(server.requestsTo('/down')).toHaveLength(3);
  });

  it('does not retry a malformed payload or a 4xx other than 429', async () => {
    server.on('GET', '/bad', { json: { price: 'not a number' } });
    server.on('GET', '/missing', { status: 404 });
    await expect(new ResilientRead('test', httpRead('/bad'), base).call()).rejects.toMatchObject({ kind: 'malformed' });
    await expect(new ResilientRead('test', httpRead('/missing'), base).call()).rejects.toMatchObject({ kind: 'http', status: 404 });
    expect(server.requestsTo('/bad')).toHaveLength(1);
    expect(server.requestsTo('/missing')).toHaveLength(1);
  });

  it('aborts a slow answer at the timeout and, the budget spent, does not start another attempt', async () => {
    server.on('GET', '/slow', { json: { price: 1 }, delayMs: 2_000 });
    const events: ResilienceEvent[] = [];
    const r = new ResilientRead('test', httpRead('/slow'), { ...base, onEvent: (e) => events.push(e) });
    const started = performance.now();
    await expect(r.call()).rejects.toMatchObject({ kind: 'timeout' });
    const first = events[0];
    expect(first?.type === 'attempt-failed' && first.failure.detail).toBe('no answer within 150 ms');
    const elapsed = performance.now() - started;
    // Budget = 150 + 20 + 40 = 210 ms: the read ends near it, long before the 2 s upstream (slack for a loaded machine).
    expect(readBudgetMs(base)).toBe(210);
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(1_000);
    expect(server.requestsTo('/slow').length).toBeLessThanOrEqual(2);
  });

  it('bounds a read that ignores its abort signal', async () => {
    const never = () => new Promise<number>(() => {});
    const started = performance.now();
    await expect(new ResilientRead('test', never, { ...base, retries: 0 }).call()).rejects.toMatchObject({ kind: 'timeout' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('opens the breaker after three failed reads and then refuses without calling the upstream, until the cooldown', async () => {
    server.on('GET', '/dead', { status: 502 });
    let now = Date.UTC(2025, 0, 1);
    const events: ResilienceEvent[] = [];
    const r = new ResilientRead('test', httpRead('/dead'), { ...base, retries: 0, clock: () => now, onEvent: (e) => events.push(e) });
    for (let i = 0; i < 3; i++) await expect(r.call()).rejects.toMatchObject({ kind: 'http' });
    expect(r.breakerState.status).toBe('open');
    await expect(r.call()).rejects.toMatchObject({ kind: 'circuit-open' });
    expect(server.requestsTo('/dead')).toHaveLength(3);
    expect(events).toContainEqual({ type: 'breaker', source: 'test', from: 'closed', to: 'open' });

    now += 60_000;
    server.on('GET', '/dead', { json: { price: 7 } });
    await expect(r.call()).resolves.toBe(7);
    expect(r.breakerState.status).toBe('closed');
  });

  it('does not count a stale or malformed answer toward the breaker: the endpoint is up', async () => {
    server.on('GET', '/garbage', { json: {} });
    const r = new ResilientRead('test', httpRead('/garbage'), { ...base, breaker: { failureThreshold: 1, cooldownMs: 60_000 } });
    await expect(r.call()).rejects.toMatchObject({ kind: 'malformed' });
    await expect(r.call()).rejects.toMatchObject({ kind: 'malformed' });
    expect(r.breakerState.status).toBe('closed');
  });

  it('retries a refused connection (nothing listening) as unavailable', async () => {
    const gone = await FixtureServer.start();
    const url = gone.url;
    await gone.close();
    const read = async (signal: AbortSignal) => (await fetch(`${url}/x`, { signal })).status;
    const events: ResilienceEvent[] = [];
    await expect(new ResilientRead('test', read, { ...base, onEvent: (e) => events.push(e) }).call()).rejects.toMatchObject({ kind: 'unavailable' });
    expect(events.filter((e) => e.type === 'attempt-failed')).toHaveLength(3);
  });
});

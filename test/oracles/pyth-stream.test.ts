import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHermesClient } from '../../src/oracles/pyth.ts';
import { PythPriceStream, triggerWatcher, type StreamReading } from '../../src/oracles/pyth-stream.ts';
import type { OracleFailure } from '../../src/oracles/resilience.ts';
import { FixtureServer, loadFixture } from './fixture-server.ts';

const STREAM = '/v2/updates/price/stream';
const BTC = 'e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43';
type Event = { parsed: { id: string; price: Record<string, unknown> }[] };
/** The two recorded `data:` events of a Hermes BTC/USD stream (publish_time 1714748300 and 1714748301). */
const event1 = () => loadFixture('pyth-hermes-sse-btc-event1.docs.json').body as Event;
const event2 = () => loadFixture('pyth-hermes-sse-btc-event2.docs.json').body as Event;
const T1 = 1714748300 * 1000;

async function until(what: string, check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let server: FixtureServer;
let stream: PythPriceStream | undefined;
const updates: StreamReading[] = [];
const errors: OracleFailure[] = [];

beforeEach(async () => {
  server = await FixtureServer.start();
  server.sse(STREAM);
  updates.length = 0;
  errors.length = 0;
});
afterEach(async () => {
  stream?.close();
  stream = undefined;
  await server.close();
});
afterAll(() => stream?.close());

function open(opts: Partial<ConstructorParameters<typeof PythPriceStream>[0]> = {}): PythPriceStream {
  stream = new PythPriceStream({
    client: createHermesClient({ endpoint: server.url, timeoutMs: 5_000, apiKey: 'k-9' }),
    feedIds: [BTC],
    onUpdate: (r) => updates.push(r),
    onError: (f) => errors.push(f),
    initialBackoffMs: 20,
    maxBackoffMs: 1_000,
    random: () => 1,
    clock: () => T1 + 5_000,
    ...opts,
  });
  return stream;
}

describe('PythPriceStream (recorded SSE events on 127.0.0.1)', () => {
  it('keeps the latest reading per feed and calls onUpdate for each recorded event', async () => {
    const s = open();
    await s.start();
    const sse = await server.waitForStreams(1);
    expect(sse.request.query.getAll('ids[]')).toEqual([BTC]);
    expect(sse.request.query.get('parsed')).toBe('true');
    expect(sse.request.headers.authorization).toBe('Bearer k-9');

    sse.send(event1());
    await until('first update', () => updates.length === 1);
    // price "6163260000000", conf "3268548079", expo -8.
    expect(updates[0]).toMatchObject({ source: 'pyth', feedId: BTC, price: 61632.6, confidence: 32.68548079, publishTime: T1 });
    sse.send(event2());
    await until('second update', () => updates.length === 2);
    expect(s.latest(BTC)).toMatchObject({ price: 61630.88, publishTime: T1 + 1000 });
  });

  it('reports a refused key on the stream as an HTTP 401 failure without the key, and reconnects once per refusal', async () => {
    server.on('GET', STREAM, { status: 401, json: { message: 'Unauthorized: invalid or missing API key' } });
    const s = open({ initialBackoffMs: 40 });
    await s.start();
    await until('three refused connects', () => errors.length >= 3);
    s.close();
    const refused = server.requestsTo(STREAM);
    for (const r of refused) expect(r.headers.authorization).toBe('Bearer k-9');
    expect(errors[0]).toMatchObject({ source: 'pyth', kind: 'http', status: 401 });
    expect(errors.map((e) => e.message).join('\n')).not.toContain('k-9');
    // One reconnect per refusal, each after the backoff (the backoff itself: the test below).
    expect(s.stats.updates).toBe(0);
    expect(s.stats.disconnects).toBeGreaterThanOrEqual(3);
  });

  it('never lets an out-of-order older update replace a newer one', async () => {
    const s = open();
    await s.start();
    const sse = await server.waitForStreams(1);
    sse.send(event2());
    sse.send(event1());
    sse.send(event2());
    await until('the repeat of event 2', () => updates.length === 2);
    expect(s.latest(BTC)?.price).toBe(61630.88);
  });

  it('serves a fresh reading to a cycle, refuses a stale one, and says when nothing came yet', async () => {
    let now = T1 + 5_000;
    const s = open({ clock: () => now });
    expect(() => s.fresh(BTC, 60)).toThrow(/unavailable: stream: no update yet/);
    await s.start();
    (await server.waitForStreams(1)).send(event1());
    await until('update', () => updates.length === 1);
    expect(s.fresh(BTC, 60)).toEqual({ source: 'pyth', price: 61632.6, confidence: 32.68548079, publishTime: T1 });
    now = T1 + 61_000;
    expect(() => s.fresh(BTC, 60)).toThrow(/stale: stream feed .* published 61 s before now/);
  });

  it('reconnects after the connection drops mid-stream and carries on with the next event', async () => {
    const s = open();
    await s.start();
    const first = await server.waitForStreams(1);
    first.send(event1());
    await until('update', () => updates.length === 1);
    first.disconnect();
    const second = await server.waitForStreams(2);
    second.send(event2());
    await until('update after reconnect', () => updates.length === 2);
    expect(s.stats).toMatchObject({ connects: 2, disconnects: 1, updates: 2 });
    expect(errors[0]).toMatchObject({ kind: 'unavailable' });
  });

  it('reconnects after Hermes closes the stream cleanly (its 24 h limit) and after an `error` event', async () => {
    const s = open();
    await s.start();
    (await server.waitForStreams(1)).end();
    (await server.waitForStreams(2)).send('{"message":"internal"}', 'error');
    (await server.waitForStreams(3)).send(event1());
    await until('update on the third connection', () => updates.length === 1);
    expect(s.stats.disconnects).toBe(2);
  });

  it('backs off exponentially while Hermes refuses the stream, then resets once updates flow', async () => {
    server.on('GET', STREAM, { status: 503, body: 'unavailable' });
    const s = open({ initialBackoffMs: 60 });
    await s.start();
    await until('four refused attempts', () => server.requestsTo(STREAM).length >= 4);
    const at = server.requestsTo(STREAM).map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    // 60, 120, 240 ms (jitter pinned at its maximum); timers fire late, never early.
    expect(gaps[0]).toBeGreaterThanOrEqual(59);
    expect(gaps[1]).toBeGreaterThanOrEqual(119);
    expect(gaps[2]).toBeGreaterThanOrEqual(239);
    expect(errors[0]).toMatchObject({ kind: 'http', status: 503 });

    server.off('GET', STREAM);
    const sse = await server.waitForStreams(1, 5_000);
    sse.send(event1());
    await until('update', () => updates.length === 1);
    sse.disconnect();
    const before = server.requestsTo(STREAM).length;
    const t0 = Date.now();
    await server.waitForStreams(2);
    // Backoff was reset by the update: the reconnect comes after ~60 ms, not the ≥ 960 ms the failures had reached.
    expect(Date.now() - t0).toBeLessThan(600);
    expect(server.requestsTo(STREAM).length).toBe(before + 1);
  });

  it('reports a malformed event and keeps the stream open for the next good one', async () => {
    const s = open();
    await s.start();
    const sse = await server.waitForStreams(1);
    sse.send('{not json');
    const bad = event1();
    bad.parsed[0]!.price.publish_time = 'yesterday';
    sse.send(bad);
    sse.send(event2());
    await until('the good event', () => updates.length === 1);
    expect(errors.map((e) => e.kind)).toEqual(['malformed', 'malformed']);
    expect(errors[1]?.detail).toBe(`feed ${BTC}: price.publish_time = "yesterday" is not a positive integer of unix seconds`);
    expect(s.stats.connects).toBe(1);
  });

  it('stops for good on close(): no reconnect after the server drops it', async () => {
    const s = open();
    await s.start();
    const sse = await server.waitForStreams(1);
    s.close();
    sse.disconnect();
    await new Promise((r) => setTimeout(r, 150));
    expect(server.requestsTo(STREAM)).toHaveLength(1);
  });
});

describe('triggerWatcher', () => {
  const at = (price: number): StreamReading => ({ source: 'pyth', feedId: BTC, price, confidence: 0, publishTime: T1, receivedAt: T1 });

  it('fires once when the price crosses down to the level, and re-arms only once it is back above', () => {
    const crossed: number[] = [];
    const watch = triggerWatcher(() => 85, (r) => crossed.push(r.price));
    [100, 90, 85, 80, 84, 86, 84.5].forEach((p) => watch(at(p)));
    // 85 is a crossing (trigger is price ≤ level); 80 and 84 are already below; 86 re-arms; 84.5 fires again.
    expect(crossed).toEqual([85, 84.5]);
  });

  it('does nothing while no level is known (VWAP warming up)', () => {
    const crossed: number[] = [];
    let level: number | null = null;
    const watch = triggerWatcher(() => level, (r) => crossed.push(r.price));
    watch(at(10));
    level = 85;
    watch(at(10));
    expect(crossed).toEqual([10]);
  });
});

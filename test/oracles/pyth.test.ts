import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHermesClient, fetchPythReadings, pythRead, readingFromParsedFeed } from '../../src/oracles/pyth.ts';
import { ResilientRead, type ResilienceOptions } from '../../src/oracles/resilience.ts';
import { FixtureServer, loadFixture } from './fixture-server.ts';

const LATEST = '/v2/updates/price/latest';
const SOL = 'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d';
const ETH = 'ff61491a931112ddf1bd8147cd1b641375f79f5825126d665480874634fd0ace';
/** publish_time of every feed in the recorded latest-prices payload (2024-05-13). */
const PUBLISHED_MS = 1715627146 * 1000;

type Body = { parsed: { id: string; price: Record<string, unknown> }[] };
/** The recorded Hermes body, parsed afresh: tests derive variants from it without touching the file. */
const recorded = () => loadFixture('pyth-hermes-latest-sol-eth-3feeds.sdk-tests.json').body as Body;
function variant(edit: (b: Body) => void): Body {
  const b = recorded();
  edit(b);
  return b;
}

let server: FixtureServer;
beforeAll(async () => {
  server = await FixtureServer.start();
});
afterAll(async () => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.on('GET', LATEST, { json: recorded() });
});

const freshClock = () => PUBLISHED_MS + 5_000;
const client = (apiKey?: string) => createHermesClient({ endpoint: server.url, timeoutMs: 5_000, ...(apiKey ? { apiKey } : {}) });
const resilience: ResilienceOptions = { timeoutMs: 200, retries: 2, retryBackoffMs: 10, breaker: { failureThreshold: 3, cooldownMs: 60_000 }, clock: freshClock };

describe('Pyth over Hermes (recorded payload on 127.0.0.1)', () => {
  it('turns the recorded SOL/USD update into a reading: integer strings scaled by 10^expo, publish_time in seconds', async () => {
    const [sol] = await fetchPythReadings(client(), [SOL], { maxStalenessSeconds: 60, clock: freshClock });
    // price "14802549538", conf "9930888", expo -8, publish_time 1715627146.
    expect(sol).toEqual({ source: 'pyth', price: 148.02549538, confidence: 0.09930888, publishTime: 1715627146000 });
  });

  it('asks Hermes for the parsed update of exactly the configured feeds', async () => {
    await fetchPythReadings(client(), [SOL, ETH], { maxStalenessSeconds: 60, clock: freshClock });
    const q = server.requestsTo(LATEST)[0]?.query;
    expect(q?.getAll('ids[]')).toEqual([SOL, ETH]);
    expect(q?.get('parsed')).toBe('true');
  });

  it('returns one reading per feed, in the order asked, matching ids with or without 0x', async () => {
    const readings = await fetchPythReadings(client(), [ETH, `0x${SOL}`], { maxStalenessSeconds: 60, clock: freshClock });
    expect(readings.map((r) => r.price)).toEqual([2949.43041422, 148.02549538]);
  });

  it('sends the API key as a bearer token when one is configured, and nothing otherwise', async () => {
    await fetchPythReadings(client('k-123'), [SOL], { maxStalenessSeconds: 60, clock: freshClock });
    await fetchPythReadings(client(), [SOL], { maxStalenessSeconds: 60, clock: freshClock });
    const [withKey, without] = server.requestsTo(LATEST);
    expect(withKey?.headers.authorization).toBe('Bearer k-123');
    expect(without?.headers.authorization).toBeUndefined();
  });

  it('refuses a price published more than 60 s before now as stale, naming the feed and the age', async () => {
    const read = fetchPythReadings(client(), [SOL], { maxStalenessSeconds: 60, clock: () => PUBLISHED_MS + 61_000 });
    await expect(read).rejects.toMatchObject({
      kind: 'stale',
      detail: `feed ${SOL}: price 148.02549538 published 61 s before now (2024-05-13T19:05:46.000Z); limit 60 s`,
    });
  });

  it('accepts a price exactly 60 s old', async () => {
    await expect(fetchPythReadings(client(), [SOL], { maxStalenessSeconds: 60, clock: () => PUBLISHED_MS + 60_000 })).resolves.toHaveLength(1);
  });

  it('names the field and the value of a malformed price the client schema let through', async () => {
    server.on('GET', LATEST, { json: variant((b) => void (b.parsed[2]!.price.conf = '12.5')) });
    await expect(fetchPythReadings(client(), [SOL], { maxStalenessSeconds: 60, clock: freshClock })).rejects.toMatchObject({
      kind: 'malformed',
      detail: `feed ${SOL}: price.conf = "12.5" is not a non-negative integer string`,
    });
  });

  it('names the path of a field the client schema refused (a number where Hermes sends a string)', async () => {
    server.on('GET', LATEST, { json: variant((b) => void (b.parsed[2]!.price.price = 14802549538)) });
    const err = await fetchPythReadings(client(), [SOL], { maxStalenessSeconds: 60, clock: freshClock }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'malformed' });
    expect((err as Error).message).toMatch(/parsed\.2\.price\.price/);
  });

  it('reports a feed missing from the answer, a non-JSON body, and a missing expo as malformed', async () => {
    server.on('GET', LATEST, { json: variant((b) => void b.parsed.splice(2, 1)) });
    await expect(fetchPythReadings(client(), [SOL], { maxStalenessSeconds: 60, clock: freshClock })).rejects.toMatchObject({ kind: 'malformed', detail: `feed ${SOL} is missing from the response` });
    server.on('GET', LATEST, { body: '<html>gateway</html>' });
    await expect(fetchPythReadings(client(), [SOL], { maxStalenessSeconds: 60, clock: freshClock })).rejects.toMatchObject({ kind: 'malformed' });
    expect(() => readingFromParsedFeed({ ...recorded().parsed[2], price: { price: '1', conf: '1', publish_time: 1 } }, {})).toThrow(/price.expo = missing is not an integer/);
  });

  it('passes a zero or negative price through for consensus to exclude with its reason', () => {
    const entry = variant((b) => void (b.parsed[2]!.price.price = '-5')).parsed[2];
    expect(readingFromParsedFeed(entry, {}).price).toBe(-5e-8);
  });

  it('retries a 429 then a 503 through resilience and returns the reading', async () => {
    let n = 0;
    server.on('GET', LATEST, () => (++n === 1 ? { status: 429, body: 'Too Many Requests' } : n === 2 ? { status: 503 } : { json: recorded() }));
    const r = new ResilientRead('pyth', pythRead(client(), SOL, { maxStalenessSeconds: 60, clock: freshClock }), resilience);
    await expect(r.call()).resolves.toMatchObject({ price: 148.02549538 });
    expect(n).toBe(3);
  });

  it('reports a persistent 429 as rate-limited with its status, after the retries', async () => {
    server.on('GET', LATEST, { status: 429, body: 'Too Many Requests' });
    const r = new ResilientRead('pyth', pythRead(client(), SOL, { maxStalenessSeconds: 60, clock: freshClock }), resilience);
    await expect(r.call()).rejects.toMatchObject({ source: 'pyth', kind: 'rate-limited', status: 429, detail: 'Too Many Requests' });
    expect(server.requestsTo(LATEST)).toHaveLength(3);
  });

  it('times out a slow Hermes within the read budget', async () => {
    server.on('GET', LATEST, { json: recorded(), delayMs: 3_000 });
    const r = new ResilientRead('pyth', pythRead(client(), SOL, { maxStalenessSeconds: 60, clock: freshClock }), resilience);
    const started = performance.now();
    await expect(r.call()).rejects.toMatchObject({ kind: 'timeout' });
    // Budget 200 + 10 + 20 = 230 ms against a 3 s upstream (slack for a loaded machine).
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

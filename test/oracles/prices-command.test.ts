import BN from 'bn.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config-schema.ts';
import { DexTwapSource, jupiterQuoteProbe } from '../../src/oracles/dex-twap.ts';
import { liveMarketData, liveOracleSources, oracleReadBudgetMs, unconfiguredSources, type OracleDeps } from '../../src/oracles/index.ts';
import { formatPricesReport, readPricesReport } from '../../src/oracles/prices-command.ts';
import { createHermesClient } from '../../src/oracles/pyth.ts';
import { PythPriceStream } from '../../src/oracles/pyth-stream.ts';
import type { FeedLoader } from '../../src/oracles/switchboard.ts';
import { FixtureServer, loadFixture } from './fixture-server.ts';

const LATEST = '/v2/updates/price/latest';
const QUOTE = '/swap/v1/quote';
const SOL_ID = 'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d';
const ETH_ID = 'ff61491a931112ddf1bd8147cd1b641375f79f5825126d665480874634fd0ace';
const BTC_ID = 'e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43';
const SOL_MINT = 'So11111111111111111111111111111111111111112';
const USDC_MINT = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const POOL = '5BKxfWMbmYBAEWvyPZS9esPducUba9GqyMjtLCfbaqyF';
const SB_FEED = '7Zi7LkGGARDKhUEFPBUQDsVZ9L965LPEv2rBRdmSXCWh';
/** The recorded Hermes payload's publish time; the clock is pinned 5 s after it so the recorded prices are fresh. */
const PUBLISHED_S = 1715627146;
const NOW = PUBLISHED_S * 1000 + 5_000;
const clock = () => NOW;

let server: FixtureServer;
beforeAll(async () => {
  server = await FixtureServer.start();
});
afterAll(async () => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.on('GET', LATEST, { json: loadFixture('pyth-hermes-latest-sol-eth-3feeds.sdk-tests.json').body });
  // The recorded SOL→USDC quote, with its outAmount set so 0.1 SOL gives 14.8 USDC (148 USD/SOL, near the Pyth price).
  server.on('GET', QUOTE, { json: { ...(loadFixture('jupiter-swap-v1-quote-sol-usdc.docs.json').body as object), outAmount: '14800000' } });
});

/** "PSTR" is played by SOL here: Pyth's recorded SOL/USD feed, a Switchboard feed and the recorded SOL→USDC quote. */
function testConfig(): Config {
  return parseConfig({
    oracle: { pyth: { endpoint: server.url, feeds: { pstr: SOL_ID, pump: ETH_ID, sol: SOL_ID } }, switchboard: { pstrFeed: SB_FEED }, dex: { pool: POOL } },
  });
}

function switchboardAt(price: string): FeedLoader {
  return async () => ({ result: { value: new BN(price), stdDev: new BN('50000000000000000') }, lastUpdateTimestamp: new BN(PUBLISHED_S - 2) });
}

function deps(over: Partial<OracleDeps> = {}): OracleDeps {
  return {
    clock,
    feedLoader: switchboardAt('148100000000000000000'),
    priceProbe: jupiterQuoteProbe({ baseUrl: `${server.url}/swap/v1`, inputMint: SOL_MINT, outputMint: USDC_MINT, inputDecimals: 9, outputDecimals: 6, amount: 100_000_000, quote: 'input-in-output', pool: POOL }),
    resilience: { timeoutMs: 200, retries: 1, retryBackoffMs: 10 },
    ...over,
  };
}

/** The sources, with the DEX TWAP given 30 minutes of history so it can answer on its first read. */
function warmSources(config: Config, d: OracleDeps) {
  const sources = liveOracleSources(config, d);
  const dex = sources.find((s) => s instanceof DexTwapSource);
  for (let t = 1800; t > 0; t -= 300) dex?.addSample({ at: NOW - t * 1000, price: 148 });
  return sources;
}

describe('liveOracleSources', () => {
  it('builds pyth, switchboard and dex-twap when all three are configured', () => {
    expect(liveOracleSources(testConfig(), deps()).map((s) => s.name)).toEqual(['pyth', 'switchboard', 'dex-twap']);
  });

  it('leaves out what is not configured and says which key is missing', () => {
    const config = parseConfig({});
    expect(liveOracleSources(config, {})).toEqual([]);
    expect(unconfiguredSources(config)).toEqual([
      { source: 'pyth', missing: 'oracle.pyth.feeds.pstr' },
      { source: 'switchboard', missing: 'oracle.switchboard.pstrFeed' },
      { source: 'dex-twap', missing: 'oracle.dex.pool, tokens.pstr.mint, tokens.usdc.mint' },
    ]);
  });

  it('refuses a Switchboard feed without an RPC URL, naming both keys', () => {
    expect(() => liveOracleSources(parseConfig({ oracle: { switchboard: { pstrFeed: SB_FEED } } }))).toThrow(/oracle.switchboard.pstrFeed is set but solana.rpcUrl is missing/);
  });

  it('gives the monitor a per-source timeout equal to the longest resilient read', () => {
    expect(oracleReadBudgetMs(parseConfig({}))).toBe(3600);
  });

  it('in streaming mode answers a cycle from the stream without a request, and falls back to HTTP when the stream has nothing fresh', async () => {
    server.sse('/v2/updates/price/stream');
    const config = parseConfig({ oracle: { pyth: { endpoint: server.url, streaming: true, feeds: { pstr: BTC_ID } } } });
    const T1 = 1714748300 * 1000;
    const stream = new PythPriceStream({ client: createHermesClient({ endpoint: server.url, timeoutMs: 1000 }), feedIds: [BTC_ID], clock: () => T1 + 1000 });
    try {
      const [pyth] = liveOracleSources(config, { stream, clock: () => T1 + 1000, resilience: { timeoutMs: 200, retries: 0 } });
      // Nothing streamed yet: a request, for a feed the recorded latest payload does not hold.
      await expect(pyth?.read()).rejects.toMatchObject({ kind: 'malformed', detail: `feed ${BTC_ID} is missing from the response` });
      expect(server.requestsTo(LATEST)).toHaveLength(1);
      await stream.start();
      (await server.waitForStreams(1)).send(loadFixture('pyth-hermes-sse-btc-event1.docs.json').body);
      for (let i = 0; i < 100 && !stream.latest(BTC_ID); i++) await new Promise((r) => setTimeout(r, 10));
      await expect(pyth?.read()).resolves.toEqual({ source: 'pyth', price: 61632.6, confidence: 32.68548079, publishTime: T1 });
      expect(server.requestsTo(LATEST)).toHaveLength(1);
    } finally {
      stream.close();
    }
  });
});

describe('liveMarketData', () => {
  it('reads PUMP and SOL from Pyth in one request shared by concurrent callers', async () => {
    const market = liveMarketData(testConfig(), deps());
    const [pump, sol] = await Promise.all([market.pumpPrice(), market.solPrice()]);
    expect([pump, sol]).toEqual([2949.43041422, 148.02549538]);
    expect(server.requestsTo(LATEST)).toHaveLength(1);
    expect(server.requestsTo(LATEST)[0]?.query.getAll('ids[]')).toEqual([ETH_ID, SOL_ID]);
    await expect(market.volumeUsd(0, 1)).resolves.toBe(0);
  });

  it('fails with a typed, named failure when Hermes is down', async () => {
    server.on('GET', LATEST, { status: 503, body: 'maintenance' });
    await expect(liveMarketData(testConfig(), deps()).solPrice()).rejects.toMatchObject({ source: 'pyth-market', kind: 'http', status: 503 });
  });
});

describe('readPricesReport', () => {
  it('reports three agreeing sources and their consensus', async () => {
    const config = testConfig();
    const d = deps();
    const r = await readPricesReport(config, { ...d, sources: warmSources(config, d) });
    expect(r.failures).toEqual([]);
    expect(r.readings.map((x) => x.source)).toEqual(['dex-twap', 'pyth', 'switchboard']);
    expect(r.readings[0]?.price).toBeCloseTo(148, 9);
    expect(r.readings.slice(1).map((x) => x.price)).toEqual([148.02549538, 148.1]);
    expect(r.consensus.ok).toBe(true);
    if (r.consensus.ok) {
      expect(r.consensus.agreeing).toHaveLength(3);
      expect(r.consensus.price).toBeGreaterThan(148);
      expect(r.consensus.price).toBeLessThan(148.1);
    }
    const text = formatPricesReport(r);
    expect(text).toMatch(/^ {2}pyth {9}148.0254954 ± 0.09930888 {2}age 5 s {2}read in \d+ ms {2}ok$/m);
    expect(text).toMatch(/^Consensus: 148\.0\d+ \(median 148.0254954, confidence-weighted 148\.\d+; 3 agreeing: dex-twap, pyth, switchboard\)$/m);
  });

  it('excludes a source 30 % off as an outlier with its reason, and agrees on the other two', async () => {
    const config = testConfig();
    const d = deps({ feedLoader: switchboardAt('192400000000000000000') });
    const r = await readPricesReport(config, { ...d, sources: warmSources(config, d) });
    expect(r.consensus.ok).toBe(true);
    expect(r.consensus.outliers).toEqual(['switchboard']);
    expect(r.consensus.excluded).toEqual([expect.objectContaining({ source: 'switchboard', price: 192.4, reason: 'outlier' })]);
    expect(formatPricesReport(r)).toMatch(/switchboard +192\.4 .*EXCLUDED \(outlier: deviates 29\.\d+ % from the median 148.02549538; limit 5 %\)/);
  });

  it('fails closed with two sources down (429 and a hang), each failure typed, within the read budget', async () => {
    server.on('GET', LATEST, { status: 429, body: 'Too Many Requests' });
    const config = testConfig();
    const d = deps({ feedLoader: () => new Promise(() => {}) });
    const started = performance.now();
    const r = await readPricesReport(config, { ...d, sources: warmSources(config, d) });
    // Budget: 200 ms timeout + 10 ms backoff, all three read in parallel; the hung loader never answers at all.
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(r.readings.map((x) => x.source)).toEqual(['dex-twap']);
    expect(r.failures.map((f) => [f.source, f.kind, f.status])).toEqual([['pyth', 'rate-limited', 429], ['switchboard', 'timeout', undefined]]);
    expect(r.consensus.ok).toBe(false);
    expect(formatPricesReport(r)).toMatch(/Consensus: NO VALID PRICE \(no valid price: 1 source\(s\) agreed, 2 needed/);
    expect(formatPricesReport(r)).toMatch(/pyth +FAILED rate-limited \(HTTP 429\): Too Many Requests/);
  });

  it('on a one-shot read reports the DEX TWAP as not available yet, and unconfigured sources by key', async () => {
    const config = parseConfig({ oracle: { pyth: { endpoint: server.url }, dex: { pool: POOL } } });
    const r = await readPricesReport(config, deps({ feedLoader: undefined }));
    expect(r.failures).toEqual([
      { source: 'dex-twap', kind: 'unavailable', detail: expect.stringMatching(/^TWAP insufficient coverage: samples cover 0 % of the 1800 s window; need 60 %/) as unknown },
      { source: 'pyth', kind: 'unavailable', detail: 'not configured: set oracle.pyth.feeds.pstr' },
      { source: 'switchboard', kind: 'unavailable', detail: 'not configured: set oracle.switchboard.pstrFeed' },
    ]);
    expect(r.consensus.ok).toBe(false);
  });

  it('marks a stale Pyth price as a stale failure naming the age', async () => {
    const config = testConfig();
    const later = () => NOW + 60_000;
    const d = deps({ clock: later });
    const r = await readPricesReport(config, { ...d, sources: warmSources(config, d) });
    expect(r.failures.find((f) => f.source === 'pyth')).toMatchObject({ kind: 'stale', detail: expect.stringMatching(/published 65 s before now/) as unknown });
  });
});

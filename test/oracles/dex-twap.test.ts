import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DexTwapSource, jupiterQuoteProbe, priceFromQuote, type JupiterProbeOptions } from '../../src/oracles/dex-twap.ts';
import { ResilientRead } from '../../src/oracles/resilience.ts';
import { FixtureServer, loadFixture } from './fixture-server.ts';

const QUOTE = '/swap/v1/quote';
const SOL_MINT = 'So11111111111111111111111111111111111111112';
const USDC_MINT = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
/** The AMM the recorded quote routed through (Meteora DLMM). */
const POOL = '5BKxfWMbmYBAEWvyPZS9esPducUba9GqyMjtLCfbaqyF';
type Quote = Record<string, unknown>;
const recordedQuote = () => loadFixture('jupiter-swap-v1-quote-sol-usdc.docs.json').body as Quote;

let server: FixtureServer;
beforeAll(async () => {
  server = await FixtureServer.start();
});
afterAll(async () => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.on('GET', QUOTE, { json: recordedQuote() });
});

const probeOptions = (over: Partial<JupiterProbeOptions> = {}): JupiterProbeOptions => ({
  baseUrl: `${server.url}/swap/v1`,
  inputMint: SOL_MINT,
  outputMint: USDC_MINT,
  inputDecimals: 9,
  outputDecimals: 6,
  amount: 100_000_000,
  quote: 'input-in-output',
  ...over,
});
const signal = () => new AbortController().signal;

describe('Jupiter quote probe (recorded quote on 127.0.0.1)', () => {
  it('reads the pool price out of the recorded SOL→USDC quote: 16.198753 USDC for 0.1 SOL', async () => {
    const price = await jupiterQuoteProbe(probeOptions())(signal());
    expect(price).toBeCloseTo(161.98753, 9);
    const q = server.requestsTo(QUOTE)[0]?.query;
    expect([q?.get('inputMint'), q?.get('outputMint'), q?.get('amount')]).toEqual([SOL_MINT, USDC_MINT, '100000000']);
  });

  it('inverts for the output token: USDC in, the price of what comes out in USDC', () => {
    const q = { ...recordedQuote(), inAmount: '100000000', outAmount: '8000000000' };
    // 100 USDC buys 8,000 PSTR (6 decimals each): 0.0125 USD per PSTR.
    expect(priceFromQuote(q, { inputDecimals: 6, outputDecimals: 6, quote: 'output-in-input' })).toBe(0.0125);
  });

  it('insists on the configured pool: asks for direct routes and refuses a quote routed elsewhere', async () => {
    await expect(jupiterQuoteProbe(probeOptions({ pool: POOL }))(signal())).resolves.toBeCloseTo(161.98753, 9);
    expect(server.requestsTo(QUOTE)[0]?.query.get('onlyDirectRoutes')).toBe('true');
    await expect(jupiterQuoteProbe(probeOptions({ pool: 'Other111111111111111111111111111111111111111' }))(signal())).rejects.toMatchObject({
      kind: 'unavailable',
      detail: `quote did not route through the configured pool Other111111111111111111111111111111111111111 (route: ${POOL})`,
    });
  });

  it('sends the API key as x-api-key when configured', async () => {
    await jupiterQuoteProbe(probeOptions({ apiKey: 'jup-1' }))(signal());
    expect(server.requestsTo(QUOTE)[0]?.headers['x-api-key']).toBe('jup-1');
  });

  it('reports the recorded 400 error body as an http failure with its status', async () => {
    const error = loadFixture('jupiter-quote-error-400.api-client-tests.json');
    server.on('GET', QUOTE, { status: error.status ?? 0, json: error.body });
    await expect(jupiterQuoteProbe(probeOptions())(signal())).rejects.toMatchObject({
      kind: 'http', status: 400, detail: expect.stringContaining('Query parameter amount cannot be parsed') as unknown,
    });
  });

  it('reports 429 as rate-limited, and retries it through resilience', async () => {
    let n = 0;
    server.on('GET', QUOTE, () => (++n === 1 ? { status: 429, body: '{"error":"Too Many Requests"}' } : { json: recordedQuote() }));
    const r = new ResilientRead('dex-twap', jupiterQuoteProbe(probeOptions()), { timeoutMs: 500, retries: 1, retryBackoffMs: 5, breaker: { failureThreshold: 3, cooldownMs: 1000 } });
    await expect(r.call()).resolves.toBeCloseTo(161.98753, 9);
    server.on('GET', QUOTE, { status: 429, body: '{"error":"Too Many Requests"}' });
    await expect(jupiterQuoteProbe(probeOptions())(signal())).rejects.toMatchObject({ kind: 'rate-limited', status: 429 });
  });

  it('names the field of a malformed quote: zero outAmount, a numeric inAmount, a missing route plan', async () => {
    server.on('GET', QUOTE, { json: { ...recordedQuote(), outAmount: '0' } });
    await expect(jupiterQuoteProbe(probeOptions())(signal())).rejects.toMatchObject({ kind: 'malformed', detail: 'quote.outAmount = "0" is not a positive integer string' });
    server.on('GET', QUOTE, { json: { ...recordedQuote(), inAmount: 100000000 } });
    await expect(jupiterQuoteProbe(probeOptions())(signal())).rejects.toMatchObject({ kind: 'malformed', detail: 'quote.inAmount = 100000000 is not a positive integer string' });
    const { routePlan: _p, ...noRoute } = recordedQuote();
    server.on('GET', QUOTE, { json: noRoute });
    await expect(jupiterQuoteProbe(probeOptions())(signal())).rejects.toMatchObject({ kind: 'malformed' });
  });

  it('times out a slow quote', async () => {
    server.on('GET', QUOTE, { json: recordedQuote(), delayMs: 1_000 });
    const r = new ResilientRead('dex-twap', jupiterQuoteProbe(probeOptions()), { timeoutMs: 80, retries: 0, retryBackoffMs: 5, breaker: { failureThreshold: 3, cooldownMs: 1000 } });
    await expect(r.call()).rejects.toMatchObject({ kind: 'timeout' });
  });
});

describe('DexTwapSource', () => {
  const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
  const params = { windowMs: 1_800_000, minCoverage: 0.6, maxGapMs: 900_000 };

  function source(prices: number[], over: { maxSamples?: number; confidenceFloor?: number } = {}) {
    let now = T0;
    let i = 0;
    const s = new DexTwapSource({ sample: async () => prices[i++] ?? 1, params, confidenceFloor: over.confidenceFloor ?? 0.0025, clock: () => now, ...(over.maxSamples ? { maxSamples: over.maxSamples } : {}) });
    return { s, advance: (ms: number) => (now += ms), now: () => now };
  }

  it('is not available until its samples cover 60 % of the window, then answers the TWAP', async () => {
    const { s, advance } = source([1, 1, 1, 1, 4, 4, 4]);
    // Cycles every 300 s: coverage 0, 300, 600, 900 s of 1,800 → refused until 1,080 s are covered.
    for (let k = 0; k < 4; k++) {
      await expect(s.read()).rejects.toMatchObject({ source: 'dex-twap', kind: 'unavailable', detail: expect.stringMatching(/^TWAP insufficient coverage/) as unknown });
      advance(300_000);
    }
    // Samples at 0..1200 s every 300 s with prices 1,1,1,1,4: price 1 held 1,200 s, 4 held 0 s so far → TWAP 1.
    const r = await s.read();
    expect(r).toMatchObject({ source: 'dex-twap', publishTime: T0 + 1_200_000 });
    expect(r.price).toBeCloseTo(1, 12);
    // Flat series: σ = 0, so the 25 bp fee floor is the confidence.
    expect(r.confidence).toBeCloseTo(0.0025, 12);
    advance(300_000);
    // 1 held 1,200 s and 4 held 300 s: μ = 300·ln4/1500 → 4^(1/5).
    expect((await s.read()).price).toBeCloseTo(4 ** (1 / 5), 12);
  });

  it('uses the dispersion of the log prices as the confidence when it exceeds the floor', async () => {
    const { s, advance } = source([1, 4, 4]);
    await expect(s.read()).rejects.toMatchObject({ kind: 'unavailable' });
    advance(900_000);
    await expect(s.read()).rejects.toMatchObject({ kind: 'unavailable' });
    advance(900_000);
    // 1 for 900 s then 4 for 900 s: TWAP 2 (geometric), σ of the log prices ln 2 ≫ 0.0025 → confidence 2·ln 2.
    const r = await s.read();
    expect(r.price).toBeCloseTo(2, 12);
    expect(r.confidence).toBeCloseTo(2 * Math.LN2, 12);
  });

  it('refuses a series with a gap longer than 15 minutes as stale', async () => {
    const { s, advance } = source([2, 2, 2, 2, 2, 2]);
    for (let k = 0; k < 4; k++) {
      await s.read().catch(() => {});
      advance(300_000);
    }
    advance(1_000_000);
    await expect(s.read()).rejects.toMatchObject({ kind: 'stale', detail: expect.stringMatching(/^TWAP gap: 1300 s without a sample/) as unknown });
  });

  it('keeps samples bounded: only what the window needs, and at most maxSamples', async () => {
    const { s, advance } = source(Array.from({ length: 50 }, () => 3), { maxSamples: 8 });
    for (let k = 0; k < 50; k++) {
      await s.read().catch(() => {});
      advance(60_000);
    }
    expect(s.samples()).toHaveLength(8);
    const wide = source(Array.from({ length: 50 }, () => 3));
    for (let k = 0; k < 50; k++) {
      await wide.s.read().catch(() => {});
      wide.advance(60_000);
    }
    // 1,800 s window at one sample a minute: the 30 inside (the last at now − 60 s) plus the one carried in.
    expect(wide.s.samples()).toHaveLength(31);
  });

  it('adds no sample when the probe fails, and fails the read with the probe failure', async () => {
    const s = new DexTwapSource({ sample: () => Promise.reject(new Error('probe down')), params, confidenceFloor: 0.0025 });
    await expect(s.read()).rejects.toThrow('probe down');
    expect(s.samples()).toHaveLength(0);
  });

  it('refuses a non-positive sample and a negative confidence floor, naming the value', () => {
    const { s } = source([]);
    expect(() => s.addSample({ at: T0, price: 0 })).toThrow('DexTwapSource.addSample: price = 0 must be a positive finite number');
    expect(() => new DexTwapSource({ sample: async () => 1, params, confidenceFloor: -1 })).toThrow(/confidenceFloor = -1/);
  });
});

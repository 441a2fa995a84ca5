/**
 * The live PUMP/USD and SOL/USD sources (Pyth and a Jupiter USDC → token
 * quote) against a local server serving the recorded Hermes payload and a
 * Jupiter quote: the real HermesClient and Jupiter client, SPEC §2's consensus
 * over what they answer. "PUMP" is played by Pyth's recorded ETH feed, so its
 * Pyth read is ~20× the quote: no valid PUMP price; SOL's two sources agree.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config-schema.ts';
import { consensusParams, type OracleReading } from '../../src/domain/consensus.ts';
import { marketPriceProblem, marketPrices } from '../../src/domain/market-consensus.ts';
import { liveMarketData } from '../../src/oracles/index.ts';
import { NATIVE_SOL_MINT } from '../../src/oracles/market-sources.ts';
import type { OracleSource } from '../../src/ports.ts';
import { FixtureServer, loadFixture } from './fixture-server.ts';

const LATEST = '/v2/updates/price/latest';
const QUOTE = '/swap/v1/quote';
const SOL_ID = 'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d';
const ETH_ID = 'ff61491a931112ddf1bd8147cd1b641375f79f5825126d665480874634fd0ace';
const USDC_MINT = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const PUMP_MINT = 'pumpCmXqMfrsAkQ5r49WcJnRayYRqmXz6ae8H7H9Dfn';
const PUBLISHED_S = 1715627146;
const NOW = PUBLISHED_S * 1000 + 5_000;

let server: FixtureServer;
beforeAll(async () => {
  server = await FixtureServer.start();
});
afterAll(async () => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.on('GET', LATEST, { json: loadFixture('pyth-hermes-latest-sol-eth-3feeds.sdk-tests.json').body });
  // 14.8 USDC in, 0.1 SOL out: 148 USD per SOL (the recorded Pyth SOL price is 148.03); the same body answers the PUMP quote.
  server.on('GET', QUOTE, { json: { ...(loadFixture('jupiter-swap-v1-quote-sol-usdc.docs.json').body as object), inAmount: '14800000', outAmount: '100000000' } });
});

function config(): Config {
  return parseConfig({
    tokens: { pump: { mint: PUMP_MINT, decimals: 9 }, usdc: { mint: USDC_MINT } },
    solana: { jupiter: { baseUrl: `${server.url}/swap/v1` } },
    oracle: { pyth: { endpoint: server.url, feeds: { pump: ETH_ID, sol: SOL_ID } } },
  });
}

const readAll = (sources: readonly OracleSource[]): Promise<OracleReading[]> => Promise.all(sources.map((s) => s.read()));

describe('live PUMP and SOL sources', () => {
  it('are Pyth and a Jupiter USDC → token quote for each, the quote asking for the token\'s own mint', async () => {
    const priced = liveMarketData(config(), { clock: () => NOW, resilience: { timeoutMs: 500, retries: 0 } }).priceSources;
    expect(priced?.pump.map((s) => s.name)).toEqual(['pyth', 'jupiter']);
    expect(priced?.sol.map((s) => s.name)).toEqual(['pyth', 'jupiter']);
    const [pump, sol] = await Promise.all([readAll(priced?.pump ?? []), readAll(priced?.sol ?? [])]);
    expect(sol.map((r) => [r.source, Number(r.price.toFixed(2))])).toEqual([['pyth', 148.03], ['jupiter', 148]]);
    expect(server.requestsTo(QUOTE).map((r) => [r.query.get('inputMint'), r.query.get('outputMint')]).sort()).toEqual([[USDC_MINT, NATIVE_SOL_MINT], [USDC_MINT, PUMP_MINT]].sort());
    expect(server.requestsTo(LATEST)).toHaveLength(1);

    const m = marketPrices({ pump, sol }, NOW, consensusParams(config()));
    expect(m.solPrice).toBeGreaterThan(148);
    expect(m.solPrice).toBeLessThan(148.03);
    expect(m.pumpPrice).toBeNaN();
    expect(marketPriceProblem(m)?.reason).toMatch(/^no valid PUMP\/USD price: 0 source\(s\) agreed, 2 needed/);
  });

  it('are Pyth alone for a token whose mint is not configured, which then has no valid price', async () => {
    const c = parseConfig({ oracle: { pyth: { endpoint: server.url, feeds: { pump: ETH_ID, sol: SOL_ID } } } });
    const priced = liveMarketData(c, { clock: () => NOW, resilience: { timeoutMs: 500, retries: 0 } }).priceSources;
    expect(priced?.pump.map((s) => s.name)).toEqual(['pyth']);
    const m = marketPrices({ pump: await readAll(priced?.pump ?? []), sol: await readAll(priced?.sol ?? []) }, NOW, consensusParams(c));
    expect(marketPriceProblem(m)?.assets).toEqual(['PUMP/USD', 'SOL/USD']);
  });
});

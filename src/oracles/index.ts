/**
 * The live oracle sources and market data, built from the config: each source
 * is an adapter wrapped in its own timeout, retries and circuit breaker
 * (resilience.ts). Which sources exist depends on what is configured:
 *   - pyth        needs oracle.pyth.feeds.pstr (no PSTR feed exists on Pyth today);
 *   - switchboard needs oracle.switchboard.pstrFeed and solana.rpcUrl;
 *   - dex-twap    needs oracle.dex.pool, tokens.pstr.mint and tokens.usdc.mint; with
 *                 oracle.dex.kind 'raydium-clmm' also solana.rpcUrl, and it then
 *                 gives liveMarketData the pool's traded volume (raydium-clmm.ts).
 * `unconfiguredSources` says which are missing and why.
 *
 * Give the monitor `oracleReadBudgetMs(config)` as its per-source timeout
 * (ActivityDeps.sourceTimeoutMs): it is the longest a resilient read can take.
 */
import { Connection } from '@solana/web3.js';
import type { HermesClient } from '@pythnetwork/hermes-client';
import type { Config } from '../config-schema.ts';
import type { OracleReading } from '../domain/consensus.ts';
import { twapParams } from '../domain/twap.ts';
import type { MarketData, OracleSource } from '../ports.ts';
import { DexTwapSource, jupiterQuoteProbe, DEX_SOURCE, type JupiterProbeOptions } from './dex-twap.ts';
import { createHermesClient, fetchPythReadings, pythRead, PYTH_SOURCE } from './pyth.ts';
import type { PythPriceStream } from './pyth-stream.ts';
import { readBudgetMs, resilienceOptions, resilientSource, ResilientRead, OracleFailure, type ResilienceEvent, type ResilienceOptions } from './resilience.ts';
import { sdkFeedLoader, switchboardRead, SWITCHBOARD_SOURCE, type FeedLoader } from './switchboard.ts';
import { liveMarketPriceSources } from './market-sources.ts';
import { connectionAccounts, raydiumTwapSource, raydiumVolume, type AccountFetcher, type ClmmReaderOptions } from './raydium-clmm.ts';
import { jupiterApi, jupiterBaseUrl } from '../config-secrets.ts';
import { jupiterApiKey, pythApiKey, rpcUrl, type Env } from '../runtime/secrets.ts';
import { jupiterClient, type JupiterClient } from '../solana/jupiter.ts';
import { jupiterClientProbe } from './jupiter-v2-probe.ts';

export interface OracleDeps {
  /** Overrides the Hermes client built from oracle.pyth (endpoint, and the key its apiKey reference names). */
  hermes?: HermesClient;
  /** Where `{ env: NAME }` secrets are read (process.env by default). */
  env?: Env;
  /** The Jupiter client of the swaps; with solana.jupiter.api 'v2' the DEX probe quotes through it. */
  jupiter?: JupiterClient;
  /** V2 /build quotes for a wallet: the treasury's, when no `jupiter` client is given. */
  jupiterTaker?: string;
  /** Streaming mode (oracle.pyth.streaming): the runtime owns the stream (start, close, onUpdate → monitor `wake`). */
  stream?: PythPriceStream;
  /** Overrides the Switchboard SDK loader (tests). */
  feedLoader?: FeedLoader;
  /** Used by the SDK loader; default `new Connection(solana.rpcUrl, solana.commitment)`. */
  connection?: Connection;
  /** oracle.dex.kind 'raydium-clmm': reads accounts with their owner; default over `connection` (tests: LiteSVM). */
  accounts?: AccountFetcher;
  /** Overrides the Jupiter quote probe of the DEX pool price (tests, paper). */
  priceProbe?: (signal: AbortSignal) => Promise<number>;
  /** Overrides the Jupiter quote probes of the PUMP/USD and SOL/USD consensus (tests): USD per token. */
  marketProbes?: { pump?: (signal: AbortSignal) => Promise<number>; sol?: (signal: AbortSignal) => Promise<number> };
  /** Size of the Jupiter probe quote, in USDC (default 100). */
  probeUsdc?: number;
  /** Traded USD volume in the PSTR pool in (fromMs, toMs]; default 0 (the VWAP then falls back to `volumeless`, SPEC §1). */
  volumeUsd?: (fromMs: number, toMs: number) => Promise<number>;
  clock?: () => number;
  /** Every failed attempt, retry and breaker transition, for the log. */
  onEvent?: (e: ResilienceEvent) => void;
  /** Overrides parts of the resilience options taken from config.oracle (e.g. a shorter budget). */
  resilience?: Partial<ResilienceOptions>;
}

export function oracleReadBudgetMs(config: Config): number {
  return readBudgetMs(resilienceOptions(config));
}

export function unconfiguredSources(config: Config, deps: Pick<OracleDeps, 'priceProbe' | 'accounts' | 'connection'> = {}): { source: string; missing: string }[] {
  const out: { source: string; missing: string }[] = [];
  if (!config.oracle.pyth.feeds.pstr) out.push({ source: PYTH_SOURCE, missing: 'oracle.pyth.feeds.pstr' });
  if (!config.oracle.switchboard.pstrFeed) out.push({ source: SWITCHBOARD_SOURCE, missing: 'oracle.switchboard.pstrFeed' });
  const raydium = config.oracle.dex.kind === 'raydium-clmm';
  if (!deps.priceProbe || raydium) {
    const missing = [
      ['oracle.dex.pool', config.oracle.dex.pool],
      ['tokens.pstr.mint', config.tokens.pstr.mint],
      ['tokens.usdc.mint', config.tokens.usdc.mint],
      ...(raydium && !deps.accounts && !deps.connection ? [['solana.rpcUrl', config.solana.rpcUrl]] : []),
    ].filter(([, v]) => !v).map(([k]) => k as string);
    if (missing.length) out.push({ source: DEX_SOURCE, missing: missing.join(', ') });
  }
  return out;
}

/** The PSTR/USD sources the config allows, each behind its own timeout, retries and breaker. */
export function liveOracleSources(config: Config, deps: OracleDeps = {}): OracleSource[] {
  const options = optionsFor(config, deps);
  const clock = deps.clock ?? Date.now;
  const { maxStalenessSeconds } = config.oracle;
  const sources: OracleSource[] = [];

  const pstrFeed = config.oracle.pyth.feeds.pstr;
  if (pstrFeed) {
    const http = pythRead(deps.hermes ?? hermesFor(config, deps.env), pstrFeed, { maxStalenessSeconds, clock });
    const stream = config.oracle.pyth.streaming ? deps.stream : undefined;
    // Streaming: the latest streamed price when fresh (no request at all); otherwise a normal request.
    const read = stream
      ? (signal: AbortSignal) => {
          try {
            return Promise.resolve(stream.fresh(pstrFeed, maxStalenessSeconds));
          } catch {
            return http(signal);
          }
        }
      : http;
    sources.push(resilientSource(PYTH_SOURCE, read, options));
  }

  const sbFeed = config.oracle.switchboard.pstrFeed;
  if (sbFeed) {
    const loader = deps.feedLoader ?? sdkFeedLoader(deps.connection ?? connectionFor(config, deps.env));
    sources.push(resilientSource(SWITCHBOARD_SOURCE, switchboardRead(loader, sbFeed, { maxStalenessSeconds, clock }), options));
  }

  const raydium = config.oracle.dex.kind === 'raydium-clmm';
  const clmm = raydium ? clmmReaderFor(config, deps, options) : null;
  if (clmm) sources.push(raydiumTwapSource({ ...clmm, params: twapParams(config), confidenceFloor: config.liquidity.feeRate, clock }));
  const probe = raydium ? null : deps.priceProbe ?? jupiterProbeFor(config, deps, deps.probeUsdc ?? 100);
  if (probe) {
    const sampler = new ResilientRead(DEX_SOURCE, probe, options);
    sources.push(new DexTwapSource({ sample: () => sampler.call(), params: twapParams(config), confidenceFloor: config.liquidity.feeRate, clock }));
  }
  return sources;
}

/** PUMP/USD and SOL/USD from Pyth (one request for both, shared by concurrent callers, or the stream when fresh). */
export function liveMarketData(config: Config, deps: OracleDeps = {}): MarketData {
  const { pump, sol } = config.oracle.pyth.feeds;
  const { maxStalenessSeconds } = config.oracle;
  const client = deps.hermes ?? hermesFor(config, deps.env);
  const clock = deps.clock ?? Date.now;
  const batch = new ResilientRead('pyth-market', (signal) => fetchPythReadings(client, [pump, sol], { source: 'pyth-market', maxStalenessSeconds, signal, clock }), optionsFor(config, deps));
  let inFlight: Promise<OracleReading[]> | null = null;
  const reading = async (feed: string, index: number): Promise<OracleReading> => {
    const stream = config.oracle.pyth.streaming ? deps.stream : undefined;
    if (stream) {
      try {
        const r = stream.fresh(feed, maxStalenessSeconds);
        return { source: 'pyth', price: r.price, confidence: r.confidence, publishTime: r.publishTime };
      } catch {
        // not streamed or not fresh: fall back to a request
      }
    }
    inFlight ??= batch.call().finally(() => (inFlight = null));
    return { ...((await inFlight)[index] as OracleReading), source: 'pyth' };
  };
  const latest = async (feed: string, index: number): Promise<number> => {
    const r = await reading(feed, index);
    if (!(r.price > 0)) {
      throw new OracleFailure({ source: 'pyth-market', kind: 'malformed', detail: `feed ${feed}: price ${r.price} is not positive` });
    }
    return r.price;
  };
  return {
    pumpPrice: () => latest(pump, 0),
    solPrice: () => latest(sol, 1),
    volumeUsd: deps.volumeUsd ?? volumeFor(config, deps),
    // SPEC §2 for PUMP and SOL too: Pyth and a Jupiter quote each (market-sources.ts); the monitor prices them from it.
    priceSources: liveMarketPriceSources(config, {
      pyth: (index) => reading(index === 0 ? pump : sol, index), clock, resilience: optionsFor(config, deps),
      quoteProbe: (o) => jupiterPriceProbe(config, deps, o),
      ...(deps.marketProbes ? { probes: deps.marketProbes } : {}), ...(deps.probeUsdc !== undefined ? { probeUsdc: deps.probeUsdc } : {}),
    }),
  };
}

/** The pool's traded volume when it is read on chain (oracle.dex.kind 'raydium-clmm'); otherwise 0 (`volumeless`). */
function volumeFor(config: Config, deps: OracleDeps): (fromMs: number, toMs: number) => Promise<number> {
  const clmm = config.oracle.dex.kind === 'raydium-clmm' ? clmmReaderFor(config, deps, optionsFor(config, deps)) : null;
  return clmm ? raydiumVolume(clmm) : async () => 0;
}

function clmmReaderFor(config: Config, deps: OracleDeps, resilience: ResilienceOptions): ClmmReaderOptions | null {
  const { pool } = config.oracle.dex;
  const { pstr, usdc } = config.tokens;
  if (!pool || !pstr.mint || !usdc.mint) return null;
  if (!deps.accounts && !deps.connection && !config.solana.rpcUrl) return null;
  const accounts = deps.accounts ?? connectionAccounts(deps.connection ?? connectionFor(config, deps.env));
  return { pool, pstr: { mint: pstr.mint, decimals: pstr.decimals }, quote: { mint: usdc.mint, decimals: usdc.decimals }, accounts, resilience };
}

function optionsFor(config: Config, deps: OracleDeps): ResilienceOptions {
  return { ...resilienceOptions(config), ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.onEvent ? { onEvent: deps.onEvent } : {}), ...deps.resilience };
}

function hermesFor(config: Config, env?: Env): HermesClient {
  const apiKey = pythApiKey(config, env);
  // The client's own timeout is a backstop only: resilience.ts aborts first.
  return createHermesClient({ endpoint: config.oracle.pyth.endpoint, ...(apiKey ? { apiKey } : {}), timeoutMs: oracleReadBudgetMs(config) + 1_000 });
}

/** The Solana connection the Switchboard loader uses. */
export function connectionFor(config: Config, env?: Env): Connection {
  const url = rpcUrl(config, env);
  if (!url) {
    throw new Error('oracle.switchboard.pstrFeed is set but solana.rpcUrl is missing: the Switchboard feed is read over Solana JSON-RPC');
  }
  // web3.js would otherwise retry a 429 itself for up to ~15 s, far past the read budget: resilience.ts retries instead.
  return new Connection(url, { commitment: config.solana.commitment, disableRetryOnRateLimit: true });
}

function jupiterProbeFor(config: Config, deps: OracleDeps, probeUsdc: number): ((signal: AbortSignal) => Promise<number>) | null {
  const pool = config.oracle.dex.pool;
  const pstr = config.tokens.pstr.mint;
  const usdc = config.tokens.usdc.mint;
  if (!pool || !pstr || !usdc) return null;
  const o = {
    inputMint: usdc,
    outputMint: pstr,
    inputDecimals: config.tokens.usdc.decimals,
    outputDecimals: config.tokens.pstr.decimals,
    amount: Math.round(probeUsdc * 10 ** config.tokens.usdc.decimals),
    // USDC in, PSTR out: the price of PSTR in USDC, taken as USD.
    quote: 'output-in-input' as const,
    pool,
  };
  return jupiterPriceProbe(config, deps, o);
}

/** A price probe over the Jupiter API in use (V2's client, or v1's quote API when chosen), with the resolved key. */
function jupiterPriceProbe(config: Config, deps: OracleDeps, o: Omit<JupiterProbeOptions, 'baseUrl' | 'apiKey'>): (signal: AbortSignal) => Promise<number> {
  const j = config.solana.jupiter;
  if (jupiterApi(j) === 'v2') {
    const apiKey = deps.jupiter ? undefined : jupiterApiKey(config, deps.env);
    const client = deps.jupiter ?? jupiterClient({
      api: 'v2', baseUrl: jupiterBaseUrl(j), maxRateLimitWaitMs: j.maxRateLimitWaitMs, ...(apiKey ? { apiKey } : {}), ...(deps.jupiterTaker ? { taker: deps.jupiterTaker } : {}),
    });
    return jupiterClientProbe(client, o);
  }
  const apiKey = jupiterApiKey(config, deps.env);
  return jupiterQuoteProbe({ ...o, baseUrl: jupiterBaseUrl(j), ...(apiKey ? { apiKey } : {}) });
}

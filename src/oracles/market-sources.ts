/**
 * Live PUMP/USD and SOL/USD sources for SPEC §2's consensus (issue #10 item
 * 4): Pyth (one Hermes request for both feeds, or the stream when fresh) and a
 * Jupiter quote of USDC into the token. The quote is a price that could be
 * traded now, independent of Pyth's publishers, so a wrong or stale Pyth read
 * no longer sizes an intervention or sets a slippage floor on its own.
 */
import type { Config } from '../config-schema.ts';
import type { OracleReading } from '../domain/consensus.ts';
import type { MarketPriceSources, OracleSource } from '../ports.ts';
import type { JupiterProbeOptions } from './dex-twap.ts';
import { ResilientRead, type ResilienceOptions } from './resilience.ts';

/** Wrapped SOL: Jupiter quotes native SOL under this mint. */
export const NATIVE_SOL_MINT = 'So11111111111111111111111111111111111111112';

export type PriceProbe = (signal: AbortSignal) => Promise<number>;

export interface MarketSourceDeps {
  /** Pyth's PUMP and SOL readings (index 0 PUMP, 1 SOL), as liveMarketData reads them. */
  pyth: (index: 0 | 1) => Promise<OracleReading>;
  /** Overrides the Jupiter quote probes (tests): USD per token. */
  probes?: { pump?: PriceProbe; sol?: PriceProbe };
  probeUsdc?: number;
  /** Builds a quote probe on the Jupiter API in use, with its key resolved in the worker (src/oracles/index.ts). */
  quoteProbe: (o: Omit<JupiterProbeOptions, 'baseUrl' | 'apiKey'>) => PriceProbe;
  clock: () => number;
  resilience: ResilienceOptions;
}

/** Pyth and Jupiter for each of PUMP and SOL; a token whose mint is unknown has Pyth only (so no valid price). */
export function liveMarketPriceSources(config: Config, deps: MarketSourceDeps): MarketPriceSources {
  const pyth = (index: 0 | 1): OracleSource => ({ name: 'pyth', read: () => deps.pyth(index) });
  const jupiter = (token: 'pump' | 'sol', override?: PriceProbe): OracleSource[] => {
    const probe = override ?? usdcQuoteProbe(config, token, deps.probeUsdc ?? 100, deps.quoteProbe);
    if (!probe) return [];
    const read = new ResilientRead(`jupiter-${token}`, probe, deps.resilience);
    // A quote has no published confidence: the pool fee is the price's own uncertainty, as for the DEX TWAP.
    return [{ name: 'jupiter', read: async () => quoteReading(await read.call(), deps.clock(), config.liquidity.feeRate) }];
  };
  return { pump: [pyth(0), ...jupiter('pump', deps.probes?.pump)], sol: [pyth(1), ...jupiter('sol', deps.probes?.sol)] };
}

export function quoteReading(price: number, at: number, feeRate: number): OracleReading {
  return { source: 'jupiter', price, confidence: price * feeRate, publishTime: at };
}

/** USDC → token over Jupiter's quote API: the token's price in USDC, taken as USD. Null without the mints. */
function usdcQuoteProbe(config: Config, token: 'pump' | 'sol', probeUsdc: number, quoteProbe: MarketSourceDeps['quoteProbe']): PriceProbe | null {
  const usdc = config.tokens.usdc.mint;
  const mint = token === 'sol' ? config.tokens.sol.mint ?? NATIVE_SOL_MINT : config.tokens.pump.mint;
  if (!usdc || !mint) return null;
  return quoteProbe({
    inputMint: usdc,
    outputMint: mint,
    inputDecimals: config.tokens.usdc.decimals,
    outputDecimals: config.tokens[token].decimals,
    amount: Math.round(probeUsdc * 10 ** config.tokens.usdc.decimals),
    quote: 'output-in-input',
    source: `jupiter-${token}`,
  });
}

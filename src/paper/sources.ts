/**
 * Paper-mode edges over the simulated market: three oracle sources for
 * PSTR/USD (SPEC §2 names Pyth, Switchboard and a DEX TWAP), two each for
 * PUMP/USD and SOL/USD (Pyth and a Jupiter quote), and the market data the
 * monitor records with each sample. Every reading is a pure function
 * of (market, clock()), so a replayed or retried activity reads the same.
 */
import type { OracleReading } from '../domain/consensus.ts';
import type { MarketData, OracleSource } from '../ports.ts';
import { hash01 } from './market.ts';
import type { SimulatedMarket } from './market.ts';

const MINUTE_MS = 60_000;

export interface PaperSourceOptions {
  /**
   * 'dex-twap' reads OUTLIER_OFFSET off during one minute in every this many
   * (counted from the market's originMs; the last minute of each block).
   * 0 turns outliers off. Default 7.
   */
  outlierEveryMinutes?: number;
  /** Largest relative price noise per source, e.g. 0.002 for ±0.2 %. Default 0.002. */
  noise?: number;
}

/** How far off the DEX TWAP reads during an outlier minute: beyond SPEC §2's 5 % deviation limit. */
export const OUTLIER_OFFSET = 0.08;

interface SourceProfile {
  readonly name: string;
  /** How long before the read the price was published. */
  readonly lagMs: number;
}

export const PAPER_SOURCES: readonly SourceProfile[] = Object.freeze([
  { name: 'pyth', lagMs: 2_000 },
  { name: 'switchboard', lagMs: 4_000 },
  { name: 'dex-twap', lagMs: 6_000 },
]);

/** Confidence as a fraction of price: between 0.1 % and 0.5 %. */
const CONFIDENCE_MIN = 0.001;
const CONFIDENCE_SPAN = 0.004;

/** True when `t` falls in an outlier minute of the DEX TWAP. */
export function isOutlierMinute(market: SimulatedMarket, t: number, everyMinutes: number): boolean {
  if (everyMinutes === 0) return false;
  const minute = Math.floor((t - market.originMs) / MINUTE_MS);
  const inBlock = ((minute % everyMinutes) + everyMinutes) % everyMinutes;
  return inBlock === everyMinutes - 1;
}

/** One source's reading at clock time `now`: deterministic in (market seed, source, second of publication). */
export function paperReading(market: SimulatedMarket, sourceIndex: number, now: number, opts: Required<PaperSourceOptions>): OracleReading {
  const profile = PAPER_SOURCES[sourceIndex];
  if (!profile) throw new RangeError(`paperReading: sourceIndex ${sourceIndex} is not one of 0..${PAPER_SOURCES.length - 1}`);
  const publishTime = now - profile.lagMs;
  const second = Math.floor(publishTime / 1000);
  const noise = opts.noise * (2 * hash01(market.seed, 100 + sourceIndex, second) - 1);
  const outlier = profile.name === 'dex-twap' && isOutlierMinute(market, publishTime, opts.outlierEveryMinutes);
  const price = market.pstrPrice(publishTime) * (1 + noise) * (outlier ? 1 + OUTLIER_OFFSET : 1);
  const confidence = price * (CONFIDENCE_MIN + CONFIDENCE_SPAN * hash01(market.seed, 200 + sourceIndex, second));
  return { source: profile.name, price, confidence, publishTime };
}

function resolveOptions(opts: PaperSourceOptions): Required<PaperSourceOptions> {
  const outlierEveryMinutes = opts.outlierEveryMinutes ?? 7;
  const noise = opts.noise ?? 0.002;
  if (!Number.isInteger(outlierEveryMinutes) || outlierEveryMinutes < 0) {
    throw new RangeError(`paperOracleSources: outlierEveryMinutes must be an integer ≥ 0 (0 = never), got ${outlierEveryMinutes}`);
  }
  if (!(noise >= 0 && noise < 0.05)) {
    throw new RangeError(`paperOracleSources: noise must be in [0, 0.05) so sources agree within SPEC §2's limit, got ${noise}`);
  }
  return { outlierEveryMinutes, noise };
}

export function paperOracleSources(market: SimulatedMarket, clock: () => number, opts: PaperSourceOptions = {}): OracleSource[] {
  const resolved = resolveOptions(opts);
  return PAPER_SOURCES.map((profile, index) => ({
    name: profile.name,
    read: () => settle(() => paperReading(market, index, clock(), resolved), profile.name),
  }));
}

export function paperMarketData(market: SimulatedMarket, clock: () => number, opts: Pick<PaperSourceOptions, 'noise'> = {}): MarketData {
  const { noise } = resolveOptions({ ...opts, outlierEveryMinutes: 0 });
  return {
    pumpPrice: () => settle(() => market.pumpPrice(clock()), 'paper market PUMP price'),
    solPrice: () => settle(() => market.solPrice(clock()), 'paper market SOL price'),
    volumeUsd: (fromMs, toMs) => settle(() => market.volumeUsd(fromMs, toMs), 'paper market volume'),
    priceSources: {
      pump: PAPER_MARKET_SOURCES.map((p, i) => paperMarketSource(p, (t) => market.pumpPrice(t), market.seed, 300 + i, clock, noise)),
      sol: PAPER_MARKET_SOURCES.map((p, i) => paperMarketSource(p, (t) => market.solPrice(t), market.seed, 310 + i, clock, noise)),
    },
  };
}

/**
 * PUMP/USD and SOL/USD go through SPEC §2's consensus like PSTR (they size and bound every trade): in paper mode
 * from two sources shaped like the live ones, Pyth and a Jupiter quote, each with its own lag and noise, so the
 * demo still has two agreeing sources and trades.
 */
export const PAPER_MARKET_SOURCES: readonly SourceProfile[] = Object.freeze([
  { name: 'pyth', lagMs: 2_000 },
  { name: 'jupiter', lagMs: 0 },
]);

/** One PUMP or SOL source: deterministic in (market seed, stream, second of publication), like paperReading. */
function paperMarketSource(profile: SourceProfile, priceAt: (t: number) => number, seed: number, stream: number, clock: () => number, noise: number): OracleSource {
  return {
    name: profile.name,
    read: () => settle((): OracleReading => {
      const publishTime = clock() - profile.lagMs;
      const second = Math.floor(publishTime / 1000);
      const price = priceAt(publishTime) * (1 + noise * (2 * hash01(seed, stream, second) - 1));
      const confidence = price * (CONFIDENCE_MIN + CONFIDENCE_SPAN * hash01(seed, stream + 100, second));
      return { source: profile.name, price, confidence, publishTime };
    }, `paper ${profile.name}`),
  };
}

/** A rejected promise (never a synchronous throw) whose error names who failed, as ports.ts asks. */
function settle<T>(fn: () => T, who: string): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn())).catch((error: unknown) => {
    throw new Error(`${who}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  });
}

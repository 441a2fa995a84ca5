/**
 * The paper-mode world a worker acts on: the store, a simulated market with
 * three oracle sources, and a ledger in the store. Built once per process from the
 * config; the market's anchor is persisted so a restart sees the same market.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { TreasuryStore } from '../db/store.ts';
import { PaperLedger } from '../paper/ledger.ts';
import { SimulatedMarket } from '../paper/market.ts';
import { seedPriceHistory } from '../paper/history.ts';
import { paperMarketData, paperOracleSources } from '../paper/sources.ts';
import { serverClock } from '../activities/deps.ts';
import type { LiquidityManager, MarketData, OracleSource } from '../ports.ts';

export interface PaperWorld {
  store: TreasuryStore;
  market: SimulatedMarket;
  ledger: PaperLedger;
  sources: OracleSource[];
  marketData: MarketData;
  liquidity: LiquidityManager;
}

interface Anchor {
  originMs: number;
  drawdownStartMs: number | null;
}

/** The market's anchor: chosen at the first start, reused after (so history and prices agree across restarts). */
function loadAnchor(dataDir: string, config: Config, now: number): Anchor {
  const file = join(dataDir, `paper-market-${config.treasuryId}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Anchor;
  const d = config.paper.drawdown;
  const anchor: Anchor = { originMs: now, drawdownStartMs: d ? now + d.startInSeconds * 1000 : null };
  writeFileSync(file, JSON.stringify(anchor, null, 2));
  return anchor;
}

/** `store` (already open) or the SQLite file at `storePath` (default: in the data directory). */
export async function buildPaperWorld(
  config: Config, opts: { dataDir: string; store?: TreasuryStore; storePath?: string; now?: number; clock?: () => number },
): Promise<PaperWorld> {
  const now = opts.now ?? Date.now();
  const clock = opts.clock ?? serverClock;
  const store = opts.store ?? TreasuryStore.open(opts.storePath ?? join(opts.dataDir, `treasury-${config.treasuryId}.sqlite`));
  const anchor = loadAnchor(opts.dataDir, config, now);
  const d = config.paper.drawdown;
  const market = new SimulatedMarket({
    seed: config.paper.seed,
    originMs: anchor.originMs,
    ...(d && anchor.drawdownStartMs !== null
      ? { drawdown: { startMs: anchor.drawdownStartMs, depth: d.depth, rampSeconds: d.rampSeconds, holdSeconds: d.holdSeconds, recoverSeconds: d.recoverSeconds } }
      : {}),
  });
  const ledger = new PaperLedger(store, {
    treasuryId: config.treasuryId, config, market, clock, swapDelayMs: config.paper.swapDelayMs,
    ...(config.paper.poolDepthUsd !== undefined ? { poolDepthUsd: config.paper.poolDepthUsd } : {}),
  });
  await ledger.initialize();
  if (config.paper.seedHistoryDays > 0 && !(await store.latestPriceSample(config.treasuryId))) {
    await seedPriceHistory(store, { treasuryId: config.treasuryId, market, nowMs: now, days: config.paper.seedHistoryDays });
  }
  const liquidity: LiquidityManager = {
    positions: async () =>
      (await ledger.positions()).map((p) => ({
        pool: p.pool, quote: p.quote, liquidity: p.liquidity, lower: p.range.lower, upper: p.range.upper, center: p.range.center,
        entryBase: p.entryBase, entryQuote: p.entryQuote, lastRebalanceAt: p.lastRebalanceAt, rebalances: p.rebalances,
      })),
    rebalance: async (pool, range, at) => ({ applied: (await ledger.rebalance(pool, range, at)).applied }),
  };
  return { store, market, ledger, sources: paperOracleSources(market, clock), marketData: paperMarketData(market, clock), liquidity };
}

/**
 * The paper-mode world a worker acts on: the store, a simulated market with
 * three oracle sources, and a ledger in the store. Built once per process from the
 * config; the market's anchor is kept in the store so a restart, or another
 * worker sharing the store, sees the same market.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { TreasuryStore } from '../db/store.ts';
import { initEntryDetails, PaperLedger } from '../paper/ledger.ts';
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

function isAnchor(v: unknown): v is Anchor {
  const a = v as Partial<Anchor> | null;
  return typeof a?.originMs === 'number' && (a.drawdownStartMs === null || typeof a.drawdownStartMs === 'number');
}

/** The anchor kept on the paper ledger's init entry, if any: every worker sharing the store prices the same market. */
async function storedAnchor(store: TreasuryStore, treasuryId: string): Promise<Anchor | null> {
  const anchor = ((await initEntryDetails(store, treasuryId)) as { marketAnchor?: unknown } | undefined)?.marketAnchor;
  return isAnchor(anchor) ? anchor : null;
}

/** Before the anchor lived in the store, it was a file in the data directory: still honoured when the store has none. */
function legacyAnchor(dataDir: string, treasuryId: string): Anchor | null {
  const file = join(dataDir, `paper-market-${treasuryId}.json`);
  if (!existsSync(file)) return null;
  const anchor: unknown = JSON.parse(readFileSync(file, 'utf8'));
  return isAnchor(anchor) ? anchor : null;
}

function marketAt(config: Config, anchor: Anchor): SimulatedMarket {
  const d = config.paper.drawdown;
  return new SimulatedMarket({
    seed: config.paper.seed,
    originMs: anchor.originMs,
    ...(d && anchor.drawdownStartMs !== null
      ? { drawdown: { startMs: anchor.drawdownStartMs, depth: d.depth, rampSeconds: d.rampSeconds, holdSeconds: d.holdSeconds, recoverSeconds: d.recoverSeconds } }
      : {}),
  });
}

/** `store` (already open) or the SQLite file at `storePath` (default: in the data directory). */
export async function buildPaperWorld(
  config: Config, opts: { dataDir: string; store?: TreasuryStore; storePath?: string; now?: number; clock?: () => number },
): Promise<PaperWorld> {
  const now = opts.now ?? Date.now();
  const clock = opts.clock ?? serverClock;
  const store = opts.store ?? TreasuryStore.open(opts.storePath ?? TreasuryStore.defaultPath(opts.dataDir, config.treasuryId));
  // The market's anchor is chosen by the first worker to start on this store and kept on the ledger's init
  // entry, so a restart, or another worker on another machine, prices the same simulated market.
  const d = config.paper.drawdown;
  const proposed = (await storedAnchor(store, config.treasuryId)) ?? legacyAnchor(opts.dataDir, config.treasuryId)
    ?? { originMs: now, drawdownStartMs: d ? now + d.startInSeconds * 1000 : null };
  const ledgerOn = (market: SimulatedMarket) => new PaperLedger(store, {
    treasuryId: config.treasuryId, config, market, clock, swapDelayMs: config.paper.swapDelayMs,
    ...(config.paper.poolDepthUsd !== undefined ? { poolDepthUsd: config.paper.poolDepthUsd } : {}),
  });
  let market = marketAt(config, proposed);
  let ledger = ledgerOn(market);
  await ledger.initialize({ marketAnchor: proposed });
  const kept = await storedAnchor(store, config.treasuryId);
  if (kept && (kept.originMs !== proposed.originMs || kept.drawdownStartMs !== proposed.drawdownStartMs)) {
    // Another worker initialized the store first (or it predates the anchor's move into the store): use its market.
    market = marketAt(config, kept);
    ledger = ledgerOn(market);
  }
  if (config.paper.seedHistoryDays > 0 && !(await store.latestPriceSample(config.treasuryId))) {
    await seedPriceHistory(store, { treasuryId: config.treasuryId, market, nowMs: now, days: config.paper.seedHistoryDays });
  }
  return { store, market, ledger, sources: paperOracleSources(market, clock), marketData: paperMarketData(market, clock), liquidity: paperLiquidity(ledger) };
}

/** The rebalancer's view of a paper ledger's positions (also the simulator's, over its price-file market). */
export function paperLiquidity(ledger: PaperLedger): LiquidityManager {
  return {
    positions: async () =>
      (await ledger.positions()).map((p) => ({
        pool: p.pool, quote: p.quote, liquidity: p.liquidity, lower: p.range.lower, upper: p.range.upper, center: p.range.center,
        entryBase: p.entryBase, entryQuote: p.entryQuote, lastRebalanceAt: p.lastRebalanceAt, rebalances: p.rebalances,
      })),
    rebalance: async (pool, range, at) => ({ applied: (await ledger.rebalance(pool, range, at)).applied }),
  };
}

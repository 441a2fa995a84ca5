/**
 * The paper treasury: balances, a ledger of every movement and the liquidity
 * positions, in the agent's store (SQLite or PostgreSQL), priced by the simulated market
 * (or by any LedgerMarket: a simulation's price file).
 *
 * At-most-once: every movement has a key (swap/<interventionId>/<slice>, the
 * accumulation key, rebalance/<pool>/<UTC day>). The entry and its balance
 * change are written in ONE transaction, the entry first with insert-or-ignore,
 * and the balances move only when that insert happened. A crash before the
 * commit leaves nothing; a retry after it finds the entry and moves nothing.
 * A transaction is exclusive on SQLite (BEGIN IMMEDIATE) and serializable on
 * PostgreSQL, so a second worker cannot slip in between the read of a balance
 * and its update.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { and, asc, count, eq } from 'drizzle-orm';
import type { Config } from '../config-schema.ts';
import type { LedgerEntryRow, LpPositionRow, NewLedgerEntry } from '../db/schema.ts';
import type { TreasuryStore } from '../db/store.ts';
import { amount, amountForUsd, formatAmount, parseAmount, usdValue } from '../domain/amount.ts';
import { amountsAt, liquidityForValue, poolBudgetsUsd, positionValue, rangeAround } from '../domain/liquidity.ts';
import type { PriceRange } from '../domain/liquidity.ts';
import { constantProductOut, impliedOutput, poolReserves } from '../domain/swap.ts';
import type { AccumulationRequest, Balances, SettledSwap, SwapRequest, SwapResult, Treasury } from '../ports.ts';

/**
 * What the ledger prices fills, buys and positions with: USD prices at a time. The demo's
 * SimulatedMarket is one; `npm run simulate`'s price file (src/simulate/csv-market.ts) another.
 */
export interface LedgerMarket {
  pstrPrice(t: number): number;
  pumpPrice(t: number): number;
  solPrice(t: number): number;
}

export interface PaperLedgerOptions {
  treasuryId: string;
  config: Config;
  market: LedgerMarket;
  clock: () => number;
  /** Simulated network latency before a swap fills; default 0. */
  swapDelayMs?: number;
  /** Constant-product pool depth in USD (both sides); absent: swaps fill at the market price. */
  poolDepthUsd?: number;
}

export interface LpPosition {
  pool: string;
  quote: 'SOL' | 'USDC';
  liquidity: number;
  range: PriceRange;
  /** Whole tokens of PSTR and of the quote at opening or the last rebalance. */
  entryBase: number;
  entryQuote: number;
  lastRebalanceAt: number | null;
  rebalances: number;
}

/** The port's answer plus the at-most-once details: `applied` is true for a retry of a done buy too. */
export interface AccumulationResult {
  applied: boolean;
  pumpOut: bigint;
  usdcIn: bigint;
  alreadyDone: boolean;
  reference: string;
  error?: string;
}

export interface RebalanceResult {
  applied: boolean;
  alreadyDone: boolean;
  reference: string;
  position: LpPosition;
}

export const swapEntryKey = (interventionId: string, slice: number) => `swap/${interventionId}/${slice}`;
export const rebalanceEntryKey = (pool: string, at: number) => `rebalance/${pool}/${new Date(at).toISOString().slice(0, 10)}`;
const INIT_KEY = 'init';

/** The details kept on a treasury's init entry (what `initialize(details)` stored), or undefined before it is initialized. */
export async function initEntryDetails(store: TreasuryStore, treasuryId: string): Promise<unknown> {
  const rows = await store.query((db, { ledgerEntries: t }) =>
    db.select({ details: t.details }).from(t).where(and(eq(t.treasuryId, treasuryId), eq(t.entryKey, INIT_KEY))).limit(1));
  return rows[0]?.details;
}

/** Thrown inside a transaction to roll it back: the move is refused, nothing written. */
class RefusedMove extends Error {}

export class PaperLedger implements Treasury {
  readonly treasuryId: string;
  private readonly config: Config;
  private readonly market: LedgerMarket;
  private readonly clock: () => number;
  private readonly swapDelayMs: number;
  private readonly poolDepthUsd: number | undefined;

  constructor(private readonly store: TreasuryStore, opts: PaperLedgerOptions) {
    if (!opts.treasuryId) throw new RangeError('PaperLedger: treasuryId must be a non-empty string');
    const delay = opts.swapDelayMs ?? 0;
    if (!Number.isFinite(delay) || delay < 0) throw new RangeError(`PaperLedger: swapDelayMs must be a finite number ≥ 0, got ${delay}`);
    if (opts.poolDepthUsd !== undefined && !(opts.poolDepthUsd > 0 && Number.isFinite(opts.poolDepthUsd))) {
      throw new RangeError(`PaperLedger: poolDepthUsd must be a finite number > 0, got ${opts.poolDepthUsd}`);
    }
    this.treasuryId = opts.treasuryId;
    this.config = opts.config;
    this.market = opts.market;
    this.clock = opts.clock;
    this.swapDelayMs = delay;
    this.poolDepthUsd = opts.poolDepthUsd;
  }


  /**
   * Creates the balances from config.treasury.initial and opens each pool's
   * position with its budget (SPEC §8) at the market price, each only when
   * absent. The LP capital is the liquidityAllocation share of totalCapital,
   * held apart from the initial balances. `details` are kept on the init
   * entry (the paper world keeps the market's anchor there). Returns whether
   * anything was created.
   */
  initialize(details: Record<string, unknown> = {}): Promise<boolean> {
    const at = this.clock();
    const { tokens, treasury } = this.config;
    const pump = parseAmount('PUMP', treasury.initial.pump, tokens.pump.decimals, 'treasury.initial.pump').raw;
    const usdc = parseAmount('USDC', treasury.initial.usdc, tokens.usdc.decimals, 'treasury.initial.usdc').raw;
    const sol = parseAmount('SOL', treasury.initial.sol, tokens.sol.decimals, 'treasury.initial.sol').raw;
    const pstrUsd = this.market.pstrPrice(at);
    return this.store.transaction(async () => {
      let created = await this.insertEntry({
        treasuryId: this.treasuryId, entryKey: INIT_KEY, at, kind: 'init', pumpDelta: pump, usdcDelta: usdc, solDelta: sol,
        pstrDelta: 0n, price: null, details: { source: 'config.treasury.initial', ...details },
      });
      await this.store.query((db, t) => db.insert(t.ledgerBalances).values({ treasuryId: this.treasuryId, pump, usdc, sol, pstrRetired: 0n, updatedAt: at })
        .onConflictDoNothing());
      for (const budget of poolBudgetsUsd(this.config)) {
        const quoteUsd = this.quoteUsd(budget.quote, at);
        const price = pstrUsd / quoteUsd;
        const range = rangeAround(price, this.config.liquidity.rangeWidth);
        const liquidity = liquidityForValue(budget.usd / quoteUsd, price, range);
        const entry = amountsAt(liquidity, range, price);
        const opened = await this.store.query((db, t) => db.insert(t.lpPositions).values({
          treasuryId: this.treasuryId, pool: budget.name, quote: budget.quote, liquidity, ...range,
          entryBase: entry.base, entryQuote: entry.quote, lastRebalanceAt: null, rebalances: 0,
        }).onConflictDoNothing().returning({ pool: t.lpPositions.pool }));
        created ||= opened.length > 0;
      }
      return created;
    });
  }

  async balances(): Promise<Balances> {
    const row = await this.balanceRow();
    return { pump: row.pump, usdc: row.usdc, sol: row.sol, pstrRetired: row.pstrRetired, lpValueUsd: await this.lpValueUsd(this.clock()) };
  }

  async quote(pumpIn: bigint): Promise<bigint> {
    if (typeof pumpIn !== 'bigint' || pumpIn < 0n) throw new RangeError(`quote: pumpIn must be a bigint ≥ 0, got ${String(pumpIn)}`);
    return this.fillAt(pumpIn, this.clock()).pstrOut;
  }

  async swap(req: SwapRequest): Promise<SwapResult> {
    checkSwapRequest(req);
    const key = swapEntryKey(req.interventionId, req.slice);
    const done = await this.entry(key);
    if (done) return swapResultOf(done);
    if (this.swapDelayMs > 0) await sleep(this.swapDelayMs);

    const at = this.clock();
    const { pstrOut, pstrUsd, pumpUsd } = this.fillAt(req.pumpIn, at);
    const failed = (error: string): SwapResult => ({ status: 'failed', pumpIn: req.pumpIn, pstrOut: 0n, reference: key, alreadyDone: false, error });
    if (pstrOut < req.minPstrOut || pstrOut === 0n) {
      return failed(`quote below the slippage floor: ${this.pstr(pstrOut)} PSTR for ${this.pump(req.pumpIn)} PUMP, floor ${this.pstr(req.minPstrOut)} PSTR; nothing moved`);
    }
    try {
      const applied = await this.applyEntry({
        treasuryId: this.treasuryId, entryKey: key, at, kind: 'swap', pumpDelta: -req.pumpIn, usdcDelta: 0n, solDelta: 0n,
        pstrDelta: pstrOut, price: pstrUsd,
        details: { interventionId: req.interventionId, slice: req.slice, minPstrOut: req.minPstrOut, pumpUsd, pstrUsd, poolDepthUsd: this.poolDepthUsd ?? null },
      });
      if (!applied) return swapResultOf((await this.entry(key)) as LedgerEntryRow);
    } catch (error) {
      if (error instanceof RefusedMove) return failed(error.message);
      throw error;
    }
    return { status: 'confirmed', pumpIn: req.pumpIn, pstrOut, reference: key, alreadyDone: false };
  }

  /** USDC → PUMP at the market's PUMP price (rounded down), at most once per `req.key`. */
  async accumulate(req: AccumulationRequest): Promise<AccumulationResult> {
    if (!req.key) throw new RangeError('accumulate: key must be a non-empty string');
    if (typeof req.usdcIn !== 'bigint' || req.usdcIn <= 0n) throw new RangeError(`accumulate: usdcIn must be a bigint > 0, got ${String(req.usdcIn)}`);
    if (typeof req.minPumpOut !== 'bigint' || req.minPumpOut < 0n) throw new RangeError(`accumulate: minPumpOut must be a bigint ≥ 0, got ${String(req.minPumpOut)}`);
    const done = await this.entry(req.key);
    if (done) return accumulationResultOf(done);
    const at = this.clock();
    const pumpUsd = this.market.pumpPrice(at);
    const usd = usdValue({ raw: req.usdcIn, decimals: this.config.tokens.usdc.decimals }, 1);
    const pumpOut = amountForUsd('PUMP', usd, pumpUsd, this.config.tokens.pump.decimals).raw;
    const refused = (error: string): AccumulationResult => ({ applied: false, pumpOut: 0n, usdcIn: 0n, alreadyDone: false, reference: req.key, error });
    if (pumpOut < req.minPumpOut || pumpOut === 0n) {
      return refused(`fill below the floor: ${this.pump(pumpOut)} PUMP for ${this.usdc(req.usdcIn)} USDC, floor ${this.pump(req.minPumpOut)} PUMP; nothing moved`);
    }
    try {
      const applied = await this.applyEntry({
        treasuryId: this.treasuryId, entryKey: req.key, at, kind: 'accumulation', pumpDelta: pumpOut, usdcDelta: -req.usdcIn,
        solDelta: 0n, pstrDelta: 0n, price: pumpUsd, details: { minPumpOut: req.minPumpOut, pumpUsd },
      });
      if (!applied) return accumulationResultOf((await this.entry(req.key)) as LedgerEntryRow);
    } catch (error) {
      if (error instanceof RefusedMove) return refused(error.message);
      throw error;
    }
    return { applied: true, pumpOut, usdcIn: req.usdcIn, alreadyDone: false, reference: req.key };
  }

  async positions(): Promise<LpPosition[]> {
    const rows = await this.store.query((db, { lpPositions: t }) => db.select().from(t).where(eq(t.treasuryId, this.treasuryId)).orderBy(asc(t.pool)));
    return rows.map(positionOf);
  }

  /** Re-centers `pool` on `newRange` keeping its value at the market price at `at`; at most once per pool per UTC day. */
  rebalance(pool: string, newRange: PriceRange, at: number): Promise<RebalanceResult> {
    const key = rebalanceEntryKey(pool, at);
    return this.store.transaction(async () => {
      const inserted = await this.insertEntry({
        treasuryId: this.treasuryId, entryKey: key, at, kind: 'rebalance', pumpDelta: 0n, usdcDelta: 0n, solDelta: 0n, pstrDelta: 0n,
        price: null, details: {},
      });
      const row = await this.positionRow(pool);
      if (!inserted) return { applied: false, alreadyDone: true, reference: key, position: positionOf(row) };
      const old = positionOf(row);
      const price = this.market.pstrPrice(at) / this.quoteUsd(old.quote, at);
      const valueInQuote = positionValue(old.liquidity, old.range, price);
      const liquidity = liquidityForValue(valueInQuote, price, newRange);
      const entry = amountsAt(liquidity, newRange, price);
      await this.store.query((db, { lpPositions: t }) => db.update(t).set({
        liquidity, lower: newRange.lower, upper: newRange.upper, center: newRange.center, entryBase: entry.base, entryQuote: entry.quote,
        lastRebalanceAt: at, rebalances: old.rebalances + 1,
      }).where(and(eq(t.treasuryId, this.treasuryId), eq(t.pool, pool))));
      await this.store.query((db, { ledgerEntries: t }) => db.update(t).set({ price, details: { pool, from: old.range, to: newRange, valueInQuote } })
        .where(and(eq(t.treasuryId, this.treasuryId), eq(t.entryKey, key))));
      return { applied: true, alreadyDone: false, reference: key, position: positionOf(await this.positionRow(pool)) };
    });
  }

  async swapCount(treasuryId = this.treasuryId): Promise<number> {
    const rows = await this.store.query((db, { ledgerEntries: t }) => db.select({ n: count() }).from(t).where(and(eq(t.treasuryId, treasuryId), eq(t.kind, 'swap'))));
    return rows[0]?.n ?? 0;
  }

  /** Every intervention swap slice the ledger filled (the entry key names the intervention and the slice). */
  async settledSwaps(): Promise<SettledSwap[]> {
    return (await this.entries()).filter((e) => e.kind === 'swap').map((e) => {
      const rest = e.entryKey.slice('swap/'.length);
      const cut = rest.lastIndexOf('/');
      return { interventionId: rest.slice(0, cut), slice: Number(rest.slice(cut + 1)), pumpIn: -e.pumpDelta, pstrOut: e.pstrDelta };
    });
  }

  /** Every ledger entry of the treasury, oldest first. */
  entries(treasuryId = this.treasuryId): Promise<LedgerEntryRow[]> {
    return this.store.query((db, { ledgerEntries: t }) => db.select().from(t).where(eq(t.treasuryId, treasuryId)).orderBy(asc(t.at), asc(t.entryKey)));
  }

  // ── internals ─────────────────────────────────────────────────────────────

  /** PSTR out for `pumpIn` at time `at`: the market price, or a constant-product pool of `poolDepthUsd`. */
  private fillAt(pumpIn: bigint, at: number): { pstrOut: bigint; pstrUsd: number; pumpUsd: number } {
    const { pump, pstr } = this.config.tokens;
    const pumpUsd = this.market.pumpPrice(at);
    const pstrUsd = this.market.pstrPrice(at);
    const depth = this.poolDepthUsd;
    if (depth === undefined) {
      return { pstrOut: impliedOutput(amount('PUMP', pumpIn, pump.decimals), pumpUsd, pstrUsd, pstr.decimals).raw, pstrUsd, pumpUsd };
    }
    const reserves = poolReserves(depth, pumpUsd, pstrUsd, pump.decimals, pstr.decimals);
    return { pstrOut: constantProductOut(pumpIn, reserves.pump, reserves.pstr), pstrUsd, pumpUsd };
  }

  private async insertEntry(entry: NewLedgerEntry): Promise<boolean> {
    const rows = await this.store.query((db, { ledgerEntries: t }) => db.insert(t).values(entry).onConflictDoNothing().returning({ key: t.entryKey }));
    return rows.length > 0;
  }

  /**
   * Writes the entry and moves the balances by its deltas, atomically; false
   * when the entry was already there (nothing moved). A balance that would go
   * negative throws RefusedMove and rolls the entry back.
   */
  private applyEntry(entry: NewLedgerEntry): Promise<boolean> {
    return this.store.transaction(async () => {
      if (!(await this.insertEntry(entry))) return false;
      const row = await this.balanceRow();
      const next = {
        pump: row.pump + entry.pumpDelta,
        usdc: row.usdc + entry.usdcDelta,
        sol: row.sol + entry.solDelta,
        pstrRetired: row.pstrRetired + entry.pstrDelta,
      };
      if (next.pump < 0n) throw new RefusedMove(`PUMP balance ${this.pump(row.pump)} is short of the ${this.pump(-entry.pumpDelta)} PUMP needed; nothing moved`);
      if (next.usdc < 0n) throw new RefusedMove(`USDC balance ${this.usdc(row.usdc)} is short of the ${this.usdc(-entry.usdcDelta)} USDC needed; nothing moved`);
      if (next.sol < 0n) throw new RefusedMove(`SOL balance is short by ${-next.sol} base units; nothing moved`);
      await this.store.query((db, { ledgerBalances: t }) => db.update(t).set({ ...next, updatedAt: entry.at }).where(eq(t.treasuryId, this.treasuryId)));
      return true;
    });
  }

  private async entry(key: string): Promise<LedgerEntryRow | undefined> {
    const rows = await this.store.query((db, { ledgerEntries: t }) => db.select().from(t).where(and(eq(t.treasuryId, this.treasuryId), eq(t.entryKey, key))).limit(1));
    return rows[0];
  }

  private async balanceRow() {
    const rows = await this.store.query((db, { ledgerBalances: t }) => db.select().from(t).where(eq(t.treasuryId, this.treasuryId)).limit(1));
    const row = rows[0];
    if (!row) throw new Error(`paper ledger '${this.treasuryId}': no balances yet; call initialize() first`);
    return row;
  }

  private async positionRow(pool: string): Promise<LpPositionRow> {
    const rows = await this.store.query((db, { lpPositions: t }) => db.select().from(t).where(and(eq(t.treasuryId, this.treasuryId), eq(t.pool, pool))).limit(1));
    const row = rows[0];
    if (!row) throw new RangeError(`paper ledger '${this.treasuryId}': no liquidity position in pool '${pool}'`);
    return row;
  }

  /** Both sides of every position at the market prices at `at`, in USD. */
  private async lpValueUsd(at: number): Promise<number> {
    const pstrUsd = this.market.pstrPrice(at);
    return (await this.positions()).reduce((sum, p) => {
      const quoteUsd = this.quoteUsd(p.quote, at);
      return sum + positionValue(p.liquidity, p.range, pstrUsd / quoteUsd) * quoteUsd;
    }, 0);
  }

  /** USDC is valued at 1 USD in paper mode. */
  private quoteUsd(quote: 'SOL' | 'USDC', at: number): number {
    return quote === 'SOL' ? this.market.solPrice(at) : 1;
  }

  private pump(raw: bigint): string {
    return formatAmount({ raw, decimals: this.config.tokens.pump.decimals });
  }

  private pstr(raw: bigint): string {
    return formatAmount({ raw, decimals: this.config.tokens.pstr.decimals });
  }

  private usdc(raw: bigint): string {
    return formatAmount({ raw, decimals: this.config.tokens.usdc.decimals });
  }
}

function checkSwapRequest(req: SwapRequest): void {
  if (!req.interventionId) throw new RangeError('swap: interventionId must be a non-empty string');
  if (!Number.isSafeInteger(req.slice) || req.slice < 0) throw new RangeError(`swap: slice must be an integer ≥ 0, got ${req.slice}`);
  if (typeof req.pumpIn !== 'bigint' || req.pumpIn <= 0n) throw new RangeError(`swap: pumpIn must be a bigint > 0, got ${String(req.pumpIn)}`);
  if (typeof req.minPstrOut !== 'bigint' || req.minPstrOut < 0n) throw new RangeError(`swap: minPstrOut must be a bigint ≥ 0, got ${String(req.minPstrOut)}`);
}

/** A done swap as a retry sees it: confirmed, what it moved, nothing moved now. */
function swapResultOf(e: LedgerEntryRow): SwapResult {
  return { status: 'confirmed', pumpIn: -e.pumpDelta, pstrOut: e.pstrDelta, reference: e.entryKey, alreadyDone: true };
}

function accumulationResultOf(e: LedgerEntryRow): AccumulationResult {
  return { applied: true, pumpOut: e.pumpDelta, usdcIn: -e.usdcDelta, alreadyDone: true, reference: e.entryKey };
}

function positionOf(r: LpPositionRow): LpPosition {
  return {
    pool: r.pool, quote: r.quote, liquidity: r.liquidity, range: { lower: r.lower, upper: r.upper, center: r.center },
    entryBase: r.entryBase, entryQuote: r.entryQuote, lastRebalanceAt: r.lastRebalanceAt, rebalances: r.rebalances,
  };
}

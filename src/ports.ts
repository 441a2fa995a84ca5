/**
 * The edges of the system, as activities see them. Paper mode implements
 * them with a simulated market and a SQLite ledger; devnet/mainnet with Pyth,
 * Switchboard, a DEX and Solana. Activities receive them injected.
 */
import type { OracleReading } from './domain/consensus.ts';

/** One price source for PSTR/USD (SPEC §2). A failure is thrown as an Error naming the source. */
export interface OracleSource {
  readonly name: string;
  read(): Promise<OracleReading>;
}

/** Prices of the other assets and the traded volume the monitor records with each sample. */
export interface MarketData {
  pumpPrice(): Promise<number>;
  solPrice(): Promise<number>;
  /** USD volume traded in the PSTR pool in (fromMs, toMs]. */
  volumeUsd(fromMs: number, toMs: number): Promise<number>;
}

/** Exact balances in base units. */
export interface Balances {
  pump: bigint;
  usdc: bigint;
  sol: bigint;
  pstrRetired: bigint;
  lpValueUsd: number;
}

export interface SwapRequest {
  /** The at-most-once key: one swap per (interventionId, slice), whatever retries happen. */
  interventionId: string;
  slice: number;
  pumpIn: bigint;
  /** The slippage guard's floor: the swap must not fill below this or it is not executed. */
  minPstrOut: bigint;
}

export interface SwapResult {
  /** 'pending': proposed to a multisig (propose-only mode) and not executed yet; ask again later with the same request. */
  status: 'confirmed' | 'failed' | 'pending';
  pumpIn: bigint;
  pstrOut: bigint;
  /** Paper: a ledger entry key; Solana: the transaction signature. */
  reference: string;
  /** True when this call found the swap already done (a retry), and moved nothing. */
  alreadyDone: boolean;
  error?: string;
}

export interface AccumulationRequest {
  /** The at-most-once key, e.g. "accumulation/pstr-main/2025-01-01T10". */
  key: string;
  usdcIn: bigint;
  minPumpOut: bigint;
}

export interface Treasury {
  balances(): Promise<Balances>;
  /** Quote PUMP → PSTR without moving anything. */
  quote(pumpIn: bigint): Promise<bigint>;
  swap(req: SwapRequest): Promise<SwapResult>;
  /** `heartbeat`, when given, is called with progress while the buy waits on the chain (a worker passes Temporal's activity heartbeat). */
  accumulate(req: AccumulationRequest, opts?: { heartbeat?: (details: Record<string, unknown>) => void }): Promise<{ applied: boolean; pumpOut: bigint; usdcIn: bigint }>;
  /**
   * Every intervention swap slice that settled, as the ledger or chain has it,
   * for the reconciler to compare with the books. Absent: this treasury cannot
   * list them (the reconciler then checks the books against themselves).
   */
  settledSwaps?(): Promise<SettledSwap[]>;
}

export interface SettledSwap {
  interventionId: string;
  slice: number;
  pumpIn: bigint;
  pstrOut: bigint;
}

/** A concentrated-liquidity position as the rebalancer sees it (SPEC §8). */
export interface PositionView {
  pool: string;
  quote: 'SOL' | 'USDC';
  liquidity: number;
  lower: number;
  upper: number;
  center: number;
  entryBase: number;
  entryQuote: number;
  lastRebalanceAt: number | null;
  rebalances: number;
}

export interface LiquidityManager {
  positions(): Promise<PositionView[]>;
  /** Re-centers a pool's position on a new range keeping its value; idempotent on (pool, UTC day). */
  rebalance(pool: string, range: { lower: number; upper: number; center: number }, at: number): Promise<{ applied: boolean }>;
}

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
  /**
   * The PUMP/USD and SOL/USD sources SPEC §2's consensus is taken over, as PSTR's (they size and bound every
   * trade): when present, the monitor prices PUMP and SOL from their consensus, and with fewer agreeing sources
   * than oracle.minAgreeingSources there is no valid price (pumpPrice/solPrice above are then not read).
   */
  priceSources?: MarketPriceSources;
}

export interface MarketPriceSources {
  readonly pump: readonly OracleSource[];
  readonly sol: readonly OracleSource[];
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
  /** risk.maxSlippage of the config version the workflow acts under, in basis points; absent: the executor's own (issue #10 item 6). */
  maxSlippageBps?: number;
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
  /** As SwapRequest.maxSlippageBps: the current config version's limit, not the worker file's. */
  maxSlippageBps?: number;
}

export interface Treasury {
  balances(): Promise<Balances>;
  /** Quote PUMP → PSTR without moving anything. */
  quote(pumpIn: bigint): Promise<bigint>;
  /**
   * `heartbeat`, when given, is called at each poll while the swap waits on the chain; a treasury that reports
   * progress this way is retried on another worker when its reports stop (src/activities/heartbeat.ts).
   */
  swap(req: SwapRequest, opts?: { heartbeat?: (details: Record<string, unknown>) => void }): Promise<SwapResult>;
  /** `heartbeat`, when given, is called with progress while the buy waits on the chain (a worker passes Temporal's activity heartbeat). */
  accumulate(req: AccumulationRequest, opts?: { heartbeat?: (details: Record<string, unknown>) => void }): Promise<{ applied: boolean; pumpOut: bigint; usdcIn: bigint }>;
  /**
   * Every intervention swap slice that settled, as the ledger or chain has it,
   * for the reconciler to compare with the books. Absent: this treasury cannot
   * list them (the reconciler then checks the books against themselves).
   */
  settledSwaps?(): Promise<SettledSwap[]>;
  /**
   * Propose-only (a multisig executes the swaps): every proposal that can still
   * execute, each unsettled slice first re-read from the chain and settled when
   * decided. The gates count each one as an intervention in flight.
   */
  liveProposals?(): Promise<LiveProposal[]>;
  /** Propose-only: the intervention gives up on a slice's proposal (vote against it when permitted; it stays live until the chain says otherwise). */
  abandonProposal?(key: { interventionId: string; slice: number }, why: string): Promise<AbandonOutcome>;
}

export interface LiveProposal {
  interventionId: string;
  slice: number;
  /** The proposal account's address. */
  proposal: string;
  transactionIndex: string;
  /** The proposal's status on chain (Active, Approved, …), or 'proposing' while its transaction may still land. */
  state: string;
  note?: string;
}

export interface AbandonOutcome {
  proposal: string;
  transactionIndex: string;
  state: string;
  /** What the agent's key did: voted to reject (Active), to cancel (Approved), or nothing (no Vote permission, or nothing left to do). */
  action: 'rejected' | 'cancelled' | 'none';
  signature: string | null;
  because?: string;
  /** True when the chain already shows it can never execute (the slice is settled). */
  settled: boolean;
  /** What the members must do for it to be dead. */
  membersMust: string;
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

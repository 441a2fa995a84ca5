/** Shapes shared by the backtest engine, its CSV reader, its CLI and its HTML report. */

/** One CSV row = one monitoring cycle. Prices in USD; volume as the CSV gives it. */
export interface PriceRow {
  /** UTC epoch milliseconds. */
  timestamp: number;
  pstrPrice: number;
  pstrVolume: number;
  pumpPrice: number;
  /** Absent column: the config's `backtest.initialSolPrice` (held constant). */
  solPrice?: number;
  /**
   * Per-source PSTR readings (columns `<source>_price`, `<source>_conf`, optional `<source>_lag_s`), when the
   * file carries them: the backtest then runs SPEC §2's consensus over them exactly as live. A source whose
   * price cell is empty on a row did not answer that cycle (absent from the record). Without these columns
   * the row's `pstrPrice` is the consensus, as before.
   */
  sources?: Partial<Record<RowSource, SourceReading>>;
  /** 1-based line number in the file, for error messages. */
  line: number;
}

/** The PSTR/USD sources a price file may carry, as SPEC §2 names them (Pyth, Switchboard, a DEX TWAP). */
export const ROW_SOURCES = ['pyth', 'switchboard', 'dex'] as const;
export type RowSource = (typeof ROW_SOURCES)[number];

/**
 * The name each source's readings carry live (src/oracles: PYTH_SOURCE, SWITCHBOARD_SOURCE, DEX_SOURCE), so a
 * backtest's outliers, exclusions and alerts name the same sources as the monitor's. The file's columns keep
 * their short names (`dex_price`).
 */
export const READING_SOURCE: Readonly<Record<RowSource, string>> = { pyth: 'pyth', switchboard: 'switchboard', dex: 'dex-twap' };

/** One source's reading on a row: USD price, confidence (USD, ≥ 0), and how long before the row it was published. */
export interface SourceReading {
  price: number;
  conf: number;
  /** Seconds between the reading's publish time and the row's timestamp (≥ 0); 0 when the file has no lag column. */
  lagSeconds: number;
}

export type InterventionStatus = 'executed' | 'invalidated' | 'expired' | 'rejected' | 'aborted';

/** One intervention as `--json` prints it (times ISO 8601, token amounts decimal strings). */
export interface InterventionRecord {
  decidedAt: string;
  executedAt: string | null;
  status: InterventionStatus;
  /** Consensus PSTR price at the decision. */
  price: number;
  vwap30: number;
  drawdown: number;
  tier: number;
  /** Share of the PUMP balance deployed after the halving rule. */
  fraction: number;
  pumpSpent: string;
  pstrBought: string;
  usdValue: number;
  /** Why it ended as it did, in words (e.g. "price recovered above the trigger during the timelock"). */
  reason: string;
  /** Realized average fill vs the row price, when executed. */
  slippage: number | null;
  unfilledPump: string;
  /** ROI at each tracking horizon in hours; null when the data ends before it. */
  roi: Record<string, number | null>;
}

export interface BacktestSummary {
  samples: number;
  interventions: InterventionRecord[];
  emergencyStops: { at: string; reserveRatio: number }[];
  accumulation: {
    buys: number;
    usdSpent: number;
    skipped: { paused?: number; emergency?: number; usdc?: number; concentration?: number; noValidPrice?: number };
  };
  metrics: {
    interventionCount: number;
    successRate: number | null;
    sharpe: number | null;
    maxDrawdown: number;
    finalReserveRatio: number;
    finalHealth: number;
  };
  /** Files with per-source readings only: cycles SPEC §2 failed closed, outlier readings excluded, alerts raised by kind. */
  oracles?: { noValidPriceCycles: number; outlierReadings: number; alerts: Record<string, number> };
}

/** Downsampled series for the report's charts (one point per bucket, e.g. hourly or coarser). */
export interface ChartSeries {
  /** Epoch seconds (uPlot's convention). */
  t: number[];
  pstrPrice: number[];
  vwap30: (number | null)[];
  trigger: (number | null)[];
  treasuryValue: number[];
  reserveRatio: number[];
  health: number[];
}

export interface BacktestResult {
  summary: BacktestSummary;
  charts: ChartSeries;
  /** Extra human facts for the summary table. */
  details: {
    from: string;
    to: string;
    finalHealthLevel: string;
    finalTreasuryValue: number;
    finalBalances: { pump: string; usdc: string; sol: string; pstrRetired: string };
    liquidity: { pool: string; inRangeShare: number; impermanentLoss: number; feesUsd: number; rebalances: number }[];
  };
}

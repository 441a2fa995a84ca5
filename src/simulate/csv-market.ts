/**
 * The market of a simulation: a price file, replayed on the Temporal test
 * server's virtual clock.
 *
 * Time: the server's clock runs `offsetMs` ahead of the file's (file time =
 * server time − offsetMs; the simulator picks a whole number of days, so hours
 * and UTC days line up). The market at a time is the last row at or before it
 * (a row is one monitoring cycle); before the first row it is the first row,
 * after the last the last.
 *
 * Oracle readings. With per-source columns, the PSTR sources are the file's
 * (pyth, switchboard, dex): each reads exactly its cell (rowReadings), and a
 * source with an empty cell on the row (or no column) fails that read, as an
 * unreachable oracle does. Without them, three sources each read the row's PSTR price, so
 * SPEC §2's consensus of identical readings is the row price (to the last
 * bit or two of rounding in the confidence-weighted mean), as the backtest
 * takes it. PUMP and SOL each have two sources reading the row's pump_price
 * and sol_price (no sol_price column: `backtest.initialSolPrice`), so their
 * consensus holds with the default two agreeing sources.
 *
 * A reading's age is its lag measured from the observation, not from the
 * row's time on the server: the monitor's cycles start a few milliseconds
 * later every cycle on the test server (its clock runs at wall speed while a
 * task is handled, and the monitor times its next cycle from the start of
 * the last; measured: 81 s behind after 30 days of 5-minute cycles, about
 * 9 ms a cycle), and ageing readings by that lag would make every reading
 * stale (over 60 s) after a few thousand cycles. So a cycle sees the age the
 * file states, as the backtest's does. The lag stays under one interval, so
 * cycle n still reads row n.
 *
 * Volume: the sum of `pstr_volume` over the rows whose time falls in the
 * asked interval, so each cycle's sample carries its own row's volume (and a
 * cycle after one that recorded no sample carries both rows').
 */
import type { Config } from '../config.ts';
import { rowReadings } from '../backtest/row-readings.ts';
import { READING_SOURCE, ROW_SOURCES, type PriceRow, type RowSource } from '../backtest/types.ts';
import type { OracleReading } from '../domain/consensus.ts';
import type { LedgerMarket } from '../paper/ledger.ts';
import type { MarketData, OracleSource } from '../ports.ts';

/** The PSTR sources of a file without per-source columns: named as the file's would be. */
const ROW_PRICE_SOURCES: readonly RowSource[] = ROW_SOURCES;
/** PUMP/USD and SOL/USD sources, shaped like the live ones (Pyth and a Jupiter quote). */
const MARKET_SOURCES = ['pyth', 'jupiter'] as const;

export class CsvMarket implements LedgerMarket {
  private readonly times: Float64Array;
  /** The file has per-source columns (then every row carries `sources`, possibly empty). */
  readonly hasSources: boolean;

  constructor(
    readonly rows: readonly PriceRow[],
    /** Server time − file time. */
    readonly offsetMs: number,
    private readonly defaultSolPrice: number,
  ) {
    if (rows.length === 0) throw new RangeError('CsvMarket: the price file has no rows');
    this.times = Float64Array.from(rows, (r) => r.timestamp);
    this.hasSources = rows[0]?.sources !== undefined;
  }

  static forConfig(rows: readonly PriceRow[], offsetMs: number, config: Config): CsvMarket {
    return new CsvMarket(rows, offsetMs, config.backtest.initialSolPrice);
  }

  /** File time of a server time. */
  fileTime(serverMs: number): number {
    return serverMs - this.offsetMs;
  }

  /** Server time of a file time. */
  serverTime(fileMs: number): number {
    return fileMs + this.offsetMs;
  }

  /** Index of the last row at or before file time `t`; −1 before the first row. */
  private indexAtFile(t: number): number {
    let lo = 0;
    let hi = this.times.length - 1;
    if (t < (this.times[0] as number)) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.times[mid] as number) <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The row that is the market at server time `t`. */
  rowAt(serverMs: number): PriceRow {
    return this.rows[Math.max(0, this.indexAtFile(this.fileTime(serverMs)))] as PriceRow;
  }

  pstrPrice(t: number): number {
    return this.rowAt(t).pstrPrice;
  }

  pumpPrice(t: number): number {
    return this.rowAt(t).pumpPrice;
  }

  solPrice(t: number): number {
    return this.rowAt(t).solPrice ?? this.defaultSolPrice;
  }

  /** Σ pstr_volume of the rows with server time in (fromMs, toMs]. */
  volumeUsd(fromMs: number, toMs: number): number {
    let sum = 0;
    for (let i = this.indexAtFile(this.fileTime(toMs)); i >= 0 && (this.times[i] as number) > this.fileTime(fromMs); i--) sum += (this.rows[i] as PriceRow).pstrVolume;
    return sum;
  }

  /** The PSTR/USD sources, read at `clock()` (the activity's server time). */
  oracleSources(clock: () => number): OracleSource[] {
    if (!this.hasSources) {
      return ROW_PRICE_SOURCES.map((name) => source(READING_SOURCE[name], () => {
        const now = clock();
        return { source: READING_SOURCE[name], price: this.pstrPrice(now), confidence: 0, publishTime: now };
      }));
    }
    // Every source SPEC §2 names, as the backtest's observation lists them: one the file leaves empty fails.
    return ROW_SOURCES.map((name) => source(READING_SOURCE[name], () => this.fileReading(name, clock())));
  }

  /** One source's cell on the row at `now`, aged by its own lag from `now`; a source without a cell on the row did not answer. */
  private fileReading(name: RowSource, now: number): OracleReading {
    const row = this.rowAt(now);
    const reading = rowReadings(row).find((r) => r.source === READING_SOURCE[name]);
    if (!reading) throw new Error(`no reading in the price file on line ${row.line}`);
    return { ...reading, publishTime: now - (row.timestamp - reading.publishTime) };
  }

  /** PUMP and SOL prices, the pool volume, and the PUMP/SOL sources, as the monitor's observation reads them. */
  marketData(clock: () => number): MarketData {
    const twoSources = (priceAt: (t: number) => number): OracleSource[] => MARKET_SOURCES.map((name) => source(name, () => {
      const now = clock();
      return { source: name, price: priceAt(now), confidence: 0, publishTime: now };
    }));
    return {
      pumpPrice: () => settled(() => this.pumpPrice(clock())),
      solPrice: () => settled(() => this.solPrice(clock())),
      volumeUsd: (fromMs, toMs) => settled(() => this.volumeUsd(fromMs, toMs)),
      priceSources: {
        pump: twoSources((t) => this.pumpPrice(t)),
        sol: twoSources((t) => this.solPrice(t)),
      },
    };
  }
}

/** An oracle source whose read never throws synchronously and names who failed (ports.ts asks both). */
function source(name: string, read: () => OracleReading): OracleSource {
  return {
    name,
    read: () => settled(read).catch((error: unknown) => {
      throw new Error(`${name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }),
  };
}

function settled<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn()));
}

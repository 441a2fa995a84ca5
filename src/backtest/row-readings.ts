/**
 * A price row's per-source cells as the oracle readings SPEC §2's consensus takes, so the
 * backtest feeds computeConsensus exactly what the live monitor would have received that cycle.
 * Pure: no clock, no I/O.
 */
import type { OracleReading } from '../domain/consensus.ts';
import { READING_SOURCE, ROW_SOURCES } from './types.ts';
import type { PriceRow } from './types.ts';

/**
 * One reading per source present on the row, in ROW_SOURCES order, published `lagSeconds`
 * before the row (so the consensus's staleness rule sees the same age as live). A source that
 * did not answer that cycle is simply missing; a row from a file without source columns gives [].
 */
export function rowReadings(row: PriceRow): OracleReading[] {
  const sources = row.sources;
  if (sources === undefined) return [];
  const readings: OracleReading[] = [];
  for (const source of ROW_SOURCES) {
    const reading = sources[source];
    if (reading === undefined) continue;
    readings.push({ source: READING_SOURCE[source], price: reading.price, confidence: reading.conf, publishTime: row.timestamp - reading.lagSeconds * 1000 });
  }
  return readings;
}

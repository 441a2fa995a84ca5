/**
 * A simulation's monitor cycles at one fixed interval (its configured one, or
 * the rows' when they are coarser), reading the row at its time: so the rows
 * must be evenly spaced. A file with a gap or
 * a stray row is refused with the first offending line (rather than taking a
 * median interval: the cycles would then read some rows twice and skip
 * others, and the document would quietly disagree with the backtest, which
 * takes every row as a cycle). Resample such a file first.
 */
import { CsvError } from '../backtest/csv.ts';
import type { PriceRow } from '../backtest/types.ts';

const MIN_INTERVAL_MS = 1000;

/** The rows' interval in ms; throws CsvError (line, column timestamp) when rows are not evenly spaced in whole seconds. */
export function rowInterval(rows: readonly PriceRow[], file: string): number {
  const first = rows[0];
  const second = rows[1];
  if (!first) throw new CsvError(file, 1, null, null, 'the file has a header but no rows');
  if (!second) throw new CsvError(file, first.line, 'timestamp', null, 'is the only row; a simulation needs at least two rows to know the cycle interval');
  const interval = second.timestamp - first.timestamp;
  if (interval < MIN_INTERVAL_MS || interval % 1000 !== 0) {
    throw new CsvError(file, second.line, 'timestamp', new Date(second.timestamp).toISOString(),
      `is ${interval} ms after the previous row; a simulation needs rows at least a second apart, in whole seconds (the monitor's cycle interval)`);
  }
  for (let i = 2; i < rows.length; i++) {
    const row = rows[i] as PriceRow;
    const gap = row.timestamp - (rows[i - 1] as PriceRow).timestamp;
    if (gap !== interval) {
      throw new CsvError(file, row.line, 'timestamp', new Date(row.timestamp).toISOString(),
        `is ${gap / 1000} s after the previous row, but the file's rows are ${interval / 1000} s apart; a simulation runs one cycle per row at a fixed interval, so rows must be evenly spaced (resample the file)`);
    }
  }
  return interval;
}

/**
 * The backtest's price file reader.
 *
 * A year of one-minute rows is ~525,600 lines (~30 MB), and parsing is the
 * backtest's biggest fixed cost, so the reader scans the text with indexOf
 * instead of split + regex per row, validates numbers with a char-code loop
 * before handing them to Number(), and decodes the canonical ISO form
 * `YYYY-MM-DDTHH:MM:SS(.sss)?Z` from its digits. Every rule is still checked
 * on every row: a bad row stops the run with its file line and column.
 *
 * The per-source columns (pyth_price, pyth_conf, pyth_lag_s, … for SPEC §2's
 * consensus) are optional; a file without them costs one integer compare more
 * per cell, and its rows carry no `sources` at all.
 */
import { readFileSync } from 'node:fs';
import { ROW_SOURCES } from './types.ts';
import type { PriceRow, RowSource, SourceReading } from './types.ts';

export class CsvError extends Error {
  constructor(
    readonly file: string,
    /** 1-based line in the file; 0 when the file itself could not be read. */
    readonly line: number,
    readonly column: string | null,
    readonly value: string | null,
    problem: string,
  ) {
    const where = line > 0 ? ` line ${line}` : '';
    const col = column !== null ? `, column ${column}` : '';
    const what = value !== null ? `${showValue(value)} ${problem}` : problem;
    super(`${file}${where}${col}: ${what}. Fix the ${line > 0 ? 'row' : 'file'} and run again.`);
    this.name = 'CsvError';
  }
}

function showValue(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return JSON.stringify(shown);
}

type BaseField = 'timestamp' | 'pstr_price' | 'pstr_volume' | 'pump_price' | 'sol_price';
const REQUIRED: readonly BaseField[] = ['timestamp', 'pstr_price', 'pstr_volume', 'pump_price'];
const BASE_FIELDS: ReadonlySet<string> = new Set<BaseField>([...REQUIRED, 'sol_price']);

// Column kinds as small integers: the per-cell switch is on the hot path.
const TIMESTAMP = 0;
const PSTR_PRICE = 1;
const PSTR_VOLUME = 2;
const PUMP_PRICE = 3;
const SOL_PRICE = 4;
const BASE_KIND: Record<BaseField, number> = {
  timestamp: TIMESTAMP,
  pstr_price: PSTR_PRICE,
  pstr_volume: PSTR_VOLUME,
  pump_price: PUMP_PRICE,
  sol_price: SOL_PRICE,
};

/**
 * Per-source columns get kinds from SOURCE_KIND up, three per source in ROW_SOURCES order
 * (price, conf, lag), so `kind − SOURCE_KIND` is the cell's slot in the row's scratch array.
 */
const SOURCE_KIND = 5;
const SOURCE_PARTS = ['price', 'conf', 'lag_s'] as const;
const PRICE = 0;
const CONF = 1;
const LAG = 2;

/** `pyth_price` → its kind; undefined for any other name. */
const SOURCE_COLUMN_KIND: ReadonlyMap<string, number> = new Map(
  ROW_SOURCES.flatMap((source, s) => SOURCE_PARTS.map((part, k) => [`${source}_${part}`, SOURCE_KIND + 3 * s + k] as const)),
);

const KNOWN_COLUMNS = 'timestamp,pstr_price,pstr_volume,pump_price and optionally sol_price and, per source ' +
  `(${ROW_SOURCES.join(', ')}), SOURCE_price with SOURCE_conf and an optional SOURCE_lag_s, exact names`;

/** A source the file carries: where its cells land in the row scratch array and in the line. */
interface SourceColumns {
  readonly source: RowSource;
  /** Scratch slot of its price; conf and lag follow it. */
  readonly slot: number;
  readonly hasLag: boolean;
  /** Header position of the price, conf and lag columns (-1 for an absent lag). */
  readonly columnIndex: readonly number[];
}

interface Header {
  readonly names: readonly string[];
  readonly kinds: readonly number[];
  /** Empty when the file has no per-source columns: rows then carry no `sources`. */
  readonly sources: readonly SourceColumns[];
}

function columnKind(name: string, file: string): number {
  if (BASE_FIELDS.has(name)) return BASE_KIND[name as BaseField];
  const kind = SOURCE_COLUMN_KIND.get(name);
  if (kind === undefined) throw new CsvError(file, 1, null, name, `is not a known column (expected ${KNOWN_COLUMNS})`);
  return kind;
}

function parseHeader(line: string, file: string): Header {
  const names = line.split(',');
  const seen = new Set<string>();
  const kinds = names.map((name) => {
    const kind = columnKind(name, file);
    if (seen.has(name)) throw new CsvError(file, 1, name, null, `column ${name} appears twice in the header`);
    seen.add(name);
    return kind;
  });
  for (const name of REQUIRED) {
    if (!seen.has(name)) throw new CsvError(file, 1, name, null, `the header has no ${name} column`);
  }
  return { names, kinds, sources: sourceColumns(kinds, file) };
}

/** The sources the header names, each checked to have its price and conf columns together (and a lag only beside them). */
function sourceColumns(kinds: readonly number[], file: string): SourceColumns[] {
  const found: SourceColumns[] = [];
  ROW_SOURCES.forEach((source, s) => {
    const slot = 3 * s;
    const at = (part: number): number => kinds.indexOf(SOURCE_KIND + slot + part);
    const [price, conf, lag] = [at(PRICE), at(CONF), at(LAG)] as [number, number, number];
    if (price < 0 && conf < 0 && lag < 0) return;
    if (price < 0) {
      const present = conf >= 0 ? `${source}_conf` : `${source}_lag_s`;
      throw new CsvError(file, 1, `${source}_price`, null,
        `the header has ${present} but no ${source}_price column; a source's readings need its price`);
    }
    if (conf < 0) {
      throw new CsvError(file, 1, `${source}_conf`, null,
        `the header has ${source}_price but no ${source}_conf column; a source's price and confidence come together`);
    }
    found.push({ source, slot, hasLag: lag >= 0, columnIndex: [price, conf, lag] });
  });
  return found;
}

/**
 * Checks the characters a plain decimal number may use, so that Number()'s
 * leniencies (whitespace, "0x1f", "Infinity", "" → 0) never pass as prices.
 */
function isNumeric(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c !== 46 && c !== 101 && c !== 69 && c !== 43 && c !== 45) return false; // . e E + -
  }
  return digits > 0;
}

/** What a numeric column holds: a price must be > 0, every other quantity ≥ 0. Named in the error. */
type Quantity = 'price' | 'volume' | 'confidence' | 'lag in seconds';

function parseNumber(s: string, file: string, line: number, column: string, quantity: Quantity): number {
  if (s.length === 0) throw new CsvError(file, line, column, s, 'is empty; a number is required');
  const v = isNumeric(s) ? Number(s) : NaN;
  if (!Number.isFinite(v)) throw new CsvError(file, line, column, s, 'is not a number');
  const allowZero = quantity !== 'price';
  if (allowZero ? v < 0 : v <= 0) {
    throw new CsvError(file, line, column, s, allowZero ? `is negative; a ${quantity} must be 0 or more` : 'is not positive; a price must be greater than 0');
  }
  return v;
}

const SOURCE_QUANTITY: readonly Quantity[] = ['price', 'confidence', 'lag in seconds'];

/**
 * One per-source cell in s[from, to): NaN when empty (the source did not answer; whether its
 * other cells agree is checked once the whole row is read), else its validated value.
 */
function sourceCellAt(s: string, from: number, to: number, slot: number, file: string, line: number, column: string): number {
  if (from === to) return NaN;
  const part = slot % 3;
  const v = plainDecimalAt(s, from, to);
  if (Number.isNaN(v) || (v <= 0 && part === PRICE)) return parseNumber(s.slice(from, to), file, line, column, SOURCE_QUANTITY[part] ?? 'price');
  return v;
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Fast path for the plain form `digits[.digits]` in s[from, to): the digits
 * as one integer m and the count k after the point give m / 10^k, which is
 * exactly what Number() returns (both operands are exact doubles and the
 * division rounds correctly) without cutting a substring. NaN means "not
 * this simple form": the caller then takes the checked slow path.
 */
function plainDecimalAt(s: string, from: number, to: number): number {
  if (to - from > 18) return NaN;
  let m = 0;
  let point = -1;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d >= 0 && d <= 9) m = m * 10 + d;
    else if (d === -2 && point < 0) point = i; // '.'
    else return NaN;
  }
  if (m > Number.MAX_SAFE_INTEGER) return NaN; // the mantissa is no longer exact
  if (point < 0) return to > from ? m : NaN;
  const k = to - point - 1;
  if (k === 0 || point === from) return NaN; // "1." and ".5": leave to Number() and its checks
  return m / (POW10[k] ?? NaN);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  if (month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1] ?? 0;
}

/** The ASCII digits at s[from, from+len) as an integer, or -1 if any is not a digit. */
function digitsAt(s: string, from: number, len: number): number {
  let v = 0;
  for (let i = from; i < from + len; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Canonical `YYYY-MM-DDTHH:MM:SS(.sss)?Z` in s[from, to), decoded from its digits; NaN when not that form or out of range. */
function parseCanonicalIso(s: string, from: number, to: number): number {
  const n = to - from;
  if ((n !== 20 && n !== 24) || s.charCodeAt(to - 1) !== 90 /* Z */) return NaN;
  if (s.charCodeAt(from + 4) !== 45 || s.charCodeAt(from + 7) !== 45 || s.charCodeAt(from + 10) !== 84 ||
      s.charCodeAt(from + 13) !== 58 || s.charCodeAt(from + 16) !== 58) return NaN;
  const year = digitsAt(s, from, 4);
  const month = digitsAt(s, from + 5, 2);
  const day = digitsAt(s, from + 8, 2);
  const hour = digitsAt(s, from + 11, 2);
  const minute = digitsAt(s, from + 14, 2);
  const second = digitsAt(s, from + 17, 2);
  let ms = 0;
  if (n === 24) {
    if (s.charCodeAt(from + 19) !== 46) return NaN;
    ms = digitsAt(s, from + 20, 3);
  }
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
      hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) return NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

// Any other ISO 8601 shape must still name its zone: a local time is ambiguous.
const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;

function parseTimestamp(s: string, file: string, line: number): number {
  if (s.length === 0) throw new CsvError(file, line, 'timestamp', s, 'is empty; a timestamp is required');
  if (digitsAt(s, 0, s.length) >= 0) {
    const ms = Number(s);
    if (!Number.isSafeInteger(ms)) throw new CsvError(file, line, 'timestamp', s, 'is too large for epoch milliseconds');
    return ms;
  }
  let t = parseCanonicalIso(s, 0, s.length);
  if (Number.isNaN(t)) {
    const m = ISO_WITH_ZONE.exec(s);
    if (m) {
      const g = (i: number): number => Number(m[i] ?? 0);
      const month = g(2);
      const inRange = month >= 1 && month <= 12 && g(3) >= 1 && g(3) <= daysIn(g(1), month) &&
        g(4) <= 23 && g(5) <= 59 && g(6) <= 59 && g(7) <= 23 && g(8) <= 59;
      if (inRange) t = Date.parse(s);
    }
  }
  if (Number.isNaN(t)) {
    const hint = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)
      ? 'has no time zone; write it in UTC with a trailing Z (e.g. 2025-01-01T00:00:00Z) or with an explicit offset'
      : 'is not a valid timestamp (ISO 8601 UTC such as 2025-01-01T00:00:00Z, or epoch milliseconds)';
    throw new CsvError(file, line, 'timestamp', s, hint);
  }
  return t;
}

function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

/** Where one row sits in the text, with what is needed to name a cell in an error. */
interface RowAt {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly file: string;
  readonly line: number;
  readonly names: readonly string[];
}

/** The raw text of the row's cell in header column `index` (error path only: it splits the line). */
function cellText(at: RowAt, index: number): string {
  return at.text.slice(at.start, at.end).split(',')[index] ?? '';
}

function strayCell(src: SourceColumns, part: number, at: RowAt): CsvError {
  const index = src.columnIndex[part] ?? -1;
  return new CsvError(at.file, at.line, at.names[index] ?? null, cellText(at, index),
    `has a value but ${src.source}_price is empty; a source that did not answer leaves all its cells empty`);
}

function missingCell(src: SourceColumns, part: number, at: RowAt): CsvError {
  return new CsvError(at.file, at.line, at.names[src.columnIndex[part] ?? -1] ?? null, '',
    `is empty but ${src.source}_price has a value; a number is required (leave all its cells empty when the source did not answer)`);
}

/**
 * The row's readings from its per-source cells (`cells` holds them by slot, NaN = empty). A source
 * with an empty price did not answer and is left out, but only if its other cells are empty too: a
 * confidence without a price is a broken row, not a silent outage.
 */
function rowSources(sources: readonly SourceColumns[], cells: Float64Array, at: RowAt): Partial<Record<RowSource, SourceReading>> {
  const readings: Partial<Record<RowSource, SourceReading>> = {};
  for (const src of sources) {
    const price = cells[src.slot] ?? NaN;
    const conf = cells[src.slot + CONF] ?? NaN;
    const lagSeconds = src.hasLag ? (cells[src.slot + LAG] ?? NaN) : 0;
    if (Number.isNaN(price)) {
      if (!Number.isNaN(conf)) throw strayCell(src, CONF, at);
      if (!Number.isNaN(lagSeconds)) throw strayCell(src, LAG, at);
      continue;
    }
    if (Number.isNaN(conf)) throw missingCell(src, CONF, at);
    if (Number.isNaN(lagSeconds)) throw missingCell(src, LAG, at);
    readings[src.source] = { price, conf, lagSeconds };
  }
  return readings;
}

/**
 * Parses and validates a whole price file. With `onRow`, each row is handed
 * over as soon as it is validated and the returned array stays empty, so a
 * year of minute data never sits in memory twice.
 */
export function parsePriceCsv(text: string, file: string, onRow?: (row: PriceRow) => void): PriceRow[] {
  const rows: PriceRow[] = [];
  const len = text.length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a UTF-8 BOM is not part of the first column name
  let lineNo = 0;
  let header: Header | null = null;
  let columns: readonly string[] = [];
  let kinds: readonly number[] = [];
  let hasSources = false;
  // One row's per-source cells by slot. Every row fills every slot its header has (or fails), so it is never reset.
  const cells = new Float64Array(3 * ROW_SOURCES.length);
  let prevTimestamp = -Infinity;
  let prevLine = 0;
  let blankLine = 0; // first blank line seen; fine only if nothing follows it
  let count = 0;

  while (pos < len) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = len;
    lineNo++;
    let lineEnd = end;
    if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === 13) lineEnd--; // CRLF
    const start = pos;
    pos = end + 1;

    if (lineEnd === start) {
      if (blankLine === 0) blankLine = lineNo;
      continue;
    }
    if (blankLine !== 0) {
      throw new CsvError(file, blankLine, null, null, `is blank but line ${lineNo} after it has data; remove the blank line`);
    }
    if (header === null) {
      header = parseHeader(text.slice(start, lineEnd), file);
      columns = header.names;
      kinds = header.kinds;
      hasSources = header.sources.length > 0;
      continue;
    }

    let timestamp = 0;
    let pstrPrice = 0;
    let pstrVolume = 0;
    let pumpPrice = 0;
    let solPrice: number | undefined;
    let cell = start;
    const ncols = kinds.length;
    for (let c = 0; c < ncols; c++) {
      let comma = text.indexOf(',', cell);
      const last = c === ncols - 1;
      if (comma === -1 || comma >= lineEnd) {
        if (!last) {
          const found = c + 1;
          throw new CsvError(file, lineNo, columns[c + 1] ?? null, null,
            `has no value; the row has ${found} value${found === 1 ? '' : 's'} but the header names ${ncols} columns`);
        }
        comma = lineEnd;
      } else if (last) {
        const extra = text.slice(comma + 1, lineEnd);
        throw new CsvError(file, lineNo, null, extra,
          `is an extra value: the row has more values than the header's ${ncols} columns`);
      }
      const kind = kinds[c] ?? TIMESTAMP;
      if (kind === TIMESTAMP) {
        timestamp = parseCanonicalIso(text, cell, comma);
        if (Number.isNaN(timestamp)) timestamp = parseTimestamp(text.slice(cell, comma), file, lineNo);
      } else if (kind >= SOURCE_KIND) {
        const slot = kind - SOURCE_KIND;
        cells[slot] = sourceCellAt(text, cell, comma, slot, file, lineNo, columns[c] ?? '');
      } else {
        let v = plainDecimalAt(text, cell, comma);
        if (Number.isNaN(v) || (v <= 0 && kind !== PSTR_VOLUME)) {
          const name = columns[c] ?? '';
          v = parseNumber(text.slice(cell, comma), file, lineNo, name, kind === PSTR_VOLUME ? 'volume' : 'price');
        }
        if (kind === PSTR_PRICE) pstrPrice = v;
        else if (kind === PSTR_VOLUME) pstrVolume = v;
        else if (kind === PUMP_PRICE) pumpPrice = v;
        else solPrice = v;
      }
      cell = comma + 1;
    }
    if (timestamp <= prevTimestamp) {
      const raw = text.slice(start, lineEnd).split(',')[kinds.indexOf(TIMESTAMP)] ?? '';
      throw new CsvError(file, lineNo, 'timestamp', raw,
        `is not after the previous row (line ${prevLine}, ${isoOf(prevTimestamp)}); rows must be in strictly increasing time order`);
    }
    prevTimestamp = timestamp;
    prevLine = lineNo;
    count++;
    const row: PriceRow = solPrice === undefined
      ? { timestamp, pstrPrice, pstrVolume, pumpPrice, line: lineNo }
      : { timestamp, pstrPrice, pstrVolume, pumpPrice, solPrice, line: lineNo };
    if (hasSources) {
      row.sources = rowSources(header.sources, cells, { text, start, end: lineEnd, file, line: lineNo, names: columns });
    }
    if (onRow) onRow(row);
    else rows.push(row);
  }

  if (header === null) throw new CsvError(file, 1, null, null, 'the file is empty; it needs a header line and at least one row');
  if (count === 0) throw new CsvError(file, 1, null, null, 'the file has a header but no rows');
  return rows;
}

/** Reads a price file (UTF-8) and parses it as {@link parsePriceCsv} does. */
export function readPriceCsv(path: string, onRow?: (row: PriceRow) => void): PriceRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CsvError(path, 0, null, null, `cannot be read (${reason})`);
  }
  return parsePriceCsv(text, path, onRow);
}

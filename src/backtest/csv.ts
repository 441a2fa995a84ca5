/**
 * The backtest's price file reader.
 *
 * A year of one-minute rows is ~525,600 lines (~30 MB), and parsing is the
 * backtest's biggest fixed cost, so the reader scans the text with indexOf
 * instead of split + regex per row, validates numbers with a char-code loop
 * before handing them to Number(), and decodes the canonical ISO form
 * `YYYY-MM-DDTHH:MM:SS(.sss)?Z` from its digits. Every rule is still checked
 * on every row: a bad row stops the run with its file line and column.
 */
import { readFileSync } from 'node:fs';
import type { PriceRow } from './types.ts';

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

type Field = 'timestamp' | 'pstr_price' | 'pstr_volume' | 'pump_price' | 'sol_price';
const REQUIRED: readonly Field[] = ['timestamp', 'pstr_price', 'pstr_volume', 'pump_price'];
const KNOWN: ReadonlySet<string> = new Set<Field>([...REQUIRED, 'sol_price']);

// Column kinds as small integers: the per-cell switch is on the hot path.
const TIMESTAMP = 0;
const PSTR_PRICE = 1;
const PSTR_VOLUME = 2;
const PUMP_PRICE = 3;
const SOL_PRICE = 4;
const KIND: Record<Field, number> = {
  timestamp: TIMESTAMP,
  pstr_price: PSTR_PRICE,
  pstr_volume: PSTR_VOLUME,
  pump_price: PUMP_PRICE,
  sol_price: SOL_PRICE,
};

function parseHeader(line: string, file: string): Field[] {
  const names = line.split(',');
  const seen = new Set<string>();
  for (const name of names) {
    if (!KNOWN.has(name)) {
      throw new CsvError(file, 1, null, name,
        `is not a known column (expected timestamp,pstr_price,pstr_volume,pump_price and optionally sol_price, exact names)`);
    }
    if (seen.has(name)) throw new CsvError(file, 1, name, null, `column ${name} appears twice in the header`);
    seen.add(name);
  }
  for (const name of REQUIRED) {
    if (!seen.has(name)) throw new CsvError(file, 1, name, null, `the header has no ${name} column`);
  }
  return names as Field[];
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

function parseNumber(s: string, file: string, line: number, column: string, allowZero: boolean): number {
  if (s.length === 0) throw new CsvError(file, line, column, s, 'is empty; a number is required');
  const v = isNumeric(s) ? Number(s) : NaN;
  if (!Number.isFinite(v)) throw new CsvError(file, line, column, s, 'is not a number');
  if (allowZero ? v < 0 : v <= 0) {
    throw new CsvError(file, line, column, s, allowZero ? 'is negative; a volume must be 0 or more' : 'is not positive; a price must be greater than 0');
  }
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
  let columns: Field[] | null = null;
  let kinds: number[] = [];
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
    if (columns === null) {
      columns = parseHeader(text.slice(start, lineEnd), file);
      kinds = columns.map((c) => KIND[c]);
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
      const kind = kinds[c];
      if (kind === TIMESTAMP) {
        timestamp = parseCanonicalIso(text, cell, comma);
        if (Number.isNaN(timestamp)) timestamp = parseTimestamp(text.slice(cell, comma), file, lineNo);
      } else {
        let v = plainDecimalAt(text, cell, comma);
        if (Number.isNaN(v) || (v <= 0 && kind !== PSTR_VOLUME)) {
          const name = columns[c] ?? '';
          v = parseNumber(text.slice(cell, comma), file, lineNo, name, kind === PSTR_VOLUME);
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
    if (onRow) onRow(row);
    else rows.push(row);
  }

  if (columns === null) throw new CsvError(file, 1, null, null, 'the file is empty; it needs a header line and at least one row');
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

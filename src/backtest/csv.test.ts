import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CsvError, parsePriceCsv, readPriceCsv } from './csv.ts';
import type { PriceRow } from './types.ts';

const HEADER = 'timestamp,pstr_price,pstr_volume,pump_price';
const T0 = Date.UTC(2025, 0, 1);

function csv(...lines: string[]): string {
  return lines.join('\n') + '\n';
}

/** Runs the parser expecting a CsvError and returns it. */
function failure(text: string): CsvError {
  try {
    parsePriceCsv(text, 'prices.csv');
  } catch (err) {
    if (err instanceof CsvError) return err;
    throw err;
  }
  throw new Error('expected a CsvError, but the file parsed');
}

describe('parsePriceCsv: valid files', () => {
  it('reads ISO 8601 UTC timestamps, with and without milliseconds', () => {
    const rows = parsePriceCsv(csv(HEADER, '2025-01-01T00:00:00Z,0.0002,100,0.005', '2025-01-01T00:05:00.250Z,0.00021,0,0.0051'), 'p.csv');
    expect(rows).toEqual([
      { timestamp: T0, pstrPrice: 0.0002, pstrVolume: 100, pumpPrice: 0.005, line: 2 },
      { timestamp: T0 + 300_250, pstrPrice: 0.00021, pstrVolume: 0, pumpPrice: 0.0051, line: 3 },
    ]);
  });

  it('reads epoch-millisecond timestamps', () => {
    const rows = parsePriceCsv(csv(HEADER, `${T0},1,2,3`, `${T0 + 60_000},1,2,3`), 'p.csv');
    expect(rows.map((r) => r.timestamp)).toEqual([T0, T0 + 60_000]);
  });

  it('reads ISO timestamps with an explicit offset as the UTC instant they name', () => {
    const rows = parsePriceCsv(csv(HEADER, '2025-01-01T02:00:00+02:00,1,2,3', '2025-01-01T00:30:00.5-01:00,1,2,3'), 'p.csv');
    expect(rows.map((r) => r.timestamp)).toEqual([T0, T0 + 90 * 60_000 + 500]);
  });

  it('accepts the columns in any order and an optional sol_price', () => {
    const rows = parsePriceCsv(csv('sol_price,pump_price,timestamp,pstr_volume,pstr_price', '151.5,0.004,2025-01-01T00:00:00Z,7,0.0003'), 'p.csv');
    expect(rows).toEqual([{ timestamp: T0, pstrPrice: 0.0003, pstrVolume: 7, pumpPrice: 0.004, solPrice: 151.5, line: 2 }]);
  });

  it('leaves solPrice absent when the column is absent', () => {
    const [row] = parsePriceCsv(csv(HEADER, '2025-01-01T00:00:00Z,1,2,3'), 'p.csv');
    expect(row).not.toHaveProperty('solPrice');
  });

  it('reads CRLF line endings and a UTF-8 byte-order mark', () => {
    const text = '\uFEFF' + [HEADER, '2025-01-01T00:00:00Z,1,2,3', '2025-01-01T00:01:00Z,4,5,6'].join('\r\n') + '\r\n';
    const rows = parsePriceCsv(text, 'p.csv');
    expect(rows.map((r) => [r.pstrPrice, r.pumpPrice, r.line])).toEqual([[1, 3, 2], [4, 6, 3]]);
  });

  it('ignores blank trailing lines and a missing final newline', () => {
    expect(parsePriceCsv(`${HEADER}\n2025-01-01T00:00:00Z,1,2,3\n\n\r\n\n`, 'p.csv')).toHaveLength(1);
    expect(parsePriceCsv(`${HEADER}\n2025-01-01T00:00:00Z,1,2,3`, 'p.csv')).toHaveLength(1);
  });

  it('accepts exponent notation and a volume of exactly 0', () => {
    const [row] = parsePriceCsv(csv(HEADER, '2025-01-01T00:00:00Z,2e-4,0,5E-3'), 'p.csv');
    expect(row).toMatchObject({ pstrPrice: 0.0002, pstrVolume: 0, pumpPrice: 0.005 });
  });

  it('streams rows to onRow and returns an empty array', () => {
    const seen: PriceRow[] = [];
    const returned = parsePriceCsv(csv(HEADER, '2025-01-01T00:00:00Z,1,2,3', '2025-01-01T00:01:00Z,1,2,3'), 'p.csv', (r) => seen.push(r));
    expect(returned).toEqual([]);
    expect(seen.map((r) => r.line)).toEqual([2, 3]);
  });

  it('reads a file from disk through readPriceCsv', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'csv-')), 'prices.csv');
    writeFileSync(path, csv(HEADER, '2025-01-01T00:00:00Z,1,2,3'));
    expect(readPriceCsv(path)).toHaveLength(1);
  });
});

describe('parsePriceCsv: each bad row names its line, column and value', () => {
  const ok1 = '2025-01-01T00:00:00Z,1,2,3';
  const ok2 = '2025-01-01T00:01:00Z,1,2,3';

  it('refuses a non-numeric value, in the exact message format', () => {
    const err = failure(csv(HEADER, ok1, ok2, '2025-01-01T00:02:00Z,1,2,abc'));
    expect(err).toMatchObject({ file: 'prices.csv', line: 4, column: 'pump_price', value: 'abc' });
    expect(err.message).toBe('prices.csv line 4, column pump_price: "abc" is not a number. Fix the row and run again.');
  });

  it.each([
    ['0x10', 'not a number'],
    ['Infinity', 'not a number'],
    [' 1', 'not a number'],
    ['1.2.3', 'not a number'],
    ['', 'empty'],
  ])('refuses the price %j as %s', (value, problem) => {
    const err = failure(csv(HEADER, ok1, `2025-01-01T00:01:00Z,${value},2,3`));
    expect(err).toMatchObject({ line: 3, column: 'pstr_price', value });
    expect(err.message).toContain(problem);
  });

  it('refuses a zero or negative price', () => {
    expect(failure(csv(HEADER, '2025-01-01T00:00:00Z,0,2,3'))).toMatchObject({ line: 2, column: 'pstr_price', value: '0' });
    expect(failure(csv(HEADER, '2025-01-01T00:00:00Z,1,2,-3'))).toMatchObject({ line: 2, column: 'pump_price', value: '-3' });
  });

  it('refuses a negative volume but not a zero one', () => {
    const err = failure(csv(HEADER, '2025-01-01T00:00:00Z,1,-0.01,3'));
    expect(err).toMatchObject({ line: 2, column: 'pstr_volume', value: '-0.01' });
    expect(err.message).toContain('negative');
  });

  it('refuses a non-positive sol_price', () => {
    const err = failure(csv(`${HEADER},sol_price`, '2025-01-01T00:00:00Z,1,2,3,0'));
    expect(err).toMatchObject({ line: 2, column: 'sol_price', value: '0' });
  });

  it('refuses a row with a missing column, naming the first missing one', () => {
    const err = failure(csv(HEADER, ok1, '2025-01-01T00:01:00Z,1,2'));
    expect(err).toMatchObject({ line: 3, column: 'pump_price', value: null });
    expect(err.message).toContain('the row has 3 values but the header names 4 columns');
  });

  it('refuses a row with an extra column', () => {
    const err = failure(csv(HEADER, ok1, '2025-01-01T00:01:00Z,1,2,3,4'));
    expect(err).toMatchObject({ line: 3, column: null, value: '4' });
    expect(err.message).toContain('extra value');
  });

  it.each([
    ['2025-01-01T00:00:00', 'no time zone'],
    ['2025-01-01 00:00:00', 'no time zone'],
    ['2025-02-30T00:00:00Z', 'not a valid timestamp'],
    ['2025-01-01T24:00:00Z', 'not a valid timestamp'],
    ['2025-01-01T00:00:00+25:00', 'not a valid timestamp'],
    ['yesterday', 'not a valid timestamp'],
    ['1735689600000.5', 'not a valid timestamp'],
  ])('refuses the timestamp %j (%s)', (value, problem) => {
    const err = failure(csv(HEADER, `${value},1,2,3`));
    expect(err).toMatchObject({ line: 2, column: 'timestamp', value });
    expect(err.message).toContain(problem);
  });

  it('refuses time going backwards', () => {
    const err = failure(csv(HEADER, ok1, ok2, '2025-01-01T00:00:30Z,1,2,3'));
    expect(err).toMatchObject({ line: 4, column: 'timestamp', value: '2025-01-01T00:00:30Z' });
    expect(err.message).toContain('not after the previous row (line 3');
  });

  it('refuses two rows with the same timestamp, even written differently', () => {
    const err = failure(csv(HEADER, ok1, `${T0},1,2,3`));
    expect(err).toMatchObject({ line: 3, column: 'timestamp', value: String(T0) });
    expect(err.message).toContain('not after the previous row');
  });

  it('refuses a blank line followed by more data, naming the blank line', () => {
    const err = failure(csv(HEADER, ok1, '', ok2));
    expect(err).toMatchObject({ line: 3, column: null });
  });
});

describe('parsePriceCsv: the header', () => {
  it('refuses a header with no rows', () => {
    expect(failure(`${HEADER}\n\n`).message).toContain('header but no rows');
  });

  it('refuses an empty file', () => {
    expect(failure('').message).toContain('empty');
  });

  it('refuses a header that lacks a required column', () => {
    expect(failure(csv('timestamp,pstr_price,pump_price', '2025-01-01T00:00:00Z,1,3'))).toMatchObject({ line: 1, column: 'pstr_volume' });
  });

  it('refuses an unknown or misspelt column name', () => {
    expect(failure(csv(`${HEADER},Pstr_Price`, '2025-01-01T00:00:00Z,1,2,3,4'))).toMatchObject({ line: 1, value: 'Pstr_Price' });
  });

  it('refuses a duplicated column', () => {
    expect(failure(csv(`${HEADER},pump_price`, '2025-01-01T00:00:00Z,1,2,3,4'))).toMatchObject({ line: 1, column: 'pump_price' });
  });
});

describe('readPriceCsv', () => {
  it('turns an unreadable file into a CsvError naming the path', () => {
    const err = (() => {
      try {
        readPriceCsv('/nonexistent/prices.csv');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(CsvError);
    expect((err as CsvError).message).toContain('/nonexistent/prices.csv');
  });
});

const positive = fc.double({ min: 1e-12, max: 1e9, noNaN: true, noDefaultInfinity: true });

describe('parsePriceCsv: round trip', () => {
  it('parses back exactly the rows it was given, in either timestamp form', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.integer({ min: 1, max: 10 * 86_400_000 }), p: positive, v: fc.oneof(fc.constant(0), positive), u: positive, s: positive }), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2090, 0, 1) }),
        (specs, isoForm, withSol, start) => {
          let t = start;
          const rows: PriceRow[] = specs.map((s, i) => {
            t += s.gap;
            const row: PriceRow = { timestamp: t, pstrPrice: s.p, pstrVolume: s.v, pumpPrice: s.u, line: i + 2 };
            if (withSol) row.solPrice = s.s;
            return row;
          });
          const header = withSol ? `${HEADER},sol_price` : HEADER;
          const lines = rows.map((r) => {
            const ts = isoForm ? new Date(r.timestamp).toISOString() : String(r.timestamp);
            const base = `${ts},${r.pstrPrice},${r.pstrVolume},${r.pumpPrice}`;
            return withSol ? `${base},${r.solPrice}` : base;
          });
          expect(parsePriceCsv(csv(header, ...lines), 'p.csv')).toEqual(rows);
        },
      ),
    );
  });

  it('reads any plain decimal text as exactly the number Number() gives, long mantissas included', () => {
    const decimal = fc.tuple(fc.stringMatching(/^[1-9]\d{0,9}$/), fc.option(fc.stringMatching(/^\d{1,12}$/))).map(([i, f]) => (f === null ? i : `${i}.${f}`));
    fc.assert(
      fc.property(decimal, (text) => {
        const [row] = parsePriceCsv(csv(HEADER, `2025-01-01T00:00:00Z,${text},${text},${text}`), 'p.csv');
        expect(row).toMatchObject({ pstrPrice: Number(text), pstrVolume: Number(text), pumpPrice: Number(text) });
      }),
      { numRuns: 500 },
    );
  });

  it('decodes every canonical ISO timestamp to the same instant as Date.parse', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31) }), fc.boolean(), (ms, dropMillis) => {
        const t = dropMillis ? ms - (ms % 1000) : ms;
        const iso = new Date(t).toISOString();
        const [row] = parsePriceCsv(csv(HEADER, `${dropMillis ? iso.replace('.000Z', 'Z') : iso},1,1,1`), 'p.csv');
        expect(row?.timestamp).toBe(Date.parse(iso));
      }),
    );
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CsvError, parsePriceCsv, readPriceCsv } from './csv.ts';
import type { PriceRow, SourceReading } from './types.ts';

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

const positive = fc.double({ min: 1e-12, max: 1e9, noNaN: true, noDefaultInfinity: true });

const SOURCES_HEADER = `${HEADER},pyth_price,pyth_conf,pyth_lag_s,switchboard_price,switchboard_conf,switchboard_lag_s,dex_price,dex_conf,dex_lag_s`;

describe('parsePriceCsv: per-source columns', () => {
  it('reads each source price, confidence and publish lag into row.sources', () => {
    const [row] = parsePriceCsv(csv(SOURCES_HEADER, '2025-01-01T00:00:00Z,1,2,3,1.01,0.002,2,0.99,0.003,4.5,1.002,0,6'), 'p.csv');
    expect(row).toEqual({
      timestamp: T0, pstrPrice: 1, pstrVolume: 2, pumpPrice: 3, line: 2,
      sources: {
        pyth: { price: 1.01, conf: 0.002, lagSeconds: 2 },
        switchboard: { price: 0.99, conf: 0.003, lagSeconds: 4.5 },
        dex: { price: 1.002, conf: 0, lagSeconds: 6 },
      },
    });
  });

  it('accepts source columns in any order among the others', () => {
    const header = 'dex_conf,timestamp,pyth_lag_s,dex_price,pstr_price,pyth_conf,pstr_volume,pyth_price,pump_price';
    const [row] = parsePriceCsv(csv(header, '0.01,2025-01-01T00:00:00Z,3,1.1,1,0.02,2,1.2,3'), 'p.csv');
    expect(row?.sources).toEqual({ pyth: { price: 1.2, conf: 0.02, lagSeconds: 3 }, dex: { price: 1.1, conf: 0.01, lagSeconds: 0 } });
  });

  it('gives a lag of 0 to a source whose file has no lag column', () => {
    const [row] = parsePriceCsv(csv(`${HEADER},switchboard_price,switchboard_conf`, '2025-01-01T00:00:00Z,1,2,3,1.5,0.1'), 'p.csv');
    expect(row?.sources).toEqual({ switchboard: { price: 1.5, conf: 0.1, lagSeconds: 0 } });
  });

  it('leaves out a source whose cells are all empty on a row, as a source that did not answer', () => {
    const rows = parsePriceCsv(csv(SOURCES_HEADER,
      '2025-01-01T00:00:00Z,1,2,3,1,0.01,2,,,,1,0.01,6',
      '2025-01-01T00:01:00Z,1,2,3,,,,,,,,,'), 'p.csv');
    expect(rows.map((r) => r.sources)).toEqual([
      { pyth: { price: 1, conf: 0.01, lagSeconds: 2 }, dex: { price: 1, conf: 0.01, lagSeconds: 6 } },
      {},
    ]);
  });

  it('reads exponent notation and fractional lags in source cells', () => {
    const [row] = parsePriceCsv(csv(`${HEADER},dex_price,dex_conf,dex_lag_s`, '2025-01-01T00:00:00Z,1,2,3,2e-4,1E-6,0.25'), 'p.csv');
    expect(row?.sources).toEqual({ dex: { price: 0.0002, conf: 0.000001, lagSeconds: 0.25 } });
  });

  it('leaves row.sources absent when the file has no source columns', () => {
    const [row] = parsePriceCsv(csv(HEADER, '2025-01-01T00:00:00Z,1,2,3'), 'p.csv');
    expect(row).not.toHaveProperty('sources');
  });

  it('refuses a source price column without its confidence column, naming the missing one', () => {
    const err = failure(csv(`${HEADER},pyth_price`, '2025-01-01T00:00:00Z,1,2,3,1'));
    expect(err).toMatchObject({ line: 1, column: 'pyth_conf', value: null });
    expect(err.message).toContain('the header has pyth_price but no pyth_conf column');
  });

  it('refuses a source confidence or lag column without its price column, naming the missing one', () => {
    expect(failure(csv(`${HEADER},dex_conf`, '2025-01-01T00:00:00Z,1,2,3,1'))).toMatchObject({ line: 1, column: 'dex_price' });
    const err = failure(csv(`${HEADER},switchboard_lag_s`, '2025-01-01T00:00:00Z,1,2,3,1'));
    expect(err).toMatchObject({ line: 1, column: 'switchboard_price' });
    expect(err.message).toContain('the header has switchboard_lag_s but no switchboard_price column');
  });

  it('refuses an unknown source column and lists the known columns', () => {
    const err = failure(csv(`${HEADER},chainlink_price,chainlink_conf`, '2025-01-01T00:00:00Z,1,2,3,1,1'));
    expect(err).toMatchObject({ line: 1, value: 'chainlink_price' });
    expect(err.message).toContain('SOURCE_price with SOURCE_conf and an optional SOURCE_lag_s');
    expect(err.message).toContain('pyth, switchboard, dex');
  });

  it('refuses a duplicated source column', () => {
    expect(failure(csv(`${HEADER},pyth_price,pyth_conf,pyth_price`, '2025-01-01T00:00:00Z,1,2,3,1,1,1'))).toMatchObject({ line: 1, column: 'pyth_price' });
  });

  const PYTH = `${HEADER},pyth_price,pyth_conf,pyth_lag_s`;

  it.each([
    ['0', 'pyth_price', 'not positive'],
    ['-1', 'pyth_price', 'not positive'],
    ['abc', 'pyth_price', 'not a number'],
  ])('refuses the source price %j naming its line and column', (value, column, problem) => {
    const err = failure(csv(PYTH, '2025-01-01T00:00:00Z,1,2,3,1,0.1,2', `2025-01-01T00:01:00Z,1,2,3,${value},0.1,2`));
    expect(err).toMatchObject({ line: 3, column, value });
    expect(err.message).toContain(problem);
  });

  it('refuses a negative confidence or lag, and accepts zero for both', () => {
    const conf = failure(csv(PYTH, '2025-01-01T00:00:00Z,1,2,3,1,-0.1,2'));
    expect(conf).toMatchObject({ line: 2, column: 'pyth_conf', value: '-0.1' });
    expect(conf.message).toBe('prices.csv line 2, column pyth_conf: "-0.1" is negative; a confidence must be 0 or more. Fix the row and run again.');
    const lag = failure(csv(PYTH, '2025-01-01T00:00:00Z,1,2,3,1,0.1,-2'));
    expect(lag).toMatchObject({ line: 2, column: 'pyth_lag_s', value: '-2' });
    expect(lag.message).toContain('a lag in seconds must be 0 or more');
    const [row] = parsePriceCsv(csv(PYTH, '2025-01-01T00:00:00Z,1,2,3,1,0,0'), 'p.csv');
    expect(row?.sources).toEqual({ pyth: { price: 1, conf: 0, lagSeconds: 0 } });
  });

  it('refuses a confidence or lag on a row where the source price is empty, naming that cell', () => {
    const conf = failure(csv(PYTH, '2025-01-01T00:00:00Z,1,2,3,,0.1,'));
    expect(conf).toMatchObject({ line: 2, column: 'pyth_conf', value: '0.1' });
    expect(conf.message).toContain('pyth_price is empty');
    expect(failure(csv(PYTH, '2025-01-01T00:00:00Z,1,2,3,,,2'))).toMatchObject({ line: 2, column: 'pyth_lag_s', value: '2' });
  });

  it('refuses an empty confidence or lag on a row where the source price has a value', () => {
    const conf = failure(csv(PYTH, '2025-01-01T00:00:00Z,1,2,3,1,,2'));
    expect(conf).toMatchObject({ line: 2, column: 'pyth_conf', value: '' });
    expect(conf.message).toContain('is empty but pyth_price has a value');
    expect(failure(csv(PYTH, '2025-01-01T00:00:00Z,1,2,3,1,0.1,'))).toMatchObject({ line: 2, column: 'pyth_lag_s', value: '' });
  });

  it('still counts empty source cells as values when checking the row length', () => {
    const err = failure(csv(PYTH, '2025-01-01T00:00:00Z,1,2,3,,'));
    expect(err).toMatchObject({ line: 2, column: 'pyth_lag_s', value: null });
    expect(err.message).toContain('the row has 6 values but the header names 7 columns');
  });

  it('parses back exactly the readings it was given, with any source silent on any row', () => {
    const reading = fc.option(fc.record({ price: positive, conf: fc.oneof(fc.constant(0), positive), lagSeconds: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 120, noNaN: true })) }), { nil: undefined });
    fc.assert(
      fc.property(fc.array(fc.tuple(reading, reading, reading), { minLength: 1, maxLength: 20 }), (specs) => {
        const rows: PriceRow[] = specs.map(([pyth, switchboard, dex], i) => {
          const sources: PriceRow['sources'] = {};
          if (pyth) sources.pyth = pyth;
          if (switchboard) sources.switchboard = switchboard;
          if (dex) sources.dex = dex;
          return { timestamp: T0 + i * 60_000, pstrPrice: 1, pstrVolume: 2, pumpPrice: 3, sources, line: i + 2 };
        });
        const cellsOf = (r: SourceReading | undefined) => (r ? `${r.price},${r.conf},${r.lagSeconds}` : ',,');
        const lines = rows.map((r, i) => [`${r.timestamp},1,2,3`, ...(specs[i] ?? []).map(cellsOf)].join(','));
        expect(parsePriceCsv(csv(SOURCES_HEADER, ...lines), 'p.csv')).toEqual(rows);
      }),
      { numRuns: 200 },
    );
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

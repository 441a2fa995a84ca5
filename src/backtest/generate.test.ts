import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  CSV_HEADER, CSV_HEADER_NO_SOL, DAY_MS, DEFAULT_START, SOURCE_COLUMNS, crashShape, csvHeader, formatPriceRow, generatePriceRows,
  parseCrash, parseInterval, parseOutage, parseOutlier,
} from './generate.ts';
import type { GenerateOptions } from './generate.ts';
import { parsePriceCsv } from './csv.ts';
import { rowReadings } from './row-readings.ts';
import { computeConsensus } from '../domain/consensus.ts';
import { ROW_SOURCES } from './types.ts';
import type { PriceRow } from './types.ts';

function rowsOf(opts: GenerateOptions): PriceRow[] {
  const rows: PriceRow[] = [];
  generatePriceRows(opts, (r) => rows.push(r));
  return rows;
}

function csvOf(opts: GenerateOptions): string {
  return [csvHeader(opts), ...rowsOf(opts).map(formatPriceRow)].join('\n') + '\n';
}

function stdev(xs: number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
}

/** The last row of each day, as daily closes. */
function dailyCloses(rows: PriceRow[], pick: (r: PriceRow) => number): number[] {
  const closes = new Map<number, number>();
  for (const r of rows) closes.set(Math.floor(r.timestamp / DAY_MS), pick(r));
  return [...closes.values()];
}

function dailyLogReturnVol(rows: PriceRow[], pick: (r: PriceRow) => number): number {
  const closes = dailyCloses(rows, pick);
  const returns = closes.slice(1).map((c, i) => Math.log(c / (closes[i] ?? c)));
  return stdev(returns);
}

describe('generatePriceRows', () => {
  it('writes identical bytes for the same seed and different bytes for another seed', () => {
    const opts = { days: 3, intervalMs: 300_000, seed: 42, crashes: [{ day: 1, depth: 0.3, recoveryDays: 1 }] };
    expect(csvOf(opts)).toBe(csvOf({ ...opts }));
    expect(csvOf(opts)).not.toBe(csvOf({ ...opts, seed: 43 }));
  });

  it('emits floor(days / interval) rows spaced by the interval from the start, numbered as CSV lines', () => {
    const rows = rowsOf({ days: 2.5, intervalMs: 3_600_000, seed: 1 });
    expect(rows).toHaveLength(60);
    expect(rows[0]?.timestamp).toBe(DEFAULT_START);
    expect(rows.every((r, i) => r.timestamp === DEFAULT_START + i * 3_600_000 && r.line === i + 2)).toBe(true);
  });

  it('starts PSTR at 0.0002, PUMP at 0.005 and SOL at 150 USD', () => {
    const [first] = rowsOf({ days: 1, intervalMs: 3_600_000, seed: 9, start: Date.UTC(2024, 5, 1) });
    expect(first).toMatchObject({ timestamp: Date.UTC(2024, 5, 1), pstrPrice: 0.0002, pumpPrice: 0.005, solPrice: 150 });
  });

  it('omits the SOL price when asked', () => {
    expect(rowsOf({ days: 1, intervalMs: 3_600_000, seed: 9, withSol: false }).some((r) => 'solPrice' in r)).toBe(false);
  });

  it('produces prices and volumes the CSV reader accepts and reads back exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.boolean(), (seed, withSol) => {
        const opts = { days: 2, intervalMs: 900_000, seed, withSol, crashes: [{ day: 0.5, depth: 0.5, recoveryDays: 0.5 }] };
        expect(parsePriceCsv(csvOf(opts), 'gen.csv')).toEqual(rowsOf(opts));
      }),
      { numRuns: 25 },
    );
  });

  it('has realized daily volatilities near the model: PSTR ~6 %, PUMP ~5 %', () => {
    const rows = rowsOf({ days: 365, intervalMs: 3_600_000, seed: 2025 });
    expect(dailyLogReturnVol(rows, (r) => r.pstrPrice)).toBeGreaterThan(0.04);
    expect(dailyLogReturnVol(rows, (r) => r.pstrPrice)).toBeLessThan(0.08);
    expect(dailyLogReturnVol(rows, (r) => r.pumpPrice)).toBeGreaterThan(0.04);
    expect(dailyLogReturnVol(rows, (r) => r.pumpPrice)).toBeLessThan(0.06);
  });

  it('trades more USD volume in the afternoon (UTC) than at night', () => {
    const rows = rowsOf({ days: 60, intervalMs: 3_600_000, seed: 5 });
    const at = (hour: number) => rows.filter((r) => new Date(r.timestamp).getUTCHours() === hour).reduce((s, r) => s + r.pstrVolume, 0);
    expect(at(14)).toBeGreaterThan(2 * at(2));
  });

  it('pushes PSTR down by about the crash depth one day after the crash starts, then lets it recover', () => {
    const base = { days: 60, intervalMs: 3_600_000, seed: 11 };
    const calm = rowsOf(base);
    const crashed = rowsOf({ ...base, crashes: [{ day: 40, depth: 0.35, recoveryDays: 5 }] });
    const ratioAt = (day: number) => {
      const i = day * 24;
      return (crashed[i]?.pstrPrice ?? NaN) / (calm[i]?.pstrPrice ?? NaN);
    };
    expect(ratioAt(39)).toBe(1);
    expect(ratioAt(41)).toBeCloseTo(0.65, 6);
    expect(ratioAt(43)).toBeGreaterThan(0.65);
    expect(ratioAt(47)).toBeCloseTo(1, 6);
    // Same random path otherwise: PUMP is untouched.
    expect(crashed.map((r) => r.pumpPrice)).toEqual(calm.map((r) => r.pumpPrice));
  });

  it('refuses bad options naming the field and value', () => {
    expect(() => rowsOf({ days: 0, intervalMs: 60_000, seed: 1 })).toThrow('days: 0');
    expect(() => rowsOf({ days: 1, intervalMs: 1.5, seed: 1 })).toThrow('intervalMs: 1.5');
    expect(() => rowsOf({ days: 1, intervalMs: 60_000, seed: 0.5 })).toThrow('seed: 0.5');
    expect(() => rowsOf({ days: 0.0001, intervalMs: 60_000, seed: 1 })).toThrow('shorter than one interval');
    expect(() => rowsOf({ days: 1, intervalMs: 60_000, seed: 1, crashes: [{ day: 0, depth: 1, recoveryDays: 1 }] })).toThrow('crashes[0].depth: 1');
  });
});

describe('generatePriceRows: per-source readings', () => {
  const base = { days: 4, intervalMs: 3_600_000, seed: 21, crashes: [{ day: 1, depth: 0.3, recoveryDays: 1 }] };
  const PARAMS = { maxStalenessSeconds: 60, maxPriceDeviation: 0.05, confidenceWeight: 0.3, minAgreeingSources: 2 };
  const dayOf = (r: PriceRow) => (r.timestamp - DEFAULT_START) / DAY_MS;

  it('gives the same rows as without sources, apart from the added readings', () => {
    const withSources = rowsOf({ ...base, sources: true }).map(({ sources: _sources, ...rest }) => rest);
    expect(withSources).toEqual(rowsOf(base));
    expect(rowsOf({ ...base, sources: false })).toEqual(rowsOf(base));
  });

  it('has every source read the row price within ±0.2 %, with a 0.1–0.5 % confidence and lags of 2, 4 and 6 s', () => {
    const rows = rowsOf({ ...base, sources: true });
    for (const row of rows) {
      expect(Object.keys(row.sources ?? {})).toEqual([...ROW_SOURCES]);
      for (const [source, r] of Object.entries(row.sources ?? {})) {
        expect(Math.abs(r.price / row.pstrPrice - 1)).toBeLessThanOrEqual(0.002 + 1e-7);
        expect(r.conf / r.price).toBeGreaterThanOrEqual(0.001 - 1e-7);
        expect(r.conf / r.price).toBeLessThanOrEqual(0.005 + 1e-7);
        expect(r.lagSeconds).toBe({ pyth: 2, switchboard: 4, dex: 6 }[source]);
      }
    }
    // Seeded noise, not a copy of the row price: the three sources disagree a little.
    expect(new Set(rows.map((r) => r.sources?.pyth?.price)).size).toBe(rows.length);
    expect(rows.some((r) => r.sources?.pyth?.price !== r.sources?.dex?.price)).toBe(true);
  });

  it('makes an outlier source read the row price times 1 + OFFSET on the rows of its window only', () => {
    const plain = rowsOf({ ...base, sources: true });
    const rows = rowsOf({ ...base, sources: true, outliers: [{ source: 'dex', fromDay: 2, toDay: 3, offset: 0.08 }] });
    rows.forEach((row, i) => {
      const inside = dayOf(row) >= 2 && dayOf(row) < 3;
      // Rounded to 8 significant digits like every generated price.
      if (inside) expect(Math.abs((row.sources?.dex?.price ?? NaN) / (row.pstrPrice * 1.08) - 1)).toBeLessThan(1e-7);
      else expect(row.sources?.dex).toEqual(plain[i]?.sources?.dex);
      expect(row.sources?.pyth).toEqual(plain[i]?.sources?.pyth);
    });
    expect(rows.filter((r) => dayOf(r) >= 2 && dayOf(r) < 3)).toHaveLength(24);
  });

  it('leaves an out source absent on the rows of its window and every other reading unchanged', () => {
    const plain = rowsOf({ ...base, sources: true });
    const rows = rowsOf({ ...base, sources: true, outages: [{ source: 'pyth', fromDay: 1.5, toDay: 2 }] });
    rows.forEach((row, i) => {
      const inside = dayOf(row) >= 1.5 && dayOf(row) < 2;
      expect(row.sources?.pyth).toEqual(inside ? undefined : plain[i]?.sources?.pyth);
      expect(row.sources?.switchboard).toEqual(plain[i]?.sources?.switchboard);
    });
  });

  it('lets the consensus flag the outlier and fail closed during a two-source outage', () => {
    const rows = rowsOf({
      ...base, sources: true,
      outliers: [{ source: 'switchboard', fromDay: 1, toDay: 2, offset: -0.1 }],
      outages: [{ source: 'pyth', fromDay: 3, toDay: 4 }, { source: 'dex', fromDay: 3, toDay: 4 }],
    });
    const outcome = (day: number) => {
      const row = rows[day * 24 + 12] as PriceRow;
      const c = computeConsensus(rowReadings(row), row.timestamp, PARAMS);
      return { ok: c.ok, outliers: c.outliers };
    };
    expect(outcome(0)).toEqual({ ok: true, outliers: [] });
    expect(outcome(1)).toEqual({ ok: true, outliers: ['switchboard'] });
    expect(outcome(3)).toEqual({ ok: false, outliers: [] });
  });

  it('writes CSV text the reader parses back to exactly the same readings, empty cells included', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.boolean(), (seed, withSol) => {
        const opts: GenerateOptions = {
          days: 2, intervalMs: 900_000, seed, withSol, sources: true,
          outliers: [{ source: 'pyth', fromDay: 0.5, toDay: 1, offset: 0.2 }],
          outages: [{ source: 'dex', fromDay: 1, toDay: 1.5 }, { source: 'pyth', fromDay: 0.75, toDay: 1.25 }],
        };
        expect(parsePriceCsv(csvOf(opts), 'gen.csv')).toEqual(rowsOf(opts));
      }),
      { numRuns: 10 },
    );
  });

  it('refuses outliers or outages without sources, and bad windows, naming the field and value', () => {
    const opts = { days: 1, intervalMs: 3_600_000, seed: 1 };
    expect(() => rowsOf({ ...opts, outages: [{ source: 'dex', fromDay: 0, toDay: 1 }] })).toThrow('outages: need sources: true');
    expect(() => rowsOf({ ...opts, sources: true, outages: [{ source: 'dex', fromDay: 1, toDay: 1 }] })).toThrow('outages[0].toDay: 1');
    expect(() => rowsOf({ ...opts, sources: true, outliers: [{ source: 'dex', fromDay: 0, toDay: 1, offset: -1 }] })).toThrow('outliers[0].offset: -1');
    const unknown = { source: 'chainlink', fromDay: 0, toDay: 1, offset: 0.1 } as unknown as NonNullable<GenerateOptions['outliers']>[number];
    expect(() => rowsOf({ ...opts, sources: true, outliers: [unknown] })).toThrow('outliers[0].source: "chainlink"');
  });
});

describe('crashShape', () => {
  const crash = { day: 10, depth: 0.35, recoveryDays: 4 };

  it('is 0 before the start, 1 at the bottom one day in, and 0 again after the recovery', () => {
    expect(crashShape(crash, 10)).toBe(0);
    expect(crashShape(crash, 10.5)).toBe(0.5);
    expect(crashShape(crash, 11)).toBe(1);
    expect(crashShape(crash, 13)).toBe(0.5);
    expect(crashShape(crash, 15)).toBe(0);
    expect(crashShape(crash, 100)).toBe(0);
  });

  it('stays within [0, 1] and falls monotonically during the recovery', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 30, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (t, dt) => {
        const s = crashShape(crash, t);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
        if (t >= 11) expect(crashShape(crash, t + dt)).toBeLessThanOrEqual(s);
      }),
    );
  });
});

describe('formatPriceRow', () => {
  it('writes an ISO UTC timestamp, milliseconds only when present, and the columns in CSV_HEADER order', () => {
    expect(formatPriceRow({ timestamp: DEFAULT_START, pstrPrice: 0.0002, pstrVolume: 12.5, pumpPrice: 0.005, solPrice: 150, line: 2 }))
      .toBe('2025-01-01T00:00:00Z,0.0002,12.5,0.005,150');
    expect(formatPriceRow({ timestamp: DEFAULT_START + 3_723_004, pstrPrice: 1e-9, pstrVolume: 0, pumpPrice: 2, line: 2 }))
      .toBe('2025-01-01T01:02:03.004Z,1e-9,0,2');
  });

  it('writes text that parses back to exactly the same numbers', () => {
    const positive = fc.double({ min: 1e-15, max: 1e15, noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }), positive, positive, positive, positive, (timestamp, p, v, u, s) => {
        const row: PriceRow = { timestamp, pstrPrice: p, pstrVolume: v, pumpPrice: u, solPrice: s, line: 2 };
        expect(parsePriceCsv(`${CSV_HEADER}\n${formatPriceRow(row)}\n`, 'f.csv')).toEqual([row]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('csvHeader', () => {
  it('names the sol_price and per-source columns only when the options emit them', () => {
    expect(csvHeader({})).toBe(CSV_HEADER);
    expect(csvHeader({ withSol: false })).toBe(CSV_HEADER_NO_SOL);
    expect(csvHeader({ sources: true })).toBe(`${CSV_HEADER},${SOURCE_COLUMNS}`);
    expect(SOURCE_COLUMNS).toBe('pyth_price,pyth_conf,pyth_lag_s,switchboard_price,switchboard_conf,switchboard_lag_s,dex_price,dex_conf,dex_lag_s');
  });
});

describe('CLI option parsers', () => {
  it('maps the four interval names to milliseconds and refuses others', () => {
    expect(['1m', '5m', '15m', '1h'].map(parseInterval)).toEqual([60_000, 300_000, 900_000, 3_600_000]);
    expect(() => parseInterval('2m')).toThrow('--interval "2m" is not one of 1m, 5m, 15m, 1h');
  });

  it('reads DAY:DEPTH[:DAYS] crash specs with a 5-day default recovery', () => {
    expect(parseCrash('40:0.35')).toEqual({ day: 40, depth: 0.35, recoveryDays: 5 });
    expect(parseCrash('12.5:0.2:3')).toEqual({ day: 12.5, depth: 0.2, recoveryDays: 3 });
  });

  it.each(['40', '40:abc', '40:1.2', '40:0.3:0', '-1:0.3', '40:0.3:5:1'])('refuses the crash spec %j naming it', (text) => {
    expect(() => parseCrash(text)).toThrow(`--crash "${text}"`);
  });

  it('reads SOURCE:FROM_DAY:TO_DAY:OFFSET outliers, negative offsets included', () => {
    expect(parseOutlier('dex:40:41:0.08')).toEqual({ source: 'dex', fromDay: 40, toDay: 41, offset: 0.08 });
    expect(parseOutlier('pyth:0:2.5:-0.1')).toEqual({ source: 'pyth', fromDay: 0, toDay: 2.5, offset: -0.1 });
  });

  it.each(['dex:40:41', 'chainlink:1:2:0.1', 'dex:2:1:0.1', 'dex:1:2:-1', 'dex:1:2:abc', 'dex:-1:2:0.1'])('refuses the outlier spec %j naming it', (text) => {
    expect(() => parseOutlier(text)).toThrow(`--outlier "${text}"`);
  });

  it('reads SOURCE:FROM_DAY:TO_DAY outages', () => {
    expect(parseOutage('switchboard:3:4.5')).toEqual({ source: 'switchboard', fromDay: 3, toDay: 4.5 });
  });

  it.each(['pyth:3', 'pyth:3:3', 'Pyth:1:2', 'pyth:1:2:0.1'])('refuses the outage spec %j naming it', (text) => {
    expect(() => parseOutage(text)).toThrow(`--outage "${text}"`);
  });
});

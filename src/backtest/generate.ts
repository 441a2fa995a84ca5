/**
 * Seeded synthetic price series, so demos and benchmarks need no downloaded
 * data. Same options and seed → the same rows, bit for bit (the PRNG is
 * written here, not Math.random).
 *
 * Model (per step of dt days, Z ~ N(0,1)):
 *  - PSTR log price x reverts to a slowly wandering log level L:
 *      dL = −θ_L·(L − L₀)·dt + σ_L·√dt·Z,   dx = θ·(L − x)·dt + σ·√dt·Z
 *    then crashes multiply the price by (1 − depth·shape), see crashFactor.
 *  - PSTR volume (USD per interval) is lognormal around a daily budget with a
 *    daily cycle, and swells while a crash is under way (panic selling).
 *  - PUMP and SOL: driftless geometric Brownian motion.
 *  - Optionally, per-source PSTR readings (pyth, switchboard, dex) scattered
 *    around the row price, with injected outliers and outages, drawn from a
 *    second PRNG so that asking for them leaves every other number unchanged.
 */
import { ROW_SOURCES } from './types.ts';
import type { PriceRow, RowSource, SourceReading } from './types.ts';

export interface CrashSpec {
  /** Days after the series start at which the fall begins. */
  day: number;
  /** Fraction of the price lost at the bottom, e.g. 0.35. */
  depth: number;
  /** Days from the bottom back to the undisturbed path. */
  recoveryDays: number;
}

/** A source that reads the row price × (1 + offset) on the rows in [fromDay, toDay) after the start. */
export interface SourceOutlier {
  source: RowSource;
  fromDay: number;
  toDay: number;
  /** e.g. 0.08 for 8 % above, −0.1 for 10 % below; more than −1 so the price stays positive. */
  offset: number;
}

/** A source that does not answer (empty cells) on the rows in [fromDay, toDay) after the start. */
export interface SourceOutage {
  source: RowSource;
  fromDay: number;
  toDay: number;
}

export interface GenerateOptions {
  days: number;
  intervalMs: number;
  seed: number;
  /** Epoch ms of the first row; default 2025-01-01T00:00:00Z. */
  start?: number;
  crashes?: CrashSpec[];
  /** Emit a sol_price column; default true. */
  withSol?: boolean;
  /** Emit per-source PSTR readings (the pyth_*, switchboard_*, dex_* columns); default false. */
  sources?: boolean;
  /** Need `sources`. Where an outage and an outlier overlap, the outage wins (the source is silent). */
  outliers?: SourceOutlier[];
  outages?: SourceOutage[];
}

export const DAY_MS = 86_400_000;
export const DEFAULT_START = Date.UTC(2025, 0, 1);
export const CSV_HEADER = 'timestamp,pstr_price,pstr_volume,pump_price,sol_price';
export const CSV_HEADER_NO_SOL = 'timestamp,pstr_price,pstr_volume,pump_price';
/** The per-source columns, in the order formatPriceRow writes them after the others. */
export const SOURCE_COLUMNS = ROW_SOURCES.map((s) => `${s}_price,${s}_conf,${s}_lag_s`).join(',');

/** The header line matching what generatePriceRows emits for these options. */
export function csvHeader(opts: Pick<GenerateOptions, 'withSol' | 'sources'>): string {
  const base = opts.withSol === false ? CSV_HEADER_NO_SOL : CSV_HEADER;
  return opts.sources === true ? `${base},${SOURCE_COLUMNS}` : base;
}

/** Model constants; per-day rates and volatilities. */
const PSTR_START = 0.0002;
const PSTR_VOL = 0.065; // instantaneous; with the reversion below the realized daily vol is ~6 %
const PSTR_REVERSION = 0.5; // θ: half-life of a deviation from the level ≈ 1.4 days
const LEVEL_VOL = 0.015;
const LEVEL_REVERSION = 0.01; // keeps a year-long series from wandering off to nothing
const PUMP_START = 0.005;
const PUMP_VOL = 0.05;
const SOL_START = 150;
const SOL_VOL = 0.04;
const DAILY_VOLUME_USD = 60_000;
const VOLUME_SIGMA = 0.6;
const VOLUME_CYCLE = 0.6; // ±60 % around the mean, busiest at 14:00 UTC
const CRASH_VOLUME_BOOST = 3;
const PRICE_DIGITS = 8;
/** Each source reads the row price × (1 + u), u uniform within ±SOURCE_NOISE: well inside SPEC §2's 5 % outlier limit. */
const SOURCE_NOISE = 0.002;
/** Confidence as a fraction of the reading: uniform in [0.1 %, 0.5 %]. */
const CONF_MIN = 0.001;
const CONF_SPAN = 0.004;
/** How long before the row each source published, as the paper oracles lag (src/paper/sources.ts). */
const SOURCE_LAG_SECONDS: Readonly<Record<RowSource, number>> = { pyth: 2, switchboard: 4, dex: 6 };
/** Mixed into the seed for the source PRNG, so its stream is unrelated to the price path's. */
const SOURCE_SEED_SALT = 0x5eed_50c5;

/** mulberry32: a tiny 32-bit PRNG with good enough statistics for synthetic data. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Box–Muller: two uniforms give two independent normals; the second is kept for the next call. */
function normalSource(uniform: () => number): () => number {
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const z = spare;
      spare = NaN;
      return z;
    }
    const u1 = 1 - uniform(); // (0, 1]: log(0) must not happen
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };
}

/** Smooth 0→1 ramp on [0, 1] (zero slope at both ends, so the crash has no kinks). */
function smoothstep(u: number): number {
  const v = u <= 0 ? 0 : u >= 1 ? 1 : u;
  return v * v * (3 - 2 * v);
}

/** How far into a crash we are: 0 outside, rising to 1 at the bottom (one day in), back to 0 after recoveryDays. */
export function crashShape(crash: CrashSpec, dayOffset: number): number {
  const u = dayOffset - crash.day;
  if (u <= 0) return 0;
  if (u <= 1) return smoothstep(u);
  return 1 - smoothstep((u - 1) / crash.recoveryDays);
}

/** Rounds to `digits` significant digits so the CSV text parses back to exactly this number. */
function roundSignificant(x: number, digits: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const exponent = digits - 1 - Math.floor(Math.log10(Math.abs(x)));
  if (exponent > 22 || exponent < -22) return x; // 10^e no longer exact: leave the value alone
  const scale = 10 ** Math.abs(exponent);
  return exponent >= 0 ? Math.round(x * scale) / scale : Math.round(x / scale) * scale;
}

function validate(opts: GenerateOptions): void {
  if (!(Number.isFinite(opts.days) && opts.days > 0)) throw new RangeError(`days: ${opts.days} must be a positive number`);
  if (!(Number.isSafeInteger(opts.intervalMs) && opts.intervalMs > 0)) {
    throw new RangeError(`intervalMs: ${opts.intervalMs} must be a positive whole number of milliseconds`);
  }
  if (!Number.isSafeInteger(opts.seed)) throw new RangeError(`seed: ${opts.seed} must be an integer`);
  if (opts.start !== undefined && !Number.isSafeInteger(opts.start)) {
    throw new RangeError(`start: ${opts.start} must be epoch milliseconds`);
  }
  if (Math.floor((opts.days * DAY_MS) / opts.intervalMs) < 1) {
    throw new RangeError(`days: ${opts.days} is shorter than one interval of ${opts.intervalMs} ms`);
  }
  for (const [i, c] of (opts.crashes ?? []).entries()) {
    if (!(Number.isFinite(c.day) && c.day >= 0)) throw new RangeError(`crashes[${i}].day: ${c.day} must be 0 or more`);
    if (!(c.depth > 0 && c.depth < 1)) throw new RangeError(`crashes[${i}].depth: ${c.depth} must be between 0 and 1 (exclusive)`);
    if (!(Number.isFinite(c.recoveryDays) && c.recoveryDays > 0)) {
      throw new RangeError(`crashes[${i}].recoveryDays: ${c.recoveryDays} must be a positive number`);
    }
  }
  validateSourceEvents(opts);
}

function validateWindow(name: string, e: SourceOutage): void {
  if (!(ROW_SOURCES as readonly string[]).includes(e.source)) {
    throw new RangeError(`${name}.source: "${e.source}" is not one of ${ROW_SOURCES.join(', ')}`);
  }
  if (!(Number.isFinite(e.fromDay) && e.fromDay >= 0)) throw new RangeError(`${name}.fromDay: ${e.fromDay} must be 0 or more`);
  if (!(Number.isFinite(e.toDay) && e.toDay > e.fromDay)) throw new RangeError(`${name}.toDay: ${e.toDay} must be after fromDay ${e.fromDay}`);
}

function validateSourceEvents(opts: GenerateOptions): void {
  const outliers = opts.outliers ?? [];
  const outages = opts.outages ?? [];
  if (opts.sources !== true && outliers.length + outages.length > 0) {
    throw new RangeError(`${outliers.length > 0 ? 'outliers' : 'outages'}: need sources: true (they alter the per-source columns)`);
  }
  outliers.forEach((o, i) => {
    validateWindow(`outliers[${i}]`, o);
    if (!(Number.isFinite(o.offset) && o.offset > -1)) throw new RangeError(`outliers[${i}].offset: ${o.offset} must be more than -1`);
  });
  outages.forEach((o, i) => validateWindow(`outages[${i}]`, o));
}

function inWindow(e: SourceOutage, source: RowSource, dayOffset: number): boolean {
  return e.source === source && dayOffset >= e.fromDay && dayOffset < e.toDay;
}

/**
 * The row's per-source readings. Every source draws its two uniforms on every row, silent or
 * not, so an outage or an outlier changes only its own cells and never shifts the others' noise.
 */
function sourceReadings(pstrPrice: number, dayOffset: number, uniform: () => number, opts: GenerateOptions): Partial<Record<RowSource, SourceReading>> {
  const readings: Partial<Record<RowSource, SourceReading>> = {};
  for (const source of ROW_SOURCES) {
    const noise = SOURCE_NOISE * (2 * uniform() - 1);
    const confShare = CONF_MIN + CONF_SPAN * uniform();
    if ((opts.outages ?? []).some((o) => inWindow(o, source, dayOffset))) continue;
    const outlier = (opts.outliers ?? []).find((o) => inWindow(o, source, dayOffset));
    const price = roundSignificant(pstrPrice * (1 + (outlier ? outlier.offset : noise)), PRICE_DIGITS);
    readings[source] = { price, conf: roundSignificant(price * confShare, PRICE_DIGITS), lagSeconds: SOURCE_LAG_SECONDS[source] };
  }
  return readings;
}

/**
 * Streams `floor(days × 1 day / intervalMs)` rows to `onRow`, oldest first.
 * Rows carry `line` = their line in the CSV that formatPriceRow would write
 * (header on line 1).
 */
export function generatePriceRows(opts: GenerateOptions, onRow: (row: PriceRow) => void): void {
  validate(opts);
  const start = opts.start ?? DEFAULT_START;
  const withSol = opts.withSol ?? true;
  const crashes = opts.crashes ?? [];
  const count = Math.floor((opts.days * DAY_MS) / opts.intervalMs);
  const dt = opts.intervalMs / DAY_MS;
  const sqrtDt = Math.sqrt(dt);
  const normal = normalSource(mulberry32(opts.seed));
  const sourceUniform = opts.sources === true ? mulberry32(opts.seed ^ SOURCE_SEED_SALT) : undefined;

  const level0 = Math.log(PSTR_START);
  let level = level0;
  let logPstr = level0;
  let logPump = Math.log(PUMP_START);
  let logSol = Math.log(SOL_START);
  const volumePerStep = DAILY_VOLUME_USD * dt;

  for (let i = 0; i < count; i++) {
    const timestamp = start + i * opts.intervalMs;
    if (i > 0) {
      level += -LEVEL_REVERSION * (level - level0) * dt + LEVEL_VOL * sqrtDt * normal();
      logPstr += PSTR_REVERSION * (level - logPstr) * dt + PSTR_VOL * sqrtDt * normal();
      // Driftless GBM: the −σ²/2 term keeps the expected price constant.
      logPump += -0.5 * PUMP_VOL * PUMP_VOL * dt + PUMP_VOL * sqrtDt * normal();
      if (withSol) logSol += -0.5 * SOL_VOL * SOL_VOL * dt + SOL_VOL * sqrtDt * normal();
    }
    const dayOffset = i * dt;
    let crashFactor = 1;
    let crashIntensity = 0;
    for (const c of crashes) {
      const shape = crashShape(c, dayOffset);
      crashFactor *= 1 - c.depth * shape;
      crashIntensity = Math.max(crashIntensity, shape);
    }
    const hourOfDay = ((timestamp % DAY_MS) + DAY_MS) % DAY_MS / 3_600_000;
    const cycle = 1 + VOLUME_CYCLE * Math.sin((2 * Math.PI * (hourOfDay - 8)) / 24);
    // Mean-one lognormal: exp(σZ − σ²/2).
    const noise = Math.exp(VOLUME_SIGMA * normal() - 0.5 * VOLUME_SIGMA * VOLUME_SIGMA);
    const volume = volumePerStep * cycle * noise * (1 + CRASH_VOLUME_BOOST * crashIntensity);

    const row: PriceRow = {
      timestamp,
      pstrPrice: roundSignificant(Math.exp(logPstr) * crashFactor, PRICE_DIGITS),
      pstrVolume: Math.round(volume * 100) / 100,
      pumpPrice: roundSignificant(Math.exp(logPump), PRICE_DIGITS),
      line: i + 2,
    };
    if (withSol) row.solPrice = roundSignificant(Math.exp(logSol), PRICE_DIGITS);
    // Windows are tested on the exact day offset (one rounding, not i·dt's two), so a window edge on a whole day lands on its row.
    if (sourceUniform) row.sources = sourceReadings(row.pstrPrice, (i * opts.intervalMs) / DAY_MS, sourceUniform, opts);
    onRow(row);
  }
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
let cachedDay = NaN;
let cachedDayPrefix = '';

/** ISO 8601 UTC, "YYYY-MM-DDTHH:MM:SSZ" (".sss" only when there are milliseconds); the date part is cached per day. */
function isoTimestamp(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    const iso = new Date(day * DAY_MS).toISOString();
    if (iso.length !== 24) return new Date(ms).toISOString(); // years outside 0000–9999
    cachedDay = day;
    cachedDayPrefix = iso.slice(0, 11);
  }
  const inDay = ms - day * DAY_MS;
  const h = Math.floor(inDay / 3_600_000);
  const m = Math.floor(inDay / 60_000) % 60;
  const s = Math.floor(inDay / 1000) % 60;
  const milli = inDay % 1000;
  const time = `${cachedDayPrefix}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[s]}`;
  return milli === 0 ? `${time}Z` : `${time}.${String(milli).padStart(3, '0')}Z`;
}

/** A source's three cells; empty ones when it did not answer. */
function sourceCells(reading: SourceReading | undefined): string {
  return reading === undefined ? ',,' : `${reading.price},${reading.conf},${reading.lagSeconds}`;
}

/**
 * One CSV line (no newline) in the column order of csvHeader: sol_price only
 * when the row has it, the SOURCE_COLUMNS only when it has `sources`. Numbers
 * use JavaScript's shortest round-trip form, so the CSV reader gets back
 * exactly these values.
 */
export function formatPriceRow(row: PriceRow): string {
  const base = `${isoTimestamp(row.timestamp)},${row.pstrPrice},${row.pstrVolume},${row.pumpPrice}`;
  const withSol = row.solPrice === undefined ? base : `${base},${row.solPrice}`;
  const sources = row.sources;
  if (sources === undefined) return withSol;
  return `${withSol},${sourceCells(sources.pyth)},${sourceCells(sources.switchboard)},${sourceCells(sources.dex)}`;
}

export const INTERVALS: Readonly<Record<string, number>> = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000 };

/** "1m" | "5m" | "15m" | "1h" → milliseconds; anything else is refused naming the choices. */
export function parseInterval(text: string): number {
  const ms = INTERVALS[text];
  if (ms === undefined) throw new RangeError(`--interval "${text}" is not one of ${Object.keys(INTERVALS).join(', ')}`);
  return ms;
}

const DECIMAL = /^\d+(\.\d+)?$/;

/** "DAY:DEPTH[:DAYS]" (e.g. "40:0.35" or "40:0.35:5") → a crash; recovery defaults to 5 days. */
export function parseCrash(text: string): CrashSpec {
  const parts = text.split(':');
  const bad = (why: string) => new RangeError(`--crash "${text}": ${why} (expected DAY:DEPTH[:RECOVERY_DAYS], e.g. 40:0.35:5)`);
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => DECIMAL.test(p))) throw bad('needs two or three colon-separated non-negative numbers');
  const [day, depth, recoveryDays = 5] = parts.map(Number) as [number, number, number?];
  if (!(depth > 0 && depth < 1)) throw bad(`depth ${depth} must be between 0 and 1, exclusive`);
  if (!(recoveryDays > 0)) throw bad(`recovery days ${recoveryDays} must be more than 0`);
  return { day, depth, recoveryDays };
}

function sourceName(text: string, bad: (why: string) => RangeError): RowSource {
  const source = ROW_SOURCES.find((s) => s === text);
  if (source === undefined) throw bad(`source "${text}" is not one of ${ROW_SOURCES.join(', ')}`);
  return source;
}

/** "FROM_DAY:TO_DAY" → the window, refused unless FROM < TO. */
function dayWindow(from: string, to: string, bad: (why: string) => RangeError): { fromDay: number; toDay: number } {
  if (!DECIMAL.test(from) || !DECIMAL.test(to)) throw bad('the days must be non-negative numbers');
  const fromDay = Number(from);
  const toDay = Number(to);
  if (!(toDay > fromDay)) throw bad(`TO_DAY ${toDay} must be after FROM_DAY ${fromDay}`);
  return { fromDay, toDay };
}

/** "SOURCE:FROM_DAY:TO_DAY:OFFSET" (e.g. "dex:40:41:0.08") → an outlier; OFFSET may be negative, above -1. */
export function parseOutlier(text: string): SourceOutlier {
  const bad = (why: string) => new RangeError(`--outlier "${text}": ${why} (expected SOURCE:FROM_DAY:TO_DAY:OFFSET, e.g. dex:40:41:0.08)`);
  const parts = text.split(':');
  if (parts.length !== 4) throw bad('needs four colon-separated fields');
  const [source, from, to, offsetText] = parts as [string, string, string, string];
  const offset = /^[+-]?\d+(\.\d+)?$/.test(offsetText) ? Number(offsetText) : NaN;
  if (!(offset > -1)) throw bad(`OFFSET ${offsetText} must be a number more than -1`);
  return { source: sourceName(source, bad), ...dayWindow(from, to, bad), offset };
}

/** "SOURCE:FROM_DAY:TO_DAY" (e.g. "pyth:40:42") → an outage. */
export function parseOutage(text: string): SourceOutage {
  const bad = (why: string) => new RangeError(`--outage "${text}": ${why} (expected SOURCE:FROM_DAY:TO_DAY, e.g. pyth:40:42)`);
  const parts = text.split(':');
  if (parts.length !== 3) throw bad('needs three colon-separated fields');
  const [source, from, to] = parts as [string, string, string];
  return { source: sourceName(source, bad), ...dayWindow(from, to, bad) };
}

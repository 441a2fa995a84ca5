/**
 * npm run gen-prices -- --days 365 --interval 1m --seed 7 [--crash 40:0.35[:5]]... [--out prices.csv]
 *   [--sources [--outlier dex:40:41:0.08]... [--outage pyth:40:42]...]
 *
 * Writes a seeded synthetic price file for the backtest. With --out the file
 * is written to FILE.tmp and renamed at the end, so a failure never leaves a
 * half-written price file behind.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import {
  DAY_MS, DEFAULT_START, csvHeader, formatPriceRow, generatePriceRows, parseCrash, parseInterval, parseOutage, parseOutlier,
} from '../backtest/generate.ts';
import type { CrashSpec, SourceOutage, SourceOutlier } from '../backtest/generate.ts';

/** Rows are copied into one reused block of this many bytes, written whenever it is nearly full. */
const BLOCK_BYTES = 1 << 21;
/** Far more than one CSV line can take (fourteen numbers and a timestamp). */
const MAX_LINE_BYTES = 1024;

function positiveNumber(flag: string) {
  return (text: string): number => {
    const v = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
    if (!(v > 0)) throw new InvalidArgumentError(`${flag} "${text}" must be a positive number.`);
    return v;
  };
}

function seedValue(text: string): number {
  const v = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(v) && v <= 0xffffffff)) {
    throw new InvalidArgumentError(`--seed "${text}" must be a whole number from 0 to 4294967295.`);
  }
  return v;
}

function wrap<T>(parse: (text: string) => T) {
  return (text: string): T => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? `${err.message}.` : String(err));
    }
  };
}

function startValue(text: string): number {
  const ms = /(Z|[+-]\d{2}:?\d{2})$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`--start "${text}" must be an ISO 8601 time with Z or an offset, e.g. 2025-01-01T00:00:00Z.`);
  return ms;
}

interface Options {
  days: number;
  interval: number;
  seed: number;
  crash?: CrashSpec[];
  out?: string;
  sol: boolean;
  start?: number;
  sources?: boolean;
  outlier?: SourceOutlier[];
  outage?: SourceOutage[];
}

/** A repeatable option: each occurrence parsed and appended. */
function repeatable<T>(parse: (text: string) => T) {
  return (text: string, previous: T[] | undefined): T[] => [...(previous ?? []), wrap(parse)(text)];
}

const program = new Command()
  .name('gen-prices')
  .description('Write a seeded synthetic PSTR/PUMP/SOL price CSV for the backtest.')
  .requiredOption('--days <n>', 'length of the series in days', positiveNumber('--days'))
  .requiredOption('--interval <step>', 'row spacing: 1m, 5m, 15m or 1h', wrap(parseInterval))
  .requiredOption('--seed <n>', 'PRNG seed (same seed → identical file)', seedValue)
  .option('--crash <day:depth[:days]>', 'inject a PSTR drawdown, e.g. 40:0.35:5 (repeatable)', repeatable(parseCrash))
  .option('--start <iso>', 'time of the first row (default: 2025-01-01T00:00:00Z)', startValue)
  .option('--no-sol', 'omit the sol_price column (the backtest then uses backtest.initialSolPrice)')
  .option('--sources', 'add per-source PSTR columns (pyth, switchboard, dex: price, conf, lag) for the backtest\'s consensus')
  .option('--outlier <source:from:to:offset>', 'with --sources: SOURCE reads price × (1+OFFSET) from day FROM to TO, e.g. dex:40:41:0.08 (repeatable)',
    repeatable(parseOutlier))
  .option('--outage <source:from:to>', 'with --sources: SOURCE does not answer (empty cells) from day FROM to TO, e.g. pyth:40:42 (repeatable)',
    repeatable(parseOutage))
  .option('--out <file>', 'write to FILE (atomically) instead of stdout')
  .showHelpAfterError('(run gen-prices --help for usage)');

program.parse();
const opts = program.opts<Options>();
const crashes = opts.crash ?? [];

const outliers = opts.outlier ?? [];
const outages = opts.outage ?? [];

for (const c of crashes) {
  if (c.day >= opts.days) program.error(`error: --crash day ${c.day} is not inside the series (--days ${opts.days}).`, { exitCode: 1 });
}
for (const [flag, events] of [['--outlier', outliers], ['--outage', outages]] as const) {
  // They edit the per-source columns; without --sources there are none, and silently ignoring them would hide a typo.
  if (events.length > 0 && opts.sources !== true) program.error(`error: ${flag} needs --sources.`, { exitCode: 1 });
  for (const e of events) {
    if (e.fromDay >= opts.days) program.error(`error: ${flag} from day ${e.fromDay} is not inside the series (--days ${opts.days}).`, { exitCode: 1 });
  }
}

/**
 * Streams the CSV through one reused byte block: the lines are pure ASCII,
 * so a latin1 write copies them without building a large joined string.
 */
function generate(write: (block: Buffer) => void): void {
  const block = Buffer.allocUnsafe(BLOCK_BYTES);
  const sources = opts.sources === true;
  let used = block.write(`${csvHeader({ withSol: opts.sol, sources })}\n`, 0, 'latin1');
  generatePriceRows(
    {
      days: opts.days, intervalMs: opts.interval, seed: opts.seed, start: opts.start ?? DEFAULT_START, crashes, withSol: opts.sol,
      sources, outliers, outages,
    },
    (row) => {
      used += block.write(`${formatPriceRow(row)}\n`, used, 'latin1');
      if (used > BLOCK_BYTES - MAX_LINE_BYTES) {
        write(block.subarray(0, used));
        used = 0;
      }
    },
  );
  if (used > 0) write(block.subarray(0, used));
}

if (opts.out === undefined) {
  // A closed pipe (e.g. `| head`) is a normal way for the reader to stop.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  // stdout may still hold the bytes after write() returns: hand it a copy, the block is reused.
  generate((block) => process.stdout.write(Buffer.from(block)));
} else {
  const target = opts.out;
  const tmp = `${target}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    const out = fd;
    generate((block) => {
      for (let done = 0; done < block.length;) done += writeSync(out, block, done);
    });
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    const reason = err instanceof Error ? err.message : String(err);
    process.stderr.write(`gen-prices: could not write ${target} (${reason}); nothing was written.\n`);
    process.exit(1);
  }
  const rows = Math.floor((opts.days * DAY_MS) / opts.interval);
  process.stderr.write(`gen-prices: wrote ${rows} rows to ${target}\n`);
}

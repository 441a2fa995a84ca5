/**
 * npm run bench: the backtest on a generated one-year, one-minute series
 * (525,600 rows). Prints rows/second of the whole backtest (read + parse +
 * strategy) and its time as a ratio of only reading and parsing the same
 * file, both measured in this run (median of several rounds, after a warm-up).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../src/config.ts';
import { parsePriceCsv } from '../src/backtest/csv.ts';
import { Backtest } from '../src/backtest/engine.ts';
import { CSV_HEADER, formatPriceRow, generatePriceRows } from '../src/backtest/generate.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'pstr-bench-'));
const file = join(dir, 'prices-1y-1m.csv');

const lines: string[] = [CSV_HEADER];
generatePriceRows({ days: 365, intervalMs: 60_000, seed: 42, crashes: [{ day: 60, depth: 0.35, recoveryDays: 5 }, { day: 200, depth: 0.25, recoveryDays: 3 }] }, (row) => {
  lines.push(formatPriceRow(row));
});
writeFileSync(file, `${lines.join('\n')}\n`);
const bytes = readFileSync(file).length;

function parseOnly(): number {
  let n = 0;
  parsePriceCsv(readFileSync(file, 'utf8'), file, () => {
    n++;
  });
  return n;
}

function fullBacktest(): number {
  const bt = new Backtest(defaultConfig());
  parsePriceCsv(readFileSync(file, 'utf8'), file, (row) => bt.step(row));
  return bt.finish().summary.samples;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function time(fn: () => number): { ms: number; rows: number } {
  const t0 = performance.now();
  const rows = fn();
  return { ms: performance.now() - t0, rows };
}

// Warm-up: JIT both paths once.
parseOnly();
fullBacktest();
const parse: number[] = [];
const full: number[] = [];
let rows = 0;
for (let i = 0; i < ROUNDS; i++) {
  // Interleave the two so machine noise hits both alike.
  parse.push(time(parseOnly).ms);
  const r = time(fullBacktest);
  full.push(r.ms);
  rows = r.rows;
}
rmSync(dir, { recursive: true, force: true });

const parseMs = median(parse);
const fullMs = median(full);
console.log(`backtest benchmark: ${rows.toLocaleString('en-US')} rows (${(bytes / 1e6).toFixed(1)} MB), ${ROUNDS} rounds, medians`);
console.log(`  read + parse only : ${parseMs.toFixed(0)} ms  (${Math.round(rows / (parseMs / 1000)).toLocaleString('en-US')} rows/s)`);
console.log(`  full backtest     : ${fullMs.toFixed(0)} ms  (${Math.round(rows / (fullMs / 1000)).toLocaleString('en-US')} rows/s)`);
console.log(`  ratio backtest / parse = ${(fullMs / parseMs).toFixed(2)}×  (strategy adds ${((fullMs - parseMs) / parseMs).toFixed(2)}× on top of parsing)`);
console.log(`  targets: strategy adds ≤ 2× on top of parsing; one year of one-minute rows < 3 s → ${fullMs - parseMs <= 2 * parseMs && fullMs < 3000 ? 'met' : 'NOT met'}`);

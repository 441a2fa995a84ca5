/**
 * The backtest as a user runs it (issue #12): the whole process, start-up
 * included, `node dist/backtest.mjs --prices FILE --json`, beside the same
 * process told to only read and parse the file (`--parse-only`: same start-up,
 * same reader), medians of interleaved runs in this run, as a ratio. Two
 * files: 30 days of 5-minute rows (a usual backtest) and a year of 1-minute
 * rows (the stress case, where the production cycle per row dominates).
 * Rebuilds dist/ first so it measures the current code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CSV_HEADER, formatPriceRow, generatePriceRows } from '../src/backtest/generate.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET = 2;
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'backtest.mjs');
execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const dir = mkdtempSync(join(tmpdir(), 'pstr-bench-process-'));

function priceFile(name: string, days: number, intervalMs: number): string {
  const lines = [CSV_HEADER];
  generatePriceRows({ days, intervalMs, seed: 42, crashes: [{ day: Math.floor(days / 2), depth: 0.35, recoveryDays: Math.min(5, days / 6) }] }, (row) => {
    lines.push(formatPriceRow(row));
  });
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function timeRun(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

function measure(label: string, file: string, runs: number): void {
  const full = [cli, '--prices', file, '--json', '--no-progress'];
  const parse = [cli, '--prices', file, '--parse-only'];
  timeRun(parse);
  timeRun(full);
  const p: number[] = [];
  const b: number[] = [];
  // Interleaved so machine noise hits both alike.
  for (let i = 0; i < runs; i++) {
    p.push(timeRun(parse));
    b.push(timeRun(full));
  }
  const ratio = median(b) / median(p);
  console.log(`  ${label}: backtest ${median(b).toFixed(0)} ms · read + parse ${median(p).toFixed(0)} ms · ratio ${ratio.toFixed(2)}× (target ≤ ${TARGET}×: ${ratio <= TARGET ? 'met' : 'NOT met'})`);
}

try {
  console.log(`backtest process (median of ${RUNS}, start-up included, Node ${process.version}):`);
  measure('30 days of 5-minute rows (8,640)', priceFile('p-30d-5m.csv', 30, 300_000), RUNS);
  measure('one year of 1-minute rows (525,600)', priceFile('p-1y-1m.csv', 365, 60_000), Math.max(1, Math.ceil(RUNS / 2)));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

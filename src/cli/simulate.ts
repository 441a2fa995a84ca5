/**
 * npm run simulate -- --prices FILE [--config FILE] [--json] [--report FILE.html]
 *
 * Runs the real worker, workflows and activities over a price file on the
 * Temporal time-skipping test server (src/simulate/run.ts) and prints the
 * same document as `npm run backtest`. Options, errors and output follow the
 * backtest's: a bad row stops the run with its line and column before
 * anything starts, and nothing is written; `--json` puts the document alone
 * on stdout. Progress, notes and every worker log go to stderr.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, defaultConfig, loadConfigFile } from '../config.ts';
import { CsvError, parsePriceCsv } from '../backtest/csv.ts';
import { formatSummary } from '../backtest/summary.ts';
import type { PriceRow } from '../backtest/types.ts';
import { rowInterval } from '../simulate/cadence.ts';
import type { Simulation, SimulationProgress } from '../simulate/run.ts';

interface Options {
  prices: string;
  config?: string;
  json?: boolean;
  report?: string;
  progress: boolean;
}

const program = new Command()
  .name('simulate')
  .description('Run the real workflows and activities over a price CSV on the Temporal time-skipping test server; prints the backtest\'s document.')
  .requiredOption('--prices <file>', 'price CSV, one row per monitoring cycle, evenly spaced')
  .option('--config <file>', 'JSON config, merged over the defaults')
  .option('--json', 'print one JSON document on stdout and nothing else there')
  .option('--report <file.html>', 'write a self-contained HTML report with charts')
  .option('--no-progress', 'no progress on stderr')
  .showHelpAfterError('(run simulate --help for usage)');

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function readRows(path: string): PriceRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CsvError(path, 0, null, null, `cannot be read (${(err as Error).message})`);
  }
  const rows = parsePriceCsv(text, path);
  rowInterval(rows, path);
  return rows;
}

/** One line on stderr as the file is simulated: redrawn on a terminal, else one per simulated day. */
function progressPrinter(): (p: SimulationProgress) => void {
  const tty = process.stderr.isTTY;
  const started = performance.now();
  let lastDay = '';
  let done = false;
  return (p) => {
    const day = new Date(p.fileTime).toISOString().slice(0, 10);
    if (done || (!tty && day === lastDay && p.share < 1)) return;
    lastDay = day;
    done = p.share >= 1;
    const line = `simulating: ${new Date(p.fileTime).toISOString().slice(0, 16)}Z of the file, ${(p.share * 100).toFixed(0)} %, ${((performance.now() - started) / 1000).toFixed(1)} s`;
    process.stderr.write(tty ? `\r${line}${p.share >= 1 ? '\n' : ''}` : `${line}\n`);
  };
}

function writeReport(path: string, html: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

function timingLine(s: Simulation['stats']): string {
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return `simulated ${s.cycles.toLocaleString('en-US')} cycles: ${sec(s.setupMs + s.runMs + s.collectMs)} (start-up ${sec(s.setupMs)}, run ${sec(s.runMs)}, ` +
    `read back ${sec(s.collectMs)}; cycles started at most ${sec(s.maxCycleLagMs)} after their row)`;
}

async function main(): Promise<void> {
  const opts = program.parse().opts<Options>();
  const config = opts.config ? loadConfigFile(opts.config) : defaultConfig();
  const rows = readRows(opts.prices);
  // Loaded after the file is known good: a bad file answers in milliseconds, without the Temporal SDK.
  const { simulate } = await import('../simulate/run.ts');
  const sim = await simulate({ rows, file: opts.prices, config, ...(opts.progress ? { onProgress: progressPrinter() } : {}) });
  for (const note of sim.notes) process.stderr.write(`note: ${note}\n`);
  if (opts.progress) process.stderr.write(`${timingLine(sim.stats)}\n`);
  if (opts.report) {
    const { renderReport } = await import('../backtest/report.ts');
    writeReport(opts.report, renderReport(sim.result, { title: `Simulation of ${opts.prices}`, config, generatedAt: new Date().toISOString() }));
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(sim.result.summary, null, 2)}\n`);
  else {
    process.stdout.write(`${formatSummary(sim.result).replace(/^Backtest/, 'Simulation (real workflows on the Temporal test server)')}\n`);
    if (opts.report) process.stdout.write(`\nReport written to ${opts.report}\n`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) fail(err.message, 2);
  if (err instanceof CsvError) fail(`Bad price file: ${err.message} Nothing was written.`, 1);
  fail(`simulate failed: ${(err as Error).stack ?? String(err)}`, 1);
});

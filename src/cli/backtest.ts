/**
 * npm run backtest -- --prices FILE [--config FILE] [--json] [--report FILE.html]
 *
 * Replays a price file through the live strategy's domain rules. Nothing is
 * written until the whole file has been read and run: a bad row stops the
 * run with its line number and leaves no report and no JSON behind.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ConfigError, defaultConfig, loadConfigFile } from '../config.ts';
import { Backtest } from '../backtest/engine.ts';
import { CsvError, parsePriceCsv } from '../backtest/csv.ts';
import { formatSummary } from '../backtest/summary.ts';
import { progressBar } from './progress.ts';

interface Options {
  prices: string;
  parseOnly?: boolean;
  config?: string;
  json?: boolean;
  report?: string;
  progress: boolean;
}

const program = new Command()
  .name('backtest')
  .description('Run the treasury strategy over a price CSV (timestamp,pstr_price,pstr_volume,pump_price[,sol_price]).')
  .requiredOption('--prices <file>', 'price CSV, one row per monitoring cycle')
  .option('--config <file>', 'JSON config, merged over the defaults')
  .option('--json', 'print one JSON document on stdout and nothing else there')
  .option('--report <file.html>', 'write a self-contained HTML report with charts')
  .option('--no-progress', 'no progress bar on stderr')
  // The benchmark's baseline: the same process only reads and parses the file (npm run bench).
  .addOption(new Option('--parse-only', 'read and parse the file, print its row count, run nothing').hideHelp())
  .showHelpAfterError('(run backtest --help for usage)');

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const opts = program.parse().opts<Options>();
  const config = opts.config ? loadConfigFile(opts.config) : defaultConfig();
  let text: string;
  try {
    text = readFileSync(opts.prices, 'utf8');
  } catch (err) {
    throw new CsvError(opts.prices, 0, null, null, `cannot be read (${(err as Error).message})`);
  }
  if (opts.parseOnly) {
    let rows = 0;
    parsePriceCsv(text, opts.prices, () => void rows++);
    process.stdout.write(`${rows}\n`);
    return;
  }
  const bt = new Backtest(config);
  const bar = opts.progress ? progressBar(text, process.stderr) : null;
  parsePriceCsv(text, opts.prices, (row) => {
    bt.step(row);
    bar?.tick();
  });
  bar?.done();
  const result = bt.finish();
  if (opts.report) {
    const { renderReport } = await import('../backtest/report.ts');
    const html = renderReport(result, { title: `Backtest of ${opts.prices}`, config, generatedAt: new Date().toISOString() });
    const tmp = `${opts.report}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, html);
      renameSync(tmp, opts.report);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(result.summary, null, 2)}\n`);
  else {
    process.stdout.write(`${formatSummary(result)}\n`);
    if (opts.report) process.stdout.write(`\nReport written to ${opts.report}\n`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) fail(err.message, 2);
  if (err instanceof CsvError) fail(`Bad price file: ${err.message} Nothing was written.`, 1);
  fail(`backtest failed: ${(err as Error).stack ?? String(err)}`, 1);
});

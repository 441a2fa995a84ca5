/**
 * `simulate` end to end: the real worker, workflows and activities on the Java
 * time-skipping test server, over a generated price file, against the
 * backtest's document for the same file. No mocks: the store is a real SQLite
 * file, the approvals are signed and verified, the swaps go through the paper
 * ledger.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvError } from '../../src/backtest/csv.ts';
import { runBacktest } from '../../src/backtest/engine.ts';
import { generatePriceRows, INTERVALS } from '../../src/backtest/generate.ts';
import { renderReport } from '../../src/backtest/report.ts';
import type { BacktestSummary, PriceRow } from '../../src/backtest/types.ts';
import { parseConfig } from '../../src/config.ts';
import { simulate } from '../../src/simulate/run.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pstr-simulate-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 9 days of hourly rows from 2025-01-01, PSTR falling 30 % from day 7.5 (after the 7-day warm-up), back within a day. */
function crashFile(): PriceRow[] {
  const rows: PriceRow[] = [];
  generatePriceRows({ days: 9, intervalMs: INTERVALS['1h'] as number, seed: 7, crashes: [{ day: 7.5, depth: 0.3, recoveryDays: 1 }] }, (r) => rows.push(r));
  return rows;
}

// 40M PUMP (≈ 200k USD): tier 1 deploys ≈ 18.5k USD, above the 10k timelock threshold, so an operator must approve.
// Liquidity off: the backtest's positions earn modelled fees the paper ledger does not, and the figures would differ by them.
const config = parseConfig({ treasury: { initial: { pump: '40000000', usdc: '700000' } }, liquidity: { enabled: false } });

/** Every key path of a JSON document, values left out (arrays by their first element). */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.length > 0 ? keyPaths(value[0], `${prefix}[]`) : [`${prefix}[]`];
  if (value === null || typeof value !== 'object') return [prefix];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...keyPaths(v, `${prefix}.${k}`)]).sort();
}

describe('npm run simulate', () => {
  it('runs a crash after the warm-up through the real workflows into the backtest\'s document: the executed intervention with its tier and file times, and every hourly buy', async () => {
    const rows = crashFile();
    const sim = await simulate({ rows, file: 'crash.csv', config });
    const backtest = runBacktest(rows, config).summary;
    const s: BacktestSummary = sim.result.summary;

    expect(keyPaths(JSON.parse(JSON.stringify(s)))).toEqual(keyPaths(JSON.parse(JSON.stringify(backtest))));
    expect(s.samples).toBe(rows.length);
    expect(sim.notes).toEqual([]);

    // One intervention: decided at the first row past the trigger, approved by the scripted operator, swapped when the 60-minute timelock ended.
    expect(s.interventions).toHaveLength(1);
    const [iv] = s.interventions;
    expect(iv).toMatchObject({ status: 'executed', tier: 1, fraction: 0.1, decidedAt: '2025-01-09T02:00:00.000Z', executedAt: '2025-01-09T03:00:00.000Z' });
    expect([iv?.decidedAt, iv?.executedAt, iv?.tier, iv?.status]).toEqual([backtest.interventions[0]?.decidedAt, backtest.interventions[0]?.executedAt, backtest.interventions[0]?.tier, backtest.interventions[0]?.status]);
    // The paper ledger rounds each hourly buy's USDC to the cent's millionth before pricing it: a few PUMP base units per buy apart.
    expect(Math.abs(Number(iv?.pumpSpent) - Number(backtest.interventions[0]?.pumpSpent))).toBeLessThan(0.01);
    expect(Object.keys(iv?.roi ?? {})).toEqual(['1h', '24h', '168h']);
    expect(iv?.roi['24h']).toBeNull();

    // A buy at every whole hour of the file, as the hourly Schedule would have made them.
    expect(s.accumulation.buys).toBe(9 * 24);
    expect(s.accumulation.buys).toBe(backtest.accumulation.buys);
    expect(s.accumulation.usdSpent).toBeCloseTo(backtest.accumulation.usdSpent, 4);
    expect(s.emergencyStops).toEqual([]);

    const html = renderReport(sim.result, { title: 'Simulation of crash.csv', config, generatedAt: '2025-01-10T00:00:00.000Z' });
    expect(html).toContain('Simulation of crash.csv');
  }, 180_000);

  it('keeps skipping time when an intervention outlives the monitor run that started it, so its last ROI horizon is measured', async () => {
    // Monitor runs of 20 cycles: the intervention (decided on day 9, 02:00) ends 10 h after its swap, long after its
    // starting run continued as new. The Java test server then leaks a clock lock, which the simulation releases.
    const tracked = parseConfig({ ...config, intervention: { ...config.intervention, trackHorizonsHours: [1, 10] } });
    const sim = await simulate({ rows: crashFile(), file: 'crash.csv', config: tracked, cyclesPerRun: 20 });
    const [iv] = sim.result.summary.interventions;
    expect(iv?.status).toBe('executed');
    expect(iv?.roi['10h']).toEqual(expect.any(Number));
    expect(sim.stats.clockLocksReleased).toBe(1);
    expect(sim.result.summary.samples).toBe(9 * 24);
  }, 180_000);

  it('refuses a file whose rows are not evenly spaced, naming the line and the timestamp column, before any server starts', async () => {
    const rows = crashFile().slice(0, 5);
    const uneven = rows.filter((_, i) => i !== 3);
    const run = simulate({ rows: uneven, file: 'gappy.csv', config });
    await expect(run).rejects.toBeInstanceOf(CsvError);
    await expect(run).rejects.toThrow(/gappy\.csv line 6, column timestamp: "2025-01-01T04:00:00\.000Z" is 7200 s after the previous row, but the file's rows are 3600 s apart/);
  });

  it('stops on a bad row with its line and column, writes no report and prints nothing on stdout', () => {
    const file = join(dir, 'bad.csv');
    const report = join(dir, 'bad.html');
    writeFileSync(file, 'timestamp,pstr_price,pstr_volume,pump_price\n2025-01-01T00:00:00Z,0.0002,1000,0.005\n2025-01-01T01:00:00Z,abc,1000,0.005\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/simulate.ts'), '--prices', file, '--json', '--report', report], { cwd: repo, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Bad price file: ${file} line 3, column pstr_price: "abc" is not a number.`);
    expect(r.stderr).toContain('Nothing was written.');
    expect(existsSync(report)).toBe(false);
  }, 30_000);
});

/** The backtest and gen-prices commands as an operator runs them: real processes, real files. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let prices: string;

function run(script: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, script), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pstr-cli-'));
  prices = join(dir, 'prices.csv');
  const gen = run('src/cli/gen-prices.ts', ['--days', '60', '--interval', '15m', '--seed', '11', '--crash', '40:0.35', '--out', prices]);
  expect(gen.code, gen.stderr).toBe(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run backtest', () => {
  it('prints exactly one JSON document on stdout with --json', () => {
    const r = run('src/cli/backtest.ts', ['--prices', prices, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['samples', 'interventions', 'emergencyStops', 'accumulation', 'metrics']);
    expect(doc.samples).toBe(60 * 96);
    const interventions = doc.interventions as Record<string, unknown>[];
    expect(interventions.length).toBeGreaterThan(0);
    for (const i of interventions) {
      expect(Number.isNaN(Date.parse(String(i.decidedAt)))).toBe(false);
      expect(i.status).toMatch(/^(executed|invalidated|expired|rejected|aborted)$/);
      expect(i.pumpSpent).toMatch(/^\d+(\.\d+)?$/);
      expect(i.pstrBought).toMatch(/^\d+(\.\d+)?$/);
    }
    expect(Object.keys(doc.metrics as object)).toEqual(['interventionCount', 'successRate', 'sharpe', 'maxDrawdown', 'finalReserveRatio', 'finalHealth']);
  });

  it('prints a human summary and writes the HTML report atomically', () => {
    const report = join(dir, 'out.html');
    const r = run('src/cli/backtest.ts', ['--prices', prices, '--report', report]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Interventions\n\s+count\s+\d+/);
    expect(r.stdout).toMatch(/reserve ratio/);
    const html = readFileSync(report, 'utf8');
    expect(html).toMatch(/<html/i);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(existsSync(`${report}.tmp`)).toBe(false);
  });

  it('stops at a malformed row with its line number, exits non-zero and writes nothing', () => {
    const bad = join(dir, 'bad.csv');
    const lines = readFileSync(prices, 'utf8').split('\n');
    lines[2000] = lines[2000]!.replace(/,[^,]+,/, ',abc,');
    writeFileSync(bad, lines.join('\n'));
    const report = join(dir, 'bad.html');
    const r = run('src/cli/backtest.ts', ['--prices', bad, '--json', '--report', report]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 2001, column pstr_price: "abc" is not a number/);
    expect(r.stderr).toMatch(/Nothing was written/);
    expect(r.stdout).toBe('');
    expect(existsSync(report)).toBe(false);
  });

  it('refuses an invalid config naming every bad key, and starts nothing', () => {
    const cfg = join(dir, 'bad-config.json');
    writeFileSync(cfg, JSON.stringify({ strategy: { triggerThreshold: 1.5, cooldownHour: 48 }, risk: { maxSlippage: -1 } }));
    const report = join(dir, 'cfg.html');
    const r = run('src/cli/backtest.ts', ['--prices', prices, '--config', cfg, '--report', report]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/strategy\.triggerThreshold = 1\.5/);
    expect(r.stderr).toMatch(/strategy: unknown key\(s\) "cooldownHour"/);
    expect(r.stderr).toMatch(/risk\.maxSlippage = -1/);
    expect(r.stdout).toBe('');
    expect(existsSync(report)).toBe(false);
  });

  it('applies a valid partial config over the defaults', () => {
    const cfg = join(dir, 'strict.json');
    // A trigger no drawdown reaches: 99 % below the VWAP.
    writeFileSync(cfg, JSON.stringify({ strategy: { triggerThreshold: 0.01, tiers: [{ drawdown: 0.99, fraction: 0.1 }] } }));
    const r = run('src/cli/backtest.ts', ['--prices', prices, '--config', cfg, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { interventions: unknown[] }).interventions).toEqual([]);
  });
});

describe('npm run gen-prices', () => {
  it('writes the same bytes for the same seed', () => {
    const again = join(dir, 'again.csv');
    const r = run('src/cli/gen-prices.ts', ['--days', '60', '--interval', '15m', '--seed', '11', '--crash', '40:0.35', '--out', again]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(prices, 'utf8'));
  });

  it('refuses a bad option naming the flag and value', () => {
    const r = run('src/cli/gen-prices.ts', ['--days', 'ten', '--interval', '1m', '--seed', '1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--days "ten"/);
  });
});

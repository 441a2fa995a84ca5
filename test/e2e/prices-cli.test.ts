/**
 * `client.ts prices --json --config <file>` as its own process, the way an
 * operator runs it, against local servers only: Pyth's Hermes on the fixture
 * server (the recorded payload re-stamped fresh, its unlabelled feed playing
 * PSTR at $0.01), Solana JSON-RPC on the same server answering 429 to the
 * real Switchboard SDK, and the recorded Jupiter quote for the DEX probe.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsensusResult, OracleReading } from '../../src/domain/consensus.ts';
import type { OracleFailureInit } from '../../src/oracles/resilience.ts';
import { FixtureServer, loadFixture } from '../oracles/fixture-server.ts';
import { repoRoot } from './fixtures/e2e.ts';
import { FEEDS, LATEST_PATH, PythFixture, SWITCHBOARD_FEED } from './fixtures/live-oracles.ts';

const PSTR_MINT = 'So11111111111111111111111111111111111111112';
const USDC_MINT = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const RPC_429 = '{"jsonrpc":"2.0","error":{"code":429,"message":"Too many requests for a specific RPC call"},"id":1}';

interface Report {
  at: number;
  readings: OracleReading[];
  failures: OracleFailureInit[];
  consensus: ConsensusResult;
}

let server: FixtureServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pstr-prices-cli-'));
  server = await FixtureServer.start();
  new PythFixture(server, { pstr: 0.01, pump: 0.005 });
  server.on('POST', '/', { status: 429, body: RPC_429 });
  // The recorded quote through its recorded pool, its amounts set to 100 USDC → 10,000 PSTR ($0.01).
  const quote = loadFixture('jupiter-swap-v1-quote-sol-usdc.docs.json').body as Record<string, unknown>;
  server.on('GET', '/swap/v1/quote', { json: { ...quote, inAmount: '100000000', outAmount: '10000000000' } });
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The recorded quote's pool (its routePlan[0].swapInfo.ammKey). */
const RECORDED_POOL = '5BKxfWMbmYBAEWvyPZS9esPducUba9GqyMjtLCfbaqyF';

function prices(name: string, config: unknown): Promise<{ code: number; stdout: string; stderr: string }> {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(config));
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'client.ts', 'prices', '--json', '--config', path], { cwd: repoRoot, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('client.ts prices against local oracle servers', () => {
  it('shows the fresh Pyth reading, Switchboard rate limited and the DEX TWAP not warm yet, and exits 1 without consensus', async () => {
    const before = Date.now();
    const r = await prices('all-three', {
      oracle: { pyth: { endpoint: server.url, feeds: FEEDS }, switchboard: { pstrFeed: SWITCHBOARD_FEED }, dex: { pool: RECORDED_POOL } },
      solana: { rpcUrl: server.url, jupiter: { api: 'v1', baseUrl: `${server.url}/swap/v1` } },
      tokens: { pstr: { mint: PSTR_MINT }, usdc: { mint: USDC_MINT } },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;

    // 1,000,000 × 10^-8; the recorded relative confidence 6174 / 4689500 of it, rounded: 1317 × 10^-8.
    expect(report.readings).toHaveLength(1);
    expect(report.readings[0]).toMatchObject({ source: 'pyth', price: 0.01, confidence: 0.00001317 });
    expect(report.at - (report.readings[0]?.publishTime ?? 0)).toBeLessThan(5_000);
    expect(server.requestsTo(LATEST_PATH).filter((q) => q.at >= before).map((q) => q.query.getAll('ids[]'))).toContainEqual([FEEDS.pstr]);

    const bySource = new Map(report.failures.map((f) => [f.source, f]));
    expect([...bySource.keys()].sort()).toEqual(['dex-twap', 'switchboard']);
    expect(bySource.get('switchboard')).toMatchObject({ kind: 'rate-limited', status: 429 });
    expect(bySource.get('switchboard')?.detail).toContain(`feed ${SWITCHBOARD_FEED}: `);
    expect(bySource.get('switchboard')?.detail).toContain('429 Too Many Requests');
    expect(bySource.get('dex-twap')).toMatchObject({ kind: 'unavailable' });
    expect(bySource.get('dex-twap')?.detail).toMatch(/^TWAP insufficient coverage: .*\(1 sample\(s\) kept\)$/);

    expect(report.consensus.ok).toBe(false);
    expect(report.consensus.ok ? null : report.consensus.reason).toBe('no valid price: 1 source(s) agreed, 2 needed (1 reading(s) received)');
  }, 40_000);

  it('names the unconfigured sources and exits 0 when the Pyth reading alone is enough for the configured consensus', async () => {
    const r = await prices('pyth-only', { oracle: { minAgreeingSources: 1, pyth: { endpoint: server.url, feeds: FEEDS } } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.readings.map((x) => x.source)).toEqual(['pyth']);
    expect(report.failures).toEqual([
      { source: 'switchboard', kind: 'unavailable', detail: 'not configured: set oracle.switchboard.pstrFeed' },
      { source: 'dex-twap', kind: 'unavailable', detail: 'not configured: set oracle.dex.pool, tokens.pstr.mint, tokens.usdc.mint' },
    ]);
    expect(report.consensus.ok).toBe(true);
    // (1 − 0.3)·0.01 + 0.3·0.01, in floating point.
    expect(report.consensus.ok ? report.consensus.price : null).toBeCloseTo(0.01, 15);
  }, 40_000);
});

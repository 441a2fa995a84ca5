import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfigFile, mergeConfig, parseConfig } from './config.ts';

const problemsOf = (input: unknown): readonly string[] => {
  try {
    parseConfig(input, 'test.json');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('defaults every number to SPEC.md and starts in paper mode', () => {
    const c = defaultConfig();
    expect(c.mode).toBe('paper');
    expect(c.strategy).toMatchObject({ totalCapital: 1_000_000, accumulationPeriodDays: 365, treasuryAllocation: 0.9, liquidityAllocation: 0.1, triggerThreshold: 0.85, cooldownHours: 48, minVwapHistoryDays: 7 });
    expect(c.risk).toMatchObject({ minReserveRatio: 3, maxPumpConcentration: 0.8, maxDailyInterventions: 1, maxDeployment: 0.4, minRrThreshold: 1.5, reductionBelowRr: 2, maxSlippage: 0.02 });
    expect(c.oracle).toMatchObject({ maxPriceDeviation: 0.05, confidenceWeight: 0.3, maxStalenessSeconds: 60, minAgreeingSources: 2 });
    expect(c.intervention).toMatchObject({ timelockThresholdUsd: 10_000, timelockMinutes: 60, approvalsRequired: 1, approvalTimeoutHours: 24, sliceWindowMinutes: 60 });
    expect(c.monitor.cycleIntervalSeconds).toBe(300);
    expect(c.liquidity.pools.map((p) => [p.name, p.share])).toEqual([['SOL/PSTR', 0.6], ['USDC/PSTR', 0.4]]);
    expect(c.governance.thresholds.emergencyAction).toEqual({ quorum: 0.25, approval: 0.75 });
    expect(c.strategy.tiers).toEqual([{ drawdown: 0.3, fraction: 0.4 }, { drawdown: 0.2, fraction: 0.25 }, { drawdown: 0.15, fraction: 0.1 }]);
  });

  it('deep-merges a partial file over the defaults', () => {
    const c = parseConfig({ strategy: { cooldownHours: 12 }, intervention: { operators: ['alice'] } });
    expect(c.strategy.cooldownHours).toBe(12);
    expect(c.strategy.triggerThreshold).toBe(0.85);
    expect(c.intervention.operators).toEqual(['alice']);
    expect(c.intervention.timelockMinutes).toBe(60);
  });

  it('names every offending key with its value and what was expected', () => {
    const problems = problemsOf({ mode: 'live', strategy: { triggerThreshold: 2, cooldwnHours: 1 }, treasury: { initial: { pump: 12 } } });
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^mode = "live": .*paper.*devnet.*mainnet/),
      expect.stringMatching(/^strategy\.triggerThreshold = 2: .*<1/),
      'strategy: unknown key(s) "cooldwnHours"',
      expect.stringMatching(/^treasury\.initial\.pump = 12: .*string/),
    ]));
    expect(problems).toHaveLength(4);
  });

  it('checks rules that span keys', () => {
    expect(problemsOf({ strategy: { treasuryAllocation: 0.95, liquidityAllocation: 0.1 } })).toEqual([
      expect.stringMatching(/strategy\.liquidityAllocation = 0\.1: treasuryAllocation \+ liquidityAllocation must not exceed 1/),
    ]);
    expect(problemsOf({ risk: { minReserveRatio: 1.2 } })[0]).toMatch(/risk\.minReserveRatio = 1\.2: must be greater than risk\.minRrThreshold/);
    expect(problemsOf({ mode: 'mainnet' })).toEqual([
      'solana.rpcUrl = missing: required in mode mainnet',
      'tokens.pstr.mint = missing: required in mode mainnet',
      'tokens.pump.mint = missing: required in mode mainnet',
      'tokens.usdc.mint = missing: required in mode mainnet',
      'solana.keypairPath = missing: mode mainnet needs a keypair (solana.keypairPath) or a multisig (solana.multisig)',
      expect.stringMatching(/^oracle\.pyth\.apiKey = missing: required in mode mainnet: Hermes at https:\/\/hermes\.pyth\.network answers 401/),
      expect.stringMatching(/^solana\.jupiter\.apiKey = missing: required in mode mainnet: https:\/\/api\.jup\.ag\/swap\/v2 needs an x-api-key/),
      expect.stringMatching(/^intervention\.operators = \[\]: mode mainnet needs at least approvalsRequired/),
    ]);
  });

  it('re-validates a merged update, so a bad patch changes nothing', () => {
    const base = defaultConfig();
    expect(mergeConfig(base, { risk: { maxSlippage: 0.01 } }).risk.maxSlippage).toBe(0.01);
    expect(() => mergeConfig(base, { risk: { maxSlippage: 'lots' } })).toThrow(/risk\.maxSlippage = "lots"/);
    expect(base.risk.maxSlippage).toBe(0.02);
  });

  it('reports an unreadable or non-JSON file by its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pstr-config-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "mode": ');
    expect(() => loadConfigFile(bad)).toThrow(/Invalid configuration in .*bad\.json.*not valid JSON/s);
    expect(() => loadConfigFile(join(dir, 'missing.json'))).toThrow(/cannot read the file/);
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ treasuryId: 'demo' }));
    expect(loadConfigFile(join(dir, 'ok.json')).treasuryId).toBe('demo');
  });
});

import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configSchema, defaultConfig, parseConfig, type Config, type ProposalKind } from '../config-schema.ts';
import { KEY_RULES, decideConfigPatch, proposalChangeVerdict, ruleOf, type Origin } from './config-policy.ts';

/** Every leaf path of the schema, optional keys included (they are absent from the defaults). */
function schemaLeaves(schema: z.ZodType, path: string[] = []): string[][] {
  let def = (schema as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: Record<string, z.ZodType> } } })._zod.def;
  while (['default', 'prefault', 'optional', 'nullable', 'readonly', 'pipe'].includes(def.type)) {
    const inner = def.innerType ?? def.in;
    if (!inner) break;
    def = (inner as unknown as { _zod: { def: typeof def } })._zod.def;
  }
  if (def.type !== 'object' || !def.shape) return [path];
  return Object.entries(def.shape).flatMap(([k, v]) => schemaLeaves(v, [...path, k]));
}

function defaultLeaves(v: unknown, path: string[] = []): string[][] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [path];
  return Object.entries(v).flatMap(([k, x]) => defaultLeaves(x, [...path, k]));
}

const operator: Origin = { kind: 'operator' };
const gov = (proposalKind: ProposalKind): Origin => ({ kind: 'governance', proposalKind });
const KINDS: ProposalKind[] = ['parameterAdjustment', 'treasuryStrategy', 'protocolUpgrade', 'emergencyAction'];

/** A running live-like config: two operators, so changes to the operator list can be told apart. */
const running: Config = parseConfig({ intervention: { operators: ['alice', 'bob'] } });

describe('the key classes', () => {
  it('classify every key of the schema, optional ones too, and every leaf of the default config', () => {
    const unclassified = [...schemaLeaves(configSchema), ...defaultLeaves(defaultConfig())].filter((p) => ruleOf(p) === null).map((p) => p.join('.'));
    expect(unclassified).toEqual([]);
  });

  it('give a tightening key its direction and a governed or tightening key the one proposal kind that may loosen it; subtrees carry no direction', () => {
    for (const [key, rule] of Object.entries(KEY_RULES)) {
      if (rule.class === 'tightening') expect(rule.stricter, key).toBeDefined();
      if (rule.class === 'tightening' || rule.class === 'governed') expect(rule.by, key).toBeDefined();
      if (key.endsWith('.*')) expect(rule.class, key).not.toBe('tightening');
    }
  });
});

describe('an operator\'s updateConfig', () => {
  it('changes operational keys directly: the cycle interval, alert dedupe, log level, oracle timeouts', () => {
    const d = decideConfigPatch(running, { monitor: { cycleIntervalSeconds: 60 }, alerts: { dedupeWindowSeconds: 30 }, ops: { logLevel: 'debug' }, oracle: { timeoutMs: 5_000, retries: 3 } }, operator);
    expect(d.ok).toBe(true);
    if (d.ok) {
      expect(d.config.monitor.cycleIntervalSeconds).toBe(60);
      expect(d.changes.map((c) => c.key).sort()).toEqual(['alerts', 'monitor.cycleIntervalSeconds', 'ops', 'oracle.retries', 'oracle.timeoutMs']);
    }
  });

  it('tightens a limit: slippage and deployment down, cooldown and reserve floor up, fewer daily interventions, a lower timelock threshold', () => {
    const d = decideConfigPatch(running, {
      risk: { maxSlippage: 0.01, maxDeployment: 0.3, maxDailyInterventions: 0, minReserveRatio: 3.5 },
      strategy: { cooldownHours: 72, tiers: running.strategy.tiers },
      intervention: { timelockThresholdUsd: 5_000, approvalsRequired: 2 },
      liquidity: { enabled: false },
    }, operator);
    expect(d.ok, d.why).toBe(true);
    if (d.ok) expect(d.changes.every((c) => c.class === 'tightening' && c.stricter === true)).toBe(true);
  });

  it.each([
    [{ risk: { maxDeployment: 0.5 } }, /risk\.maxDeployment \(tightening\) 0\.4 → 0\.5: looser; an operator may only make it stricter \(lower\); loosening it takes a passed Parameter Adjustment proposal/],
    [{ strategy: { cooldownHours: 1 } }, /strategy\.cooldownHours \(tightening\) 48 → 1: looser; .*stricter \(higher\)/],
    [{ risk: { maxSlippage: 0.05 } }, /risk\.maxSlippage \(tightening\) 0\.02 → 0\.05: looser/],
    [{ intervention: { timelockMinutes: 0 } }, /intervention\.timelockMinutes \(tightening\) 60 → 0: looser; .*Protocol Upgrade/],
    [{ intervention: { operators: ['alice', 'bob', 'mallory'] } }, /intervention\.operators \(governed\) \["alice","bob"\] → \["alice","bob","mallory"\]: governed; only a passed Protocol Upgrade proposal may change it, not an operator/],
    [{ strategy: { tiers: [{ drawdown: 0.15, fraction: 0.4 }] } }, /strategy\.tiers \(governed\) .*only a passed Treasury Strategy proposal/],
    [{ treasuryId: 'other' }, /treasuryId \(immutable\) "pstr-main" → "other": the treasury id is the monitor's identity and never changes/],
    [{ mode: 'devnet' }, /mode|required in mode devnet/],
    [{ tokens: { pump: { decimals: 9 } } }, /tokens \(fixed\) .*read when the worker starts/],
    [{ solana: { rpcUrl: 'http://127.0.0.1:8899' } }, /solana\.rpcUrl \(fixed\) missing|solana\.rpcUrl \(fixed\)/],
  ])('refuses %j naming the key, its class, the old and the new value', (patch, why) => {
    const d = decideConfigPatch(running, patch, operator);
    expect(d.ok).toBe(false);
    expect(d.why).toMatch(why);
  });

  it('refuses the issue\'s rows: maxDeployment 1, maxSlippage 1 and cooldownHours 0 pass no hard ceiling; tiers to 1 pass the deployment ceiling', () => {
    expect(decideConfigPatch(running, { risk: { maxDeployment: 1 } }, operator).why).toMatch(/risk\.maxDeployment = 1: at most 0\.5 \(the hard ceiling\)/);
    expect(decideConfigPatch(running, { risk: { maxSlippage: 1 } }, operator).why).toMatch(/risk\.maxSlippage = 1: at most 0\.05 \(the hard ceiling\)/);
    expect(decideConfigPatch(running, { strategy: { cooldownHours: 0 } }, operator).why).toMatch(/strategy\.cooldownHours = 0: at least 1 h \(the hard floor\)/);
    expect(decideConfigPatch(running, { strategy: { tiers: [{ drawdown: 0.15, fraction: 1 }] } }, operator).why).toMatch(/strategy\.tiers\.0\.fraction = 1: at most 0\.5 \(the hard ceiling of risk\.maxDeployment\)/);
  });

  it('compares a decimal-string amount exactly: a larger PSTR supply (a lower RR) is stricter, a smaller one governed', () => {
    expect(decideConfigPatch(running, { treasury: { pstrCirculatingSupply: '2000000000.5' } }, operator).ok).toBe(true);
    expect(decideConfigPatch(running, { treasury: { pstrCirculatingSupply: '10000000000' } }, operator).ok).toBe(true);
    expect(decideConfigPatch(running, { treasury: { pstrCirculatingSupply: '999999999.99' } }, operator).why).toMatch(
      /treasury\.pstrCirculatingSupply \(tightening\) "2000000000" → "999999999\.99": looser; .*stricter \(higher\); loosening it takes a passed Treasury Strategy proposal/,
    );
    expect(decideConfigPatch(running, { treasury: { pstrCirculatingSupply: '999999999' } }, gov('treasuryStrategy')).ok).toBe(true);
  });

  it('names a fixed key or a whole subtree without its value: an API key or a webhook URL never reaches the reason', () => {
    const key = decideConfigPatch(running, { oracle: { pyth: { apiKey: 'sk-live-123' } }, solana: { rpcUrl: 'https://rpc.example/?api-key=s3cret' } }, operator);
    // Refused before the key classes judge it: a secret written inline is never accepted, and never shown.
    expect(key.ok).toBe(false);
    expect(key.why).toMatch(/oracle\.pyth\.apiKey = "<not shown>"/);
    expect(key.why).not.toMatch(/sk-live-123|s3cret/);
    const sink = decideConfigPatch(running, { alerts: { sinks: [{ type: 'slack', webhookUrl: 'https://hooks.slack.com/services/T0/B0/s3cret' }] } }, operator);
    expect(sink).toMatchObject({ ok: true, why: 'alerts (value not shown)' });
  });

  it('refuses a patch as a whole when one of its keys is refused', () => {
    const d = decideConfigPatch(running, { monitor: { cycleIntervalSeconds: 60 }, risk: { maxSlippage: 0.04 } }, operator);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.refused.map((c) => c.key)).toEqual(['risk.maxSlippage']);
  });

  it('accepts a patch that restates a value it may not change (no key changes)', () => {
    const d = decideConfigPatch(running, { treasuryId: 'pstr-main', intervention: { operators: ['alice', 'bob'] } }, operator);
    expect(d).toMatchObject({ ok: true, why: 'no key changes' });
  });
});

describe('a passed proposal\'s updateConfig', () => {
  it('loosens a risk limit only through a Parameter Adjustment', () => {
    const patch = { risk: { maxSlippage: 0.04 } };
    expect(decideConfigPatch(running, patch, gov('parameterAdjustment')).ok).toBe(true);
    expect(decideConfigPatch(running, patch, gov('treasuryStrategy')).why).toMatch(/risk\.maxSlippage \(tightening\) 0\.02 → 0\.04: looser; a Treasury Strategy proposal may only make it stricter/);
    expect(decideConfigPatch(running, patch, gov('protocolUpgrade')).ok).toBe(false);
    expect(decideConfigPatch(running, patch, gov('emergencyAction')).why).toMatch(/an Emergency Action proposal may not change the configuration \(it may pause, resume, cancelIntervention\)/);
  });

  it('changes tiers only through a Treasury Strategy, the operators only through a Protocol Upgrade', () => {
    const tiers = { strategy: { tiers: [{ drawdown: 0.25, fraction: 0.3 }] } };
    const operators = { intervention: { operators: ['alice', 'bob', 'carol'] } };
    expect(KINDS.map((k) => decideConfigPatch(running, tiers, gov(k)).ok)).toEqual([false, true, false, false]);
    expect(KINDS.map((k) => decideConfigPatch(running, operators, gov(k)).ok)).toEqual([false, false, true, false]);
  });

  it('lets every config-carrying kind change operational keys and tighten limits, and none rename the treasury or switch its mode', () => {
    const mild = { monitor: { cycleIntervalSeconds: 120 }, risk: { maxSlippage: 0.01 } };
    expect(KINDS.map((k) => decideConfigPatch(running, mild, gov(k)).ok)).toEqual([true, true, true, false]);
    for (const k of KINDS) {
      expect(decideConfigPatch(running, { treasuryId: 'renamed' }, gov(k)).ok).toBe(false);
      expect(decideConfigPatch(running, { paper: { seed: 9 } }, gov(k)).ok).toBe(false);
    }
  });

  it('changes governance thresholds only through a Protocol Upgrade', () => {
    const patch = { governance: { thresholds: { parameterAdjustment: { quorum: 0.01, approval: 0.5 } } } };
    expect(KINDS.map((k) => decideConfigPatch(running, patch, gov(k)).ok)).toEqual([false, false, true, false]);
    expect(decideConfigPatch(running, patch, gov('parameterAdjustment')).why).toMatch(/governance\.thresholds \(governed\)/);
  });
});

describe('the change a proposal is started with', () => {
  it('allows each kind only its actions: a Parameter Adjustment may neither pause nor resume (lift a stop) nor cancel', () => {
    const actions = [{ action: 'pause' }, { action: 'resume' }, { action: 'cancelIntervention' }, { action: 'updateConfig', patch: {} }];
    const table = Object.fromEntries(KINDS.map((k) => [k, actions.map((a) => proposalChangeVerdict(k, a, 'pstr-main').ok)]));
    expect(table).toEqual({
      parameterAdjustment: [false, false, false, true],
      treasuryStrategy: [false, false, false, true],
      protocolUpgrade: [false, false, false, true],
      emergencyAction: [true, true, true, false],
    });
    expect(proposalChangeVerdict('parameterAdjustment', { action: 'pause' }, 'pstr-main')).toEqual({
      ok: false, field: 'change.action', why: 'a Parameter Adjustment proposal may not pause (it may updateConfig)',
    });
  });

  it('refuses a patch renaming the treasury, naming a fixed key, or a governed key of another kind, naming the field', () => {
    expect(proposalChangeVerdict('parameterAdjustment', { action: 'updateConfig', patch: { treasuryId: 'other' } }, 'pstr-main')).toEqual({
      ok: false, field: 'change.patch.treasuryId', why: 'treasuryId never changes (pstr-main → "other")',
    });
    expect(proposalChangeVerdict('protocolUpgrade', { action: 'updateConfig', patch: { mode: 'mainnet' } }, 'pstr-main')).toMatchObject({ ok: false, field: 'change.patch.mode' });
    expect(proposalChangeVerdict('parameterAdjustment', { action: 'updateConfig', patch: { intervention: { operators: ['x'] } } }, 'pstr-main')).toEqual({
      ok: false, field: 'change.patch.intervention.operators', why: 'intervention.operators is governed by Protocol Upgrade proposals, not Parameter Adjustment',
    });
    expect(proposalChangeVerdict('treasuryStrategy', { action: 'updateConfig', patch: { strategy: { tiers: [] }, risk: { maxSlippage: 0.01 } } }, 'pstr-main').ok).toBe(true);
  });
});

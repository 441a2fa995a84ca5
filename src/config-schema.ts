/**
 * The whole configuration: one zod schema, every default from SPEC.md.
 * Pure (no I/O): workflows validate `updateConfig` with it too.
 * A config file is JSON, partial, deep-merged over these defaults; unknown
 * keys are refused (a typo must not silently fall back to a default).
 */
import { z } from 'zod';
import { alertsConfigSchema } from './alerts/config.ts';
import { opsSchema } from './ops/config.ts';
import { rpcUrlSchema, secretRef, serviceIssues } from './config-secrets.ts';
import { isPublicKey } from './domain/operator-message.ts';

const fraction = z.number().min(0).max(1);
const positive = z.number().positive();
const nonNegative = z.number().min(0);
const hours = z.number().min(0);
/** Whole tokens as a decimal string: exact, never a float. */
const tokenAmount = z.string().regex(/^\d+(\.\d+)?$/, 'a decimal string of whole tokens, e.g. "1250.5"');

/**
 * Hard ceilings (issue #10): no configuration, however it was approved, may go past them. From SPEC's defaults:
 * slippage 2 % (ceiling 5 %), deployment 40 % of the PUMP balance (ceiling 50 %), one intervention a day (ceiling
 * one an hour), a 48 h cooldown (floor 1 h). No tier deploys more than the deployment ceiling (superRefine below).
 */
export const CEILINGS = {
  maxSlippage: 0.05,
  maxDeployment: 0.5,
  maxDailyInterventions: 24,
  minCooldownHours: 1,
} as const;

const hexId = z.string().regex(/^[0-9a-f]{64}$/, '64 hex digits, no 0x');

const token = (decimals: number) =>
  z.strictObject({
    decimals: z.number().int().min(0).max(18).default(decimals),
    mint: z.string().optional(),
  }).prefault({});

const tier = z.strictObject({ drawdown: fraction, fraction });

const pool = z.strictObject({
  name: z.string().min(1),
  quote: z.enum(['SOL', 'USDC']),
  share: fraction,
});

const nonceAccount = z.strictObject({ account: z.string().min(1) });
/** The money paths that may use a durable nonce, each its own account (solana.durableNonce). */
export const NONCE_PATHS = ['intervention', 'accumulation'] as const;
const durableNonceSchema = z.strictObject({
  intervention: nonceAccount.optional(),
  accumulation: nonceAccount.optional(),
  account: z.undefined({ error: 'solana.durableNonce is per money path: { "intervention": { "account": … }, "accumulation": { "account": … } }, each a different nonce account' }).optional(),
}).superRefine((d, ctx) => {
  const a = d.intervention?.account;
  if (a !== undefined && a === d.accumulation?.account) {
    ctx.addIssue({ code: 'custom', path: ['accumulation', 'account'], message: `nonce account ${a} is already the intervention path's: each money path needs its own nonce account` });
  }
});

const thresholds = z.strictObject({ quorum: fraction, approval: fraction });

const holder = z.strictObject({
  name: z.string().min(1),
  liquid: nonNegative,
  staked: nonNegative.default(0),
});

export const configSchema = z.strictObject({
  treasuryId: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes').default('pstr-main'),
  mode: z.enum(['paper', 'devnet', 'mainnet']).default('paper'),
  tokens: z.strictObject({
    pstr: token(6),
    pump: token(6),
    usdc: token(6),
    sol: token(9),
  }).prefault({}),
  strategy: z.strictObject({
    totalCapital: positive.default(1_000_000),
    accumulationPeriodDays: positive.default(365),
    treasuryAllocation: fraction.default(0.9),
    liquidityAllocation: fraction.default(0.1),
    triggerThreshold: z.number().gt(0).lt(1).default(0.85),
    cooldownHours: z.number().min(CEILINGS.minCooldownHours, `at least ${CEILINGS.minCooldownHours} h (the hard floor)`).default(48),
    minVwapHistoryDays: nonNegative.default(7),
    vwapWindowDays: positive.default(30),
    /** Checked highest drawdown first; SPEC §4. */
    tiers: z.array(tier).min(1).default([
      { drawdown: 0.3, fraction: 0.4 },
      { drawdown: 0.2, fraction: 0.25 },
      { drawdown: 0.15, fraction: 0.1 },
    ]),
  }).prefault({}),
  risk: z.strictObject({
    minReserveRatio: positive.default(3.0),
    maxPumpConcentration: fraction.default(0.8),
    maxDailyInterventions: z.number().int().min(0).max(CEILINGS.maxDailyInterventions, `at most ${CEILINGS.maxDailyInterventions} (the hard ceiling)`).default(1),
    maxDeployment: z.number().min(0).max(CEILINGS.maxDeployment, `at most ${CEILINGS.maxDeployment} (the hard ceiling)`).default(0.4),
    minRrThreshold: positive.default(1.5),
    reductionBelowRr: positive.default(2.0),
    reductionFactor: fraction.default(0.5),
    maxSlippage: z.number().min(0).max(CEILINGS.maxSlippage, `at most ${CEILINGS.maxSlippage} (the hard ceiling)`).default(0.02),
    varLookbackDays: z.number().int().positive().default(90),
    minReturnsForVar: z.number().int().positive().default(30),
    volatilityWindowDays: z.number().int().positive().default(30),
  }).prefault({}),
  oracle: z.strictObject({
    maxPriceDeviation: fraction.default(0.05),
    confidenceWeight: fraction.default(0.3),
    maxStalenessSeconds: positive.default(60),
    minAgreeingSources: z.number().int().min(1).default(2),
    noValidPriceAlertCycles: z.number().int().min(1).default(3),
    /** Every source: one attempt's timeout, bounded retries with backoff, and a circuit breaker. */
    timeoutMs: positive.default(3_000),
    retries: z.number().int().min(0).max(5).default(2),
    retryBackoffMs: positive.default(200),
    breaker: z.strictObject({
      failures: z.number().int().min(1).default(3),
      cooldownSeconds: positive.default(60),
    }).prefault({}),
    pyth: z.strictObject({
      endpoint: z.url().default('https://hermes.pyth.network'),
      /** `{ env: NAME }`: the worker reads the key from NAME and sends it as `Authorization: Bearer`; never in the config, a history or a log. */
      apiKey: secretRef('PYTH_API_KEY').optional(),
      /** A self-hosted Hermes without keys: false. Pyth's own hosts (*.pyth.network) always need a key. */
      requiresKey: z.boolean().optional(),
      /** Hex feed ids (no 0x). No PSTR feed exists on Pyth: PSTR comes from Switchboard and the DEX. */
      feeds: z.strictObject({
        pstr: hexId.optional(),
        pump: hexId.default('7a01fca212788bba7c5bf8c9efd576a8a722f070d2c17596ff7bb609b8d5c3b9'),
        sol: hexId.default('ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d'),
        usdc: hexId.default('eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a'),
      }).prefault({}),
      /** Stream price updates over SSE so a trigger is acted on between cycles. */
      streaming: z.boolean().default(false),
    }).prefault({}),
    switchboard: z.strictObject({
      /** PullFeed account (base58) for PSTR/USD. */
      pstrFeed: z.string().optional(),
    }).prefault({}),
    dex: z.strictObject({
      /**
       * How the pool is read: 'jupiter-probe' samples its price each cycle through a Jupiter quote (samples kept in memory);
       * 'raydium-clmm' reads a Raydium CLMM pool's accounts over solana.rpcUrl (on-chain TWAP, and the traded volume).
       */
      kind: z.enum(['jupiter-probe', 'raydium-clmm']).default('jupiter-probe'),
      /** The PSTR pool (base58) whose price is sampled every cycle. */
      pool: z.string().optional(),
      twapWindowSeconds: positive.default(1800),
      /** Share of the window the samples must cover, and the largest gap between two samples. */
      minCoverage: fraction.default(0.6),
      maxGapSeconds: positive.default(900),
    }).prefault({}),
  }).prefault({}),
  /** Live modes only: where and how to trade on Solana. */
  solana: z.strictObject({
    /** A plain URL without credentials, or `{ env: NAME }` for one that carries its key (refused inline). */
    rpcUrl: rpcUrlSchema.optional(),
    commitment: z.enum(['processed', 'confirmed', 'finalized']).default('confirmed'),
    /** Path to a keypair file (permissions 600 or stricter). Its contents are never logged. */
    keypairPath: z.string().optional(),
    /** Propose-only: the agent creates Squads v4 proposals and waits for the multisig to execute them. */
    multisig: z.strictObject({
      address: z.string(),
      vaultIndex: z.number().int().min(0).default(0),
      /** When an intervention gives up on its proposal, the agent's key votes against it (reject / cancel) if it has the Vote permission. */
      voteOnAbandon: z.boolean().default(true),
    }).optional(),
    priorityFee: z.strictObject({
      percentile: z.number().min(0).max(100).default(75),
      maxMicroLamports: z.number().int().min(0).default(200_000),
    }).prefault({}),
    /** Durable-nonce transactions, one nonce account per money path (a path never waits on, or consumes, another's nonce). */
    durableNonce: durableNonceSchema.optional(),
    /** Gone: accumulation buys are journaled in the store every worker shares (money_journal), not in per-worker files. */
    journalDir: z.undefined({ error: 'solana.journalDir is no longer used: accumulation buys are journaled in the store every worker shares (table money_journal); remove the key' }).optional(),
    jupiter: z.strictObject({
      /**
       * 'v2': Swap API V2 (`/build`), the current one; 'v1': Metis v1 (`/quote` + `/swap-instructions`), being phased out.
       * Left out: v1 for a baseUrl ending in /swap/v1 (the old default, which configs carried in recorded and running
       * workflow histories hold: refusing it there would change their replay), V2 otherwise (jupiterApi()).
       */
      api: z.enum(['v2', 'v1']).optional(),
      /** Default by api: https://api.jup.ag/swap/v2, or https://lite-api.jup.ag/swap/v1. */
      baseUrl: z.url().optional(),
      /** `{ env: NAME }`: sent as `x-api-key`; api.jup.ag needs one. */
      apiKey: secretRef('JUPITER_API_KEY').optional(),
      /** When Jupiter's 60 s window has no request left, wait up to this long for its reset; longer: fail with a retryable error. */
      maxRateLimitWaitMs: z.number().int().min(0).default(2_000),
    }).prefault({}),
  }).prefault({}),
  monitor: z.strictObject({
    cycleIntervalSeconds: positive.default(300),
  }).prefault({}),
  intervention: z.strictObject({
    timelockThresholdUsd: nonNegative.default(10_000),
    timelockMinutes: nonNegative.default(60),
    approvalsRequired: z.number().int().min(1).default(1),
    approvalTimeoutHours: positive.default(24),
    operators: z.array(z.string().min(1)).default([]),
    /**
     * Operator name → ed25519 public key (a Solana address). With any key here, every operator
     * message (approve, reject, pause, resume, emergency stop, config change, cancel) must be
     * signed by the named operator's key (src/domain/operator-message.ts); live modes need a key
     * for every operator. Empty: paper mode takes bare names, and says so loudly.
     */
    operatorKeys: z.record(z.string().min(1), z.string().refine(isPublicKey, { message: 'a base58 ed25519 public key (a Solana address)' })).default({}),
    sliceWindowMinutes: positive.default(60),
    trackHorizonsHours: z.array(positive).min(1).default([1, 24, 168]),
  }).prefault({}),
  treasury: z.strictObject({
    initial: z.strictObject({
      pump: tokenAmount.default('0'),
      usdc: tokenAmount.default('900000'),
      sol: tokenAmount.default('0'),
    }).prefault({}),
    /** Excludes PSTR held by the treasury (SPEC §3). */
    pstrCirculatingSupply: tokenAmount.default('2000000000'),
  }).prefault({}),
  liquidity: z.strictObject({
    enabled: z.boolean().default(true),
    pools: z.array(pool).min(1).default([
      { name: 'SOL/PSTR', quote: 'SOL', share: 0.6 },
      { name: 'USDC/PSTR', quote: 'USDC', share: 0.4 },
    ]),
    rangeWidth: z.number().gt(0).lt(1).default(0.1),
    rebalanceThreshold: positive.default(0.15),
    minRebalanceIntervalHours: hours.default(24),
    /** Pool fee rate and the share of pool volume our in-range liquidity earns: a model, used by the backtest. */
    feeRate: fraction.default(0.0025),
    volumeShare: fraction.default(0.05),
  }).prefault({}),
  governance: z.strictObject({
    votingPeriodHours: positive.default(72),
    emergencyVotingPeriodHours: positive.default(24),
    executionDelayHours: hours.default(24),
    stakedMultiplier: nonNegative.default(1.5),
    deadlineWarningHours: positive.default(24),
    thresholds: z.strictObject({
      parameterAdjustment: thresholds.default({ quorum: 0.1, approval: 0.51 }),
      treasuryStrategy: thresholds.default({ quorum: 0.15, approval: 0.6 }),
      protocolUpgrade: thresholds.default({ quorum: 0.2, approval: 0.67 }),
      emergencyAction: thresholds.default({ quorum: 0.25, approval: 0.75 }),
    }).prefault({}),
    holders: z.array(holder).default([]),
  }).prefault({}),
  /** Paper mode: the simulated market and ledger (the default until configured otherwise). */
  paper: z.strictObject({
    seed: z.number().int().min(0).default(7),
    /** Simulated network latency of a swap. */
    swapDelayMs: nonNegative.default(0),
    /** Constant-product pool depth in USD for paper swaps; absent: fills at the market price. */
    poolDepthUsd: positive.optional(),
    /** Days of simulated price history written to an empty store, so the 30-day VWAP is warm. */
    seedHistoryDays: nonNegative.default(30),
    /** A simulated PSTR drawdown, starting this many seconds after start-up (the demo's trigger). */
    drawdown: z.strictObject({
      startInSeconds: nonNegative.default(60),
      depth: z.number().gt(0).lt(1).default(0.17),
      rampSeconds: positive.default(60),
      holdSeconds: positive.default(1800),
      recoverSeconds: positive.default(600),
    }).optional(),
  }).prefault({}),
  /** Where alerts go beyond the log and the store (webhook, Slack, Discord, Telegram), and their dedupe window. */
  alerts: alertsConfigSchema,
  /** Metrics endpoint and log level of the worker. */
  ops: opsSchema,
  /** The web console and its HTTP API, served by the worker process (src/console/); loopback by default. */
  console: z.strictObject({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(8787),
  }).prefault({}),
  backtest: z.strictObject({
    /** Constant-product pool depth in USD (both sides together); absent: swaps fill at the row's price. */
    poolDepthUsd: positive.optional(),
    initialSolPrice: positive.default(150),
  }).prefault({}),
}).superRefine((c, ctx) => {
  if (c.strategy.treasuryAllocation + c.strategy.liquidityAllocation > 1 + 1e-9) {
    ctx.addIssue({
      code: 'custom',
      path: ['strategy', 'liquidityAllocation'],
      input: c.strategy.liquidityAllocation,
      message: `treasuryAllocation + liquidityAllocation must not exceed 1 (got ${c.strategy.treasuryAllocation} + ${c.strategy.liquidityAllocation})`,
    });
  }
  if (c.risk.minReserveRatio <= c.risk.minRrThreshold) {
    ctx.addIssue({
      code: 'custom',
      path: ['risk', 'minReserveRatio'],
      input: c.risk.minReserveRatio,
      message: `must be greater than risk.minRrThreshold (${c.risk.minRrThreshold})`,
    });
  }
  c.strategy.tiers.forEach((t, i) => {
    // Against the ceiling, not risk.maxDeployment: sizing clamps to that (SPEC §4), and tying the tiers to it would
    // keep an operator from lowering maxDeployment below the top tier.
    if (t.fraction > CEILINGS.maxDeployment) {
      ctx.addIssue({ code: 'custom', path: ['strategy', 'tiers', i, 'fraction'], input: t.fraction, message: `at most ${CEILINGS.maxDeployment} (the hard ceiling of risk.maxDeployment)` });
    }
  });
  const shares = c.liquidity.pools.reduce((s, p) => s + p.share, 0);
  if (Math.abs(shares - 1) > 1e-9) {
    ctx.addIssue({ code: 'custom', path: ['liquidity', 'pools'], input: shares, message: `pool shares must sum to 1 (got ${shares})` });
  }
  if (c.mode !== 'paper') {
    // Live trading refuses to start without every address it would act on.
    const need: [string[], unknown][] = [
      [['solana', 'rpcUrl'], c.solana.rpcUrl],
      [['tokens', 'pstr', 'mint'], c.tokens.pstr.mint],
      [['tokens', 'pump', 'mint'], c.tokens.pump.mint],
      [['tokens', 'usdc', 'mint'], c.tokens.usdc.mint],
    ];
    for (const [path, value] of need) {
      if (value === undefined) ctx.addIssue({ code: 'custom', path, input: value, message: `required in mode ${c.mode}` });
    }
    if (c.solana.keypairPath === undefined && c.solana.multisig === undefined) {
      ctx.addIssue({ code: 'custom', path: ['solana', 'keypairPath'], input: undefined, message: `mode ${c.mode} needs a keypair (solana.keypairPath) or a multisig (solana.multisig)` });
    }
  }
  for (const issue of serviceIssues(c)) ctx.addIssue({ code: 'custom', ...issue });
  if (c.mode !== 'paper' && c.intervention.operators.length < c.intervention.approvalsRequired) {
    ctx.addIssue({
      code: 'custom',
      path: ['intervention', 'operators'],
      input: c.intervention.operators,
      message: `mode ${c.mode} needs at least approvalsRequired (${c.intervention.approvalsRequired}) operators`,
    });
  }
  for (const issue of operatorKeyIssues(c)) ctx.addIssue({ code: 'custom', ...issue });
});

/**
 * Keys belong to listed operators; live modes refuse an operator without a key
 * (a bare name in a payload proves nothing), paper allows bare names only when
 * no key at all is configured.
 */
function operatorKeyIssues(c: { mode: string; intervention: { operators: readonly string[]; operatorKeys: Readonly<Record<string, string>> } }) {
  const { operators, operatorKeys } = c.intervention;
  const issues: { path: (string | number)[]; input: unknown; message: string }[] = [];
  for (const name of Object.keys(operatorKeys)) {
    if (!operators.includes(name)) issues.push({ path: ['intervention', 'operatorKeys', name], input: name, message: `"${name}" has a key but is not in intervention.operators` });
  }
  const keyless = operators.filter((name) => !Object.hasOwn(operatorKeys, name));
  const signed = Object.keys(operatorKeys).length > 0;
  if (keyless.length && (c.mode !== 'paper' || signed)) {
    issues.push({
      path: ['intervention', 'operatorKeys'], input: keyless,
      message: c.mode !== 'paper'
        ? `mode ${c.mode} needs a public key for every operator; missing for ${keyless.join(', ')}`
        : `operators without a key (${keyless.join(', ')}): once any key is configured every operator needs one`,
    });
  }
  return issues;
}

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ProposalKind = keyof Config['governance']['thresholds'];

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(
      `Invalid configuration in ${source}; nothing was started. Fix these and run again:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Validates a parsed (partial) config object; throws ConfigError naming every offending key. */
export function parseConfig(input: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(input ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join('.') : '(root)';
    if (issue.code === 'unrecognized_keys') {
      return `${path}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    return `${path} = ${show(issue.input)}: ${issue.message}`;
  });
  throw new ConfigError(source, problems);
}

export function defaultConfig(): Config {
  return parseConfig({}, 'defaults');
}

/** Deep-merges a partial override (e.g. an `updateConfig` signal) over a full config, then re-validates. */
export function mergeConfig(base: Config, patch: unknown, source = 'config update'): Config {
  return parseConfig(deepMerge(base, patch), source);
}

function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch === undefined ? base : patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = deepMerge(base[k], v);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

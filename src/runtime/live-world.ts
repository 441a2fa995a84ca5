/**
 * The world of a live worker (mode devnet or mainnet): Pyth, Switchboard and
 * the DEX TWAP as oracle sources, Pyth for PUMP/SOL, and the Solana treasury
 * that swaps through Jupiter at most once. Every edge can be injected, so
 * tests point the same builder at local servers and an in-process chain.
 */
import { Connection, PublicKey, type Keypair } from '@solana/web3.js';
import type { Client } from '@temporalio/client';
import type { Config } from '../config.ts';
import { NONCE_PATHS } from '../config-schema.ts';
import { TreasuryStore } from '../db/store.ts';
import { liveMarketData, liveOracleSources, oracleReadBudgetMs, type OracleDeps } from '../oracles/index.ts';
import { readBudgetMs, resilienceOptions } from '../oracles/resilience.ts';
import { createHermesClient } from '../oracles/pyth.ts';
import { PythPriceStream, triggerWatcher } from '../oracles/pyth-stream.ts';
import type { MarketData, OracleSource, Treasury } from '../ports.ts';
import { rpcChain, type Chain } from '../solana/chain.ts';
import { SolanaTreasury, type NoncePath } from '../solana/executor.ts';
import { SquadsTreasury } from '../solana/squads-treasury.ts';
import { jupiterClient, type JupiterClient } from '../solana/jupiter.ts';
import { keypairPathFrom, loadKeypair } from '../solana/keys.ts';
import { jupiterApi, jupiterBaseUrl } from '../config-secrets.ts';
import { jupiterApiKey, pythApiKey, rpcUrl as resolveRpcUrl, SecretError } from './secrets.ts';
import { monitorWorkflowId, statusQuery, wakeSignal } from '../workflows/contract.ts';

export interface LiveWorld {
  store: TreasuryStore;
  sources: OracleSource[];
  marketData: MarketData;
  treasury: Treasury;
  sourceTimeoutMs: number;
  close(): Promise<void>;
}

export interface LiveOverrides extends OracleDeps {
  chain?: Chain;
  jupiter?: JupiterClient;
  payer?: Keypair;
  cosigners?: Keypair[];
  storePath?: string;
}

export class LiveModeError extends Error {}

function publicKey(field: string, value: string): PublicKey {
  try {
    return new PublicKey(value);
  } catch {
    throw new LiveModeError(`${field} must be a base58 public key, got ${JSON.stringify(value)}`);
  }
}

/** A secret read from the worker's environment; a missing variable stops the start-up with its name. */
function secret<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw err instanceof SecretError ? new LiveModeError(err.message) : err;
  }
}

function mint(config: Config, token: 'pstr' | 'pump' | 'usdc') {
  const m = config.tokens[token].mint;
  if (!m) throw new LiveModeError(`tokens.${token}.mint is required in mode ${config.mode}`);
  return { mint: new PublicKey(m), decimals: config.tokens[token].decimals };
}

/** solana.durableNonce's per-path accounts as keys (the schema already refused one account for two paths). */
function nonceAccounts(d: NonNullable<Config['solana']['durableNonce']>): Partial<Record<NoncePath, PublicKey>> {
  const out: Partial<Record<NoncePath, PublicKey>> = {};
  for (const path of NONCE_PATHS) {
    const account = d[path]?.account;
    if (account !== undefined) out[path] = publicKey(`solana.durableNonce.${path}.account`, account);
  }
  return out;
}

/** Builds the live edges; `client` lets a streamed trigger wake the monitor between cycles. */
export function buildLiveWorld(config: Config, opts: { dataDir: string; client?: Client; store?: TreasuryStore; overrides?: LiveOverrides }): LiveWorld {
  const o = opts.overrides ?? {};
  const keyPath = keypairPathFrom(config.solana.keypairPath);
  if (!o.payer && keyPath === null) {
    // Propose-only still signs: the agent's member key creates the vault transaction and proposal.
    const what = config.solana.multisig ? 'the multisig member key the agent proposes with (Initiate permission)' : 'the treasury keypair';
    throw new LiveModeError(`mode ${config.mode} needs solana.keypairPath (or SOLANA_KEYPAIR_PATH): ${what}`);
  }
  const payer = o.payer ?? loadKeypair(keyPath as string);
  // Secrets are read here, in the worker, and only for the adapters actually built: never written back into the config.
  const rpcUrl = o.connection ? undefined : secret(() => resolveRpcUrl(config, o.env));
  const connection = o.connection ?? (rpcUrl ? new Connection(rpcUrl, config.solana.commitment) : undefined);
  const chain = o.chain ?? (connection ? rpcChain(connection, { commitment: config.solana.commitment === 'processed' ? 'confirmed' : config.solana.commitment }) : null);
  if (!chain) throw new LiveModeError(`solana.rpcUrl is required in mode ${config.mode}`);
  const store = opts.store ?? TreasuryStore.open(o.storePath ?? TreasuryStore.defaultPath(opts.dataDir, config.treasuryId));

  // One Hermes client (with its Bearer key) for the HTTP reads and the stream; its own timeout is a backstop, resilience.ts aborts first.
  const pythKey = o.hermes ? undefined : secret(() => pythApiKey(config, o.env));
  const hermes = o.hermes ?? createHermesClient({ endpoint: config.oracle.pyth.endpoint, ...(pythKey ? { apiKey: pythKey } : {}), timeoutMs: oracleReadBudgetMs(config) + 1_000 });
  let stream: PythPriceStream | undefined;
  const feeds = config.oracle.pyth.feeds;
  if (config.oracle.pyth.streaming && !o.stream) {
    // The trigger level comes from the monitor's last cycle; a crossing wakes it at once instead of at the next cycle.
    let level: number | null = null;
    const client = opts.client;
    const refreshLevel = () => {
      if (!client) return;
      client.workflow.getHandle(monitorWorkflowId(config.treasuryId)).query(statusQuery).then((s) => {
        const vwap = s.lastCycle?.vwap30 ?? null;
        level = vwap === null ? null : vwap * config.strategy.triggerThreshold;
      }, () => undefined);
    };
    refreshLevel();
    const timer = setInterval(refreshLevel, 10_000);
    timer.unref();
    stream = new PythPriceStream({
      client: hermes,
      feedIds: [feeds.pump, feeds.sol, ...(feeds.pstr ? [feeds.pstr] : [])],
      onUpdate: triggerWatcher(() => level, (reading) => {
        if (reading.feedId !== feeds.pstr || !client) return;
        void client.workflow.getHandle(monitorWorkflowId(config.treasuryId)).signal(wakeSignal, { reason: `streamed price ${reading.price} crossed the trigger` }).catch(() => undefined);
      }),
    });
    // Resolves after the first connection attempt; reconnects with backoff on its own afterwards.
    void stream.start();
  }
  const j = config.solana.jupiter;
  const jupiterKey = o.jupiter ? undefined : secret(() => jupiterApiKey(config, o.env));
  // V2 builds for one wallet: the treasury's (the payer, or the Squads vault), named once the treasury exists.
  const taker: { key?: string } = {};
  const jupiter = o.jupiter ?? jupiterClient({
    api: jupiterApi(j), baseUrl: jupiterBaseUrl(j), maxRateLimitWaitMs: j.maxRateLimitWaitMs, ...(jupiterKey ? { apiKey: jupiterKey } : {}), taker: () => taker.key,
  });
  const deps: OracleDeps = { ...o, hermes, jupiter, ...(connection ? { connection } : {}), ...(stream ? { stream } : {}) };
  const tokens = { pump: mint(config, 'pump'), pstr: mint(config, 'pstr'), usdc: mint(config, 'usdc') };
  const maxSlippageBps = Math.round(config.risk.maxSlippage * 10_000);
  const ms = config.solana.multisig;
  // Propose-only: the vault holds the tokens and the members execute; the agent only proposes (see squads-treasury.ts).
  const treasury: Treasury = ms ? new SquadsTreasury({
    treasuryId: config.treasuryId, store, chain, jupiter, member: payer, multisig: publicKey('solana.multisig.address', ms.address), vaultIndex: ms.vaultIndex,
    tokens, maxSlippageBps, priorityFee: config.solana.priorityFee, voteOnAbandon: ms.voteOnAbandon,
    ...(config.solana.commitment === 'finalized' ? { commitment: 'finalized' as const } : {}),
  }) : new SolanaTreasury({
    treasuryId: config.treasuryId, store, chain, jupiter,
    payer, ...(o.cosigners ? { cosigners: o.cosigners } : {}),
    tokens, maxSlippageBps,
    priorityFee: config.solana.priorityFee,
    // Accumulation buys are journaled in the store's money_journal (the executor's default), shared by every worker.
    // The durable-nonce variant for long waits, one nonce account per money path: the payer is the nonce authority.
    ...(config.solana.durableNonce ? { durableNonce: { authority: payer, accounts: nonceAccounts(config.solana.durableNonce) } } : {}),
  });
  taker.key = (treasury instanceof SquadsTreasury ? treasury.vault : payer.publicKey).toBase58();
  return {
    store, treasury, sources: liveOracleSources(config, deps), marketData: liveMarketData(config, deps), sourceTimeoutMs: readBudgetMs({ ...resilienceOptions(config), ...o.resilience }),
    close() {
      stream?.close();
      return store.close();
    },
  };
}

/** Chooses the edges by mode: the paper world (the default) or the live one (devnet/mainnet). */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ActivityDeps } from '../activities/index.ts';
import type { Config } from '../config.ts';
import { TreasuryStore } from '../db/store.ts';
import { redactUrl } from '../db/connection.ts';
import { buildLiveWorld, type LiveOverrides } from './live-world.ts';
import { buildPaperWorld } from './paper-world.ts';
import { alertOutboxWaker, monitorStatusReader, paperDeps, proposalApplier, workflowResultReader, workflowStateReader } from './worker.ts';

export interface OpenWorld {
  deps: ActivityDeps;
  store: TreasuryStore;
  /** Where the store is, for the start-up line: a SQLite path or the PostgreSQL URL without its password. */
  storeLabel: string;
  close(): Promise<void>;
}

/**
 * The store: PostgreSQL when `databaseUrl` (the `DATABASE_URL` variable) is
 * set, so several workers share it; else the embedded SQLite file in the
 * data directory.
 */
export async function openStore(config: Config, opts: { dataDir: string; databaseUrl?: string | undefined }): Promise<{ store: TreasuryStore; label: string }> {
  const url = opts.databaseUrl?.trim();
  if (url) return { store: await TreasuryStore.connect(url), label: redactUrl(url) };
  const path = TreasuryStore.defaultPath(opts.dataDir, config.treasuryId);
  return { store: TreasuryStore.open(path), label: path };
}

export async function openWorld(
  config: Config,
  opts: { dataDir: string; client: Client; logger: Logger; databaseUrl?: string | undefined; overrides?: LiveOverrides },
): Promise<OpenWorld> {
  const { store, label } = await openStore(config, opts);
  try {
    if (config.mode === 'paper') {
      const world = await buildPaperWorld(config, { dataDir: opts.dataDir, store });
      return { deps: paperDeps(config, world, opts.client, opts.logger), store, storeLabel: label, close: () => store.close() };
    }
    return openLive(config, store, label, opts);
  } catch (error) {
    await store.close();
    throw error;
  }
}

function openLive(config: Config, store: TreasuryStore, storeLabel: string, opts: { dataDir: string; client: Client; logger: Logger; overrides?: LiveOverrides }): OpenWorld {
  const live = buildLiveWorld(config, { dataDir: opts.dataDir, client: opts.client, store, ...(opts.overrides ? { overrides: opts.overrides } : {}) });
  return {
    deps: {
      config, store: live.store, sources: live.sources, market: live.marketData, treasury: live.treasury, liquidity: null,
      monitorStatus: monitorStatusReader(opts.client), workflowState: workflowStateReader(opts.client), workflowResult: workflowResultReader(opts.client), logger: opts.logger, sourceTimeoutMs: live.sourceTimeoutMs,
      applyProposalToMonitor: proposalApplier(opts.client), wakeAlertOutbox: alertOutboxWaker(opts.client),
    },
    store: live.store,
    storeLabel,
    close: () => live.close(),
  };
}

/** Chooses the edges by mode: the paper world (the default) or the live one (devnet/mainnet). */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ActivityDeps } from '../activities/index.ts';
import type { Config } from '../config.ts';
import type { TreasuryStore } from '../db/store.ts';
import { buildLiveWorld, type LiveOverrides } from './live-world.ts';
import { buildPaperWorld } from './paper-world.ts';
import { monitorStatusReader, paperDeps } from './worker.ts';

export interface OpenWorld {
  deps: ActivityDeps;
  store: TreasuryStore;
  close(): void;
}

export function openWorld(config: Config, opts: { dataDir: string; client: Client; logger: Logger; overrides?: LiveOverrides }): OpenWorld {
  if (config.mode === 'paper') {
    const world = buildPaperWorld(config, { dataDir: opts.dataDir });
    return { deps: paperDeps(config, world, opts.client, opts.logger), store: world.store, close: () => world.store.close() };
  }
  const live = buildLiveWorld(config, { dataDir: opts.dataDir, client: opts.client, ...(opts.overrides ? { overrides: opts.overrides } : {}) });
  return {
    deps: {
      config, store: live.store, sources: live.sources, market: live.marketData, treasury: live.treasury, liquidity: null,
      monitorStatus: monitorStatusReader(opts.client), logger: opts.logger, sourceTimeoutMs: live.sourceTimeoutMs,
    },
    store: live.store,
    close: () => live.close(),
  };
}

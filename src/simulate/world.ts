/**
 * The paper world a simulation's worker acts on: a fresh SQLite store in a
 * temporary directory (no seeded history: the backtest also starts with an
 * empty VWAP window), the paper ledger over the price-file market (initial
 * balances from `treasury.initial`, liquidity positions opened at the first
 * row's prices), the file's oracle sources, and every production activity
 * built from them. Swaps fill through the paper ledger's model: the row price,
 * or a constant-product pool of `backtest.poolDepthUsd` when it is set, as the
 * backtest fills them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import pino, { type Logger } from 'pino';
import { createActivities, type Activities, type ActivityDeps } from '../activities/index.ts';
import { serverClock } from '../activities/deps.ts';
import { parseConfig, type Config } from '../config.ts';
import { TreasuryStore } from '../db/store.ts';
import { PaperLedger } from '../paper/ledger.ts';
import { paperLiquidity } from '../runtime/paper-world.ts';
import { monitorStatusReader, proposalApplier, workflowResultReader, workflowStateReader } from '../runtime/worker.ts';
import type { CsvMarket } from './csv-market.ts';
import type { ClockLeaks } from './clock-leaks.ts';
import type { ScriptedOperator } from './operator.ts';
import type { RecordStepInput } from '../workflows/contract.ts';

export interface SimWorld {
  config: Config;
  store: TreasuryStore;
  ledger: PaperLedger;
  activities: Activities;
  close(): Promise<void>;
}

/**
 * The configuration the simulation runs: the file's (or the defaults) with what
 * a simulation must be. Paper mode whatever the file says (nothing may trade);
 * the backtest's cycle cadence; no alert sinks (a simulated crash must not page
 * anybody); no seeded history and no simulated drawdown (the file is the
 * market); the backtest's pool model for fills.
 */
export function simulationConfig(config: Config, cycleIntervalSeconds: number): Config {
  const { drawdown: _drawdown, ...paper } = config.paper;
  return parseConfig({
    ...config,
    mode: 'paper',
    monitor: { ...config.monitor, cycleIntervalSeconds },
    alerts: { ...config.alerts, sinks: [] },
    console: { ...config.console, enabled: false },
    paper: {
      ...paper, seedHistoryDays: 0, swapDelayMs: 0,
      ...(config.backtest.poolDepthUsd !== undefined ? { poolDepthUsd: config.backtest.poolDepthUsd } : { poolDepthUsd: undefined }),
    },
  }, 'simulation config');
}

/** Worker logs go to stderr, errors only (alerts are in the document): stdout is the simulation's document alone. */
export function stderrLogger(): Logger {
  return pino({ level: 'error' }, pino.destination(2));
}

export async function buildSimWorld(opts: {
  config: Config;
  market: CsvMarket;
  /** For the activities that read workflows (gate context, control state): a plain client, never one that skips time. */
  client: Client;
  operator: ScriptedOperator;
  leaks: ClockLeaks;
  logger?: Logger;
}): Promise<SimWorld> {
  const { config, market, client } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'pstr-simulate-'));
  const store = TreasuryStore.open(TreasuryStore.defaultPath(dir, config.treasuryId));
  try {
    const ledger = new PaperLedger(store, {
      treasuryId: config.treasuryId, config, market, clock: serverClock, swapDelayMs: 0,
      ...(config.backtest.poolDepthUsd !== undefined ? { poolDepthUsd: config.backtest.poolDepthUsd } : {}),
    });
    await ledger.initialize({ source: 'simulate', priceFile: { rows: market.rows.length, offsetMs: market.offsetMs } });
    const deps: ActivityDeps = {
      config, store, sources: market.oracleSources(serverClock), market: market.marketData(serverClock), treasury: ledger,
      liquidity: paperLiquidity(ledger), monitorStatus: monitorStatusReader(client), workflowState: workflowStateReader(client),
      workflowResult: workflowResultReader(client), logger: opts.logger ?? stderrLogger(), applyProposalToMonitor: proposalApplier(client),
    };
    return {
      config, store, ledger, activities: withSimulationHooks(createActivities(deps), opts.operator, opts.leaks),
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The production activities, each unchanged, with the simulation looking on: every child workflow that runs one is
 * watched for the test server's clock leak (clock-leaks.ts), and the scripted operator looks at each intervention
 * step once it is written (operator.ts).
 */
function withSimulationHooks(activities: Activities, operator: ScriptedOperator, leaks: ClockLeaks): Activities {
  const after: Record<string, (input: unknown) => Promise<void>> = {
    recordInterventionStep: (input) => {
      const { interventionId, step } = input as RecordStepInput;
      return operator.onStepRecorded(interventionId, step.step);
    },
  };
  const hooked: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    const then = after[name];
    hooked[name] = async (...args: unknown[]) => {
      const workflowId = Context.current().info.workflowExecution?.workflowId;
      if (workflowId) leaks.watch(workflowId);
      const out = await fn(...args);
      if (then) await then(args[0]);
      return out;
    };
  }
  return hooked as Activities;
}

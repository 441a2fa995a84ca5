/**
 * Which configuration a scheduled run acts under (issue #10 item 6): the
 * treasury's current version in the store, read at every run, not a copy
 * frozen into the schedule when it was created. Schedules are created with
 * `{ treasuryId }` only; schedules created before carry `{ config }`, which
 * is kept as the fallback (with a warning) when the store has no version or
 * cannot be read. Runs recorded before this replay as they ran (the frozen
 * copy): behind `patched(CONFIG_AUTHORITY_PATCH)`.
 */
import { ActivityFailure, ApplicationFailure, log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { parseConfig, type Config } from '../config-schema.ts';
import { checkInput } from './inputs.ts';
import { jobInputSchema } from './messages.ts';
import { CONFIG_AUTHORITY_PATCH } from './monitor-config.ts';

/** A scheduled job's input: the treasury (schedules created since config versions), or a whole configuration (older schedules). */
export interface JobInput {
  treasuryId?: string;
  config?: Config;
}

/** What a run acts under: the configuration and its version (null: not from the store, `note` says why). */
export interface JobConfig {
  treasuryId: string;
  config: Config;
  configVersion: number | null;
  note: string | null;
}

// Short: a store that cannot answer within a minute leaves the run to its fallback, and the next run reads again.
const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
});

/** The treasury a job's input names, without reading the store (for jobs that need no configuration). */
export function jobTreasuryId(input: unknown, workflowType: string): string {
  const parsed = checkInput(jobInputSchema, input, workflowType);
  return parsed.treasuryId ?? (parsed.config as Config).treasuryId;
}

/**
 * The current configuration version for this run. Without one: the input's
 * configuration (an older schedule), else the defaults when `orDefaults`
 * (the watchdog must judge a monitor even before it wrote its first
 * version), else a non-retryable `NoConfig` failure naming why.
 */
export async function jobConfig(input: unknown, workflowType: string, opts: { orDefaults?: boolean } = {}): Promise<JobConfig> {
  const parsed = checkInput(jobInputSchema, input, workflowType);
  const treasuryId = parsed.treasuryId ?? (parsed.config as Config).treasuryId;
  if (!patched(CONFIG_AUTHORITY_PATCH)) {
    if (parsed.config) return { treasuryId, config: parsed.config, configVersion: null, note: null };
    throw ApplicationFailure.nonRetryable(`${workflowType}: input has no config`, 'NoConfig');
  }
  let why: string;
  try {
    const current = await acts.currentConfig({ treasuryId });
    if (current) return { treasuryId, config: current.config, configVersion: current.version, note: null };
    why = 'the store has no configuration version for it yet';
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    why = `its configuration could not be read from the store: ${(err.cause?.message ?? err.message).slice(0, 300)}`;
  }
  const fallback = parsed.config ?? (opts.orDefaults ? parseConfig({ treasuryId }, 'defaults') : null);
  if (!fallback) throw ApplicationFailure.nonRetryable(`${workflowType} for ${treasuryId}: ${why}; nothing done`, 'NoConfig');
  const note = `${why}; acted under ${parsed.config ? "the schedule's own copy" : 'the defaults'}`;
  log.warn(`${workflowType}: no current configuration version`, { treasuryId, note });
  return { treasuryId, config: fallback, configVersion: null, note };
}

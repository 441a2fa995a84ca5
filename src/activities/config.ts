/**
 * The config authority's activities (issue #10 item 6): the running
 * configuration lives in the monitor and in the store's `config_versions`,
 * versioned. The monitor adopts a version at its start and after every
 * accepted change; scheduled jobs read the current one at each run instead
 * of a copy frozen into their schedule.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { ConfigError, parseConfig, type Config } from '../config-schema.ts';
import { serverClock, type ActivityDeps } from './deps.ts';

/** One version of a treasury's running configuration, as the store holds it. */
export interface ConfigVersion {
  version: number;
  config: Config;
  /** `file` | `operator` | `governance <proposal id>`. */
  source: string;
  by: string | null;
  at: number;
}

export interface AdoptConfigInput {
  treasuryId: string;
  config: Config;
  source: string;
  by: string | null;
  /** The number the monitor gives it (its last version + 1); absent: after the newest stored one. */
  version?: number;
}

/** A configuration the store holds or is asked to hold, checked against today's schema and the treasury it belongs to. */
function checked(raw: unknown, treasuryId: string, what: string): Config {
  let config: Config;
  try {
    config = parseConfig(raw, what);
  } catch (err) {
    const why = err instanceof ConfigError ? err.problems.join('; ') : String(err);
    throw ApplicationFailure.nonRetryable(`${what} is not a valid configuration: ${why}`.slice(0, 1_000), 'InvalidStoredConfig');
  }
  if (config.treasuryId !== treasuryId) {
    throw ApplicationFailure.nonRetryable(`${what} belongs to treasury ${config.treasuryId}, not ${treasuryId}`, 'InvalidStoredConfig');
  }
  return config;
}

export function configActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /** The treasury's current configuration version; null when the store has none yet (no monitor has started since versions exist). */
    async currentConfig(input: { treasuryId: string }): Promise<ConfigVersion | null> {
      const row = await store.currentConfigVersion(input.treasuryId);
      if (!row) return null;
      const config = checked(row.config, input.treasuryId, `config version ${row.version} of ${input.treasuryId}`);
      return { version: row.version, config, source: row.source, by: row.by, at: row.at };
    },

    /** Stores a configuration the monitor adopted as a new version; a retry writes it once (TreasuryStore.appendConfigVersion). */
    async adoptConfig(input: AdoptConfigInput): Promise<{ version: number; written: boolean }> {
      const config = checked(input.config, input.treasuryId, `the configuration adopted by ${input.treasuryId} (${input.source})`);
      const asked = input.version ?? ((await store.currentConfigVersion(input.treasuryId))?.version ?? 0) + 1;
      const r = await store.appendConfigVersion({ treasuryId: input.treasuryId, version: asked, config, source: input.source, by: input.by, at: serverClock() });
      const log = r.version === asked ? deps.logger.info.bind(deps.logger) : deps.logger.warn.bind(deps.logger);
      log({ treasuryId: input.treasuryId, version: r.version, asked, written: r.written, source: input.source, by: input.by },
        r.version === asked ? 'config version adopted' : 'config version number was taken by another writer: appended after the newest');
      return r;
    },
  };
}

/**
 * The monitor's side of the config authority (issue #10 item 6): the running
 * configuration lives in the monitor and in the store's `config_versions`,
 * versioned. Every run loads the current version before its first cycle
 * (the store wins over the input, as the safety state does; an empty store
 * gets the input as version 1, source `file`), and every change the monitor
 * accepts becomes the next version, saved at once in the background.
 * Schedules, interventions and records name the version.
 *
 * The monitor is the versions' single writer, so it numbers them itself: an
 * accepted change is version n+1 in memory at once, and the intervention it
 * starts can name it. No intervention starts while the configuration is not
 * loaded or a version is not in the store yet (fail closed: a record never
 * names a version the store does not have). A load or save that fails is
 * retried at the next cycle; it never fails the monitor.
 *
 * Runs recorded before this existed replay without any of it: everything
 * here is behind `patched(CONFIG_AUTHORITY_PATCH)`, decided once per run.
 */
import { ActivityFailure, condition, log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { ConfigError, mergeConfig, type Config } from '../config-schema.ts';
import type { ConfigAuthorityStatus } from './contract.ts';

export const CONFIG_AUTHORITY_PATCH = 'config-authority';

/** A version adopted in memory and not yet in the store. `version` is null while the run has not loaded the store's (renumbered then). */
export interface PendingConfigVersion {
  version: number | null;
  config: Config;
  /** The patch that made it, re-applied over the store's version when it was adopted before the load. */
  patch: unknown;
  source: string;
  by: string | null;
}

/** Carried across continue-as-new with the rest of the monitor's state. */
export interface ConfigAuthority {
  /** This run took the patched path (set at its start; a carried value is ignored). */
  enabled: boolean;
  loaded: boolean;
  /** The version `config` is; null until the first load or adoption. */
  version: number | null;
  pending: PendingConfigVersion[];
  problem: string | null;
  /** A save failed since the last cycle: wait for the next cycle before trying again (no busy retry). */
  backoff: boolean;
  busy: boolean;
  /** The run's input configuration, kept only until the load (version 1 when the store has none). */
  base: Config | null;
}

/** What of the monitor's state this module reads and writes. */
export interface ConfiguredState {
  config: Config;
  wake: boolean;
  configAuthority?: ConfigAuthority;
}


const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '5 seconds' },
});

const NOT_LOADED = 'configuration version not loaded from the store';

const errorText = (err: unknown) => (err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message).slice(0, 300);

function authorityOf(s: ConfiguredState): ConfigAuthority {
  s.configAuthority ??= { enabled: false, loaded: false, version: null, pending: [], problem: null, backoff: false, busy: false, base: null };
  return s.configAuthority;
}

const enabledFor = (s: ConfiguredState) => s.configAuthority?.enabled === true;

/** Decides, once at the start of a run, whether this run keeps its configuration in the store; call before any handler can run. */
export function startConfigAuthority(s: ConfiguredState): boolean {
  const enabled = patched(CONFIG_AUTHORITY_PATCH);
  const a = authorityOf(s);
  // Every run loads again: a carried `loaded` speaks of the previous run.
  s.configAuthority = { ...a, enabled, loaded: false, backoff: false, busy: false, base: enabled ? s.config : null, problem: enabled ? NOT_LOADED : null };
  return enabled;
}

/**
 * The hook the updateConfig handler calls right after it adopted `s.config`:
 * the new configuration becomes the next version (saved in the background).
 */
export function configAdopted(s: ConfiguredState, change: { patch: unknown; source: string; by: string | null }): void {
  if (!enabledFor(s)) return;
  const a = authorityOf(s);
  const version = a.loaded && a.version !== null ? a.version + 1 : null;
  a.pending = [...a.pending, { version, config: s.config, patch: change.patch, source: change.source, by: change.by }];
  if (version !== null) a.version = version;
}

/** The source a change's version records: `operator`, or `governance <proposal id>`. */
export const changeSource = (proposalId: string | undefined) => (proposalId === undefined ? 'operator' : `governance ${proposalId}`);

/** Loads the store's current version; false when the store could not be read. */
async function load(s: ConfiguredState): Promise<boolean> {
  const a = authorityOf(s);
  const treasuryId = s.config.treasuryId;
  let stored: Awaited<ReturnType<Activities['currentConfig']>>;
  try {
    stored = await acts.currentConfig({ treasuryId });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    a.problem = `${NOT_LOADED}: ${errorText(err)}`;
    log.warn('config version not loaded: no intervention until it is, retrying at the next cycle', { treasuryId, problem: a.problem });
    return false;
  }
  // Changes an operator made while the load was out were merged over the input: they are re-applied over what the store holds.
  const early = a.pending.filter((p) => p.version === null);
  const numbered = a.pending.filter((p) => p.version !== null);
  if (stored === null) {
    // The first version: the configuration this run started with, then the changes made since.
    const file: PendingConfigVersion = { version: null, config: a.base ?? s.config, patch: null, source: 'file', by: null };
    a.pending = number([file, ...numbered, ...early], 1);
  } else if (a.version !== null && a.version >= stored.version) {
    // The memory is as new as the store or ahead of it (carried across continue-as-new with versions not yet saved).
    a.pending = [...numbered, ...number(early, a.version + 1)];
  } else {
    // The store wins over the input and over a stale carried copy.
    if (numbered.length > 0) log.warn('config versions dropped: the store holds a newer version', { treasuryId, stored: stored.version, dropped: numbered.map((p) => p.version) });
    s.config = stored.config;
    a.version = stored.version;
    a.pending = reapply(s, early, stored.version + 1);
  }
  a.version = a.pending.at(-1)?.version ?? a.version ?? stored?.version ?? null;
  const last = a.pending.at(-1);
  if (last) s.config = last.config;
  a.loaded = true;
  a.base = null;
  a.problem = null;
  log.info('config version loaded', { treasuryId, version: a.version, stored: stored?.version ?? null, unsaved: a.pending.length });
  return true;
}

function number(pending: PendingConfigVersion[], from: number): PendingConfigVersion[] {
  return pending.map((p, i) => ({ ...p, version: from + i }));
}

/** Early changes over the store's configuration, each a version; one that no longer applies is dropped and said. */
function reapply(s: ConfiguredState, early: PendingConfigVersion[], from: number): PendingConfigVersion[] {
  const out: PendingConfigVersion[] = [];
  let config = s.config;
  for (const p of early) {
    try {
      const next = mergeConfig(config, p.patch, 'updateConfig');
      if (next.treasuryId !== config.treasuryId) throw new ConfigError('updateConfig', ['treasuryId cannot change']);
      config = next;
      out.push({ ...p, config, version: from + out.length });
    } catch (err) {
      log.warn('a change made before the config was loaded does not apply to the stored version: dropped', { treasuryId: config.treasuryId, by: p.by, error: String(err).slice(0, 300) });
    }
  }
  return out;
}

/** Writes the versions not yet in the store, oldest first; false when one could not be written. */
async function flush(s: ConfiguredState): Promise<boolean> {
  const a = authorityOf(s);
  const treasuryId = s.config.treasuryId;
  while (a.pending.length > 0) {
    const p = a.pending[0] as PendingConfigVersion;
    try {
      const r = await acts.adoptConfig({ treasuryId, config: p.config, source: p.source, by: p.by, ...(p.version === null ? {} : { version: p.version }) });
      if (r.version !== p.version) {
        // Another writer took the number: this and the later versions follow the store's numbering.
        log.warn('config version renumbered by the store', { treasuryId, asked: p.version, got: r.version });
        a.pending = number(a.pending, r.version);
        a.version = a.pending.at(-1)?.version ?? r.version;
      }
      a.pending = a.pending.slice(1);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      a.problem = `configuration version ${p.version ?? '?'} not saved: ${errorText(err)}`;
      a.backoff = true;
      log.warn('config version not saved: no intervention until it is', { treasuryId, problem: a.problem });
      return false;
    }
  }
  a.problem = null;
  a.backoff = false;
  return true;
}

async function exclusive<T>(s: ConfiguredState, fn: () => Promise<T>): Promise<T> {
  while (authorityOf(s).busy) await condition(() => !authorityOf(s).busy);
  authorityOf(s).busy = true;
  try {
    return await fn();
  } finally {
    authorityOf(s).busy = false;
  }
}

/** Loads when not loaded yet, then saves the versions the store lacks. Never throws for the store's sake. */
export async function syncConfig(s: ConfiguredState): Promise<void> {
  if (!enabledFor(s)) return;
  await exclusive(s, async () => {
    authorityOf(s).backoff = false;
    if (!authorityOf(s).loaded && !(await load(s))) return;
    await flush(s);
  });
}

/** Saves an accepted change as soon as it is adopted, waiting on the memory (not a timer); after a failed save, waits for the next cycle. */
export function startConfigSaver(s: ConfiguredState): void {
  if (!enabledFor(s)) return;
  void (async () => {
    for (;;) {
      await condition(() => { const a = authorityOf(s); return a.loaded && !a.busy && !a.backoff && a.pending.length > 0; });
      await syncConfig(s);
    }
  })();
}

/** Why an intervention may not start under the current configuration; null when its version is in the store (or the run predates versions). */
export function configNotReady(s: ConfiguredState): string | null {
  if (!enabledFor(s)) return null;
  const a = authorityOf(s);
  if (!a.loaded) return a.problem ?? NOT_LOADED;
  if (a.pending.length > 0) return a.problem ?? `configuration version ${a.pending[0]?.version ?? '?'} not saved yet`;
  return null;
}

/** The version the monitor runs under, for the inputs and records it writes (absent in runs that predate versions). */
export function configVersionField(s: ConfiguredState): { configVersion?: number } {
  const v = enabledFor(s) ? authorityOf(s).version : null;
  return v === null ? {} : { configVersion: v };
}

export function configAuthorityStatus(s: ConfiguredState): ConfigAuthorityStatus | undefined {
  if (!enabledFor(s)) return undefined;
  const a = authorityOf(s);
  return { version: a.version, loaded: a.loaded, unsaved: a.pending.length, problem: a.problem };
}

/**
 * The treasury agent's SQLite schema (the embedded default). Every table carries `treasury_id` and a
 * time column (epoch ms) indexed together, because every report and audit asks
 * "this treasury, this period". Every table also has a natural key, so that a
 * retried Temporal activity writes the same row again instead of a second one.
 *
 * Token amounts are integers in base units stored as decimal TEXT: SQLite's
 * INTEGER stops at 2^63 and JS numbers at 2^53, and amounts must stay exact.
 * Structured details are JSON TEXT, typed `unknown`: the store does not own
 * their shape, the domain modules that write them do.
 *
 * The PostgreSQL schema (src/db/schema-pg.ts) mirrors this one table for
 * table, with the same row types. After editing either, run
 * `npm run db:generate` and commit `drizzle/` and `drizzle-pg/`.
 */
import { sql } from 'drizzle-orm';
import { check, customType, index, integer, primaryKey, sqliteTable, text, unique } from 'drizzle-orm/sqlite-core';

import {
  ALERT_LEVELS, amountText, epochMsValue, HEALTH_LEVELS, INTERVENTION_STATUSES, LEDGER_ENTRY_KINDS, oneOfSql, POOL_QUOTES,
  realValue, SWAP_STATUSES, toJsonText, VOTE_CHOICES, MONEY_PATHS,
} from './values.ts';

export { StoreValueError, bigintReplacer, toJsonText } from './values.ts';
export {
  ALERT_LEVELS, HEALTH_LEVELS, INTERVENTION_STATUSES, LEDGER_ENTRY_KINDS, POOL_QUOTES, SWAP_STATUSES, VOTE_CHOICES, MONEY_PATHS,
} from './values.ts';

/** Non-negative integer amount in base units, as decimal TEXT. */
const amount = (name: string) =>
  customType<{ data: bigint; driverData: string }>({
    dataType: () => 'text',
    toDriver: (value) => amountText(name, value),
    fromDriver: (text) => BigInt(text),
  })(name);

/** A non-negative running sum (bigint) as decimal TEXT: it outgrows SQLite's INTEGER, and must stay exact. */
const runningSum = (name: string) =>
  customType<{ data: bigint; driverData: string }>({
    dataType: () => 'text',
    toDriver: (value) => amountText(name, value),
    fromDriver: (text) => BigInt(text),
  })(name);

/** Arbitrary JSON details; bigint inside becomes a decimal string. */
const json = (name: string) =>
  customType<{ data: unknown; driverData: string }>({
    dataType: () => 'text',
    toDriver: (value) => toJsonText(value, name),
    fromDriver: (text) => JSON.parse(text) as unknown,
  })(name);

/** REAL that refuses NaN: SQLite would silently store NaN as NULL. */
const real = (name: string) =>
  customType<{ data: number; driverData: number }>({
    dataType: () => 'real',
    toDriver: (value) => realValue(name, value),
  })(name);

/** UTC epoch milliseconds. */
const epochMs = (name: string) =>
  customType<{ data: number; driverData: number }>({
    dataType: () => 'integer',
    toDriver: (value) => epochMsValue(name, value),
  })(name);

const oneOf = (column: string, values: readonly string[]) => sql.raw(oneOfSql(column, values));

/** One sample per monitoring cycle (SPEC §1), with the consensus decision record (SPEC §2). */
export const priceSamples = sqliteTable('price_samples', {
  treasuryId: text('treasury_id').notNull(),
  cycleId: text('cycle_id').notNull(),
  timestamp: epochMs('timestamp').notNull(),
  pstrPrice: real('pstr_price').notNull(),
  pstrVolume: real('pstr_volume').notNull(),
  pumpPrice: real('pump_price').notNull(),
  solPrice: real('sol_price'),
  /** Readings, exclusions and their reasons. */
  consensus: json('consensus').notNull(),
  /**
   * Running sums of the treasury's samples up to and including this one, in
   * (timestamp, cum_count) order: the fixed-point terms of
   * src/domain/vwap-prefix.ts, so a VWAP window is two rows' difference.
   * The store alone writes them; NULL only on rows written before they
   * existed, until the store backfills them.
   */
  cumPriceVolume: runningSum('cum_price_volume'),
  cumVolume: runningSum('cum_volume'),
  cumPrice: runningSum('cum_price'),
  /** How many samples up to and including this one: its position, and the tie-break among equal timestamps. */
  cumCount: integer('cum_count'),
}, (t) => [
  primaryKey({ columns: [t.treasuryId, t.cycleId] }),
  index('price_samples_treasury_time').on(t.treasuryId, t.timestamp),
]);

/** Treasury state at one moment (SPEC §3, §6). */
export const treasurySnapshots = sqliteTable('treasury_snapshots', {
  treasuryId: text('treasury_id').notNull(),
  snapshotId: text('snapshot_id').notNull(),
  at: epochMs('at').notNull(),
  pumpBalance: amount('pump_balance').notNull(),
  usdcBalance: amount('usdc_balance').notNull(),
  solBalance: amount('sol_balance').notNull(),
  pstrRetired: amount('pstr_retired').notNull(),
  treasuryValueUsd: real('treasury_value_usd').notNull(),
  marketCapUsd: real('market_cap_usd').notNull(),
  reserveRatio: real('reserve_ratio').notNull(),
  pumpConcentration: real('pump_concentration').notNull(),
  health: real('health').notNull(),
  healthLevel: text('health_level', { enum: HEALTH_LEVELS }).notNull(),
  emergencyStop: integer('emergency_stop', { mode: 'boolean' }).notNull(),
}, (t) => [
  primaryKey({ columns: [t.treasuryId, t.snapshotId] }),
  index('treasury_snapshots_treasury_time').on(t.treasuryId, t.at),
  check('treasury_snapshots_health_level', oneOf('health_level', HEALTH_LEVELS)),
]);

/** One row per intervention workflow (SPEC §4–5), updated as it progresses. */
export const interventions = sqliteTable('interventions', {
  /** e.g. "intervention/pstr-main/3" */
  id: text('id').primaryKey(),
  treasuryId: text('treasury_id').notNull(),
  seq: integer('seq').notNull(),
  startedAt: epochMs('started_at').notNull(),
  status: text('status', { enum: INTERVENTION_STATUSES }).notNull(),
  /** The tier as the domain reports it; null until sized. */
  tier: real('tier'),
  /** Share of the PUMP balance deployed, after the reduction rule. */
  fraction: real('fraction'),
  pumpAmount: amount('pump_amount'),
  pstrBought: amount('pstr_bought'),
  usdValue: real('usd_value'),
  decidedPrice: real('decided_price').notNull(),
  vwap30: real('vwap30').notNull(),
  drawdown: real('drawdown').notNull(),
  executedAt: epochMs('executed_at'),
  reason: text('reason'),
  updatedAt: epochMs('updated_at').notNull(),
  /** The config version (config_versions) the intervention acted under; null for rows written before versions existed. */
  configVersion: integer('config_version'),
}, (t) => [
  unique('interventions_treasury_seq').on(t.treasuryId, t.seq),
  index('interventions_treasury_time').on(t.treasuryId, t.startedAt),
  check('interventions_status', oneOf('status', INTERVENTION_STATUSES)),
]);

/** What each workflow step saw and decided: the audit trail of an intervention. */
export const interventionSteps = sqliteTable('intervention_steps', {
  interventionId: text('intervention_id').notNull().references(() => interventions.id, { onDelete: 'cascade' }),
  /** 'validate' | 'assess' | 'size' | 'timelock' | 'swap' | 'track:1h' | … */
  step: text('step').notNull(),
  treasuryId: text('treasury_id').notNull(),
  at: epochMs('at').notNull(),
  inputs: json('inputs').notNull(),
  outcome: json('outcome').notNull(),
  verdict: text('verdict').notNull(),
}, (t) => [
  primaryKey({ columns: [t.interventionId, t.step] }),
  index('intervention_steps_treasury_time').on(t.treasuryId, t.at),
]);

/** The whole record of one monitoring cycle. */
export const monitoringLogs = sqliteTable('monitoring_logs', {
  treasuryId: text('treasury_id').notNull(),
  cycleId: text('cycle_id').notNull(),
  at: epochMs('at').notNull(),
  data: json('data').notNull(),
}, (t) => [
  primaryKey({ columns: [t.treasuryId, t.cycleId] }),
  index('monitoring_logs_treasury_time').on(t.treasuryId, t.at),
]);

/** Alerts (SPEC §7); `alert_key` makes a re-raised alert the same alert. */
export const alerts = sqliteTable('alerts', {
  treasuryId: text('treasury_id').notNull(),
  alertKey: text('alert_key').notNull(),
  at: epochMs('at').notNull(),
  level: text('level', { enum: ALERT_LEVELS }).notNull(),
  kind: text('kind').notNull(),
  message: text('message').notNull(),
  data: json('data'),
  delivered: integer('delivered', { mode: 'boolean' }).notNull().default(false),
}, (t) => [
  primaryKey({ columns: [t.treasuryId, t.alertKey] }),
  index('alerts_treasury_time').on(t.treasuryId, t.at),
  check('alerts_level', oneOf('level', ALERT_LEVELS)),
]);

/** Governance proposals (SPEC §9). */
export const proposals = sqliteTable('proposals', {
  id: text('id').primaryKey(),
  treasuryId: text('treasury_id').notNull(),
  kind: text('kind').notNull(),
  description: text('description').notNull(),
  change: json('change').notNull(),
  createdAt: epochMs('created_at').notNull(),
  deadline: epochMs('deadline').notNull(),
  status: text('status').notNull(),
  /** Voting power of every holder when the proposal opened. */
  snapshot: json('snapshot').notNull(),
  /** Tally and result; null (SQL NULL) until the vote closes. */
  outcome: json('outcome'),
}, (t) => [
  index('proposals_treasury_time').on(t.treasuryId, t.createdAt),
]);

/** One vote per holder per proposal; a later vote replaces the earlier (SPEC §9). */
export const votes = sqliteTable('votes', {
  proposalId: text('proposal_id').notNull().references(() => proposals.id, { onDelete: 'cascade' }),
  voter: text('voter').notNull(),
  treasuryId: text('treasury_id').notNull(),
  at: epochMs('at').notNull(),
  choice: text('choice', { enum: VOTE_CHOICES }).notNull(),
  power: real('power').notNull(),
}, (t) => [
  primaryKey({ columns: [t.proposalId, t.voter] }),
  index('votes_treasury_time').on(t.treasuryId, t.at),
  check('votes_choice', oneOf('choice', VOTE_CHOICES)),
]);

/**
 * The at-most-once ledger of swaps (SPEC §5 step 5): a slice is recorded as
 * `prepared` before anything is sent, so a retried activity finds it and
 * never sends a second transaction.
 */
export const swapRecords = sqliteTable('swap_records', {
  interventionId: text('intervention_id').notNull().references(() => interventions.id, { onDelete: 'cascade' }),
  /** 0 for an unsplit swap; 0, 1, … for slices. */
  slice: integer('slice').notNull(),
  treasuryId: text('treasury_id').notNull(),
  at: epochMs('at').notNull(),
  status: text('status', { enum: SWAP_STATUSES }).notNull(),
  pumpIn: amount('pump_in').notNull(),
  /** Null until the output is known. */
  pstrOut: amount('pstr_out'),
  signature: text('signature'),
  details: json('details').notNull(),
  updatedAt: epochMs('updated_at').notNull(),
}, (t) => [
  primaryKey({ columns: [t.interventionId, t.slice] }),
  index('swap_records_treasury_time').on(t.treasuryId, t.at),
  check('swap_records_status', oneOf('status', SWAP_STATUSES)),
]);

// ── Paper ledger (paper mode's treasury; src/paper/ledger.ts) ────────────────

/** Signed integer amount in base units (a ledger delta), as decimal TEXT. */
const signedAmount = (name: string) =>
  customType<{ data: bigint; driverData: string }>({
    dataType: () => 'text',
    toDriver: (value) => amountText(name, value, true),
    fromDriver: (text) => BigInt(text),
  })(name);

/** The paper treasury's balances: one row per treasury, moved only together with a ledger entry. */
export const ledgerBalances = sqliteTable('ledger_balances', {
  treasuryId: text('treasury_id').primaryKey(),
  pump: amount('pump').notNull(),
  usdc: amount('usdc').notNull(),
  sol: amount('sol').notNull(),
  /** PSTR bought back and retired from float. */
  pstrRetired: amount('pstr_retired').notNull(),
  updatedAt: epochMs('updated_at').notNull(),
});

/**
 * Every movement of the paper treasury. The key ("swap/<interventionId>/<slice>",
 * an accumulation key, "rebalance/<pool>/<UTC day>") is the at-most-once
 * guard: an entry and its balance change are written in one transaction, and
 * only when the entry was not there yet.
 */
export const ledgerEntries = sqliteTable('ledger_entries', {
  treasuryId: text('treasury_id').notNull(),
  entryKey: text('entry_key').notNull(),
  at: epochMs('at').notNull(),
  kind: text('kind', { enum: LEDGER_ENTRY_KINDS }).notNull(),
  pumpDelta: signedAmount('pump_delta').notNull(),
  usdcDelta: signedAmount('usdc_delta').notNull(),
  solDelta: signedAmount('sol_delta').notNull(),
  pstrDelta: signedAmount('pstr_delta').notNull(),
  /** The price the entry was made at (PSTR USD for a swap, PUMP USD for an accumulation, pool price for a rebalance); null for init. */
  price: real('price'),
  details: json('details').notNull(),
}, (t) => [
  primaryKey({ columns: [t.treasuryId, t.entryKey] }),
  index('ledger_entries_treasury_time').on(t.treasuryId, t.at),
  check('ledger_entries_kind', oneOf('kind', LEDGER_ENTRY_KINDS)),
]);

/** The paper treasury's concentrated-liquidity positions (SPEC §8), one per pool. */
export const lpPositions = sqliteTable('lp_positions', {
  treasuryId: text('treasury_id').notNull(),
  pool: text('pool').notNull(),
  quote: text('quote', { enum: POOL_QUOTES }).notNull(),
  liquidity: real('liquidity').notNull(),
  lower: real('lower').notNull(),
  upper: real('upper').notNull(),
  center: real('center').notNull(),
  /** Amounts (base PSTR, quote token; whole tokens) at opening or the last rebalance: the "holding" of impermanent loss. */
  entryBase: real('entry_base').notNull(),
  entryQuote: real('entry_quote').notNull(),
  lastRebalanceAt: epochMs('last_rebalance_at'),
  rebalances: integer('rebalances').notNull().default(0),
}, (t) => [
  primaryKey({ columns: [t.treasuryId, t.pool] }),
  check('lp_positions_quote', oneOf('quote', POOL_QUOTES)),
]);

/**
 * The monitor's safety state, one row per treasury: pause and the emergency
 * latch with who and why, the last executed swap, the next intervention
 * sequence number and the trailing intervention starts. It outlives the
 * monitor workflow (termination, reset, a lost namespace): a fresh monitor
 * bootstraps from it, and the gates read it as the source of truth.
 * `version` counts the writes (1 for the first).
 */
export const controlState = sqliteTable('control_state', {
  treasuryId: text('treasury_id').primaryKey(),
  paused: integer('paused', { mode: 'boolean' }).notNull(),
  pausedBy: text('paused_by'),
  pauseReason: text('pause_reason'),
  emergencyStop: integer('emergency_stop', { mode: 'boolean' }).notNull(),
  latchedBy: text('latched_by'),
  latchReason: text('latch_reason'),
  latchedAt: epochMs('latched_at'),
  lastExecutedSwapAt: epochMs('last_executed_swap_at'),
  nextSeq: integer('next_seq').notNull(),
  /** Epoch ms of the interventions started in the trailing window (JSON array). */
  interventionStarts: json('intervention_starts').notNull(),
  version: integer('version').notNull(),
  updatedAt: epochMs('updated_at').notNull(),
});

// ── Money journal (helper D, issue #10): every non-intervention money movement ──

/**
 * The at-most-once journal of money movements that have no intervention row
 * (hourly accumulation buys; liquidity rebalances once they move money live),
 * shared by every worker through the store, keyed by (treasury, path, key).
 * The same status machine as swap_records (prepared → sent → confirmed |
 * failed); `revision` counts the writes, and every update is a
 * compare-and-set on it (UPDATE … WHERE revision = the one read, checked by
 * rows affected), so two workers racing on one key never both attach a
 * transaction, whichever process they run in.
 */
export const moneyJournal = sqliteTable('money_journal', {
  treasuryId: text('treasury_id').notNull(),
  path: text('path', { enum: MONEY_PATHS }).notNull(),
  key: text('key').notNull(),
  at: epochMs('at').notNull(),
  status: text('status', { enum: SWAP_STATUSES }).notNull(),
  amountIn: amount('amount_in').notNull(),
  /** Null until the output is known. */
  amountOut: amount('amount_out'),
  signature: text('signature'),
  details: json('details').notNull(),
  revision: integer('revision').notNull(),
  updatedAt: epochMs('updated_at').notNull(),
}, (t) => [
  primaryKey({ columns: [t.treasuryId, t.path, t.key] }),
  index('money_journal_treasury_time').on(t.treasuryId, t.at),
  check('money_journal_status', oneOf('status', SWAP_STATUSES)),
  check('money_journal_path', oneOf('path', MONEY_PATHS)),
]);

export type InterventionStatus = (typeof INTERVENTION_STATUSES)[number];
export type SwapStatus = (typeof SWAP_STATUSES)[number];
export type AlertLevel = (typeof ALERT_LEVELS)[number];

/** The running sums' columns: the store computes and reads them; callers neither write nor see them. */
export type RunningSumColumn = 'cumPriceVolume' | 'cumVolume' | 'cumPrice' | 'cumCount';
export type PriceSampleRow = Omit<typeof priceSamples.$inferSelect, RunningSumColumn>;
export type NewPriceSample = Omit<typeof priceSamples.$inferInsert, RunningSumColumn>;
/** A row as stored, with its running sums (null on a row not backfilled yet). */
export type StoredPriceSample = typeof priceSamples.$inferSelect;
export type SnapshotRow = typeof treasurySnapshots.$inferSelect;
export type NewSnapshot = typeof treasurySnapshots.$inferInsert;
export type InterventionRow = typeof interventions.$inferSelect;
export type NewIntervention = typeof interventions.$inferInsert;
export type InterventionStepRow = typeof interventionSteps.$inferSelect;
export type NewInterventionStep = typeof interventionSteps.$inferInsert;
export type MonitoringLogRow = typeof monitoringLogs.$inferSelect;
export type NewMonitoringLog = typeof monitoringLogs.$inferInsert;
export type AlertRow = typeof alerts.$inferSelect;
export type NewAlert = typeof alerts.$inferInsert;
export type ProposalRow = typeof proposals.$inferSelect;
export type NewProposal = typeof proposals.$inferInsert;
export type VoteRow = typeof votes.$inferSelect;
export type NewVote = typeof votes.$inferInsert;
export type SwapRow = typeof swapRecords.$inferSelect;
export type NewSwap = typeof swapRecords.$inferInsert;
export type LedgerEntryKind = (typeof LEDGER_ENTRY_KINDS)[number];
export type LedgerBalanceRow = typeof ledgerBalances.$inferSelect;
export type LedgerEntryRow = typeof ledgerEntries.$inferSelect;
export type NewLedgerEntry = typeof ledgerEntries.$inferInsert;
export type ControlStateRow = typeof controlState.$inferSelect;
export type NewControlState = typeof controlState.$inferInsert;
export type MoneyJournalRow = typeof moneyJournal.$inferSelect;
export type NewMoneyJournal = typeof moneyJournal.$inferInsert;
export type MoneyPath = (typeof MONEY_PATHS)[number];
export type LpPositionRow = typeof lpPositions.$inferSelect;
export type NewLpPosition = typeof lpPositions.$inferInsert;

// ── Config authority (issue #10 item 6): the running configuration, versioned ──

/**
 * Every configuration a treasury's monitor has run under, one row per
 * version (1, 2, …): the store and the monitor are its one authority, and
 * schedules, interventions and executors read the newest row. `source` says
 * where a version came from: `file` (the first, from the config file),
 * `operator` (an accepted updateConfig) or `governance <proposal id>`. Rows
 * are never changed: a new configuration is a new version.
 */
export const configVersions = sqliteTable('config_versions', {
  treasuryId: text('treasury_id').notNull(),
  version: integer('version').notNull(),
  config: json('config').notNull(),
  source: text('source').notNull(),
  by: text('by'),
  at: epochMs('at').notNull(),
}, (t) => [
  primaryKey({ columns: [t.treasuryId, t.version] }),
  index('config_versions_treasury_time').on(t.treasuryId, t.at),
]);

export type ConfigVersionRow = typeof configVersions.$inferSelect;
export type NewConfigVersion = typeof configVersions.$inferInsert;

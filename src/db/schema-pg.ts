/**
 * The PostgreSQL schema: the same tables, columns, keys and checks as the
 * SQLite schema (src/db/schema.ts), for several workers sharing one store
 * (`DATABASE_URL`). Row types are identical to SQLite's (checked in
 * src/db/schema-pg.test.ts), which lets one store implementation run on both.
 *
 * Types chosen for an auditor querying PostgreSQL directly: amounts are
 * NUMERIC(40, 0) (exact, summable; u128 needs 39 digits), times are BIGINT
 * epoch milliseconds, details are JSONB, floats are DOUBLE PRECISION.
 *
 * After editing run `npm run db:generate` and commit `drizzle-pg/`.
 */
import { sql } from 'drizzle-orm';
import { boolean, check, customType, index, integer, pgTable, primaryKey, text, unique } from 'drizzle-orm/pg-core';
import {
  ALERT_LEVELS, amountText, epochMsValue, HEALTH_LEVELS, INTERVENTION_STATUSES, LEDGER_ENTRY_KINDS, oneOfSql, POOL_QUOTES,
  realValue, safeIntegerFrom, SWAP_STATUSES, toJsonText, VOTE_CHOICES, MONEY_PATHS,
} from './values.ts';

/** Non-negative integer amount in base units. */
const amount = (name: string) =>
  customType<{ data: bigint; driverData: string }>({
    dataType: () => 'numeric(40, 0)',
    toDriver: (value) => amountText(name, value),
    fromDriver: (text) => BigInt(text),
  })(name);

/** Signed integer amount in base units (a ledger delta). */
const signedAmount = (name: string) =>
  customType<{ data: bigint; driverData: string }>({
    dataType: () => 'numeric(40, 0)',
    toDriver: (value) => amountText(name, value, true),
    fromDriver: (text) => BigInt(text),
  })(name);

/** A non-negative running sum (bigint), unbounded NUMERIC: a year of price·volume terms outgrows NUMERIC(40, 0). */
const runningSum = (name: string) =>
  customType<{ data: bigint; driverData: string }>({
    dataType: () => 'numeric',
    toDriver: (value) => amountText(name, value),
    fromDriver: (text) => BigInt(text),
  })(name);

/** Arbitrary JSON details; bigint inside becomes a decimal string. node-postgres parses JSONB on the way out. */
const json = (name: string) =>
  customType<{ data: unknown; driverData: unknown }>({
    dataType: () => 'jsonb',
    toDriver: (value) => toJsonText(value, name),
    fromDriver: (value) => (typeof value === 'string' ? JSON.parse(value) : value) as unknown,
  })(name);

/** DOUBLE PRECISION that refuses NaN (PostgreSQL would store it). */
const real = (name: string) =>
  customType<{ data: number; driverData: number }>({
    dataType: () => 'double precision',
    toDriver: (value) => realValue(name, value),
    fromDriver: (value) => Number(value),
  })(name);

/** UTC epoch milliseconds; node-postgres returns BIGINT as text. */
const epochMs = (name: string) =>
  customType<{ data: number; driverData: number | string }>({
    dataType: () => 'bigint',
    toDriver: (value) => epochMsValue(name, value),
    fromDriver: (value) => safeIntegerFrom(name, value),
  })(name);

const oneOf = (column: string, values: readonly string[]) => sql.raw(oneOfSql(column, values));

export const priceSamples = pgTable('price_samples', {
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
export const treasurySnapshots = pgTable('treasury_snapshots', {
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
  emergencyStop: boolean('emergency_stop').notNull(),
}, (t) => [
  primaryKey({ columns: [t.treasuryId, t.snapshotId] }),
  index('treasury_snapshots_treasury_time').on(t.treasuryId, t.at),
  check('treasury_snapshots_health_level', oneOf('health_level', HEALTH_LEVELS)),
]);

/** One row per intervention workflow (SPEC §4–5), updated as it progresses. */
export const interventions = pgTable('interventions', {
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
export const interventionSteps = pgTable('intervention_steps', {
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
export const monitoringLogs = pgTable('monitoring_logs', {
  treasuryId: text('treasury_id').notNull(),
  cycleId: text('cycle_id').notNull(),
  at: epochMs('at').notNull(),
  data: json('data').notNull(),
}, (t) => [
  primaryKey({ columns: [t.treasuryId, t.cycleId] }),
  index('monitoring_logs_treasury_time').on(t.treasuryId, t.at),
]);

/** Alerts (SPEC §7); `alert_key` makes a re-raised alert the same alert. */
export const alerts = pgTable('alerts', {
  treasuryId: text('treasury_id').notNull(),
  alertKey: text('alert_key').notNull(),
  at: epochMs('at').notNull(),
  level: text('level', { enum: ALERT_LEVELS }).notNull(),
  kind: text('kind').notNull(),
  message: text('message').notNull(),
  data: json('data'),
  delivered: boolean('delivered').notNull().default(false),
}, (t) => [
  primaryKey({ columns: [t.treasuryId, t.alertKey] }),
  index('alerts_treasury_time').on(t.treasuryId, t.at),
  check('alerts_level', oneOf('level', ALERT_LEVELS)),
]);

/** Governance proposals (SPEC §9). */
export const proposals = pgTable('proposals', {
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
export const votes = pgTable('votes', {
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
export const swapRecords = pgTable('swap_records', {
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

/** The paper treasury's balances: one row per treasury, moved only together with a ledger entry. */
export const ledgerBalances = pgTable('ledger_balances', {
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
export const ledgerEntries = pgTable('ledger_entries', {
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
export const lpPositions = pgTable('lp_positions', {
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
export const controlState = pgTable('control_state', {
  treasuryId: text('treasury_id').primaryKey(),
  paused: boolean('paused').notNull(),
  pausedBy: text('paused_by'),
  pauseReason: text('pause_reason'),
  emergencyStop: boolean('emergency_stop').notNull(),
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

// ── Config authority (issue #10 item 6): the running configuration, versioned ──

/** Every configuration a treasury's monitor has run under, one row per version (see src/db/schema.ts). */
export const configVersions = pgTable('config_versions', {
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
export const moneyJournal = pgTable('money_journal', {
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

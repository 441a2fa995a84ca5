/**
 * The treasury agent's store, written by Temporal activities and read by
 * reports and audits: one SQLite file (the embedded default) or a PostgreSQL
 * database shared by several workers (`DATABASE_URL`); src/db/connection.ts
 * holds the difference. Activities may be retried, so every write is
 * idempotent on the table's natural key: `record*` inserts or ignores (and
 * says which), `upsert*` replaces the mutable fields, and `updateSwap` only
 * moves a swap forward.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { join } from 'node:path';
import { and, asc, desc, DrizzleQueryError, eq, getTableColumns, gt, gte, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import {
  connectPostgres, isPostgresUrl, openSqlite, type Connection, type Db, type PostgresOptions, type SqliteOptions, type Tables,
} from './connection.ts';
import { StoreValueError } from './schema.ts';
import type { ConfigVersionRow, NewConfigVersion } from './schema.ts';
import type {
  AlertLevel, AlertRow, ControlStateRow, InterventionRow, InterventionStatus, InterventionStepRow, MonitoringLogRow, NewAlert,
  NewIntervention, NewInterventionStep, NewMonitoringLog, NewPriceSample, NewProposal, NewSnapshot, NewSwap, NewVote,
  PriceSampleRow, ProposalRow, SnapshotRow, SwapRow, SwapStatus, VoteRow,
} from './schema.ts';
import type { MoneyJournalRow, MoneyPath, NewMoneyJournal } from './schema.ts';
import type { StoredPriceSample } from './schema.ts';
import { addSums, NO_SUMS, sampleTerms, type VwapPrefixes, type VwapSums } from '../domain/vwap-prefix.ts';

export type { VwapPrefixes } from '../domain/vwap-prefix.ts';

export { StoreValueError, bigintReplacer } from './schema.ts';
export type { Db, Tables } from './connection.ts';
export type {
  AlertLevel, AlertRow, ControlStateRow, InterventionRow, InterventionStatus, InterventionStepRow, MonitoringLogRow, NewAlert,
  NewIntervention, NewInterventionStep, NewMonitoringLog, NewPriceSample, NewProposal, NewSnapshot, NewSwap, NewVote,
  PriceSampleRow, ProposalRow, SnapshotRow, SwapRow, SwapStatus, VoteRow,
} from './schema.ts';
export type { MoneyJournalRow, MoneyPath, NewMoneyJournal } from './schema.ts';

/** What a money journal update may set; omitted optional fields keep their value. */
export interface MoneyRecordChange {
  status: SwapStatus;
  updatedAt: number;
  details: unknown;
  amountOut?: bigint | null;
  signature?: string | null;
}

export type { ConfigVersionRow, NewConfigVersion } from './schema.ts';

export type OpenOptions = SqliteOptions & PostgresOptions;

/** The fields a swap's later stages may set; omitted fields keep their value. */
export interface SwapUpdate {
  status: SwapStatus;
  updatedAt: number;
  pstrOut?: bigint | null;
  signature?: string | null;
  details?: unknown;
}

// A swap only moves forward, so a stale retry can never re-open a settled one.
const SWAP_STAGE: Record<SwapStatus, number> = { prepared: 0, sent: 1, confirmed: 2, failed: 2 };

/** What a control-state write gives: the fields the writer sets (the store counts `version`). */
export type ControlStateWrite = Omit<ControlStateRow, 'version'>;

/** What the interventions table says about a treasury's safety state, for a monitor that starts fresh. */
export interface InterventionBootstrap {
  /** The largest sequence number ever recorded (null: none yet). */
  maxSeq: number | null;
  /** The latest `executed_at` of an executed intervention. */
  lastExecutedAt: number | null;
  /** Ids of the rows still `running`, oldest first. */
  running: string[];
  /** `started_at` of the interventions started at or after `sinceMs`, oldest first. */
  startsSince: number[];
}

/** Rows per INSERT when loading many price samples (PostgreSQL allows 65,535 parameters; 12 columns each). */
const BULK_ROWS = 1000;

type RunningSums = Pick<StoredPriceSample, 'cumPriceVolume' | 'cumVolume' | 'cumPrice' | 'cumCount'>;

/** A row's running sums; null on a row written before they existed (not backfilled yet). */
function sumsOfRow(r: RunningSums): VwapSums | null {
  if (r.cumPriceVolume === null || r.cumVolume === null || r.cumPrice === null || r.cumCount === null) return null;
  return { priceVolume: r.cumPriceVolume, volume: r.cumVolume, price: r.cumPrice, count: r.cumCount };
}

function rowOfSums(s: VwapSums): RunningSums {
  return { cumPriceVolume: s.priceVolume, cumVolume: s.volume, cumPrice: s.price, cumCount: s.count };
}

const NO_RUNNING_SUMS: RunningSums = { cumPriceVolume: null, cumVolume: null, cumPrice: null, cumCount: null };

/** One sample's VWAP terms; a price or volume the VWAP cannot weigh is refused before anything is written. */
function termsOf(s: NewPriceSample): VwapSums {
  try {
    return sampleTerms(s.pstrPrice, s.pstrVolume);
  } catch (error) {
    throw new StoreValueError(`price sample ${s.treasuryId}/${s.cycleId}: ${(error as Error).message}`);
  }
}

/** The price_samples columns a caller sees (everything but the running sums). */
function sampleColumns(p: Tables['priceSamples']) {
  const { cumPriceVolume: _pv, cumVolume: _v, cumPrice: _p, cumCount: _n, ...columns } = getTableColumns(p);
  return columns;
}

/** The running sums' columns and the timestamp, for prefix lookups. */
function sumColumns(p: Tables['priceSamples']) {
  return { timestamp: p.timestamp, cumPriceVolume: p.cumPriceVolume, cumVolume: p.cumVolume, cumPrice: p.cumPrice, cumCount: p.cumCount };
}

/** `SET col = excluded.col` for every column but the immutable ones: an upsert's replacement. */
function replaceAllBut<T extends SQLiteTable>(table: T, immutable: readonly string[]): Record<string, SQL> {
  const set: Record<string, SQL> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    if (!immutable.includes(key)) set[key] = sql.raw(`excluded."${column.name}"`);
  }
  return set;
}

/** A database's refusal (constraint, lock, serialization), said by the database, with the statement it refused. */
export class StoreQueryError extends Error {
  /** The database's error code (PostgreSQL SQLSTATE or SQLite code), e.g. '23503' or 'SQLITE_CONSTRAINT_FOREIGNKEY'. */
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'StoreQueryError';
    this.code = code;
  }
}

/** drizzle reports "Failed query: <sql> params: <values>" and keeps the database's own words in `cause`: lead with those. */
function databaseError(error: unknown): unknown {
  if (!(error instanceof DrizzleQueryError) || !(error.cause instanceof Error)) return error;
  const statement = error.query.slice(0, 120);
  return new StoreQueryError(`${error.cause.message} (in: ${statement})`, (error.cause as { code?: string }).code, error.cause);
}

/** JSON with object keys sorted: two equal configurations compare equal whatever order a database gives their keys in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v));
}

/** Whether a stored version holds what a writer asks to append (a retried append finds its own row). */
const sameVersion = (row: ConfigVersionRow, v: NewConfigVersion) =>
  row.source === v.source && (row.by ?? null) === (v.by ?? null) && canonicalJson(row.config) === canonicalJson(v.config);

/** What `.returning(ONE)` gives back: one element per row written. */
const ONE = { one: sql<number>`1` };

/** A bulk load's samples with their terms, per treasury, in the order given. */
function groupByTreasury(samples: readonly NewPriceSample[], terms: readonly VwapSums[]): Map<string, { sample: NewPriceSample; terms: VwapSums }[]> {
  const groups = new Map<string, { sample: NewPriceSample; terms: VwapSums }[]>();
  samples.forEach((sample, i) => {
    const group = groups.get(sample.treasuryId) ?? [];
    group.push({ sample, terms: terms[i] as VwapSums });
    groups.set(sample.treasuryId, group);
  });
  return groups;
}

export class TreasuryStore {
  /** The transaction the current async call chain runs in, if any: store calls inside it join it. */
  private readonly scope = new AsyncLocalStorage<Db>();

  private constructor(private readonly conn: Connection) {}

  /** Opens (creating if needed) the SQLite database at `path` and brings its schema up to date. */
  static open(path: string, options: SqliteOptions = {}): TreasuryStore {
    return new TreasuryStore(openSqlite(path, options));
  }

  /** Connects to the PostgreSQL database at `url` and brings its schema up to date. */
  static async connect(url: string, options: PostgresOptions = {}): Promise<TreasuryStore> {
    return new TreasuryStore(await connectPostgres(url, options));
  }

  /** Where a treasury's embedded SQLite store lives in a data directory (no `DATABASE_URL`). */
  static defaultPath(dataDir: string, treasuryId: string): string {
    return join(dataDir, `treasury-${treasuryId}.sqlite`);
  }

  /** A `postgres://` URL connects to PostgreSQL; anything else is a SQLite file path. */
  static async at(location: string, options: OpenOptions = {}): Promise<TreasuryStore> {
    return isPostgresUrl(location) ? TreasuryStore.connect(location, options) : TreasuryStore.open(location, options);
  }

  get dialect(): Connection['dialect'] {
    return this.conn.dialect;
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  /** This database's tables, for modules that own their tables' SQL (the paper ledger, alert delivery, reports). */
  get tables(): Tables {
    return this.conn.tables;
  }

  /**
   * Runs a query of a module that owns its SQL. Inside `transaction` it is
   * part of the transaction. Write it against `tables`, await the builder
   * (no `.get()`/`.all()`/`.run()`: those exist on SQLite only) and use
   * `.returning()` to learn what was written.
   */
  query<T>(op: (db: Db, tables: Tables) => Promise<T>): Promise<T> {
    const tx = this.scope.getStore();
    const run = tx ? op(tx, this.conn.tables) : this.conn.run((db) => op(db, this.conn.tables));
    return run.catch((error: unknown) => {
      throw databaseError(error);
    });
  }

  /** The text at `path` inside a JSON column, for a WHERE clause. */
  jsonText(column: Parameters<Connection['jsonText']>[0], ...path: string[]): SQL {
    return this.conn.jsonText(column, path);
  }

  /** Runs `fn` atomically: if it throws, nothing written through this store inside it remains. Nests as a savepoint. */
  transaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = this.scope.getStore();
    return this.conn.transaction((tx) => this.scope.run(tx, fn), outer);
  }

  private first<T>(rows: Promise<T[]>): Promise<T | undefined> {
    return rows.then((r) => r[0]);
  }

  // ── Prices ────────────────────────────────────────────────────────────────
  //
  // Each sample row carries the running VWAP sums of its treasury up to and
  // including it (src/domain/vwap-prefix.ts), in (timestamp, cum_count) order,
  // so a window's VWAP reads three rows whatever it holds (vwapPrefixes). A
  // sample that arrives in time order (every live cycle) takes its sums from
  // the last row inside the write's transaction; one that lands before later
  // rows, or after rows written before the sums existed, has its treasury's
  // sums rebuilt from its place on (rebuildRunningSums), which is rare.

  /** Inserts the sample (or ignores it: its cycle id is already recorded, say by a retried activity) with its running sums. */
  recordPriceSample(s: NewPriceSample): Promise<boolean> {
    const terms = termsOf(s);
    return this.transaction(async () => {
      const last = await this.lastSampleSums(s.treasuryId);
      const previous = last ? sumsOfRow(last) : NO_SUMS;
      // In order after sums that exist: the row's sums are the previous row's plus its own terms.
      if (previous && (!last || s.timestamp >= last.timestamp)) return this.insertSamples([{ ...s, ...rowOfSums(addSums(previous, terms)) }]).then((n) => n > 0);
      const written = await this.insertSamples([{ ...s, ...NO_RUNNING_SUMS }]);
      if (written > 0 || !previous) await this.rebuildRunningSums(s.treasuryId);
      return written > 0;
    });
  }

  /** recordPriceSample for many rows, atomically; returns how many were new. */
  recordPriceSamples(samples: readonly NewPriceSample[]): Promise<number> {
    const terms = samples.map(termsOf);
    return this.transaction(async () => {
      let written = 0;
      for (const [treasuryId, batch] of groupByTreasury(samples, terms)) written += await this.appendSamples(treasuryId, batch);
      return written;
    });
  }

  /**
   * The prefix rows of the window t − windowMs < timestamp ≤ t: three indexed
   * lookups of at most one row each on (treasury_id, timestamp), however many
   * samples the window holds.
   */
  vwapPrefixes(treasuryId: string, t: number, windowMs: number): Promise<VwapPrefixes> {
    return this.transaction(async () => {
      let prefixes = await this.readPrefixes(treasuryId, t, windowMs);
      if (prefixes === null) {
        // A row written before the running sums existed (an upgraded store, or an older worker): backfill, once.
        await this.rebuildRunningSums(treasuryId);
        prefixes = await this.readPrefixes(treasuryId, t, windowMs);
        if (prefixes === null) throw new StoreValueError(`price samples of ${treasuryId}: running sums still missing after the backfill`);
      }
      return prefixes;
    });
  }

  /**
   * Computes the running sums of every row that lacks them, in every treasury
   * (rows written before the sums existed). The store also does this on its
   * own the first time it meets such a row; returns how many treasuries it rebuilt.
   */
  backfillRunningSums(): Promise<number> {
    return this.transaction(async () => {
      const stale = await this.query((db, { priceSamples: p }) => db.selectDistinct({ treasuryId: p.treasuryId }).from(p).where(isNull(p.cumCount)));
      for (const { treasuryId } of stale) await this.rebuildRunningSums(treasuryId);
      return stale.length;
    });
  }

  /** Only what a VWAP needs (time, price, volume) with `fromMs ≤ timestamp ≤ toMs`, oldest first: the naive window, for audits and comparisons. */
  vwapSamples(treasuryId: string, fromMs: number, toMs: number): Promise<{ timestamp: number; price: number; volume: number }[]> {
    return this.query((db, { priceSamples: p }) => db.select({ timestamp: p.timestamp, price: p.pstrPrice, volume: p.pstrVolume }).from(p)
      .where(and(eq(p.treasuryId, treasuryId), gte(p.timestamp, fromMs), lte(p.timestamp, toMs)))
      .orderBy(asc(p.timestamp), asc(p.cycleId)));
  }

  /** Samples with `fromMs ≤ timestamp ≤ toMs`, oldest first. */
  priceSamples(treasuryId: string, fromMs: number, toMs: number): Promise<PriceSampleRow[]> {
    return this.query((db, { priceSamples: p }) => db.select(sampleColumns(p)).from(p)
      .where(and(eq(p.treasuryId, treasuryId), gte(p.timestamp, fromMs), lte(p.timestamp, toMs)))
      .orderBy(asc(p.timestamp), asc(p.cycleId)));
  }

  latestPriceSample(treasuryId: string): Promise<PriceSampleRow | undefined> {
    return this.first(this.query((db, { priceSamples: p }) => db.select(sampleColumns(p)).from(p).where(eq(p.treasuryId, treasuryId))
      .orderBy(desc(p.timestamp), desc(p.cycleId)).limit(1)));
  }

  /** Inserts rows, ignoring recorded cycle ids; returns how many were new. */
  private insertSamples(rows: readonly (NewPriceSample & RunningSums)[]): Promise<number> {
    if (this.dialect === 'sqlite' && rows.length > 1) return this.insertSamplesPrepared(rows);
    return this.query(async (db, t) => {
      let written = 0;
      for (let i = 0; i < rows.length; i += BULK_ROWS) {
        written += (await db.insert(t.priceSamples).values(rows.slice(i, i + BULK_ROWS)).onConflictDoNothing().returning(ONE)).length;
      }
      return written;
    });
  }

  /**
   * SQLite's bulk insert: one prepared statement run per row. Building a
   * multi-row INSERT costs drizzle a few microseconds per value, and with the
   * running sums a 30-day seeding has 100,000 of them; better-sqlite3 runs a
   * prepared row in about one. Values are encoded by their columns as drizzle
   * would (NULL stays NULL). PostgreSQL keeps multi-row INSERTs: a row per
   * round trip would be slower there.
   */
  private insertSamplesPrepared(rows: readonly (NewPriceSample & RunningSums)[]): Promise<number> {
    return this.query((db, { priceSamples: p }) => {
      const columns = Object.entries(getTableColumns(p));
      const slots = Object.fromEntries(columns.map(([key]) => [key, sql`${sql.placeholder(key)}`]));
      const insert = db.insert(p).values(slots as unknown as NewPriceSample).onConflictDoNothing().prepare();
      let written = 0;
      for (const row of rows) {
        const values = Object.fromEntries(columns.map(([key, column]) => {
          const v = (row as Record<string, unknown>)[key];
          return [key, v === null || v === undefined ? null : column.mapToDriverValue(v)];
        }));
        written += insert.run(values).changes;
      }
      return Promise.resolve(written);
    });
  }

  /** One treasury's share of a bulk load: new cycle ids only, summed in time order when they all come after its last row. */
  private async appendSamples(treasuryId: string, batch: readonly { sample: NewPriceSample; terms: VwapSums }[]): Promise<number> {
    const last = await this.lastSampleSums(treasuryId);
    // A treasury without rows has no cycle id to look up (the usual first seeding).
    const fresh = await this.unrecorded(treasuryId, batch, last !== undefined);
    if (fresh.length === 0) return 0;
    let sums = last ? sumsOfRow(last) : NO_SUMS;
    const first = fresh[0] as { sample: NewPriceSample };
    if (sums === null || (last && first.sample.timestamp < last.timestamp)) {
      const written = await this.insertSamples(fresh.map((f) => ({ ...f.sample, ...NO_RUNNING_SUMS })));
      await this.rebuildRunningSums(treasuryId);
      return written;
    }
    const rows = fresh.map((f) => {
      sums = addSums(sums as VwapSums, f.terms);
      return { ...f.sample, ...rowOfSums(sums) };
    });
    return this.insertSamples(rows);
  }

  /** The batch without cycle ids already stored or repeated in it (the first wins), in time order (stable). */
  private async unrecorded<T extends { sample: NewPriceSample }>(treasuryId: string, batch: readonly T[], lookUp: boolean): Promise<T[]> {
    const stored = new Set<string>();
    for (let i = 0; lookUp && i < batch.length; i += BULK_ROWS) {
      const ids = batch.slice(i, i + BULK_ROWS).map((b) => b.sample.cycleId);
      const rows = await this.query((db, { priceSamples: p }) => db.select({ cycleId: p.cycleId }).from(p)
        .where(and(eq(p.treasuryId, treasuryId), inArray(p.cycleId, ids))));
      for (const r of rows) stored.add(r.cycleId);
    }
    const fresh = batch.filter((b) => !stored.has(b.sample.cycleId) && (stored.add(b.sample.cycleId), true));
    return fresh.sort((a, b) => a.sample.timestamp - b.sample.timestamp);
  }

  /** The treasury's last row in (timestamp, cum_count) order, with timestamp ≤ `atMost` when given: one indexed lookup. */
  private lastSampleSums(treasuryId: string, atMost?: number): Promise<(RunningSums & { timestamp: number }) | undefined> {
    return this.first(this.query((db, { priceSamples: p }) => db.select(sumColumns(p)).from(p)
      .where(and(eq(p.treasuryId, treasuryId), atMost === undefined ? undefined : lte(p.timestamp, atMost)))
      .orderBy(desc(p.timestamp), desc(p.cumCount)).limit(1)));
  }

  /** The three prefix lookups; null when a row met lacks its sums (written before they existed). */
  private async readPrefixes(treasuryId: string, t: number, windowMs: number): Promise<VwapPrefixes | null> {
    const start = t - windowMs;
    const upTo = await this.lastSampleSums(treasuryId, t);
    if (!upTo) return { upTo: null, before: null, oldest: null };
    const before = await this.lastSampleSums(treasuryId, start);
    const oldest = await this.first(this.query((db, { priceSamples: p }) => db.select({ timestamp: p.timestamp }).from(p)
      .where(and(eq(p.treasuryId, treasuryId), gt(p.timestamp, start), lte(p.timestamp, t))).orderBy(asc(p.timestamp)).limit(1)));
    const upToSums = sumsOfRow(upTo);
    const beforeSums = before ? sumsOfRow(before) : null;
    if (upToSums === null || (before && beforeSums === null)) return null;
    return { upTo: upToSums, before: beforeSums, oldest: oldest?.timestamp ?? null };
  }

  /**
   * Recomputes a treasury's running sums from the first row that needs it
   * (the earliest row without sums) to its last row, in (timestamp, cycle_id)
   * order: the slow path of an out-of-order insert and the backfill of rows
   * written before the sums existed. Rows before that point keep theirs.
   */
  private async rebuildRunningSums(treasuryId: string): Promise<void> {
    const [from] = await this.query((db, { priceSamples: p }) => db.select({ at: sql<number | null>`min(${p.timestamp})`.mapWith(Number) }).from(p)
      .where(and(eq(p.treasuryId, treasuryId), isNull(p.cumCount))));
    if (from?.at === null || from?.at === undefined) return;
    const fromMs = from.at;
    const base = await this.first(this.query((db, { priceSamples: p }) => db.select(sumColumns(p)).from(p)
      .where(and(eq(p.treasuryId, treasuryId), lt(p.timestamp, fromMs))).orderBy(desc(p.timestamp), desc(p.cumCount)).limit(1)));
    let sums = base ? sumsOfRow(base) : NO_SUMS;
    // Every row before the first one without sums has them (this function leaves no gap), so the base is sound.
    if (sums === null) throw new StoreValueError(`price samples of ${treasuryId}: running sums missing before ${fromMs}`);
    const rows = await this.query((db, { priceSamples: p }) => db.select({ cycleId: p.cycleId, price: p.pstrPrice, volume: p.pstrVolume }).from(p)
      .where(and(eq(p.treasuryId, treasuryId), gte(p.timestamp, fromMs))).orderBy(asc(p.timestamp), asc(p.cycleId)));
    for (const r of rows) {
      sums = addSums(sums, sampleTerms(r.price, r.volume));
      const set = rowOfSums(sums);
      await this.query((db, { priceSamples: p }) => db.update(p).set(set).where(and(eq(p.treasuryId, treasuryId), eq(p.cycleId, r.cycleId))));
    }
  }

  // ── Snapshots ─────────────────────────────────────────────────────────────

  recordSnapshot(s: NewSnapshot): Promise<boolean> {
    return this.query(async (db, t) => (await db.insert(t.treasurySnapshots).values(s).onConflictDoNothing().returning(ONE)).length > 0);
  }

  latestSnapshot(treasuryId: string): Promise<SnapshotRow | undefined> {
    return this.first(this.query((db, { treasurySnapshots: t }) => db.select().from(t).where(eq(t.treasuryId, treasuryId))
      .orderBy(desc(t.at), desc(t.snapshotId)).limit(1)));
  }

  /** Snapshots with `fromMs ≤ at ≤ toMs`, oldest first. */
  snapshots(treasuryId: string, fromMs: number, toMs: number): Promise<SnapshotRow[]> {
    return this.query((db, { treasurySnapshots: t }) => db.select().from(t)
      .where(and(eq(t.treasuryId, treasuryId), gte(t.at, fromMs), lte(t.at, toMs)))
      .orderBy(asc(t.at), asc(t.snapshotId)));
  }

  // ── Interventions ─────────────────────────────────────────────────────────

  /**
   * Inserts the intervention or replaces its mutable fields. A write older than
   * the stored one (smaller `updatedAt`) is ignored, so a late retry of an
   * earlier step cannot roll the status back.
   */
  upsertIntervention(i: NewIntervention): Promise<void> {
    return this.query(async (db, { interventions: t }) => {
      await db.insert(t).values(i).onConflictDoUpdate({
        target: t.id,
        set: replaceAllBut(t, ['id', 'treasuryId', 'seq', 'startedAt']),
        setWhere: sql`excluded."updated_at" >= ${t.updatedAt}`,
      });
    });
  }

  intervention(id: string): Promise<InterventionRow | undefined> {
    return this.first(this.query((db, { interventions: t }) => db.select().from(t).where(eq(t.id, id)).limit(1)));
  }

  /** Interventions started at or after `sinceMs`, optionally of the given status(es), oldest first. */
  interventions(
    treasuryId: string,
    filter: { sinceMs?: number; status?: InterventionStatus | readonly InterventionStatus[] } = {},
  ): Promise<InterventionRow[]> {
    const statuses = filter.status === undefined ? undefined : ([] as InterventionStatus[]).concat(filter.status);
    return this.query((db, { interventions: t }) => db.select().from(t)
      .where(and(
        eq(t.treasuryId, treasuryId),
        filter.sinceMs === undefined ? undefined : gte(t.startedAt, filter.sinceMs),
        statuses === undefined ? undefined : inArray(t.status, statuses),
      ))
      .orderBy(asc(t.startedAt), asc(t.seq)));
  }

  /** The intervention must already exist (foreign key). */
  recordInterventionStep(s: NewInterventionStep): Promise<boolean> {
    return this.query(async (db, t) => (await db.insert(t.interventionSteps).values(s).onConflictDoNothing().returning(ONE)).length > 0);
  }

  interventionSteps(interventionId: string): Promise<InterventionStepRow[]> {
    return this.query((db, { interventionSteps: t }) => db.select().from(t).where(eq(t.interventionId, interventionId)).orderBy(asc(t.at), asc(t.step)));
  }

  // ── Monitoring logs and alerts ────────────────────────────────────────────

  recordMonitoringLog(l: NewMonitoringLog): Promise<boolean> {
    return this.query(async (db, t) => (await db.insert(t.monitoringLogs).values(l).onConflictDoNothing().returning(ONE)).length > 0);
  }

  /** Logs with `fromMs ≤ at ≤ toMs`, oldest first. */
  monitoringLogs(treasuryId: string, fromMs: number, toMs: number): Promise<MonitoringLogRow[]> {
    return this.query((db, { monitoringLogs: t }) => db.select().from(t)
      .where(and(eq(t.treasuryId, treasuryId), gte(t.at, fromMs), lte(t.at, toMs)))
      .orderBy(asc(t.at), asc(t.cycleId)));
  }

  /** A re-raised alert with the same key is ignored, and keeps its delivery state. */
  recordAlert(a: NewAlert): Promise<boolean> {
    return this.query(async (db, t) => (await db.insert(t.alerts).values(a).onConflictDoNothing().returning(ONE)).length > 0);
  }

  alerts(treasuryId: string, filter: { sinceMs?: number; level?: AlertLevel } = {}): Promise<AlertRow[]> {
    return this.query((db, { alerts: t }) => db.select().from(t)
      .where(and(
        eq(t.treasuryId, treasuryId),
        filter.sinceMs === undefined ? undefined : gte(t.at, filter.sinceMs),
        filter.level === undefined ? undefined : eq(t.level, filter.level),
      ))
      .orderBy(asc(t.at), asc(t.alertKey)));
  }

  /** Returns false when there is no such alert. */
  markAlertDelivered(treasuryId: string, alertKey: string): Promise<boolean> {
    return this.query(async (db, { alerts: t }) => (await db.update(t).set({ delivered: true })
      .where(and(eq(t.treasuryId, treasuryId), eq(t.alertKey, alertKey))).returning(ONE)).length > 0);
  }

  // ── Governance ────────────────────────────────────────────────────────────

  /** Inserts the proposal or replaces everything but its identity, kind and creation time. */
  upsertProposal(p: NewProposal): Promise<void> {
    return this.query(async (db, { proposals: t }) => {
      await db.insert(t).values(p).onConflictDoUpdate({ target: t.id, set: replaceAllBut(t, ['id', 'treasuryId', 'kind', 'createdAt']) });
    });
  }

  proposal(id: string): Promise<ProposalRow | undefined> {
    return this.first(this.query((db, { proposals: t }) => db.select().from(t).where(eq(t.id, id)).limit(1)));
  }

  proposals(treasuryId: string): Promise<ProposalRow[]> {
    return this.query((db, { proposals: t }) => db.select().from(t).where(eq(t.treasuryId, treasuryId)).orderBy(asc(t.createdAt), asc(t.id)));
  }

  /**
   * SPEC §9: one vote per holder, a later vote replaces the earlier. "Later" is
   * by `at`, so a retried earlier vote arriving late does not undo a newer one.
   */
  recordVote(v: NewVote): Promise<void> {
    return this.query(async (db, { votes: t }) => {
      await db.insert(t).values(v).onConflictDoUpdate({
        target: [t.proposalId, t.voter],
        set: replaceAllBut(t, ['proposalId', 'voter', 'treasuryId']),
        setWhere: sql`excluded."at" >= ${t.at}`,
      });
    });
  }

  votes(proposalId: string): Promise<VoteRow[]> {
    return this.query((db, { votes: t }) => db.select().from(t).where(eq(t.proposalId, proposalId)).orderBy(asc(t.voter)));
  }

  // ── Safety state (one row per treasury) ──────────────────────────────────

  controlState(treasuryId: string): Promise<ControlStateRow | undefined> {
    return this.first(this.query((db, { controlState: t }) => db.select().from(t).where(eq(t.treasuryId, treasuryId)).limit(1)));
  }

  /**
   * Writes a treasury's safety state. The monitor is its single writer, so
   * the last write wins for pause and the latch, with three guards against a
   * late retry or a stale run: a write older than the stored one (smaller
   * `updatedAt`) is ignored, `nextSeq` never moves backwards (an intervention
   * id is never reused), and `lastExecutedSwapAt` never moves backwards (the
   * cooldown is never shortened). Every accepted write adds 1 to `version`.
   */
  saveControlState(c: ControlStateWrite): Promise<{ written: boolean; version: number }> {
    return this.query(async (db, { controlState: t }) => {
      const set = replaceAllBut(t, ['treasuryId', 'nextSeq', 'lastExecutedSwapAt', 'version']);
      const rows = await db.insert(t).values({ ...c, version: 1 }).onConflictDoUpdate({
        target: t.treasuryId,
        set: {
          ...set,
          nextSeq: sql`CASE WHEN excluded."next_seq" > ${t.nextSeq} THEN excluded."next_seq" ELSE ${t.nextSeq} END`,
          lastExecutedSwapAt: sql`CASE WHEN ${t.lastExecutedSwapAt} IS NULL OR excluded."last_executed_swap_at" > ${t.lastExecutedSwapAt}
            THEN excluded."last_executed_swap_at" ELSE ${t.lastExecutedSwapAt} END`,
          version: sql`${t.version} + 1`,
        },
        setWhere: sql`excluded."updated_at" >= ${t.updatedAt}`,
      }).returning({ version: t.version });
      if (rows[0]) return { written: true, version: rows[0].version };
      const [current] = await db.select({ version: t.version }).from(t).where(eq(t.treasuryId, c.treasuryId)).limit(1);
      return { written: false, version: current?.version ?? 0 };
    });
  }

  /** What the interventions table knows that a fresh monitor must not forget (see InterventionBootstrap). */
  interventionBootstrap(treasuryId: string, sinceMs: number): Promise<InterventionBootstrap> {
    return this.query(async (db, { interventions: t }) => {
      const [agg] = await db.select({
        maxSeq: sql<number | null>`max(${t.seq})`.mapWith(Number),
        lastExecutedAt: sql<number | null>`max(CASE WHEN ${t.status} = 'executed' THEN ${t.executedAt} END)`.mapWith(t.executedAt),
      }).from(t).where(eq(t.treasuryId, treasuryId));
      const running = await db.select({ id: t.id }).from(t).where(and(eq(t.treasuryId, treasuryId), eq(t.status, 'running')))
        .orderBy(asc(t.startedAt), asc(t.seq));
      const starts = await db.select({ at: t.startedAt }).from(t).where(and(eq(t.treasuryId, treasuryId), gte(t.startedAt, sinceMs)))
        .orderBy(asc(t.startedAt), asc(t.seq));
      return {
        maxSeq: agg?.maxSeq ?? null,
        lastExecutedAt: agg?.lastExecutedAt ?? null,
        running: running.map((r) => r.id),
        startsSince: starts.map((r) => r.at),
      };
    });
  }

  // ── Swap ledger ───────────────────────────────────────────────────────────

  /**
   * Claims a swap slice before anything is sent. `false` means it was already
   * claimed: the caller must look at the stored record, never send again.
   */
  recordSwap(s: NewSwap): Promise<boolean> {
    return this.query(async (db, t) => (await db.insert(t.swapRecords).values(s).onConflictDoNothing().returning(ONE)).length > 0);
  }

  /**
   * Moves a swap forward (prepared → sent → confirmed | failed). Repeating the
   * current status is allowed (a retry); going back, or from one final status
   * to the other, is refused.
   */
  updateSwap(interventionId: string, slice: number, change: SwapUpdate): Promise<void> {
    const label = `swap ${interventionId} slice ${slice}`;
    return this.transaction(async () => {
      const current = await this.swap(interventionId, slice);
      if (current === undefined) throw new StoreValueError(`${label}: no such swap record`);
      const forward = SWAP_STAGE[change.status] > SWAP_STAGE[current.status];
      if (change.status !== current.status && !forward) {
        throw new StoreValueError(`${label}: status cannot go from '${current.status}' to '${change.status}'`);
      }
      await this.query((db, { swapRecords: t }) => db.update(t).set({
        status: change.status,
        updatedAt: change.updatedAt,
        ...(change.pstrOut !== undefined && { pstrOut: change.pstrOut }),
        ...(change.signature !== undefined && { signature: change.signature }),
        ...(change.details !== undefined && { details: change.details }),
      }).where(and(eq(t.interventionId, interventionId), eq(t.slice, slice))));
    });
  }

  swap(interventionId: string, slice: number): Promise<SwapRow | undefined> {
    return this.first(this.query((db, { swapRecords: t }) => db.select().from(t)
      .where(and(eq(t.interventionId, interventionId), eq(t.slice, slice))).limit(1)));
  }

  /** A treasury's swap slices not settled yet (prepared or sent), oldest first: propose-only's live proposals are among them. */
  unsettledSwaps(treasuryId: string): Promise<SwapRow[]> {
    return this.query((db, { swapRecords: t }) => db.select().from(t)
      .where(and(eq(t.treasuryId, treasuryId), inArray(t.status, ['prepared', 'sent']))).orderBy(asc(t.at), asc(t.slice)));
  }

  /** A treasury's confirmed swap slices updated at or after `sinceMs`: a late multisig execution dates a swap for the cooldown. */
  confirmedSwapsSince(treasuryId: string, sinceMs: number): Promise<SwapRow[]> {
    return this.query((db, { swapRecords: t }) => db.select().from(t)
      .where(and(eq(t.treasuryId, treasuryId), eq(t.status, 'confirmed'), gte(t.updatedAt, sinceMs))).orderBy(asc(t.updatedAt)));
  }

  /** Every slice of an intervention's swap, in slice order. */
  swaps(interventionId: string): Promise<SwapRow[]> {
    return this.query((db, { swapRecords: t }) => db.select().from(t).where(eq(t.interventionId, interventionId)).orderBy(asc(t.slice)));
  }

  // ── Config authority: the running configuration, versioned (issue #10 item 6) ──

  /** The newest version of a treasury's configuration; undefined before the first was written. */
  currentConfigVersion(treasuryId: string): Promise<ConfigVersionRow | undefined> {
    return this.first(this.query((db, { configVersions: t }) => db.select().from(t).where(eq(t.treasuryId, treasuryId))
      .orderBy(desc(t.version)).limit(1)));
  }

  configVersion(treasuryId: string, version: number): Promise<ConfigVersionRow | undefined> {
    return this.first(this.query((db, { configVersions: t }) => db.select().from(t)
      .where(and(eq(t.treasuryId, treasuryId), eq(t.version, version))).limit(1)));
  }

  /** Every version of a treasury's configuration, oldest first (the audit trail of its changes). */
  configVersions(treasuryId: string): Promise<ConfigVersionRow[]> {
    return this.query((db, { configVersions: t }) => db.select().from(t).where(eq(t.treasuryId, treasuryId)).orderBy(asc(t.version)));
  }

  /**
   * Appends a configuration as `v.version` (the writer's last version + 1;
   * the monitor is the single writer and numbers its versions itself, so an
   * intervention can name the version before the write lands). A retried
   * append finds its own row and writes nothing (`written: false`). When
   * another writer took that number with a different configuration, the
   * change is appended after the newest version instead (never overwritten:
   * rows are history) and the version it got is returned.
   */
  appendConfigVersion(v: NewConfigVersion): Promise<{ version: number; written: boolean }> {
    if (!Number.isSafeInteger(v.version) || v.version < 1) {
      return Promise.reject(new StoreValueError(`config version of ${v.treasuryId}: version must be an integer ≥ 1, got ${String(v.version)}`));
    }
    return this.transaction(() => this.query(async (db, { configVersions: t }) => {
      if ((await db.insert(t).values(v).onConflictDoNothing().returning(ONE)).length > 0) return { version: v.version, written: true };
      const [taken] = await db.select().from(t).where(and(eq(t.treasuryId, v.treasuryId), eq(t.version, v.version))).limit(1);
      if (taken && sameVersion(taken, v)) return { version: v.version, written: false };
      const [newest] = await db.select().from(t).where(eq(t.treasuryId, v.treasuryId)).orderBy(desc(t.version)).limit(1);
      if (newest && sameVersion(newest, v)) return { version: newest.version, written: false };
      const version = (newest?.version ?? 0) + 1;
      await db.insert(t).values({ ...v, version });
      return { version, written: true };
    }));
  }

  // ── Money journal (accumulation, liquidity; helper D, issue #10) ─────────────

  /**
   * Claims a money movement before anything is sent, at revision 0. `false`
   * means another attempt (any worker) claimed it first: read that record.
   */
  openMoneyRecord(r: Omit<NewMoneyJournal, 'revision'>): Promise<boolean> {
    return this.query(async (db, t) => (await db.insert(t.moneyJournal).values({ ...r, revision: 0 }).onConflictDoNothing().returning(ONE)).length > 0);
  }

  moneyRecord(treasuryId: string, path: MoneyPath, key: string): Promise<MoneyJournalRow | undefined> {
    return this.first(this.query((db, { moneyJournal: t }) => db.select().from(t)
      .where(and(eq(t.treasuryId, treasuryId), eq(t.path, path), eq(t.key, key))).limit(1)));
  }

  /**
   * Compare-and-set: applies `change` only if the record is still at
   * `revision` (nobody wrote it since it was read), as one conditional UPDATE
   * whose affected-row count is the answer, so it holds across processes on
   * PostgreSQL as on SQLite. The status only moves forward, as in updateSwap.
   */
  casMoneyRecord(treasuryId: string, path: MoneyPath, key: string, revision: number, change: MoneyRecordChange): Promise<boolean> {
    const label = `${path} ${key} of ${treasuryId}`;
    return this.transaction(async () => {
      const current = await this.moneyRecord(treasuryId, path, key);
      if (current === undefined) throw new StoreValueError(`${label}: no such money journal record`);
      if (current.revision !== revision) return false;
      if (change.status !== current.status && SWAP_STAGE[change.status] <= SWAP_STAGE[current.status]) {
        throw new StoreValueError(`${label}: status cannot go from '${current.status}' to '${change.status}'`);
      }
      const written = await this.query((db, { moneyJournal: t }) => db.update(t).set({
        status: change.status, updatedAt: change.updatedAt, details: change.details, revision: sql`${t.revision} + 1`,
        ...(change.amountOut !== undefined && { amountOut: change.amountOut }),
        ...(change.signature !== undefined && { signature: change.signature }),
      }).where(and(eq(t.treasuryId, treasuryId), eq(t.path, path), eq(t.key, key), eq(t.revision, revision))).returning(ONE));
      return written.length === 1;
    });
  }
}

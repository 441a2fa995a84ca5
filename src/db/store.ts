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
import { and, asc, desc, DrizzleQueryError, eq, getTableColumns, gte, inArray, lte, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import {
  connectPostgres, isPostgresUrl, openSqlite, type Connection, type Db, type PostgresOptions, type SqliteOptions, type Tables,
} from './connection.ts';
import { StoreValueError } from './schema.ts';
import type {
  AlertLevel, AlertRow, ControlStateRow, InterventionRow, InterventionStatus, InterventionStepRow, MonitoringLogRow, NewAlert,
  NewIntervention, NewInterventionStep, NewMonitoringLog, NewPriceSample, NewProposal, NewSnapshot, NewSwap, NewVote,
  PriceSampleRow, ProposalRow, SnapshotRow, SwapRow, SwapStatus, VoteRow,
} from './schema.ts';
import type { MoneyJournalRow, MoneyPath, NewMoneyJournal } from './schema.ts';

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

/** Rows per INSERT when loading many price samples (PostgreSQL allows 65,535 parameters; 8 columns each). */
const BULK_ROWS = 1000;

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

/** What `.returning(ONE)` gives back: one element per row written. */
const ONE = { one: sql<number>`1` };

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

  recordPriceSample(s: NewPriceSample): Promise<boolean> {
    return this.query(async (db, t) => (await db.insert(t.priceSamples).values(s).onConflictDoNothing().returning(ONE)).length > 0);
  }

  /** recordPriceSample for many rows, atomically; returns how many were new. */
  recordPriceSamples(samples: readonly NewPriceSample[]): Promise<number> {
    return this.transaction(() => this.query(async (db, t) => {
      let written = 0;
      for (let i = 0; i < samples.length; i += BULK_ROWS) {
        const rows = samples.slice(i, i + BULK_ROWS);
        written += (await db.insert(t.priceSamples).values(rows).onConflictDoNothing().returning(ONE)).length;
      }
      return written;
    }));
  }

  /** Only what a VWAP needs (time, price, volume) with `fromMs ≤ timestamp ≤ toMs`, oldest first: the monitor reads it every cycle, so no JSON column. */
  vwapSamples(treasuryId: string, fromMs: number, toMs: number): Promise<{ timestamp: number; price: number; volume: number }[]> {
    return this.query((db, { priceSamples: p }) => db.select({ timestamp: p.timestamp, price: p.pstrPrice, volume: p.pstrVolume }).from(p)
      .where(and(eq(p.treasuryId, treasuryId), gte(p.timestamp, fromMs), lte(p.timestamp, toMs)))
      .orderBy(asc(p.timestamp), asc(p.cycleId)));
  }

  /** Samples with `fromMs ≤ timestamp ≤ toMs`, oldest first. */
  priceSamples(treasuryId: string, fromMs: number, toMs: number): Promise<PriceSampleRow[]> {
    return this.query((db, { priceSamples: p }) => db.select().from(p)
      .where(and(eq(p.treasuryId, treasuryId), gte(p.timestamp, fromMs), lte(p.timestamp, toMs)))
      .orderBy(asc(p.timestamp), asc(p.cycleId)));
  }

  latestPriceSample(treasuryId: string): Promise<PriceSampleRow | undefined> {
    return this.first(this.query((db, { priceSamples: p }) => db.select().from(p).where(eq(p.treasuryId, treasuryId))
      .orderBy(desc(p.timestamp), desc(p.cycleId)).limit(1)));
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

  /** Every slice of an intervention's swap, in slice order. */
  swaps(interventionId: string): Promise<SwapRow[]> {
    return this.query((db, { swapRecords: t }) => db.select().from(t).where(eq(t.interventionId, interventionId)).orderBy(asc(t.slice)));
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

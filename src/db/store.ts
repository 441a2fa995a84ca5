/**
 * The treasury agent's store: one SQLite file, written by Temporal activities
 * and read by reports and audits. Activities may be retried, so every write is
 * idempotent on the table's natural key: `record*` inserts or ignores (and says
 * which), `upsert*` replaces the mutable fields, and `updateSwap` only moves a
 * swap forward. better-sqlite3 is synchronous, so is this API.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { and, asc, desc, eq, getTableColumns, gte, inArray, lte, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import {
  alerts, interventionSteps, interventions, monitoringLogs, priceSamples, proposals, StoreValueError, swapRecords,
  treasurySnapshots, votes,
} from './schema.ts';
import type {
  AlertLevel, AlertRow, InterventionRow, InterventionStatus, InterventionStepRow, MonitoringLogRow, NewAlert,
  NewIntervention, NewInterventionStep, NewMonitoringLog, NewPriceSample, NewProposal, NewSnapshot, NewSwap, NewVote,
  PriceSampleRow, ProposalRow, SnapshotRow, SwapRow, SwapStatus, VoteRow,
} from './schema.ts';

export { StoreValueError, bigintReplacer } from './schema.ts';
export type {
  AlertLevel, AlertRow, InterventionRow, InterventionStatus, InterventionStepRow, MonitoringLogRow, NewAlert,
  NewIntervention, NewInterventionStep, NewMonitoringLog, NewPriceSample, NewProposal, NewSnapshot, NewSwap, NewVote,
  PriceSampleRow, ProposalRow, SnapshotRow, SwapRow, SwapStatus, VoteRow,
} from './schema.ts';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

export interface OpenOptions {
  /** How long a writer waits for another connection's lock before failing. */
  busyTimeoutMs?: number;
}

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

/** `SET col = excluded.col` for every column but the immutable ones: an upsert's replacement. */
function replaceAllBut<T extends SQLiteTable>(table: T, immutable: readonly string[]): Record<string, SQL> {
  const set: Record<string, SQL> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    if (!immutable.includes(key)) set[key] = sql.raw(`excluded."${column.name}"`);
  }
  return set;
}

function inserted(result: { changes: number }): boolean {
  return result.changes > 0;
}

export class TreasuryStore {
  private constructor(
    private readonly sqlite: Database.Database,
    private readonly db: BetterSQLite3Database,
  ) {}

  /** Opens (creating if needed) the database at `path` and brings its schema up to date. */
  static open(path: string, options: OpenOptions = {}): TreasuryStore {
    const inMemory = path === ':memory:';
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
    const sqlite = new Database(path);
    try {
      // WAL lets reports read while an activity writes; NORMAL sync is durable enough under WAL.
      const mode = sqlite.pragma('journal_mode = WAL', { simple: true }) as string;
      if (!inMemory && mode !== 'wal') throw new Error(`${path}: SQLite refused WAL mode (journal_mode is ${mode})`);
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('foreign_keys = ON');
      sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      const db = drizzle(sqlite);
      migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
      return new TreasuryStore(sqlite, db);
    } catch (error) {
      sqlite.close();
      throw error;
    }
  }

  close(): void {
    this.sqlite.close();
  }

  /**
   * The drizzle instance, for modules that own their tables' SQL (the paper
   * ledger). Its queries run on this connection, so inside `transaction` they
   * are part of the transaction.
   */
  get orm(): BetterSQLite3Database {
    return this.db;
  }

  /** Runs `fn` atomically: if it throws, nothing it wrote remains. Nests as a savepoint. */
  transaction<T>(fn: () => T): T {
    return this.sqlite.transaction(fn)();
  }

  // ── Prices ────────────────────────────────────────────────────────────────

  recordPriceSample(s: NewPriceSample): boolean {
    return inserted(this.db.insert(priceSamples).values(s).onConflictDoNothing().run());
  }

  /**
   * recordPriceSample for many rows, atomically; returns how many were new.
   * A drizzle insert costs ~60 µs to build and a month of 5-minute samples is
   * 8,640 rows, so this runs one prepared statement, still converting every
   * value through the schema's column mappers (the same checks as drizzle).
   */
  recordPriceSamples(samples: readonly NewPriceSample[]): number {
    const columns = Object.entries(getTableColumns(priceSamples));
    const statement = this.sqlite.prepare(
      `INSERT INTO "price_samples" (${columns.map(([, c]) => `"${c.name}"`).join(', ')}) ` +
        `VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`,
    );
    return this.transaction(() => {
      let written = 0;
      for (const sample of samples) {
        const values = columns.map(([key, column]) => {
          const value: unknown = sample[key as keyof NewPriceSample];
          return value === undefined || value === null ? null : column.mapToDriverValue(value);
        });
        written += statement.run(values).changes;
      }
      return written;
    });
  }

  /** Samples with `fromMs ≤ timestamp ≤ toMs`, oldest first. */
  /** Only what a VWAP needs (time, price, volume), oldest first: the monitor reads it every cycle, so no JSON column. */
  vwapSamples(treasuryId: string, fromMs: number, toMs: number): { timestamp: number; price: number; volume: number }[] {
    return this.db.select({ timestamp: priceSamples.timestamp, price: priceSamples.pstrPrice, volume: priceSamples.pstrVolume }).from(priceSamples)
      .where(and(eq(priceSamples.treasuryId, treasuryId), gte(priceSamples.timestamp, fromMs), lte(priceSamples.timestamp, toMs)))
      .orderBy(asc(priceSamples.timestamp), asc(priceSamples.cycleId))
      .all();
  }

  priceSamples(treasuryId: string, fromMs: number, toMs: number): PriceSampleRow[] {
    return this.db.select().from(priceSamples)
      .where(and(eq(priceSamples.treasuryId, treasuryId), gte(priceSamples.timestamp, fromMs), lte(priceSamples.timestamp, toMs)))
      .orderBy(asc(priceSamples.timestamp), asc(priceSamples.cycleId))
      .all();
  }

  latestPriceSample(treasuryId: string): PriceSampleRow | undefined {
    return this.db.select().from(priceSamples).where(eq(priceSamples.treasuryId, treasuryId))
      .orderBy(desc(priceSamples.timestamp), desc(priceSamples.cycleId)).limit(1).get();
  }

  // ── Snapshots ─────────────────────────────────────────────────────────────

  recordSnapshot(s: NewSnapshot): boolean {
    return inserted(this.db.insert(treasurySnapshots).values(s).onConflictDoNothing().run());
  }

  latestSnapshot(treasuryId: string): SnapshotRow | undefined {
    return this.db.select().from(treasurySnapshots).where(eq(treasurySnapshots.treasuryId, treasuryId))
      .orderBy(desc(treasurySnapshots.at), desc(treasurySnapshots.snapshotId)).limit(1).get();
  }

  /** Snapshots with `fromMs ≤ at ≤ toMs`, oldest first. */
  snapshots(treasuryId: string, fromMs: number, toMs: number): SnapshotRow[] {
    const t = treasurySnapshots;
    return this.db.select().from(t)
      .where(and(eq(t.treasuryId, treasuryId), gte(t.at, fromMs), lte(t.at, toMs)))
      .orderBy(asc(t.at), asc(t.snapshotId)).all();
  }

  // ── Interventions ─────────────────────────────────────────────────────────

  /**
   * Inserts the intervention or replaces its mutable fields. A write older than
   * the stored one (smaller `updatedAt`) is ignored, so a late retry of an
   * earlier step cannot roll the status back.
   */
  upsertIntervention(i: NewIntervention): void {
    const t = interventions;
    this.db.insert(t).values(i).onConflictDoUpdate({
      target: t.id,
      set: replaceAllBut(t, ['id', 'treasuryId', 'seq', 'startedAt']),
      setWhere: sql`excluded."updated_at" >= ${t.updatedAt}`,
    }).run();
  }

  intervention(id: string): InterventionRow | undefined {
    return this.db.select().from(interventions).where(eq(interventions.id, id)).get();
  }

  /** Interventions started at or after `sinceMs`, optionally of the given status(es), oldest first. */
  interventions(
    treasuryId: string,
    filter: { sinceMs?: number; status?: InterventionStatus | readonly InterventionStatus[] } = {},
  ): InterventionRow[] {
    const t = interventions;
    const statuses = filter.status === undefined ? undefined : ([] as InterventionStatus[]).concat(filter.status);
    return this.db.select().from(t)
      .where(and(
        eq(t.treasuryId, treasuryId),
        filter.sinceMs === undefined ? undefined : gte(t.startedAt, filter.sinceMs),
        statuses === undefined ? undefined : inArray(t.status, statuses),
      ))
      .orderBy(asc(t.startedAt), asc(t.seq)).all();
  }

  /** The intervention must already exist (foreign key). */
  recordInterventionStep(s: NewInterventionStep): boolean {
    return inserted(this.db.insert(interventionSteps).values(s).onConflictDoNothing().run());
  }

  interventionSteps(interventionId: string): InterventionStepRow[] {
    const t = interventionSteps;
    return this.db.select().from(t).where(eq(t.interventionId, interventionId)).orderBy(asc(t.at), asc(t.step)).all();
  }

  // ── Monitoring logs and alerts ────────────────────────────────────────────

  recordMonitoringLog(l: NewMonitoringLog): boolean {
    return inserted(this.db.insert(monitoringLogs).values(l).onConflictDoNothing().run());
  }

  /** Logs with `fromMs ≤ at ≤ toMs`, oldest first. */
  monitoringLogs(treasuryId: string, fromMs: number, toMs: number): MonitoringLogRow[] {
    const t = monitoringLogs;
    return this.db.select().from(t)
      .where(and(eq(t.treasuryId, treasuryId), gte(t.at, fromMs), lte(t.at, toMs)))
      .orderBy(asc(t.at), asc(t.cycleId)).all();
  }

  /** A re-raised alert with the same key is ignored, and keeps its delivery state. */
  recordAlert(a: NewAlert): boolean {
    return inserted(this.db.insert(alerts).values(a).onConflictDoNothing().run());
  }

  alerts(treasuryId: string, filter: { sinceMs?: number; level?: AlertLevel } = {}): AlertRow[] {
    const t = alerts;
    return this.db.select().from(t)
      .where(and(
        eq(t.treasuryId, treasuryId),
        filter.sinceMs === undefined ? undefined : gte(t.at, filter.sinceMs),
        filter.level === undefined ? undefined : eq(t.level, filter.level),
      ))
      .orderBy(asc(t.at), asc(t.alertKey)).all();
  }

  /** Returns false when there is no such alert. */
  markAlertDelivered(treasuryId: string, alertKey: string): boolean {
    const t = alerts;
    return inserted(this.db.update(t).set({ delivered: true })
      .where(and(eq(t.treasuryId, treasuryId), eq(t.alertKey, alertKey))).run());
  }

  // ── Governance ────────────────────────────────────────────────────────────

  /** Inserts the proposal or replaces everything but its identity, kind and creation time. */
  upsertProposal(p: NewProposal): void {
    this.db.insert(proposals).values(p).onConflictDoUpdate({
      target: proposals.id,
      set: replaceAllBut(proposals, ['id', 'treasuryId', 'kind', 'createdAt']),
    }).run();
  }

  proposal(id: string): ProposalRow | undefined {
    return this.db.select().from(proposals).where(eq(proposals.id, id)).get();
  }

  proposals(treasuryId: string): ProposalRow[] {
    const t = proposals;
    return this.db.select().from(t).where(eq(t.treasuryId, treasuryId)).orderBy(asc(t.createdAt), asc(t.id)).all();
  }

  /**
   * SPEC §9: one vote per holder, a later vote replaces the earlier. "Later" is
   * by `at`, so a retried earlier vote arriving late does not undo a newer one.
   */
  recordVote(v: NewVote): void {
    this.db.insert(votes).values(v).onConflictDoUpdate({
      target: [votes.proposalId, votes.voter],
      set: replaceAllBut(votes, ['proposalId', 'voter', 'treasuryId']),
      setWhere: sql`excluded."at" >= ${votes.at}`,
    }).run();
  }

  votes(proposalId: string): VoteRow[] {
    return this.db.select().from(votes).where(eq(votes.proposalId, proposalId)).orderBy(asc(votes.voter)).all();
  }

  // ── Swap ledger ───────────────────────────────────────────────────────────

  /**
   * Claims a swap slice before anything is sent. `false` means it was already
   * claimed: the caller must look at the stored record, never send again.
   */
  recordSwap(s: NewSwap): boolean {
    return inserted(this.db.insert(swapRecords).values(s).onConflictDoNothing().run());
  }

  /**
   * Moves a swap forward (prepared → sent → confirmed | failed). Repeating the
   * current status is allowed (a retry); going back, or from one final status
   * to the other, is refused.
   */
  updateSwap(interventionId: string, slice: number, change: SwapUpdate): void {
    const label = `swap ${interventionId} slice ${slice}`;
    this.transaction(() => {
      const current = this.swap(interventionId, slice);
      if (current === undefined) throw new StoreValueError(`${label}: no such swap record`);
      const forward = SWAP_STAGE[change.status] > SWAP_STAGE[current.status];
      if (change.status !== current.status && !forward) {
        throw new StoreValueError(`${label}: status cannot go from '${current.status}' to '${change.status}'`);
      }
      const t = swapRecords;
      this.db.update(t).set({
        status: change.status,
        updatedAt: change.updatedAt,
        ...(change.pstrOut !== undefined && { pstrOut: change.pstrOut }),
        ...(change.signature !== undefined && { signature: change.signature }),
        ...(change.details !== undefined && { details: change.details }),
      }).where(and(eq(t.interventionId, interventionId), eq(t.slice, slice))).run();
    });
  }

  swap(interventionId: string, slice: number): SwapRow | undefined {
    const t = swapRecords;
    return this.db.select().from(t).where(and(eq(t.interventionId, interventionId), eq(t.slice, slice))).get();
  }

  /** Every slice of an intervention's swap, in slice order. */
  swaps(interventionId: string): SwapRow[] {
    const t = swapRecords;
    return this.db.select().from(t).where(eq(t.interventionId, interventionId)).orderBy(asc(t.slice)).all();
  }
}

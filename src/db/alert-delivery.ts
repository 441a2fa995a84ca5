/**
 * Alert delivery state, kept in the existing `alerts` table: the decision
 * (deliver or collapse) and each sink's outcome live under `data.delivery`,
 * and the `delivered` column is set once an operator was reached (at least
 * one sink accepted the notice, or none was due). No new table: an alert row
 * is already keyed by (treasury, alert key), which is what a retried delivery
 * activity needs to find what it already did.
 */
import { and, asc, count, desc, eq, gte, min, ne, notInArray, sql } from 'drizzle-orm';
import type { PreviousNotice } from '../domain/alert-dedupe.ts';
import type { AlertRow, TreasuryStore } from './store.ts';

export interface SinkOutcome {
  readonly ok: boolean;
  readonly retryable: boolean;
  readonly status: number | null;
  /** Redacted: never a URL or token. */
  readonly error: string | null;
  readonly attempts: number;
  readonly at: number;
}

export type DeliveryRecord =
  | {
    readonly key: string;
    readonly decision: 'deliver';
    readonly decidedAt: number;
    readonly count: number;
    readonly since: number;
    /** The text sent (the message and its count suffix), fixed at the decision so a retry sends the same. */
    readonly message: string;
    readonly reached: boolean;
    /** By sink name. */
    readonly sinks: Readonly<Record<string, SinkOutcome>>;
  }
  | { readonly key: string; readonly decision: 'collapse'; readonly decidedAt: number; readonly into: string };

export interface UndeliveredCriticalAlert {
  readonly alertKey: string;
  readonly at: number;
  readonly kind: string;
  readonly message: string;
  readonly failures: readonly { sink: string; error: string | null; retryable: boolean; attempts: number }[];
}

/** How far back the previous notice of an alert is looked for: an older count is no longer worth reporting. */
const NOTICE_LOOKBACK_MS = 7 * 86_400_000;


function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The delivery state stored on an alert row, or null before any delivery attempt. */
export function deliveryOf(row: Pick<AlertRow, 'data'>): DeliveryRecord | null {
  if (!isRecord(row.data)) return null;
  const d = row.data.delivery;
  if (!isRecord(d) || (d.decision !== 'deliver' && d.decision !== 'collapse')) return null;
  return d as unknown as DeliveryRecord;
}

export function alertRow(store: TreasuryStore, treasuryId: string, alertKey: string): Promise<AlertRow | undefined> {
  return store.query(async (db, { alerts: t }) =>
    (await db.select().from(t).where(and(eq(t.treasuryId, treasuryId), eq(t.alertKey, alertKey))).limit(1))[0]);
}

/** Stores `record` as the row's `data.delivery`, keeping the rest of its data. Throws when the row does not exist. */
export async function writeDelivery(store: TreasuryStore, treasuryId: string, alertKey: string, record: DeliveryRecord): Promise<void> {
  const row = await alertRow(store, treasuryId, alertKey);
  if (row === undefined) throw new Error(`alert ${alertKey} of treasury ${treasuryId}: no such alert row`);
  const base = isRecord(row.data) ? row.data : row.data === null || row.data === undefined ? {} : { value: row.data };
  await store.query((db, { alerts: t }) => db.update(t).set({ data: { ...base, delivery: record } })
    .where(and(eq(t.treasuryId, treasuryId), eq(t.alertKey, alertKey))));
}

/**
 * The latest notice (a 'deliver' decision) of the alert with this dedupe key,
 * other than `excludeKey`, and what was collapsed into it since.
 */
export async function previousNotice(
  store: TreasuryStore, treasuryId: string, dedupeKey: string, at: number, excludeKey: string, windowMs: number,
): Promise<{ alertKey: string; notice: PreviousNotice } | null> {
  const row = await store.query(async (db, { alerts: t }) => (await db.select().from(t)
    .where(and(eq(t.treasuryId, treasuryId), gte(t.at, at - NOTICE_LOOKBACK_MS), ne(t.alertKey, excludeKey),
      sql`${store.jsonText(t.data, 'delivery', 'key')} = ${dedupeKey}`, sql`${store.jsonText(t.data, 'delivery', 'decision')} = 'deliver'`))
    .orderBy(desc(t.at), desc(t.alertKey)).limit(1))[0]);
  const d = row === undefined ? null : deliveryOf(row);
  if (row === undefined || d === null || d.decision !== 'deliver') return null;
  // Collapsed occurrences lie within the window either side of the notice.
  const collapsed = await store.query(async (db, { alerts: t }) => (await db.select({ n: count(), first: min(t.at) }).from(t)
    .where(and(eq(t.treasuryId, treasuryId), gte(t.at, row.at - windowMs),
      sql`${store.jsonText(t.data, 'delivery', 'decision')} = 'collapse'`, sql`${store.jsonText(t.data, 'delivery', 'into')} = ${row.alertKey}`)))[0]);
  return {
    alertKey: row.alertKey,
    notice: {
      at: row.at, reached: d.reached, count: d.count, since: d.since,
      collapsed: collapsed?.n ?? 0, firstCollapsedAt: collapsed?.first ?? null,
    },
  };
}

/**
 * Critical alerts whose notice reached no sink: every configured sink failed
 * (or is still being retried). For `client.ts status`. Oldest first.
 */
export async function undeliveredCritical(store: TreasuryStore, treasuryId: string, opts: { sinceMs?: number } = {}): Promise<UndeliveredCriticalAlert[]> {
  const rows = await store.query((db, { alerts: t }) => db.select().from(t)
    .where(and(eq(t.treasuryId, treasuryId), eq(t.level, 'critical'), eq(t.delivered, false),
      opts.sinceMs === undefined ? undefined : gte(t.at, opts.sinceMs), sql`${store.jsonText(t.data, 'delivery', 'decision')} = 'deliver'`))
    .orderBy(t.at, t.alertKey));
  return rows.map((row) => {
    const d = deliveryOf(row);
    const sinks = d?.decision === 'deliver' ? d.sinks : {};
    return {
      alertKey: row.alertKey, at: row.at, kind: row.kind, message: row.message,
      failures: Object.entries(sinks).filter(([, o]) => !o.ok)
        .map(([sink, o]) => ({ sink, error: o.error, retryable: o.retryable, attempts: o.attempts })),
    };
  });
}

/**
 * The outbox: alerts stored (by a cycle's record, raiseAlerts, a written
 * backlog) that no delivery has decided on yet, oldest first. `exclude` are
 * keys a delivery already has in hand. What the alert-outbox workflow drains.
 */
export function pendingAlerts(store: TreasuryStore, treasuryId: string, opts: { exclude?: readonly string[]; limit?: number } = {}): Promise<AlertRow[]> {
  const exclude = opts.exclude ?? [];
  return store.query((db, { alerts: t }) => db.select().from(t)
    .where(and(eq(t.treasuryId, treasuryId), eq(t.delivered, false), sql`${store.jsonText(t.data, 'delivery', 'decision')} is null`,
      exclude.length > 0 ? notInArray(t.alertKey, [...exclude]) : undefined))
    .orderBy(asc(t.at), asc(t.alertKey))
    .limit(opts.limit ?? 100));
}

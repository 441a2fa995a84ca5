/**
 * The alert-delivery activity. For each alert: record it (idempotent on its
 * key), decide once whether it is delivered or collapsed into a recent notice
 * of the same alert, send it to every due sink that has not yet taken it, and
 * record each sink's outcome on the alert row. When a sink failed in a way
 * worth retrying, the activity throws a retryable failure naming those sinks
 * (never their URLs): Temporal's retry policy supplies the backoff, and the
 * retry sends only to the sinks still missing it.
 *
 * The log and the store are sinks too, but recordCycle / raiseAlerts already
 * wrote and logged the alert inside the cycle; this activity does the network.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { serverClock } from '../activities/deps.ts';
import {
  alertRow, deliveryOf, pendingAlerts, previousNotice, undeliveredCritical, writeDelivery, type DeliveryRecord, type SinkOutcome,
  type UndeliveredCriticalAlert,
} from '../db/alert-delivery.ts';
import type { TreasuryStore } from '../db/store.ts';
import { countSuffix, decideDedupe, dedupeKey } from '../domain/alert-dedupe.ts';
import type { AlertLevel } from '../domain/alerts.ts';
import { ALERT_LEVELS, type AlertsConfig } from './config.ts';
import { deliverAlert, type SinkResult } from './deliver.ts';
import { resolveSinks, secretsOf, sinksFor, type AlertNotice, type ResolvedSink } from './sinks.ts';

export interface AlertActivityDeps {
  store: TreasuryStore;
  logger: Logger;
  alerts: AlertsConfig;
  /** Where `{ "env": … }` secrets are read; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
  fetchImpl?: typeof fetch;
  /** Time of the sink outcomes; the activity's scheduled time by default. */
  clock?: () => number;
}

export interface AlertToDeliver {
  /** The alert's key in the store (the same key recordCycle / raiseAlerts used, so it is one row). */
  key: string;
  level: AlertLevel;
  kind: string;
  message: string;
  data: Record<string, unknown>;
  /** When it occurred, epoch ms: the dedupe window is measured between occurrences. */
  at: number;
}

export interface DeliverAlertsInput {
  treasuryId: string;
  alerts: AlertToDeliver[];
}

export interface AlertDeliveryOutcome {
  key: string;
  decision: 'deliver' | 'collapse';
  /** Some sink has it (or none was due); a collapsed alert counts as reached through its notice. */
  reached: boolean;
  sinks: { sink: string; ok: boolean; retryable: boolean; error: string | null }[];
}

export interface DeliverAlertsResult {
  outcomes: AlertDeliveryOutcome[];
}

/** The failure type a retrying workflow sees (ActivityFailure.cause.type). */
export const ALERT_DELIVERY_FAILED = 'AlertDeliveryFailed';
/** A service's Retry-After is honoured up to this; beyond, the retry policy's own backoff decides. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

function requireAlert(a: AlertToDeliver, i: number): void {
  const where = `alerts[${i}]`;
  if (typeof a.key !== 'string' || a.key === '') throw ApplicationFailure.nonRetryable(`${where}.key must be a non-empty string, got ${JSON.stringify(a.key)}`, 'InvalidAlert');
  if (!ALERT_LEVELS.includes(a.level)) throw ApplicationFailure.nonRetryable(`${where}.level must be one of ${ALERT_LEVELS.join(', ')}, got ${JSON.stringify(a.level)}`, 'InvalidAlert');
  if (!Number.isSafeInteger(a.at)) throw ApplicationFailure.nonRetryable(`${where}.at must be integer epoch milliseconds, got ${a.at}`, 'InvalidAlert');
}

function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // Called outside an activity (tests): nothing to tell.
  }
}

function outcomeOf(r: SinkResult, previous: SinkOutcome | undefined, at: number): SinkOutcome {
  const attempts = (previous?.attempts ?? 0) + 1;
  return r.ok
    ? { ok: true, retryable: false, status: r.status, error: null, attempts, at }
    : { ok: false, retryable: r.retryable, status: r.status, error: r.error, attempts, at };
}

export function alertActivities(deps: AlertActivityDeps) {
  const { store, logger } = deps;
  // Resolved once, at worker start: a missing secret variable stops the worker with a clear error.
  const sinks: readonly ResolvedSink[] = resolveSinks(deps.alerts, deps.env ?? process.env);
  const allSecrets = sinks.flatMap(secretsOf);
  const clock = deps.clock ?? serverClock;
  const windowMs = deps.alerts.dedupeWindowSeconds * 1000;

  /** The decision, made once and stored, so a retried activity repeats it rather than re-deciding. */
  function decide(treasuryId: string, a: AlertToDeliver): Promise<DeliveryRecord> {
    return store.transaction(async () => {
      const existing = deliveryOf((await alertRow(store, treasuryId, a.key)) ?? { data: null });
      if (existing !== null) return existing;
      const key = dedupeKey(a);
      const previous = await previousNotice(store, treasuryId, key, a.at, a.key, windowMs);
      const d = decideDedupe(previous?.notice ?? null, a.at, deps.alerts.dedupeWindowSeconds);
      const decidedAt = clock();
      const record: DeliveryRecord = d.action === 'collapse'
        ? { key, decision: 'collapse', decidedAt, into: previous?.alertKey ?? '' }
        : { key, decision: 'deliver', decidedAt, count: d.count, since: d.since, message: a.message + countSuffix(d.count, d.since, a.at), reached: false, sinks: {} };
      await writeDelivery(store, treasuryId, a.key, record);
      // A collapsed alert reached the operator through the notice it joined.
      if (record.decision === 'collapse') await store.markAlertDelivered(treasuryId, a.key);
      return record;
    });
  }

  async function deliverOne(treasuryId: string, a: AlertToDeliver): Promise<{ outcome: AlertDeliveryOutcome; retryable: SinkResult[] }> {
    await store.recordAlert({ treasuryId, alertKey: a.key, at: a.at, level: a.level, kind: a.kind, message: a.message, data: a.data });
    const record = await decide(treasuryId, a);
    if (record.decision === 'collapse') {
      logger.debug({ treasuryId, alert: a.kind, key: a.key, into: record.into }, 'alert collapsed into a recent notice');
      return { outcome: { key: a.key, decision: 'collapse', reached: true, sinks: [] }, retryable: [] };
    }
    const due = sinksFor(sinks, a.level);
    // A sink that took it, or refused it for good, is not sent to again.
    const pending = due.filter((s) => {
      const o = record.sinks[s.name];
      return o === undefined || (!o.ok && o.retryable);
    });
    const notice: AlertNotice = { treasuryId, level: a.level, kind: a.kind, message: record.message, data: a.data, at: a.at, count: record.count };
    const results = await deliverAlert(pending, notice, {
      ...(deps.fetchImpl && { fetchImpl: deps.fetchImpl }), timeoutMs: deps.alerts.sinkTimeoutMs, redactAlso: allSecrets,
    });
    const at = clock();
    const outcomes: Record<string, SinkOutcome> = { ...record.sinks };
    for (const r of results) outcomes[r.sink] = outcomeOf(r, record.sinks[r.sink], at);
    const reached = record.reached || due.length === 0 || results.some((r) => r.ok);
    await store.transaction(async () => {
      await writeDelivery(store, treasuryId, a.key, { ...record, reached, sinks: outcomes });
      if (reached) await store.markAlertDelivered(treasuryId, a.key);
    });

    for (const r of results) {
      if (!r.ok) logger.warn({ treasuryId, alert: a.kind, key: a.key, sink: r.sink, retryable: r.retryable, status: r.status }, `alert delivery to ${r.sink} failed: ${r.error}`);
    }
    if (!reached && a.level === 'critical') {
      logger.error({ treasuryId, alert: a.kind, key: a.key }, 'critical alert not delivered to any sink yet');
    }
    const failed = results.filter((r): r is Extract<SinkResult, { ok: false }> => !r.ok);
    return {
      outcome: {
        key: a.key, decision: 'deliver', reached,
        sinks: due.map((s) => {
          const o = outcomes[s.name];
          return { sink: s.name, ok: o?.ok ?? false, retryable: o?.retryable ?? false, error: o?.error ?? null };
        }),
      },
      retryable: failed.filter((r) => r.retryable),
    };
  }

  return {
    /** The outbox's next batch: stored alerts no delivery has decided on, minus those a delivery has in hand. */
    async pendingAlerts(input: { treasuryId: string; exclude: string[] }): Promise<AlertToDeliver[]> {
      const rows = await pendingAlerts(store, input.treasuryId, { exclude: input.exclude });
      return rows.map((r) => ({
        key: r.alertKey, level: r.level, kind: r.kind, message: r.message, at: r.at,
        data: typeof r.data === 'object' && r.data !== null && !Array.isArray(r.data) ? (r.data as Record<string, unknown>) : {},
      }));
    },

    /**
     * Delivers a batch of alerts to every enabled sink. Throws a retryable
     * ApplicationFailure (type AlertDeliveryFailed) naming the sinks to retry.
     */
    async deliverAlerts(input: DeliverAlertsInput): Promise<DeliverAlertsResult> {
      input.alerts.forEach(requireAlert);
      const outcomes: AlertDeliveryOutcome[] = [];
      const toRetry: { key: string; result: SinkResult }[] = [];
      for (const a of input.alerts) {
        heartbeat();
        const { outcome, retryable } = await deliverOne(input.treasuryId, a);
        outcomes.push(outcome);
        for (const r of retryable) toRetry.push({ key: a.key, result: r });
      }
      if (toRetry.length > 0) {
        const names = [...new Set(toRetry.map((f) => f.result.sink))];
        const detail = toRetry.map((f) => `${f.key} → ${f.result.sink}: ${f.result.ok ? 'ok' : f.result.error}`).join('; ');
        const hints = toRetry.flatMap((f) => (!f.result.ok && f.result.retryAfterMs !== null ? [f.result.retryAfterMs] : []));
        throw ApplicationFailure.create({
          type: ALERT_DELIVERY_FAILED,
          message: `alert delivery failed at sink(s) ${names.join(', ')}; will retry those only (${detail})`,
          nonRetryable: false,
          details: [{ sinks: names, alerts: [...new Set(toRetry.map((f) => f.key))] }],
          ...(hints.length > 0 && { nextRetryDelay: Math.min(MAX_RETRY_AFTER_MS, Math.max(...hints)) }),
        });
      }
      return { outcomes };
    },

    /** Critical alerts no sink has taken (failed, or still being retried): for the status. */
    async undeliveredCriticalAlerts(input: { treasuryId: string; sinceMs?: number }): Promise<UndeliveredCriticalAlert[]> {
      return undeliveredCritical(store, input.treasuryId, input.sinceMs === undefined ? {} : { sinceMs: input.sinceMs });
    },
  };
}

export type AlertActivities = ReturnType<typeof alertActivities>;

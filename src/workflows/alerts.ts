/**
 * Alert delivery runs outside the workflows that raise alerts, so a slow or
 * failing sink never blocks a monitoring cycle or an intervention; Temporal
 * retries the sinks with backoff.
 *
 * The stored alert rows are an outbox: the activity that stores them (the
 * cycle's record, in its transaction; raiseAlerts; a written backlog) wakes
 * the treasury's one `alertOutbox` workflow, which delivers what no delivery
 * has decided on yet. A raising workflow records nothing for delivery in its
 * own history. Runs recorded before the outbox started one `alertDelivery`
 * child per batch instead, and still replay so.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ParentClosePolicy, allHandlersFinished, condition, continueAsNew, log, makeContinueAsNewFunc, patched, proxyActivities, proxyLocalActivities, setHandler, startChild, workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { AlertToDeliver } from '../alerts/activity.ts';
import type { Alert } from '../domain/alerts.ts';
import { alertOutboxWakeSignal } from './contract.ts';

/** Raising workflows leave delivery to the outbox (no child workflow per alerting cycle). */
export const ALERT_OUTBOX_PATCH = 'alert-outbox';

const deliver = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

export interface AlertDeliveryInput {
  treasuryId: string;
  alerts: { key: string; level: Alert['level']; kind: string; message: string; data: Record<string, unknown>; at: number }[];
}

export async function alertDelivery(input: AlertDeliveryInput): Promise<void> {
  await deliver.deliverAlerts(input);
}

/**
 * Before the outbox: starts delivery of alerts already stored under `keyPrefix/<i>/<kind>` and returns without
 * waiting for it. With the outbox it does nothing: the activity that stored them woke the outbox.
 */
export async function deliverInBackground(treasuryId: string, keyPrefix: string, at: number, alerts: readonly Alert[]): Promise<void> {
  // Workflows that began before delivery existed replay without it (their histories have no such child).
  if (alerts.length === 0 || patched(ALERT_OUTBOX_PATCH) || !patched('alert-delivery')) return;
  try {
    await startChild(alertDelivery, {
      workflowId: `alerts/${keyPrefix}`,
      args: [{ treasuryId, alerts: alerts.map((a, i) => ({ key: `${keyPrefix}/${i}/${a.kind}`, level: a.level, kind: a.kind, message: a.message, data: a.data, at })) }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    // The same alerts already have a delivery under way (a replayed start): nothing to do.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    log.info('alert delivery already started', { keyPrefix });
  }
}

const store = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** Stores and logs alerts raised outside a monitoring cycle, then delivers them in the background. */
export async function raiseAlerts(treasuryId: string, key: string, at: number, alerts: Alert[]): Promise<void> {
  await store.raiseAlerts({ treasuryId, key, at, alerts });
  await deliverInBackground(treasuryId, key, at, alerts);
}

export interface AlertOutboxInput {
  treasuryId: string;
}

/** A sweep without a wake: alerts stored while a wake failed wait at most this long. */
const SWEEP_MS = 60 * 60_000;
/** Sweeps per run when the server never suggests continuing as new (each costs about 8 events). */
const MAX_SWEEPS_PER_RUN = 400;

const outboxStore = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/**
 * The treasury's alert outbox (id `alerts/outbox/<treasuryId>`): on each wake, and hourly, reads the stored
 * alerts no delivery has decided on and delivers them in a batch (deliverAlerts, retried with backoff for up to
 * an hour). Batches run side by side, so a sink that keeps failing never holds back the next critical alert.
 */
export async function alertOutbox(input: AlertOutboxInput): Promise<void> {
  const treasuryId = typeof input?.treasuryId === 'string' ? input.treasuryId : '';
  if (treasuryId === '') {
    log.error('alert outbox started without a treasuryId; it ends', { input: typeof input });
    return;
  }
  // A new run sweeps at once: a wake that arrived as the last one continued as new is not lost.
  let wake = true;
  // The wake carries nothing to parse: whatever a UI or CLI sends with it, it only means "look again".
  setHandler(alertOutboxWakeSignal, () => { wake = true; });
  const inHand = new Set<string>();
  for (let sweeps = 0; ; sweeps++) {
    await condition(() => wake, SWEEP_MS);
    wake = false;
    const batch = await nextBatch(treasuryId, inHand);
    if (batch.length > 0) deliverBatch(treasuryId, batch, inHand);
    const upgrade = workflowInfo().targetWorkerDeploymentVersionChanged;
    if (sweeps + 1 >= MAX_SWEEPS_PER_RUN || workflowInfo().continueAsNewSuggested || upgrade) {
      await condition(() => inHand.size === 0 && allHandlersFinished());
      // On a new current Worker Deployment version, the next run starts on it.
      const next = upgrade ? makeContinueAsNewFunc<typeof alertOutbox>({ initialVersioningBehavior: 'AUTO_UPGRADE' }) : continueAsNew<typeof alertOutbox>;
      await next({ treasuryId });
    }
  }
}

/** The stored alerts to deliver now; none when the store cannot be read (the next wake or sweep reads again). */
async function nextBatch(treasuryId: string, inHand: ReadonlySet<string>): Promise<AlertToDeliver[]> {
  try {
    return await outboxStore.pendingAlerts({ treasuryId, exclude: [...inHand] });
  } catch (err) {
    log.warn('alert outbox could not read the store; it reads again at the next wake or sweep', { treasuryId, error: err instanceof Error ? err.message : String(err) });
    return [];
  }
}

/** Delivers one batch without waiting for it; its keys stay in hand until it ends, delivered or given up. */
function deliverBatch(treasuryId: string, alerts: AlertToDeliver[], inHand: Set<string>): void {
  for (const a of alerts) inHand.add(a.key);
  void deliver.deliverAlerts({ treasuryId, alerts }).then(
    () => undefined,
    (err: unknown) => log.error('alert delivery gave up after its retries; the rows say which sinks failed', { treasuryId, error: err instanceof Error ? err.message : String(err) }),
  ).finally(() => {
    for (const a of alerts) inHand.delete(a.key);
  });
}

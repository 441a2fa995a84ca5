/**
 * Alert delivery runs in its own small workflow, started and left to run
 * (parent close policy ABANDON), so a slow or failing sink never blocks a
 * monitoring cycle or an intervention; Temporal retries the sinks with backoff.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, log, patched, proxyActivities, startChild } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { Alert } from '../domain/alerts.ts';

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

/** Starts delivery of alerts already stored under `keyPrefix/<i>/<kind>` and returns without waiting for it. */
export async function deliverInBackground(treasuryId: string, keyPrefix: string, at: number, alerts: readonly Alert[]): Promise<void> {
  // Workflows that began before delivery existed replay without it (their histories have no such child).
  if (alerts.length === 0 || !patched('alert-delivery')) return;
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

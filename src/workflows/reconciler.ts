/**
 * Reconciler (Schedule `reconcile/<treasuryId>`): closes store rows of
 * interventions whose workflow has closed without saying so (terminated,
 * reset, its last save lost), so a stale `running` row never blocks the next
 * Assess; and raises a critical alert on any mismatch between the books and
 * the ledger or chain. It never fails: a failed read is a system-failure alert.
 */
import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { BooksReport, ClosedRow } from '../activities/reconcile.ts';
import { booksMismatchAlert, systemFailureAlert, type Alert } from '../domain/alerts.ts';
import { raiseAlerts } from './alerts.ts';
import { jobTreasuryId, type JobInput } from './job-config.ts';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  // Bounded by time, not attempts: the next scheduled run tries again anyway.
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export interface ReconcilerResult {
  closed: ClosedRow[];
  books: BooksReport | null;
  failures: string[];
}

const hourKey = (t: number) => new Date(t).toISOString().slice(0, 13);

export async function reconciler(input: JobInput): Promise<ReconcilerResult> {
  // Only the treasury is needed: schedules since config versions carry nothing else.
  const treasuryId = jobTreasuryId(input, 'reconciler');
  const failures: string[] = [];
  const attempt = async <T>(what: string, work: () => Promise<T>): Promise<T | null> => {
    try {
      return await work();
    } catch (err) {
      failures.push(`${what}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`);
      return null;
    }
  };
  // Rows first, so the comparison sees them closed.
  const closed = (await attempt('closing orphaned interventions', () => acts.closeOrphanedInterventions({ treasuryId })))?.closed ?? [];
  const books = await attempt('comparing the books', () => acts.compareBooks({ treasuryId }));
  const now = Date.now();
  const alerts: Alert[] = [];
  if (books && books.findings.length > 0) alerts.push(booksMismatchAlert(treasuryId, books.findings));
  if (failures.length > 0) alerts.push(systemFailureAlert('reconciler', failures.join('; ')));
  // One alert per hour for the same trouble: the store keeps the first under its key.
  await attempt('raising alerts', () => raiseAlerts(treasuryId, `reconcile/${treasuryId}/${hourKey(now)}`, now, alerts));
  const result = { closed, books, failures };
  await attempt('recording the run', () => acts.recordJobResult({ treasuryId, job: 'reconcile', runKey: `${hourKey(now)}/${now}`, at: now, data: result }));
  if (failures.length) log.error('reconciler could not finish', { treasuryId, failures });
  return result;
}

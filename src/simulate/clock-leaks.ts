/**
 * A fault of the Java time-skipping test server, and its compensation.
 *
 * When a child workflow closes (completes, fails or is cancelled), the server
 * locks its clock "until the parent has been told", and the parent unlocks it
 * when it records the child's end. If the parent run is already closed (an
 * intervention outliving the monitor run that started it, which continues as
 * new every 150 cycles; an alert delivery outliving the intervention or job
 * that raised it), telling it fails with NOT_FOUND, which the server ignores,
 * and the lock is never released: from then on the clock only runs at wall
 * speed, and a simulation of weeks would take weeks (temporal-test-server,
 * TestWorkflowMutableStateImpl.processCompleteWorkflowExecution, "Parent might
 * already close"). Measured here: 30 days of 5-minute rows stalled on the day
 * the first intervention's 7-day ROI was taken.
 *
 * The compensation: every child workflow that runs an activity is watched
 * (its result long-polled through a plain client, which does not touch the
 * clock). When it closes, its parent run is described; when that run had
 * closed first, the leaked lock is released with one `unlockTimeSkipping`,
 * exactly once per such child. A terminated child takes no lock (the server
 * does not tell the parent), so it is not compensated.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

/** Children this simulation's workflows start: interventions (the monitor's) and alert deliveries (anyone's). */
const CHILD_IDS = /^(intervention|alerts)\//;
/** Closes that take the parent-notification lock. */
const LOCKING_CLOSES = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export class ClockLeaks {
  private readonly watched = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  /** Locks released for children whose parent had closed first. */
  released = 0;
  /** Watches that failed (reported, not fatal: at worst the clock slows to wall speed). */
  readonly problems: string[] = [];

  constructor(private readonly env: TestWorkflowEnvironment, private readonly client: Client) {}

  /** Watches a workflow until it closes, once per id; ids that are not children are ignored. */
  watch(workflowId: string): void {
    if (!CHILD_IDS.test(workflowId) || this.watched.has(workflowId)) return;
    this.watched.add(workflowId);
    const done = this.untilClosed(workflowId).catch((err: unknown) => {
      this.problems.push(`${workflowId}: ${err instanceof Error ? err.message : String(err)}`);
    });
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  /** Waits for the watches whose child has closed to finish their compensation (not for children still running). */
  async settle(): Promise<void> {
    const inFlight = [...this.pending];
    await Promise.race([Promise.allSettled(inFlight), new Promise((resolve) => setTimeout(resolve, 200))]);
  }

  private async untilClosed(workflowId: string): Promise<void> {
    const handle = this.client.workflow.getHandle(workflowId);
    // Resolves or rejects once the workflow closes, whatever its end.
    await handle.result().catch(() => undefined);
    const child = await handle.describe();
    const parent = child.parentExecution;
    if (!LOCKING_CLOSES.has(child.status.name) || !parent?.workflowId) return;
    const { workflowId: parentId, runId } = parent;
    let parentClosedAt: Date | undefined;
    try {
      parentClosedAt = (await this.client.workflow.getHandle(parentId, runId ?? undefined).describe()).closeTime;
    } catch (err) {
      // A parent the server no longer knows cannot have been told either.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      parentClosedAt = new Date(0);
    }
    const childClosedAt = child.closeTime ?? new Date();
    if (parentClosedAt !== undefined && parentClosedAt.getTime() <= childClosedAt.getTime()) {
      await this.env.connection.testService?.unlockTimeSkipping({});
      this.released += 1;
    }
  }
}

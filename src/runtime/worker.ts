/** Builds the Temporal worker: activities from injected dependencies, workflows from src/workflows. */
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { Worker, bundleWorkflowCode, type NativeConnection, type WorkerInterceptors, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, type ActivityDeps } from '../activities/index.ts';
import type { WorkflowState } from '../activities/deps.ts';
import type { Config } from '../config.ts';
import {
  TASK_QUEUE, alertOutboxWakeSignal, alertOutboxWorkflowId, applyProposalUpdate, monitorWorkflowId, statusQuery, type ApplyProposalRequest, type ApplyProposalResult, type MonitorStatus,
} from '../workflows/contract.ts';
import type { PaperWorld } from './paper-world.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

let bundled: Promise<WorkflowBundleWithSourceMap> | null = null;

/** Bundles the workflow code once per process (webpack takes seconds; every worker reuses it). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundled ??= bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
  return bundled;
}

/** Reads the monitor's status through Temporal; null when it does not exist or has ended. */
export function monitorStatusReader(client: Client) {
  return async (treasuryId: string): Promise<MonitorStatus | null> => {
    try {
      return await client.workflow.getHandle(monitorWorkflowId(treasuryId)).query(statusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      const text = String(err);
      if (/not found|completed|terminated|closed/i.test(text)) return null;
      throw err;
    }
  };
}

/** Describes any workflow through Temporal; null when the server does not know it. */
export function workflowStateReader(client: Client) {
  return async (workflowId: string): Promise<WorkflowState | null> => {
    try {
      const d = await client.workflow.getHandle(workflowId).describe();
      return { status: d.status.name, running: d.status.name === 'RUNNING', closedAt: d.closeTime ? d.closeTime.getTime() : null };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  };
}

/** The value a completed workflow returned; null for any other end (call it only for a closed workflow: it waits on a running one). */
export function workflowResultReader(client: Client) {
  return async (workflowId: string): Promise<unknown> => {
    const handle = client.workflow.getHandle(workflowId);
    if ((await handle.describe()).status.name !== 'COMPLETED') return null;
    return handle.result();
  };
}

/**
 * Sends a passed proposal's change to the monitor and waits for its answer. One Update id per proposal: a retried
 * activity attaches to the same Update instead of sending a second (the monitor also answers a repeat "already
 * applied"). A validator's refusal is the monitor's answer, not a failure to reach it.
 */
export function proposalApplier(client: Client) {
  return async (treasuryId: string, request: ApplyProposalRequest): Promise<ApplyProposalResult> => {
    try {
      return await client.workflow.getHandle(monitorWorkflowId(treasuryId)).executeUpdate(applyProposalUpdate, { args: [request], updateId: `apply/${request.proposalId}` });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) return { accepted: false, detail: `refused by the monitor: ${err.cause?.message ?? err.message}` };
      throw err;
    }
  };
}

/**
 * Wakes the treasury's alert outbox, starting it on this activity's task queue when it does not run
 * (signal-with-start: one call, whether it runs or not).
 */
export function alertOutboxWaker(client: Client, fallbackTaskQueue = TASK_QUEUE) {
  return async (treasuryId: string): Promise<void> => {
    let taskQueue = fallbackTaskQueue;
    try {
      taskQueue = Context.current().info.taskQueue;
    } catch {
      // Called outside an activity: the deployment's task queue.
    }
    await client.workflow.signalWithStart('alertOutbox', {
      workflowId: alertOutboxWorkflowId(treasuryId), taskQueue, args: [{ treasuryId }], signal: alertOutboxWakeSignal, signalArgs: [],
    });
  };
}

export function paperDeps(config: Config, world: PaperWorld, client: Client, logger: Logger): ActivityDeps {
  return {
    config, store: world.store, sources: world.sources, market: world.marketData, treasury: world.ledger,
    liquidity: world.liquidity, monitorStatus: monitorStatusReader(client), workflowState: workflowStateReader(client), workflowResult: workflowResultReader(client), logger,
    applyProposalToMonitor: proposalApplier(client), wakeAlertOutbox: alertOutboxWaker(client),
  };
}

/** A Worker Deployment version: the deployment's name and this build's id (issue #13 item 4). */
export interface DeploymentVersion {
  name: string;
  buildId: string;
}

export async function createWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  deps: ActivityDeps;
  taskQueue?: string;
  identity?: string;
  interceptors?: WorkerInterceptors;
  /**
   * Worker Versioning: every workflow is pinned to the version that started it (an intervention, a proposal, a
   * job run finish on the code they began with); the monitor and the alert outbox move to a new current version
   * when they continue as new. Absent: an unversioned worker.
   */
  deployment?: DeploymentVersion;
}): Promise<Worker> {
  return Worker.create({
    ...(opts.deployment ? {
      workerDeploymentOptions: {
        version: { deploymentName: opts.deployment.name, buildId: opts.deployment.buildId }, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED',
      },
    } : {}),
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: createActivities(opts.deps),
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.interceptors ? { interceptors: opts.interceptors } : {}),
  });
}

/**
 * Makes `version` the deployment's current version: new workflows start on it, and pinned ones stay where they
 * began. The server knows a version only once one of its workers has polled, so this retries for a while.
 */
export async function promoteDeploymentVersion(client: Client, namespace: string, version: DeploymentVersion, identity: string, attempts = 40): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.workflowService.setWorkerDeploymentCurrentVersion({ namespace, deploymentName: version.name, buildId: version.buildId, identity });
      return;
    } catch (err) {
      if (attempt >= attempts) throw new Error(`could not make ${version.name}.${version.buildId} the current version: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

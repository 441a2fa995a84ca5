/**
 * What every command gets: the Temporal session, the treasury it acts on,
 * where to print, and the clock; plus the helpers they share (queries with a
 * deadline, "wait until the workflow has taken my signal", visibility lists).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError, type QueryDefinition, type WorkflowExecutionInfo } from '@temporalio/client';
import { defaultConfig, type Config } from '../config-schema.ts';
import { configQuery, monitorWorkflowId } from '../workflows/contract.ts';
import { call, type Session } from './connect.ts';
import { CliError } from './errors.ts';

export interface Ctx extends Session {
  treasuryId: string;
  out(line: string): void;
  /** The command's machine-readable result (printed under --json instead of its lines). */
  emit?(doc: unknown): void;
  now(): number;
}

/** Queries a workflow; `missing` is the error when it does not exist. */
export async function query<T>(ctx: Ctx, workflowId: string, def: QueryDefinition<T, []>, missing: string): Promise<T> {
  try {
    return await call(ctx, `${workflowId} (query ${def.name})`, () => ctx.client.workflow.getHandle(workflowId).query(def));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(missing);
    throw err;
  }
}

export function noMonitor(ctx: Ctx): string {
  return `no monitor for treasury "${ctx.treasuryId}" (workflow ${monitorWorkflowId(ctx.treasuryId)}): start it with \`npm start\`, or pass --treasury`;
}

/** The monitor's running configuration. */
export function monitorConfig(ctx: Ctx): Promise<Config> {
  return query(ctx, monitorWorkflowId(ctx.treasuryId), configQuery, noMonitor(ctx));
}

/** Token decimals for display: the monitor's config when it answers, else the defaults. */
export async function configOrDefault(ctx: Ctx): Promise<Config> {
  try {
    return await monitorConfig(ctx);
  } catch {
    return defaultConfig();
  }
}

/** Describes a workflow that must exist, be of `type` and (unless `closedOk`) still be running. */
export async function describeOpen(ctx: Ctx, workflowId: string, type: string, noun: string, closedOk = false) {
  let d;
  try {
    d = await call(ctx, `describe ${workflowId}`, () => ctx.client.workflow.getHandle(workflowId).describe());
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no ${noun} ${workflowId}`);
    throw err;
  }
  if (d.type !== type) throw new CliError(`${workflowId} is a ${d.type} workflow, not a ${noun}`);
  if (!closedOk && d.status.name !== 'RUNNING') throw new CliError(`${noun} ${workflowId} has already ended (${d.status.name.toLowerCase()})`);
  return d;
}

/** Polls `read` until `done` holds (the workflow has processed a signal) or `timeoutMs` passes. */
export async function waitFor<T>(read: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 10_000): Promise<{ value: T; done: boolean }> {
  const until = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < until) {
    await sleep(200);
    value = await read();
  }
  return { value, done: done(value) };
}

/** Workflows of one type from visibility (eventually consistent: a start of the last second may be missing). */
export async function listWorkflows(ctx: Ctx, type: string, idPrefix: string): Promise<WorkflowExecutionInfo[]> {
  return call(ctx, `list ${type} workflows`, async () => {
    const rows: WorkflowExecutionInfo[] = [];
    for await (const wf of ctx.client.workflow.list({ query: `WorkflowType = '${type}'` })) {
      if (wf.workflowId.startsWith(idPrefix)) rows.push(wf);
    }
    return rows.sort((a, b) => seqOf(a.workflowId) - seqOf(b.workflowId));
  });
}

/** The trailing number of an id such as intervention/t/12 or proposal/3. */
export function seqOf(workflowId: string): number {
  const m = /(\d+)$/.exec(workflowId);
  return m ? Number(m[1]) : 0;
}

/** The state of a listed workflow: its query while open, its result once completed, null otherwise. */
export async function stateOf<T>(ctx: Ctx, wf: WorkflowExecutionInfo, def: QueryDefinition<T, []>): Promise<T | null> {
  const handle = ctx.client.workflow.getHandle(wf.workflowId, wf.runId);
  if (wf.status.name === 'RUNNING') return query(ctx, wf.workflowId, def, `${wf.workflowId} has disappeared`);
  if (wf.status.name === 'COMPLETED') return call(ctx, `result of ${wf.workflowId}`, () => handle.result() as Promise<T>);
  return null;
}

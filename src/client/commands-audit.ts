/** `audit <workflowId>`: a workflow's history, from the server or from a JSON export, as a timeline. */
import { readFileSync } from 'node:fs';
import { WorkflowNotFoundError } from '@temporalio/client';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import { auditTimeline } from './audit.ts';
import { call } from './connect.ts';
import type { Ctx } from './context.ts';
import { CliError } from './errors.ts';
import { decodeHistory } from './history.ts';

export interface AuditCommandOptions {
  run?: string;
  last?: number;
}

/** A long monitor run is a few thousand events: give the fetch more time than a query. */
const FETCH_TIMEOUT_MS = 30_000;

export async function audit(ctx: Ctx, workflowId: string, opts: AuditCommandOptions): Promise<void> {
  const handle = ctx.client.workflow.getHandle(workflowId, opts.run);
  let runId: string;
  let history: History;
  try {
    runId = (await call(ctx, `describe ${workflowId}`, () => handle.describe())).runId;
    history = await call(ctx, `history of ${workflowId}`, () => ctx.client.workflow.getHandle(workflowId, runId).fetchHistory(), FETCH_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no workflow ${workflowId}${opts.run ? ` with run ${opts.run}` : ''}`);
    throw err;
  }
  print(ctx, workflowId, runId, history, opts);
}

/** Audits a history exported with `temporal workflow show --workflow-id ID --output json` (no server needed). */
export function auditFile(ctx: Pick<Ctx, 'out'>, workflowId: string, file: string, opts: AuditCommandOptions): void {
  let history: History;
  try {
    history = historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new CliError(`cannot read a workflow history from ${file}: ${(err as Error).message}`);
  }
  print(ctx, workflowId, null, history, opts);
}

function print(ctx: Pick<Ctx, 'out'>, workflowId: string, runId: string | null, history: History, opts: AuditCommandOptions): void {
  const events = decodeHistory(history);
  const lines = auditTimeline(workflowId, runId, events, opts.last === undefined ? {} : { lastCycles: opts.last });
  lines.forEach((l) => ctx.out(l));
}

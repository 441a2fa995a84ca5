/**
 * The deploy gate behind `npm run replay-check` (issue #13 item 4): recent
 * histories of every workflow type a cluster holds, replayed against the
 * workflow code about to be rolled out. A change that would break a running
 * workflow (a command added, removed or reordered without `patched()`) shows
 * here as a determinism error before any worker runs it.
 *
 * Which histories: for each workflow type found in the window (running now,
 * or closed since `sinceMs`), its running executions first, then the most
 * recently closed ones, at most `perType` in all. Histories are fetched a few
 * at a time while the previous ones replay, so memory holds a handful, never
 * the whole set.
 *
 * What it reports never includes a payload: workflow and run ids, types,
 * counts, and the first line of each replay error (histories carry configs).
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { ReplayError, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

export type Selection = 'running' | 'closed';

export interface Selected {
  workflowId: string;
  runId: string;
  workflowType: string;
  selection: Selection;
}

export interface ReplayFailure {
  workflowId: string;
  runId: string;
  selection: Selection;
  kind: FailureKind;
  /** The replay error's first line (the determinism error's summary), never a payload. */
  error: string;
}

export interface TypeReport {
  workflowType: string;
  /** Histories replayed (failed ones included). */
  histories: number;
  running: number;
  closed: number;
  failed: number;
  failures: ReplayFailure[];
}

export interface ReplayCheckReport {
  /** Start of the window for closed executions (ISO). */
  since: string;
  perType: number;
  histories: number;
  failed: number;
  types: TypeReport[];
}

export interface ReplayCheckOptions {
  /** Closed executions count when they closed at or after this time (epoch ms); running ones always count. */
  sinceMs: number;
  /** At most this many histories per workflow type. */
  perType: number;
  /** The code to check (a bundle, or a workflows module to bundle); asked for once the histories are chosen, so a cluster that does not answer costs no bundling. */
  workflows: () => Promise<Pick<ReplayWorkerOptions, 'workflowBundle' | 'workflowsPath'>>;
  /** Histories fetched ahead of the replay; default 5 (as `intoHistories`). */
  concurrency?: number;
  /** Wraps each server call (a deadline, error translation); default: none. */
  call?: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
  /** Stops discovering after this many workflow types; default 200. */
  maxTypes?: number;
}

const FIRST_LINE_MAX = 300;

/** `7d`, `12h`, `30m`, `2w`, `90s` → milliseconds; null when it is not such a window. */
export function parseWindow(text: string): number | null {
  const m = /^(\d+)(s|m|h|d|w)$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return n > 0 && Number.isSafeInteger(n * unit) ? n * unit : null;
}

/** A visibility-query string literal. */
export function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The first line of an error's message, cut short: enough to name the divergence, never a dump of events. */
export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  const line = text.split('\n', 1)[0]?.trim() ?? '';
  return line.length > FIRST_LINE_MAX ? `${line.slice(0, FIRST_LINE_MAX - 1)}…` : line;
}

export type FailureKind = 'nondeterminism' | 'workflow-task-failed' | 'replay-error';

/**
 * A replay error as its kind and the determinism error's own first line: the SDK wraps core's message
 * ("Replay failed with a nondeterminism error. This means … Details: … Failure { message: \"[TMPRL1100] …\" …")
 * and the inner message is the part that names the divergence.
 */
export function summarizeReplayError(err: unknown): { kind: FailureKind; error: string } {
  const kind: FailureKind = err instanceof DeterminismViolationError ? 'nondeterminism' : err instanceof ReplayError && /workflow task failure/.test(err.message) ? 'workflow-task-failed' : 'replay-error';
  const text = err instanceof Error ? err.message : String(err);
  const details = text.includes('Details: ') ? text.slice(text.indexOf('Details: ') + 'Details: '.length) : text;
  const inner = /message: "((?:[^"\\]|\\.)*)"/.exec(details)?.[1]?.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
  return { kind, error: firstLine(inner ?? details) };
}

const direct = <T>(_what: string, fn: () => Promise<T>): Promise<T> => fn();

async function first(client: Client, query: string): Promise<WorkflowExecutionInfo | undefined> {
  for await (const w of client.workflow.list({ query, pageSize: 1 })) return w;
  return undefined;
}

async function take(client: Client, query: string, n: number): Promise<WorkflowExecutionInfo[]> {
  const out: WorkflowExecutionInfo[] = [];
  if (n <= 0) return out;
  for await (const w of client.workflow.list({ query, pageSize: Math.min(n, 1000) })) {
    out.push(w);
    if (out.length >= n) break;
  }
  return out;
}

/**
 * The workflow types with an execution running, or closed since `sinceIso`: one one-row query per type found
 * (each excludes the types already found), so a namespace with thousands of runs of one job costs one row each.
 */
export async function discoverTypes(client: Client, sinceIso: string, opts: { maxTypes?: number; call?: ReplayCheckOptions['call'] } = {}): Promise<string[]> {
  const call = opts.call ?? direct;
  const found: string[] = [];
  const window = `(ExecutionStatus = 'Running' OR CloseTime >= ${literal(sinceIso)})`;
  while (found.length < (opts.maxTypes ?? 200)) {
    const query = found.length ? `${window} AND WorkflowType NOT IN (${found.map(literal).join(', ')})` : window;
    const w = await call('listing workflow types', () => first(client, query));
    if (!w) break;
    found.push(w.type);
  }
  return found.sort();
}

/** A type's executions to check: the running ones first, then the most recently closed, at most `perType`. */
export async function selectExecutions(client: Client, workflowType: string, sinceIso: string, perType: number, call: ReplayCheckOptions['call'] = direct): Promise<Selected[]> {
  const type = `WorkflowType = ${literal(workflowType)}`;
  const running = await call(`listing running ${workflowType} executions`, () => take(client, `${type} AND ExecutionStatus = 'Running'`, perType));
  const closed = await call(`listing closed ${workflowType} executions`,
    () => take(client, `${type} AND ExecutionStatus != 'Running' AND CloseTime >= ${literal(sinceIso)}`, perType - running.length));
  const pick = (selection: Selection) => (w: WorkflowExecutionInfo): Selected => ({ workflowId: w.workflowId, runId: w.runId, workflowType: w.type, selection });
  return [...running.map(pick('running')), ...closed.map(pick('closed'))];
}

/**
 * Each selected execution's history, in order, fetched up to `concurrency` ahead (what `list().intoHistories()`
 * does, but per chosen run: intoHistories yields no run id, and the per-type cap needs the listing anyway).
 */
async function* histories(client: Client, selected: readonly Selected[], concurrency: number, call: NonNullable<ReplayCheckOptions['call']>, onYield: (s: Selected) => void): AsyncGenerator<HistoryAndWorkflowId> {
  const inFlight: Promise<HistoryAndWorkflowId>[] = [];
  let next = 0;
  const fetchNext = () => {
    const s = selected[next++];
    if (!s) return;
    const p = call(`fetching the history of ${s.workflowId} (run ${s.runId})`, () => client.workflow.getHandle(s.workflowId, s.runId).fetchHistory())
      .then((history) => ({ workflowId: s.workflowId, history }));
    // Awaited in order below; this only keeps a prefetch abandoned by an early stop from being an unhandled rejection.
    p.catch(() => undefined);
    inFlight.push(p);
  };
  while (next < selected.length && inFlight.length < concurrency) fetchNext();
  for (let i = 0; i < selected.length; i++) {
    const item = await inFlight.shift();
    fetchNext();
    if (!item) break;
    onYield(selected[i] as Selected);
    yield item;
  }
}

/** Finds, fetches and replays; the report says per type how many replayed and which failed. */
export async function replayCheck(client: Client, opts: ReplayCheckOptions): Promise<ReplayCheckReport> {
  const call = opts.call ?? direct;
  const since = new Date(opts.sinceMs).toISOString();
  const types = await discoverTypes(client, since, { call, ...(opts.maxTypes ? { maxTypes: opts.maxTypes } : {}) });
  const selected: Selected[] = [];
  for (const t of types) selected.push(...(await selectExecutions(client, t, since, opts.perType, call)));

  const reports = new Map<string, TypeReport>(types.map((t) => [t, { workflowType: t, histories: 0, running: 0, closed: 0, failed: 0, failures: [] }]));
  if (selected.length > 0) {
    // One replay at a time: each result belongs to the history handed over just before it.
    const handedOver: Selected[] = [];
    const source = histories(client, selected, opts.concurrency ?? 5, call, (s) => handedOver.push(s));
    for await (const result of Worker.runReplayHistories({ ...(await opts.workflows()), replayName: 'replay-check' }, source)) {
      const s = handedOver.shift();
      if (!s) throw new Error(`replay result for ${result.workflowId} without a history handed over`);
      const r = reports.get(s.workflowType) as TypeReport;
      r.histories++;
      r[s.selection]++;
      if (result.error) {
        r.failed++;
        r.failures.push({ workflowId: s.workflowId, runId: s.runId, selection: s.selection, ...summarizeReplayError(result.error) });
      }
    }
  }
  const list = [...reports.values()];
  return {
    since, perType: opts.perType,
    histories: list.reduce((n, r) => n + r.histories, 0),
    failed: list.reduce((n, r) => n + r.failed, 0),
    types: list,
  };
}

/** The report as lines: one per workflow type, each failure under its type, and a verdict. */
export function formatReport(report: ReplayCheckReport, target: { address: string; namespace: string }): string[] {
  const lines = [`replay-check: ${target.address}, namespace ${target.namespace}: workflows running, or closed since ${report.since}; at most ${report.perType} per type`];
  if (report.types.length === 0) {
    lines.push('nothing to check: no workflow is running or closed in the window');
    return lines;
  }
  const width = Math.max(...report.types.map((t) => t.workflowType.length));
  for (const t of report.types) {
    lines.push(`  ${t.workflowType.padEnd(width)}  ${t.histories} replayed (${t.running} running, ${t.closed} closed), ${t.failed} failed`);
    for (const f of t.failures) lines.push(`    FAILED ${f.workflowId} run ${f.runId} (${f.selection}), ${f.kind}: ${f.error}`);
  }
  const kinds = `${report.types.length} workflow type${report.types.length === 1 ? '' : 's'}`;
  lines.push(report.failed === 0
    ? `OK: all ${report.histories} histories of ${kinds} replay against the current code`
    : `FAILED: ${report.failed} of ${report.histories} histories of ${kinds} do not replay against the current code: `
      + 'rolling it out would break those workflows (guard the change with patched(); see the README\'s deploy gate)');
  return lines;
}

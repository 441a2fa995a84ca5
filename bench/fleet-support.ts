/** What bench:cycles and bench:fleet share: percentiles, bounded concurrency, a monitor's history. */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { monitorWorkflowId } from '../src/workflows/contract.ts';

/** Nearest-rank percentile. */
export function pct(values: readonly number[], p: number): number {
  if (!values.length) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? Number.NaN;
}

export const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  }));
  return out;
}

export async function monitorHistory(client: Client, treasuryId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  return (await client.workflow.getHandle(monitorWorkflowId(treasuryId)).fetchHistory()).events ?? [];
}

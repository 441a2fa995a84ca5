/**
 * Determinism guard: committed histories of a monitor and an intervention
 * must replay against the current workflow code. A change that would break
 * running workflows fails here; record new histories
 * only with a versioned (patched) change: `RECORD_HISTORIES=1 npx vitest run test/e2e/devserver.test.ts`.
 */
import { readFileSync } from 'node:fs';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { workflowBundle } from '../../src/runtime/worker.ts';

const load = (name: string) => historyFromJSON(JSON.parse(readFileSync(new URL(`../fixtures/histories/${name}`, import.meta.url), 'utf8')));

beforeAll(() => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed by another test in this process
  }
});

describe('replaying committed histories', () => {
  it('replays the monitor that started an intervention', async () => {
    const history = load('monitor.json');
    expect(history.events?.length).toBeGreaterThan(100);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'monitor/replay');
  }, 60_000);

  it('replays the intervention from validate to its last ROI', async () => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('intervention.json'), 'intervention/replay/1');
  }, 60_000);

  it('fails on a history the code did not produce', async () => {
    const history = load('intervention.json');
    // Drop the first activity the workflow scheduled: the code will ask for it, the history will not have it.
    const i = history.events?.findIndex((e) => e.activityTaskScheduledEventAttributes) ?? -1;
    history.events?.splice(i, 3);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'intervention/replay/1')).rejects.toThrow();
  }, 60_000);
});

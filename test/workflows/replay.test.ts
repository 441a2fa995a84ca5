/**
 * Determinism guard: committed histories of a monitor and an intervention
 * must replay against the current workflow code. A change that would break
 * running workflows fails here; record new histories
 * only with a versioned (patched) change: `RECORD_HISTORIES=<name> npx vitest run test/e2e/devserver.test.ts`
 * adds monitor-<name>.json and intervention-<name>.json beside the older ones (list them in HISTORIES).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { workflowBundle } from '../../src/runtime/worker.ts';

const load = (name: string) => historyFromJSON(JSON.parse(readFileSync(new URL(`../fixtures/histories/${name}`, import.meta.url), 'utf8')));
const HISTORIES = [
  'monitor.json', 'intervention.json', 'monitor-i9.json', 'intervention-i9.json', 'monitor-i10.json', 'intervention-i10.json',
  'monitor-i10b.json', 'intervention-i10b.json', 'monitor-config-i10b.json', 'governance-i10b.json',
  'monitor-i11.json', 'intervention-i11.json', 'monitor-config-i11.json', 'governance-i11.json',
  'monitor-i12.json', 'intervention-i12.json', 'monitor-config-i12.json', 'governance-i12.json',
  'monitor-i13.json', 'intervention-i13.json', 'monitor-config-i13.json', 'governance-i13.json', 'alert-outbox-i13.json',
];

/** Patches no committed history takes, and why (each is a gap to close when its workflow gets a recorded run). */
const NOT_RECORDED: Record<string, string> = {
  'quote-out-of-bound-alert': 'taken only when every slice is quoted below the floor; the recorded intervention swaps',
  'pump-sol-consensus': 'taken only when PUMP or SOL has no consensus (the intervention then ends); the recorded one is priced',
  'governance-change-rules': 'taken only by a proposal whose change its type may not carry (it ends failed at once); the recorded one may',
  'governance-config-from-worker': 'taken only by a proposal started without its governance config (the README\'s short CLI input); the recorded one has it',
  'proposal-wait-activity': 'taken only by propose-only (Squads) treasuries; the recorded run is paper (test/workflows/proposal-wait.test.ts runs it)',
};

/** The ids the workflow code (and the programs it runs) passes to patched(): literal, or through a `…_PATCH = '…'` constant. */
function patchIdsInCode(): string[] {
  const ids = new Set<string>();
  for (const folder of ['../../src/workflows/', '../../src/programs/']) {
    const dir = fileURLToPath(new URL(folder, import.meta.url));
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const m of text.matchAll(/patched\('([^']+)'\)|_PATCH = '([^']+)'/g)) ids.add(m[1] ?? m[2] ?? '');
    }
  }
  return [...ids].sort();
}

/** The patch ids a history's markers record. */
function patchesIn(history: ReturnType<typeof load>): string[] {
  return (history.events ?? []).flatMap((e) => {
    const a = e.markerRecordedEventAttributes;
    const data = a?.markerName === 'core_patch' ? a.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    return data ? [(JSON.parse(new TextDecoder().decode(data)) as { id: string }).id] : [];
  });
}

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

  it('replays the monitor and the intervention recorded with the safety-loop patches', async () => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('monitor-i9.json'), 'monitor/replay-i9');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('intervention-i9.json'), 'intervention/replay-i9/1');
  }, 60_000);

  it('replays the monitor and the intervention recorded with the money-path patches (key classes, exact tiers)', async () => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('monitor-i10.json'), 'monitor/replay-i10');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('intervention-i10.json'), 'intervention/replay-i10/1');
  }, 60_000);

  it('replays the monitor, intervention, config change and passed proposal recorded with consensus, config versions and governed limits', async () => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('monitor-i10b.json'), 'monitor/replay-i10b');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('intervention-i10b.json'), 'intervention/replay-i10b/1');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('monitor-config-i10b.json'), 'monitor/replay-config-i10b');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('governance-i10b.json'), 'proposal/replay-i10b');
  }, 90_000);

  it('replays the monitor, intervention, config change and proposal recorded with signed plan approvals and checked operator actions', async () => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('monitor-i11.json'), 'monitor/replay-i11');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('intervention-i11.json'), 'intervention/replay-i11/1');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('monitor-config-i11.json'), 'monitor/replay-config-i11');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('governance-i11.json'), 'proposal/replay-i11');
  }, 90_000);

  it('replays the monitor, intervention, config change and proposal recorded from the cycle and lifecycle programs (src/programs)', async () => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('monitor-i12.json'), 'monitor/replay-i12');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('intervention-i12.json'), 'intervention/replay-i12/1');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('monitor-config-i12.json'), 'monitor/replay-config-i12');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('governance-i12.json'), 'proposal/replay-i12');
  }, 90_000);

  it('replays the monitor, intervention, config change and proposal recorded with local cycle activities, the alert outbox and continue-as-new on suggestion', async () => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('monitor-i13.json'), 'monitor/replay-i13');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('intervention-i13.json'), 'intervention/replay-i13/1');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('monitor-config-i13.json'), 'monitor/replay-config-i13');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('governance-i13.json'), 'proposal/replay-i13');
  }, 90_000);

  it('replays the alert outbox woken by an intervention\'s and a proposal\'s alerts, with its deliveries', async () => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load('alert-outbox-i13.json'), 'alerts/outbox/replay-i13');
  }, 60_000);

  it('has, for every patch in the monitor and intervention code, a committed history that takes the patched branch', () => {
    const recorded = new Set(HISTORIES.flatMap((name) => patchesIn(load(name))));
    const inCode = patchIdsInCode().filter((id) => !(id in NOT_RECORDED));
    expect(inCode.filter((id) => !recorded.has(id))).toEqual([]);
  });

  it('fails on a history the code did not produce', async () => {
    const history = load('intervention.json');
    // Drop the first activity the workflow scheduled: the code will ask for it, the history will not have it.
    const i = history.events?.findIndex((e) => e.activityTaskScheduledEventAttributes) ?? -1;
    history.events?.splice(i, 3);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'intervention/replay/1')).rejects.toThrow();
  }, 60_000);
});

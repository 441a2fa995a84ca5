/**
 * The deploy gate `npm run replay-check` (issue #13 item 4) against the real
 * dev server: a worker over a paper world runs the monitor into a drawdown
 * (an intervention waiting in its timelock), a governance proposal and the
 * scheduled jobs; then the worker stops (so the histories hold still while
 * they are counted) and replay-check runs as its own process, the way an
 * operator runs it before rolling a new worker.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { SCHEDULES, ensureMonitor, ensureSchedules } from '../../src/runtime/ensure.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import { createWorker, paperDeps } from '../../src/runtime/worker.ts';
import type { DevServer } from '../../src/temporal/server.ts';
import { interventionStateQuery, monitorWorkflowId, scheduleId, statusQuery } from '../../src/workflows/contract.ts';
import type { ReplayCheckReport } from '../../src/ops/replay-check.ts';
import { ephemeralDevServer, freePort, repoRoot, waitFor } from './fixtures/e2e.ts';

const TREASURY = 'rc';
const IV = `intervention/${TREASURY}/1`;
/** In the proposal's description, so in its history's input: it must never be printed. */
const MARKER = 'replay-check-payload-marker-7f3a';
const UNPATCHED = fileURLToPath(new URL('../fixtures/replay-check/unpatched-intervention.ts', import.meta.url));

const config = parseConfig({
  treasuryId: TREASURY,
  monitor: { cycleIntervalSeconds: 1 },
  intervention: { operators: ['alice', 'bob'], timelockMinutes: 0.05 },
  treasury: { initial: { pump: '40000000', usdc: '700000' } },
  liquidity: { enabled: false },
  paper: { drawdown: { startInSeconds: 0, depth: 0.17, rampSeconds: 1 } },
  governance: {
    holders: [{ name: 'alice', liquid: 1_000_000, staked: 250_000 }, { name: 'bob', liquid: 400_000 }],
    votingPeriodHours: 0.002, emergencyVotingPeriodHours: 0.002, executionDelayHours: 0, deadlineWarningHours: 0.001,
  },
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 240_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const replayCheck = (args: string[]) => run('src/cli/replay-check.ts', args);

/** What the visibility store holds per workflow type: its running and closed executions. */
type Counts = Record<string, { running: number; closed: number }>;

let dir: string;
let server: DevServer;
let world: PaperWorld;
let worker: Worker;
let expected: Counts;

async function countsByType(): Promise<Counts> {
  const counts: Counts = {};
  for await (const w of server.env.client.workflow.list()) {
    const c = (counts[w.type] ??= { running: 0, closed: 0 });
    if (w.status.name === 'RUNNING') c.running++;
    else c.closed++;
  }
  return counts;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pstr-replaycheck-'));
  server = await ephemeralDevServer(dir);
  world = await buildPaperWorld(config, { dataDir: dir });
  worker = await createWorker({ connection: server.env.nativeConnection, namespace: 'default', deps: paperDeps(config, world, server.env.client, pino({ level: 'silent' })) });
  const client = server.env.client;

  await worker.runUntil(async () => {
    await ensureMonitor(client, config);
    const monitor = client.workflow.getHandle(monitorWorkflowId(TREASURY));
    await waitFor('a pending intervention', async () => (await monitor.query(statusQuery)).pendingInterventions.includes(IV), { timeoutMs: 60_000 });
    await waitFor('the timelock', async () => (await client.workflow.getHandle(IV).query(interventionStateQuery)).stage === 'timelock', { timeoutMs: 30_000 });

    const proposed = await run('client.ts', ['--treasury', TREASURY, 'propose', 'treasury-strategy', '--change', JSON.stringify({ action: 'updateConfig', patch: { risk: { maxSlippage: 0.015 } } }),
      '--description', `replay-check: tighter slippage ${MARKER}`, '--proposer', 'alice'], { TEMPORAL_ADDRESS: server.address });
    expect(proposed.code, proposed.stderr).toBe(0);

    // Every job fires at least once, then the schedules go, so no new run starts while the histories are counted.
    await ensureSchedules(client, config, { everyOverride: '2s' });
    for (const s of SCHEDULES) {
      const handle = client.schedule.getHandle(scheduleId(TREASURY, s.job));
      await waitFor(`${s.job} to fire`, async () => (await handle.describe()).info.recentActions.length > 0, { timeoutMs: 60_000, intervalMs: 250 });
    }
    for (const s of SCHEDULES) await client.schedule.getHandle(scheduleId(TREASURY, s.job)).delete();
    await waitFor('the scheduled jobs to end', async () => {
      const c = await countsByType();
      return SCHEDULES.every((s) => (c[s.workflowType]?.closed ?? 0) > 0 && (c[s.workflowType]?.running ?? 0) === 0);
    }, { timeoutMs: 60_000, intervalMs: 500 });
  });

  // With the worker gone the histories hold still; two equal listings in a row mean visibility has caught up.
  let last = '';
  expected = await waitFor('the listing to settle', async () => {
    const c = await countsByType();
    const text = JSON.stringify(c);
    const settled = text === last;
    last = text;
    return settled ? c : undefined;
  }, { timeoutMs: 30_000, intervalMs: 1_000 });
}, 300_000);

afterAll(async () => {
  await world?.store.close();
  await server?.shutdown();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('npm run replay-check against a running cluster', () => {
  it('replays every workflow type found on the cluster against the current code, prints each type with its count, and exits 0', async () => {
    const types = Object.keys(expected).sort();
    expect(types).toEqual(expect.arrayContaining(['strategyMonitor', 'intervention', 'governanceProposal', ...SCHEDULES.map((s) => s.workflowType)]));

    const r = await replayCheck(['--address', server.address]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const total = types.reduce((n, t) => n + Math.min(20, (expected[t]?.running ?? 0) + (expected[t]?.closed ?? 0)), 0);
    for (const t of types) {
      const { running, closed } = expected[t] ?? { running: 0, closed: 0 };
      const takeRunning = Math.min(20, running);
      const takeClosed = Math.min(20 - takeRunning, closed);
      expect(r.stdout).toMatch(new RegExp(`^ {2}${t} +${takeRunning + takeClosed} replayed \\(${takeRunning} running, ${takeClosed} closed\\), 0 failed$`, 'm'));
    }
    expect(r.stdout).toContain(`OK: all ${total} histories of ${types.length} workflow types replay against the current code`);
    expect(r.stdout).not.toContain('FAILED');
    expect(`${r.stdout}${r.stderr}`).not.toContain(MARKER);
  }, 300_000);

  it('takes at most --per-type histories of each type, running ones first', async () => {
    const r = await replayCheck(['--address', server.address, '--per-type', '1', '--json']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const doc = JSON.parse(r.stdout) as ReplayCheckReport & { ok: boolean };
    expect(doc.ok).toBe(true);
    expect(doc.types.map((t) => t.workflowType)).toEqual(Object.keys(expected).sort());
    for (const t of doc.types) {
      const running = expected[t.workflowType]?.running ?? 0;
      expect({ type: t.workflowType, histories: t.histories, running: t.running, failed: t.failed })
        .toEqual({ type: t.workflowType, histories: 1, running: running > 0 ? 1 : 0, failed: 0 });
    }
  }, 300_000);

  it('fails with exit 1 naming the workflow and run when the code has an unpatched change that a recorded history does not replay', async () => {
    const r = await replayCheck(['--address', server.address, '--workflows-path', UNPATCHED, '--json']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    const doc = JSON.parse(r.stdout) as ReplayCheckReport & { ok: boolean };
    expect(doc.ok).toBe(false);
    const iv = doc.types.find((t) => t.workflowType === 'intervention');
    expect(iv?.failed).toBe(expected.intervention?.running ?? -1);
    const runId = (await server.env.client.workflow.getHandle(IV).describe()).runId;
    expect(iv?.failures).toEqual([expect.objectContaining({ workflowId: IV, runId, selection: 'running', kind: 'nondeterminism', error: expect.stringMatching(/^\[TMPRL1100\] Nondeterminism error: /) as unknown })]);
    // The other types are the current code: they still replay.
    expect(doc.types.filter((t) => t.workflowType !== 'intervention').every((t) => t.failed === 0 && t.histories > 0)).toBe(true);
    expect(doc.failed).toBe(iv?.failed);
    expect(`${r.stdout}${r.stderr}`).not.toContain(MARKER);

    const plain = await replayCheck(['--address', server.address, '--workflows-path', UNPATCHED]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toMatch(new RegExp(`^ {4}FAILED ${IV} run ${runId} \\(running\\), nondeterminism: \\[TMPRL1100\\] Nondeterminism error: `, 'm'));
    expect(plain.stdout).toMatch(/^FAILED: 1 of \d+ histories of \d+ workflow types do not replay against the current code/m);
  }, 300_000);

  it('exits 2 with a message naming the address when the cluster cannot be reached', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const r = await replayCheck(['--address', address]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`error: cannot reach Temporal at ${address}: is the cluster up, and is --address (or TEMPORAL_ADDRESS) right? Nothing was checked.`);
    const json = await replayCheck(['--address', address, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: expect.stringContaining(`cannot reach Temporal at ${address}`) as unknown });
  }, 60_000);

  it('exits 2 naming the namespace when the cluster has no such namespace', async () => {
    const r = await replayCheck(['--address', server.address, '--namespace', 'no-such-namespace']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
    expect(r.stderr.trim()).toBe(`error: namespace "no-such-namespace" does not exist at ${server.address}: check --namespace (or TEMPORAL_NAMESPACE). Nothing was checked.`);
  }, 60_000);

  it('exits 2 on a bad option, before connecting', async () => {
    const r = await replayCheck(['--address', server.address, '--since', 'a week']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--since <window>' argument 'a week' is invalid");
  }, 60_000);
});

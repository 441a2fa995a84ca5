/**
 * End to end on the real `temporal` dev server, as `npm start` runs it: a
 * worker over a paper world in this process, the monitor cycling every second
 * into a 17 % drawdown, and the operator's `client.ts` run as a separate
 * process (the way an operator runs it) to refuse, approve, audit and query.
 *
 * RECORD_HISTORIES=1 also writes the intervention's and the monitor's
 * histories to test/fixtures/histories/ (the unit tests' recorded fixtures).
 */
import { freePort, quietRuntime } from './fixtures/e2e.ts';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { formatAmount } from '../../src/domain/amount.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import { createWorker, paperDeps } from '../../src/runtime/worker.ts';
import { startDevServer, type DevServer } from '../../src/temporal/server.ts';
import {
  alertOutboxWorkflowId, configQuery, interventionStateQuery, monitorWorkflowId, statusQuery, tallyQuery, updateConfigSignal, type InterventionState, type MonitorStatus, type ProposalTally,
} from '../../src/workflows/contract.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
const TREASURY = 'e2e';
const IV = `intervention/${TREASURY}/1`;

quietRuntime();


interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `client.ts` as its own process, the way an operator does. */
function cli(address: string, args: string[], treasury = TREASURY): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'client.ts', '--treasury', treasury, ...args], {
      cwd: ROOT, env: { ...process.env, TEMPORAL_ADDRESS: address }, timeout: 30_000,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

async function until<T>(what: string, read: () => Promise<T>, ok: (t: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined && ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)?.slice(0, 400)}`);
    await sleep(250);
  }
}

describe('client.ts against the dev server', () => {
  let server: DevServer;
  let world: PaperWorld;
  let worker: Worker;
  let running: Promise<void>;
  let dir: string;

  const config = parseConfig({
    treasuryId: TREASURY,
    monitor: { cycleIntervalSeconds: 1 },
    intervention: { operators: ['alice', 'bob'], timelockMinutes: 0.05 },
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
    liquidity: { enabled: false },
    paper: { drawdown: { startInSeconds: 0, depth: 0.17, rampSeconds: 1 } },
    // Votes of seconds and no delay, so a proposal ends within the test.
    governance: {
      holders: [{ name: 'alice', liquid: 1_000_000, staked: 250_000 }, { name: 'bob', liquid: 400_000 }],
      votingPeriodHours: 0.002, emergencyVotingPeriodHours: 0.002, executionDelayHours: 0, deadlineWarningHours: 0.001,
    },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pstr-e2e-'));
    server = await startDevServer({ dataDir: dir, ephemeral: true, port: await freePort(), ui: false });
    world = await buildPaperWorld(config, { dataDir: dir });
    worker = await createWorker({ connection: server.env.nativeConnection, namespace: 'default', deps: paperDeps(config, world, server.env.client, pino({ level: 'silent' })) });
    running = worker.run();
  }, 60_000);

  afterAll(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await world?.store.close();
    await server?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('approves a pending intervention from the command line, which then swaps once in the paper ledger, and audits it', async () => {
    const client = server.env.client;
    await ensureMonitor(client, config);
    const monitor = client.workflow.getHandle(monitorWorkflowId(TREASURY));
    await until('a pending intervention', () => monitor.query(statusQuery), (s: MonitorStatus) => s.pendingInterventions.includes(IV), 20_000);

    const status = await cli(server.address, ['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`Pending interventions: ${IV}`);

    const iv = client.workflow.getHandle(IV);
    await until('the timelock', () => iv.query(interventionStateQuery), (s: InterventionState) => s.stage === 'timelock', 10_000);
    const mallory = await cli(server.address, ['approve', IV, '--operator', 'mallory']);
    expect(mallory.code).toBe(1);
    expect(mallory.stderr).toMatch(/refused.*"mallory" is not a configured operator/);

    const approve = await cli(server.address, ['approve', IV, '--operator', 'alice', '--reason', 'e2e']);
    expect(approve.stderr).toBe('');
    expect(approve.code).toBe(0);
    expect(approve.stdout).toContain(`${IV}: approved by alice`);

    const done = await until('the swap', () => iv.query(interventionStateQuery), (s: InterventionState) => s.status === 'executed', 20_000);
    expect(done.result?.pstrBought).toMatch(/^[1-9]\d*$/);
    expect(await world.ledger.swapCount()).toBe(1);

    const [auditRun, json, unknown, pause, ghost] = await Promise.all([
      cli(server.address, ['audit', IV]),
      cli(server.address, ['status', '--json']),
      cli(server.address, ['approve', `intervention/${TREASURY}/99`, '--operator', 'alice']),
      cli(server.address, ['pause', '--by', 'bob', '--reason', 'e2e pause']),
      cli(server.address, ['status'], 'ghost'),
    ]);
    expect(auditRun.code).toBe(0);
    const timeline = auditRun.stdout;
    const order = ['step validate: still triggered', 'step assess: every gate passed', 'step size: tier 1', 'approve update by mallory', 'approve update by alice ("e2e")', 'step timelock: approved', 'step recheck', 'swap requested: slice 0', 'swap result: confirmed'];
    const positions = order.map((text) => timeline.indexOf(text));
    expect(positions.every((p) => p >= 0), `${order.filter((_, i) => (positions[i] ?? -1) < 0).join(', ')} missing from:\n${timeline}`).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(timeline).toContain('approved by alice');
    expect(timeline).toContain(`swap result: confirmed — ${formatAmount({ raw: BigInt(done.result?.pumpSpent ?? '0'), decimals: 6 })} PUMP → ${formatAmount({ raw: BigInt(done.result?.pstrBought ?? '0'), decimals: 6 })} PSTR`);

    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { status: MonitorStatus; health: { level: string | null } };
    expect(parsed.status.treasuryId).toBe(TREASURY);
    expect(parsed.status.interventionCount).toBe(1);

    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe(`error: no intervention intervention/${TREASURY}/99`);

    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toContain('error: no monitor for treasury "ghost" (workflow monitor/ghost)');

    expect(pause.code).toBe(0);
    expect(pause.stdout).toMatch(/pause by bob \("e2e pause"\): accepted/);
    expect(pause.stdout).toContain(`${TREASURY}: PAUSED`);

    if (process.env.RECORD_HISTORIES) {
      // RECORD_HISTORIES=1 rewrites the first histories; a name (RECORD_HISTORIES=i9) adds a pair beside them, so the
      // older ones keep replaying the paths before each patch.
      const suffix = process.env.RECORD_HISTORIES === '1' ? '' : `-${process.env.RECORD_HISTORIES}`;
      writeFileSync(join(FIXTURES, `intervention${suffix}.json`), historyToJSON(await iv.fetchHistory()));
      writeFileSync(join(FIXTURES, `monitor${suffix}.json`), historyToJSON(await monitor.fetchHistory()));
    }
  }, 90_000);

  it('takes an operator\'s operational change and a limit tightened by a passed proposal, and records both', async () => {
    const client = server.env.client;
    const monitor = client.workflow.getHandle(monitorWorkflowId(TREASURY));
    await monitor.signal(updateConfigSignal, { by: 'alice', patch: { monitor: { cycleIntervalSeconds: 2 } } });
    await until('the operational change', () => monitor.query(configQuery), (c) => c.monitor.cycleIntervalSeconds === 2, 10_000);

    const change = JSON.stringify({ action: 'updateConfig', patch: { risk: { maxSlippage: 0.015 } } });
    const proposed = await cli(server.address, ['propose', 'treasury-strategy', '--change', change, '--description', 'e2e: tighter slippage', '--proposer', 'alice']);
    expect(proposed.code, proposed.stderr).toBe(0);
    const id = /^(proposal\/\d+) started/m.exec(proposed.stdout)?.[1] ?? '';
    const voted = await cli(server.address, ['vote', id, '--voter', 'alice', '--choice', 'yes']);
    expect(voted.code, voted.stderr).toBe(0);
    const proposal = client.workflow.getHandle(id);
    const tally = await until(`${id} decided`, () => proposal.query(tallyQuery), (t: ProposalTally) => !['voting', 'passed-waiting'].includes(t.status), 45_000);
    expect(tally.status).toBe('executed');
    expect((await monitor.query(configQuery)).risk.maxSlippage).toBe(0.015);
    const events = (await monitor.query(statusQuery)).recentOperatorEvents.filter((e) => e.action === 'updateConfig' && e.accepted);
    expect(events.map((e) => e.by)).toEqual(expect.arrayContaining(['alice', `governance ${id}`]));

    if (process.env.RECORD_HISTORIES) {
      const suffix = process.env.RECORD_HISTORIES === '1' ? '' : `-${process.env.RECORD_HISTORIES}`;
      await proposal.result();
      writeFileSync(join(FIXTURES, `governance${suffix}.json`), historyToJSON(await proposal.fetchHistory()));
      writeFileSync(join(FIXTURES, `monitor-config${suffix}.json`), historyToJSON(await monitor.fetchHistory()));
      // The alert outbox the intervention's and the proposal's alerts woke (running: its history so far).
      writeFileSync(join(FIXTURES, `alert-outbox${suffix}.json`), historyToJSON(await client.workflow.getHandle(alertOutboxWorkflowId(TREASURY)).fetchHistory()));
    }
  }, 90_000);

  it('says clearly when the server cannot be reached, and exits non-zero within ten seconds', async () => {
    const r = await cli(`127.0.0.1:${await freePort()}`, ['status']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^error: cannot reach Temporal at 127\.0\.0\.1:\d+: is `npm start` running, or is TEMPORAL_ADDRESS right\?$/);
    expect(r.ms).toBeLessThan(10_000);
  }, 20_000);
});

/**
 * Limits under governance on the real dev server, driven the way the README shows: the `temporal` CLI. An
 * operator's looser or governed updateConfig is refused and recorded (signal) or refused to the caller (Update);
 * a proposal whose change the monitor refuses ends `failed` with the monitor's reason, one it accepts `executed`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { buildPaperWorld, type PaperWorld } from '../../src/runtime/paper-world.ts';
import { createWorker, paperDeps } from '../../src/runtime/worker.ts';
import { resolveTemporalCli } from '../../src/temporal/binaries.ts';
import type { DevServer } from '../../src/temporal/server.ts';
import { configQuery, monitorWorkflowId, statusQuery, tallyQuery, type ProposalTally } from '../../src/workflows/contract.ts';
import { ephemeralDevServer, repoRoot, waitFor } from './fixtures/e2e.ts';

const TREASURY = 'pstr-limits';
const MONITOR = monitorWorkflowId(TREASURY);

interface Run { code: number; stdout: string; stderr: string }

function run(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: repoRoot, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('limits under governance through the temporal CLI on the dev server', () => {
  let server: DevServer;
  let world: PaperWorld;
  let worker: Worker;
  let running: Promise<void>;
  let dir: string;

  const config = parseConfig({
    treasuryId: TREASURY,
    monitor: { cycleIntervalSeconds: 5 },
    intervention: { operators: ['alice', 'bob'] },
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
    liquidity: { enabled: false },
    // Votes of seconds and no delay (the monitor applies its own delay): the proposals below end within the test.
    governance: {
      holders: [{ name: 'alice', liquid: 1_000_000, staked: 250_000 }, { name: 'bob', liquid: 400_000 }],
      votingPeriodHours: 0.002, emergencyVotingPeriodHours: 0.002, executionDelayHours: 0, deadlineWarningHours: 0.001,
    },
  });
  const governance = config.governance;

  const temporal = (args: string[]) => run(resolveTemporalCli() ?? 'temporal', [...args, '--address', server.address, '--namespace', 'default']);
  const handle = (id: string) => server.env.client.workflow.getHandle(id);
  const events = async () => (await handle(MONITOR).query(statusQuery)).recentOperatorEvents;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pstr-limits-'));
    server = await ephemeralDevServer(dir);
    world = await buildPaperWorld(config, { dataDir: dir });
    worker = await createWorker({ connection: server.env.nativeConnection, namespace: 'default', deps: paperDeps(config, world, server.env.client, pino({ level: 'silent' })) });
    running = worker.run();
    await ensureMonitor(server.env.client, config);
  }, 120_000);

  afterAll(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await world?.store.close();
    await server?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('refuses an operator\'s looser limit and new operator, records why, and refuses the Update past a ceiling to its caller', async () => {
    const [looser, operators, update, classRefused] = await Promise.all([
      temporal(['workflow', 'signal', '--workflow-id', MONITOR, '--name', 'updateConfig', '--input', JSON.stringify({ by: 'alice', patch: { risk: { maxDeployment: 0.5 } } })]),
      temporal(['workflow', 'signal', '--workflow-id', MONITOR, '--name', 'updateConfig', '--input', JSON.stringify({ by: 'bob', patch: { intervention: { operators: ['alice', 'bob', 'bobby'] } } })]),
      temporal(['workflow', 'update', 'execute', '--workflow-id', MONITOR, '--name', 'updateConfig', '--input', JSON.stringify({ by: 'alice', patch: { risk: { maxSlippage: 1 } } })]),
      temporal(['workflow', 'update', 'execute', '--workflow-id', MONITOR, '--name', 'updateConfig', '--input', JSON.stringify({ by: 'bob', patch: { strategy: { cooldownHours: 2 } } })]),
    ]);
    expect(classRefused.code).not.toBe(0);
    expect(`${classRefused.stdout}${classRefused.stderr}`).toMatch(/strategy\.cooldownHours \(tightening\) 48 → 2: looser/);
    expect(looser.code, looser.stderr).toBe(0);
    expect(operators.code, operators.stderr).toBe(0);
    expect(update.code).not.toBe(0);
    expect(`${update.stdout}${update.stderr}`).toMatch(/risk\.maxSlippage = 1: at most 0\.05 \(the hard ceiling\)/);
    const refused = await waitFor('three refused updateConfig events', async () => {
      const mine = (await events()).filter((e) => e.action === 'updateConfig' && !e.accepted);
      return mine.length >= 3 ? mine : undefined;
    }, { timeoutMs: 20_000 });
    expect(refused.find((e) => e.detail.includes('cooldownHours'))?.by).toBe('bob');
    expect(refused.find((e) => e.by === 'alice')?.detail).toMatch(/^refused: risk\.maxDeployment \(tightening\) 0\.4 → 0\.5: looser/);
    expect(refused.find((e) => e.by === 'bob' && e.detail.includes('operators'))?.detail).toMatch(/^refused: intervention\.operators \(governed\)/);
    const running = await handle(MONITOR).query(configQuery);
    expect(running.risk).toMatchObject({ maxDeployment: 0.4, maxSlippage: 0.02 });
    expect(running.intervention.operators).toEqual(['alice', 'bob']);
  }, 60_000);

  it('ends a proposal the monitor refuses `failed` with its reason, and one it accepts `executed`', async () => {
    const start = (seq: number, kind: string, patch: Record<string, unknown>) => temporal([
      'workflow', 'start', '--type', 'governanceProposal', '--task-queue', 'pstr-treasury', '--workflow-id', `proposal/${seq}`,
      '--input', JSON.stringify({ seq, treasuryId: TREASURY, kind, description: `limits ${seq}`, change: { action: 'updateConfig', patch }, proposer: 'alice', config: governance }),
    ]);
    const started = await Promise.all([
      start(71, 'treasuryStrategy', { risk: { maxSlippage: 0.04 } }),
      start(72, 'parameterAdjustment', { risk: { maxSlippage: 0.03 } }),
    ]);
    for (const r of started) expect(r.code, r.stderr).toBe(0);
    for (const id of ['proposal/71', 'proposal/72']) {
      expect((await temporal(['workflow', 'signal', '--workflow-id', id, '--name', 'vote', '--input', '{"voter":"alice","choice":"yes"}'])).code).toBe(0);
    }
    // Both end their vote together: the monitor may take either first (0.02 or 0.03 is running when 71 is judged).
    const [refused, accepted] = await Promise.all(['proposal/71', 'proposal/72'].map((id) => waitFor(`${id} decided`, async () => {
      const t = await handle(id).query<ProposalTally>(tallyQuery);
      return t.status === 'executed' || t.status === 'failed' || t.status === 'rejected' ? t : undefined;
    }, { timeoutMs: 45_000 })));
    expect(refused?.status).toBe('failed');
    expect(refused?.outcome).toMatch(/^passed but refused by the monitor: refused: risk\.maxSlippage \(tightening\) 0\.0[23] → 0\.04: looser; a Treasury Strategy proposal may only make it stricter/);
    expect(accepted?.status).toBe('executed');
    expect((await handle(MONITOR).query(configQuery)).risk.maxSlippage).toBe(0.03);
    expect((await world.store.proposal('proposal/71'))?.status).toBe('failed');
    const history = await handle(MONITOR).fetchHistory();
    expect((history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
  }, 90_000);
});

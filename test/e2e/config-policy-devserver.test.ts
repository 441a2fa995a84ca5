/**
 * Limits under governance on the real dev server, driven the way the README shows: the `temporal` CLI. An
 * operator's looser or governed updateConfig is refused and recorded (signal) or refused to the caller (Update);
 * a proposal whose change the monitor refuses ends `failed` with the monitor's reason, one it accepts `executed`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { configQuery, monitorWorkflowId, statusQuery, tallyQuery, type ProposalTally } from '../../src/workflows/contract.ts';
import { waitFor } from './fixtures/e2e.ts';
import { startPaperRig, type PaperRig } from './fixtures/paper-rig.ts';

const TREASURY = 'pstr-limits';
const MONITOR = monitorWorkflowId(TREASURY);

describe('limits under governance through the temporal CLI on the dev server', () => {
  let rig: PaperRig;

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

  const temporal = (args: string[]) => rig.temporal(args);
  const handle = (id: string) => rig.client.workflow.getHandle(id);
  const events = async () => (await handle(MONITOR).query(statusQuery)).recentOperatorEvents;

  beforeAll(async () => {
    rig = await startPaperRig(config, { prefix: 'pstr-limits' });
    await ensureMonitor(rig.client, config);
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
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
    expect((await rig.world.store.proposal('proposal/71'))?.status).toBe('failed');
    const history = await handle(MONITOR).fetchHistory();
    expect((history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
  }, 90_000);
});

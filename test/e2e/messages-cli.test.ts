/**
 * Every message of every workflow, sent the way a Web UI or `temporal` CLI
 * user sends it, on the real dev server (the time-skipping server hides some
 * handler failures): no input, `null`, a string, wrong types and a megabyte.
 * Each workflow keeps running with no failed workflow task, answers its
 * queries, and records the refusal. Then who may do what: a non-operator's
 * pause, resume, stop, config change and cancel are refused; a forged
 * governance message is refused; a cancel of an unknown id leaves the monitor
 * running; a proposal with a missing field fails fast naming it; the README's
 * proposal input works as written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { resolveTemporalCli } from '../../src/temporal/binaries.ts';
import {
  configQuery, interventionStateQuery, monitorWorkflowId, statusQuery, tallyQuery, type InterventionState, type MonitorStatus, type OperatorEvent,
  type ProposalTally,
} from '../../src/workflows/contract.ts';
import { repoRoot, waitFor } from './fixtures/e2e.ts';
import { startPaperRig, type PaperRig, type Ran as Run } from './fixtures/paper-rig.ts';

const TREASURY = 'pstr-main';
const IV = `intervention/${TREASURY}/1`;
const MONITOR = monitorWorkflowId(TREASURY);
const MEGA = 'x'.repeat(1_000_000);

const temporalCli = resolveTemporalCli();

/** One payload variant as `temporal` CLI arguments; the megabyte goes through --input-file (no argv limit). */
type Variant = { name: string; args: (dir: string) => string[] };

function variants(wrong: unknown, oversize: unknown): Variant[] {
  return [
    { name: 'no input', args: () => [] },
    { name: 'null', args: () => ['--input', 'null'] },
    { name: 'a string', args: () => ['--input', '"hello"'] },
    { name: 'wrong types', args: () => ['--input', JSON.stringify(wrong)] },
    {
      name: 'a megabyte', args: (dir) => {
        const file = join(dir, `mega-${Math.random().toString(36).slice(2)}.json`);
        writeFileSync(file, JSON.stringify(oversize));
        return ['--input-file', file];
      },
    },
  ];
}

describe('messages sent through the temporal CLI on the dev server', () => {
  let rig: PaperRig;
  let dir: string;

  const config = parseConfig({
    treasuryId: TREASURY,
    monitor: { cycleIntervalSeconds: 1 },
    // The intervention waits ten hours in its timelock: long enough to receive every message while running.
    intervention: { operators: ['alice', 'bob'], timelockMinutes: 600 },
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
    liquidity: { enabled: false },
    paper: { drawdown: { startInSeconds: 0, depth: 0.17, rampSeconds: 1, holdSeconds: 3600 } },
    governance: { holders: [{ name: 'alice', liquid: 1_000_000, staked: 250_000 }, { name: 'bob', liquid: 400_000 }] },
  });

  const temporal = (args: string[]) => rig.temporal(args);
  /**
   * A megabyte signal grows the monitor's history past the server's suggestion, so it continues as new; a signal
   * that lands in that instant is refused by the server ("workflow is closing") and is sent again, as a user would.
   */
  const signal = async (workflowId: string, name: string, extra: string[]): Promise<Run> => {
    for (let attempt = 1; ; attempt++) {
      const r = await temporal(['workflow', 'signal', '--workflow-id', workflowId, '--name', name, ...extra]);
      if (r.code === 0 || !r.stderr.includes('workflow is closing') || attempt >= 5) return r;
      await new Promise((done) => setTimeout(done, 300));
    }
  };
  const clientTs = (args: string[]) => rig.clientTs(args);
  const handle = (id: string): WorkflowHandle => rig.client.workflow.getHandle(id);
  const status = () => handle(MONITOR).query(statusQuery);
  const events = () => status().then((s) => s.recentOperatorEvents);

  /** Still running, no failed workflow task in its whole history. */
  async function healthy(id: string): Promise<void> {
    const d = await handle(id).describe();
    expect(d.status.name, `${id} status`).toBe('RUNNING');
    const history = await handle(id).fetchHistory();
    const failedTasks = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes);
    expect(failedTasks.map((e) => e.workflowTaskFailedEventAttributes?.failure?.message), `${id} failed workflow tasks`).toEqual([]);
  }

  /** Sends one message in every variant at once and waits until the monitor has recorded as many refusals for it. */
  async function refusedByMonitor(name: string, wrong: unknown, oversize: unknown): Promise<OperatorEvent[]> {
    const before = (await events()).at(-1)?.at ?? 0;
    const sent = await Promise.all(variants(wrong, oversize).map((v) => signal(MONITOR, name, v.args(dir))));
    for (const r of sent) expect(r.code, r.stderr).toBe(0);
    return waitFor(`5 refused ${name} events`, async () => {
      const mine = (await events()).filter((e) => e.action === name && e.at >= before && !e.accepted);
      return mine.length >= 5 ? mine : undefined;
    }, { timeoutMs: 20_000 });
  }

  beforeAll(async () => {
    rig = await startPaperRig(config, { prefix: 'pstr-messages' });
    dir = rig.dir;
    await ensureMonitor(rig.client, config);
    await waitFor('intervention 1 in its timelock', async () => {
      const s = await handle(IV).query(interventionStateQuery).catch(() => null);
      return s?.stage === 'timelock' ? s : undefined;
    }, { timeoutMs: 45_000 });
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  }, 30_000);

  it('finds the temporal CLI', () => {
    expect(temporalCli, 'the temporal CLI (npm run setup installs it)').not.toBeNull();
  });

  it('refuses and records every malformed monitor message, and keeps cycling with no failed workflow task', async () => {
    const cases: [string, unknown, unknown][] = [
      ['pause', { by: 42 }, { by: MEGA }],
      ['resume', { by: ['alice'] }, { by: MEGA }],
      ['emergencyStop', { by: { name: 'alice' } }, { by: 'alice', reason: MEGA }],
      ['updateConfig', { by: 'alice', patch: null }, { by: 'alice', patch: { note: MEGA } }],
      ['cancelIntervention', { by: 'alice', interventionId: 7 }, { by: 'alice', interventionId: MEGA }],
      ['wake', { reason: 5 }, { reason: MEGA }],
      ['interventionSettled', { interventionId: IV, status: 'won', executedAt: 'soon' }, { interventionId: MEGA, status: 'executed', executedAt: 1 }],
    ];
    const configBefore = await handle(MONITOR).query(configQuery);
    for (const [name, wrong, oversize] of cases) {
      const refused = await refusedByMonitor(name, wrong, oversize);
      for (const e of refused) {
        expect(e.detail, `${name}: ${e.detail}`).toMatch(new RegExp(`^refused: malformed ${name}: `));
        expect(e.detail.length).toBeLessThan(600);
      }
    }
    const s = await status();
    expect(s).toMatchObject({ paused: false, emergencyStop: false, pendingInterventions: [IV] });
    expect(await handle(MONITOR).query(configQuery)).toEqual(configBefore);
    const cycles = s.cycles;
    await waitFor('another cycle', async () => (await status()).cycles > cycles, { timeoutMs: 10_000 });
    await healthy(MONITOR);
  }, 120_000);

  it('refuses and records every malformed approve and reject, and the intervention keeps waiting', async () => {
    const before = (await handle(IV).query(interventionStateQuery)).approvals.refused.length;
    for (const name of ['approve', 'reject']) {
      const sent = await Promise.all(variants({ operator: ['alice'] }, { operator: MEGA }).map((v) => signal(IV, name, v.args(dir))));
      for (const r of sent) expect(r.code, r.stderr).toBe(0);
    }
    const st = await waitFor('10 refused decisions', async () => {
      const s = await handle(IV).query(interventionStateQuery);
      return s.approvals.refused.length >= before + 10 ? s : undefined;
    }, { timeoutMs: 20_000 });
    const refused = st.approvals.refused.slice(before);
    expect(refused.every((r) => /^malformed (approve|reject): /.test(r.why))).toBe(true);
    expect(st).toMatchObject({ status: 'running', stage: 'timelock', approvals: { approvals: [], rejection: null } });
    await healthy(IV);
  }, 60_000);

  it('refuses and records every malformed vote, and the proposal keeps voting', async () => {
    const id = 'proposal/41';
    const input = { seq: 41, treasuryId: TREASURY, kind: 'parameterAdjustment', description: 'slower cooldown', change: { action: 'updateConfig', patch: { strategy: { cooldownHours: 72 } } }, proposer: 'bob' };
    const started = await temporal(['workflow', 'start', '--type', 'governanceProposal', '--task-queue', 'pstr-treasury', '--workflow-id', id, '--input', JSON.stringify(input)]);
    expect(started.code, started.stderr).toBe(0);
    await waitFor('the tally', () => handle(id).query(tallyQuery), { timeoutMs: 20_000 });
    const sent = await Promise.all(variants({ voter: 'alice', choice: 7 }, { voter: 'alice', choice: MEGA }).map((v) => signal(id, 'vote', v.args(dir))));
    for (const r of sent) expect(r.code, r.stderr).toBe(0);
    const t = await waitFor('5 refused votes', async () => {
      const tally = await handle(id).query(tallyQuery);
      return tally.refused.length >= 5 ? tally : undefined;
    }, { timeoutMs: 20_000 });
    expect(t.refused.every((r) => r.why.startsWith('malformed vote: ') && r.choice.length < 200)).toBe(true);
    expect(t).toMatchObject({ status: 'voting', votes: {} });
    await healthy(id);
  }, 60_000);

  it('refuses a non-operator\'s pause, stop, config change and cancel, and changes nothing', async () => {
    const mallory = (name: string, body: object) => signal(MONITOR, name, ['--input', JSON.stringify({ by: 'mallory', ...body })]);
    await Promise.all([
      mallory('pause', { reason: 'mine now' }),
      mallory('emergencyStop', {}),
      mallory('updateConfig', { patch: { risk: { maxSlippage: 0.5 } } }),
      mallory('cancelIntervention', { interventionId: IV }),
    ]);
    const refused = await waitFor('mallory refused four times', async () => {
      const mine = (await events()).filter((e) => e.by === 'mallory');
      return mine.length >= 4 ? mine : undefined;
    }, { timeoutMs: 20_000 });
    for (const e of refused) {
      expect(e.accepted).toBe(false);
      expect(e.detail).toContain('"mallory" is not a configured operator');
    }
    expect(await status()).toMatchObject({ paused: false, emergencyStop: false, pendingInterventions: [IV] });
    expect((await handle(MONITOR).query(configQuery)).risk.maxSlippage).toBe(0.02);
    expect((await handle(IV).query(interventionStateQuery)).status).toBe('running');
  }, 60_000);

  it('refuses a governance message for a proposal the store does not hold, or one still voting', async () => {
    await Promise.all([
      signal(MONITOR, 'pause', ['--input', JSON.stringify({ by: 'governance proposal/77', proposalId: 'proposal/77' })]),
      signal(MONITOR, 'updateConfig', ['--input', JSON.stringify({ by: 'governance proposal/41', proposalId: 'proposal/41', patch: { strategy: { cooldownHours: 72 } } })]),
    ]);
    const refused = await waitFor('two governance refusals', async () => {
      const mine = (await events()).filter((e) => e.by?.startsWith('governance '));
      return mine.length >= 2 ? mine : undefined;
    }, { timeoutMs: 20_000 });
    expect(refused.find((e) => e.by === 'governance proposal/77')?.detail).toBe('refused: no proposal proposal/77 in the store');
    expect(refused.find((e) => e.by === 'governance proposal/41')?.detail).toBe('refused: proposal proposal/41 is voting, not passed');
    expect(await status()).toMatchObject({ paused: false });
    expect((await handle(MONITOR).query(configQuery)).strategy.cooldownHours).toBe(48);
  }, 60_000);

  it('refuses client.ts actions by a non-operator with the reason and exit code 1, and a malformed Update before history', async () => {
    const [pause, update] = await Promise.all([
      clientTs(['pause', '--by', 'mallory', '--reason', 'via client']),
      temporal(['workflow', 'update', 'execute', '--workflow-id', MONITOR, '--name', 'pause', '--input', 'null']),
    ]);
    expect(pause.code).toBe(1);
    expect(pause.stderr).toContain('pause refused: pause refused: "mallory" is not a configured operator');
    expect(update.code).not.toBe(0);
    expect(`${update.stdout}${update.stderr}`).toMatch(/malformed pause/);
    expect(await status()).toMatchObject({ paused: false });
    await healthy(MONITOR);
  }, 60_000);

  it('lifts an operator\'s emergency stop only for an operator: mallory\'s resume is refused, alice\'s (RR ≥ 1.5) accepted', async () => {
    const stop = await clientTs(['emergency-stop', '--by', 'bob', '--reason', 'drill']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/emergencyStop by bob \("drill"\): accepted/);
    expect((await status()).emergencyStop).toBe(true);

    const malloryResume = await signal(MONITOR, 'resume', ['--input', JSON.stringify({ by: 'mallory' })]);
    expect(malloryResume.code).toBe(0);
    await waitFor('mallory\'s resume refused', async () => (await events()).find((e) => e.action === 'resume' && e.by === 'mallory' && !e.accepted), { timeoutMs: 20_000 });
    expect((await status()).emergencyStop).toBe(true);

    const resume = await clientTs(['resume', '--by', 'alice', '--reason', 'drill over']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stdout).toMatch(/resume by alice \("drill over"\): accepted — resumed; emergency stop lifted/);
    expect((await status()).emergencyStop).toBe(false);
  }, 60_000);

  it('refuses a cancel of an id that is not in flight and keeps the monitor running', async () => {
    const [viaSignal, viaClient] = await Promise.all([
      signal(MONITOR, 'cancelIntervention', ['--input', JSON.stringify({ by: 'alice', interventionId: `intervention/${TREASURY}/99` })]),
      clientTs(['cancel-intervention', 'intervention/other/1', '--by', 'bob']),
    ]);
    expect(viaSignal.code).toBe(0);
    expect(viaClient.code).toBe(1);
    expect(viaClient.stderr).toContain('intervention/other/1 is not an intervention of pstr-main in flight');
    await waitFor('the cancel refused', async () => (await events()).find((e) => e.action === 'cancelIntervention' && e.by === 'alice' && e.detail.includes('/99 is not an intervention')), { timeoutMs: 20_000 });
    const cycles = (await status()).cycles;
    await waitFor('another cycle', async () => (await status()).cycles > cycles, { timeoutMs: 10_000 });
    await healthy(MONITOR);
    expect((await handle(IV).query(interventionStateQuery)).status).toBe('running');
  }, 60_000);

  it('fails a governance proposal with a missing field at once, naming the field, with no failed workflow task', async () => {
    const id = 'proposal/42';
    const started = await temporal(['workflow', 'start', '--type', 'governanceProposal', '--task-queue', 'pstr-treasury', '--workflow-id', id, '--input', JSON.stringify({ seq: 42, treasuryId: TREASURY, kind: 'emergencyAction', change: { action: 'pause' }, proposer: 'alice' })]);
    expect(started.code, started.stderr).toBe(0);
    const failure = await handle(id).result().then(() => null, (err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause?.message).toMatch(/^governanceProposal input refused: description: .*\(got missing\)/);
    const history = await handle(id).fetchHistory();
    expect((history.events ?? []).some((e) => e.workflowTaskFailedEventAttributes)).toBe(false);
  }, 60_000);

  it('fails every other workflow started with a malformed input at once, naming the field', async () => {
    const types = ['strategyMonitor', 'intervention', 'accumulationJob', 'riskAssessmentJob', 'performanceReportJob', 'liquidityRebalanceJob', 'operatorReport'];
    const started = await Promise.all(types.map((type) => temporal(['workflow', 'start', '--type', type, '--task-queue', 'pstr-treasury', '--workflow-id', `bad-input/${type}`, '--input', '{"config":{"mode":"casino"}}'])));
    for (const r of started) expect(r.code, r.stderr).toBe(0);
    for (const type of types) {
      const failure = await handle(`bad-input/${type}`).result().then(() => null, (err: unknown) => err);
      expect((failure as WorkflowFailedError | null)?.cause?.message, type).toMatch(new RegExp(`^${type} input refused: (.*; )?config\\.mode: .*\\(got "casino"\\)`));
      const history = await handle(`bad-input/${type}`).fetchHistory();
      expect((history.events ?? []).some((e) => e.workflowTaskFailedEventAttributes), type).toBe(false);
    }
  }, 60_000);

  it('starts the README\'s proposal as written, takes the README\'s vote, and answers its tally', async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const start = /`(temporal workflow start --type governanceProposal [^`]*)`/.exec(readme)?.[1];
    const vote = /`(temporal workflow signal --workflow-id proposal\/3 --name vote [^`]*)`/.exec(readme)?.[1];
    expect(start, 'the README\'s start command').toBeDefined();
    expect(vote, 'the README\'s vote command').toBeDefined();
    const argv = (cmd: string) => [...cmd.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '').slice(1);
    const started = await temporal(argv(start ?? ''));
    expect(started.code, started.stderr).toBe(0);
    const voted = await temporal(argv(vote ?? ''));
    expect(voted.code, voted.stderr).toBe(0);
    const t: ProposalTally = await waitFor('alice\'s vote counted', async () => {
      const tally = await handle('proposal/3').query(tallyQuery);
      return tally.votes.alice === 'yes' ? tally : undefined;
    }, { timeoutMs: 20_000 });
    expect(t).toMatchObject({ kind: 'emergencyAction', status: 'voting', change: { action: 'pause' } });
    await healthy('proposal/3');
  }, 60_000);

  it('applies a passed Emergency Action found in the store, once: a replay of its message is refused', async () => {
    const id = 'proposal/43';
    const governance = { ...config.governance, emergencyVotingPeriodHours: 0.002, executionDelayHours: 0 };
    const input = { seq: 43, treasuryId: TREASURY, kind: 'emergencyAction', description: 'drill: pause by vote', change: { action: 'pause' }, proposer: 'alice', config: governance };
    const started = await temporal(['workflow', 'start', '--type', 'governanceProposal', '--task-queue', 'pstr-treasury', '--workflow-id', id, '--input', JSON.stringify(input)]);
    expect(started.code, started.stderr).toBe(0);
    expect((await signal(id, 'vote', ['--input', '{"voter":"alice","choice":"yes"}'])).code).toBe(0);
    const t = await waitFor('the proposal executed', async () => {
      const tally = await handle(id).query(tallyQuery).catch(() => undefined) ?? await handle(id).result().catch(() => undefined) as ProposalTally | undefined;
      return tally?.status === 'executed' ? tally : undefined;
    }, { timeoutMs: 30_000 });
    expect(t.votes).toEqual({ alice: 'yes' });
    const applied = await waitFor('the governance pause applied', async () => (await events()).find((e) => e.by === `governance ${id}` && e.accepted), { timeoutMs: 20_000 });
    expect(applied.detail).toContain(`passed proposal ${id} (emergencyAction)`);
    expect((await status()).paused).toBe(true);

    // Resume by an operator, then replay the proposal's own message: it applied once, so nothing pauses again.
    expect((await clientTs(['resume', '--by', 'alice'])).code).toBe(0);
    expect((await signal(MONITOR, 'pause', ['--input', JSON.stringify({ by: `governance ${id}`, proposalId: id })])).code).toBe(0);
    const replayed = await waitFor('the replay refused', async () => (await events()).find((e) => e.by === `governance ${id}` && !e.accepted), { timeoutMs: 20_000 });
    expect(replayed.detail).toBe(`refused: proposal ${id} was already applied`);
    expect((await status()).paused).toBe(false);
    await healthy(MONITOR);
  }, 90_000);

  it('answers every query after all of it', async () => {
    const s: MonitorStatus = await status();
    expect(s.treasuryId).toBe(TREASURY);
    expect(s.operators).toBe('alice, bob');
    const iv: InterventionState = await handle(IV).query(interventionStateQuery);
    expect(iv.status).toBe('running');
    await healthy(MONITOR);
  }, 30_000);
});

/**
 * Signed approvals the way operators send them, on the real dev server: the
 * demo-style key files in the data directory, `client.ts approve` (which
 * signs the plan it reads), `client.ts sign-plan` whose one-line JSON is
 * pasted into the real `temporal` CLI's `workflow signal --input`, the same
 * paste twice (a replay), a hand-edited paste, an unsigned Update and a key
 * file that is not the operator's.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { demoOperatorKeys, operatorKeyPath } from '../../src/runtime/demo-keys.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { interventionStateQuery, monitorWorkflowId, statusQuery, type InterventionState } from '../../src/workflows/contract.ts';
import { waitFor } from './fixtures/e2e.ts';
import { runProgram, startPaperRig, type PaperRig } from './fixtures/paper-rig.ts';

const TREASURY = 'pstr-main';
const IV = `intervention/${TREASURY}/1`;

describe('signed approvals through the client and the temporal CLI on the dev server', () => {
  let rig: PaperRig;
  const keysDir = mkdtempSync(join(tmpdir(), 'pstr-keys-'));
  const keys = demoOperatorKeys(keysDir);
  const config = parseConfig({
    treasuryId: TREASURY,
    monitor: { cycleIntervalSeconds: 1 },
    // Ten hours of timelock: the intervention keeps waiting while every decision is sent.
    intervention: { operators: ['alice', 'bob'], operatorKeys: keys, timelockMinutes: 600 },
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
    liquidity: { enabled: false },
    paper: { drawdown: { startInSeconds: 0, depth: 0.17, rampSeconds: 1, holdSeconds: 3600 } },
  });
  const client = (args: string[]) => runProgram(process.execPath, ['--import', 'tsx', 'client.ts', '--treasury', TREASURY, ...args], {
    env: { TEMPORAL_ADDRESS: rig.server.address, PSTR_DATA_DIR: keysDir },
  });
  const state = (): Promise<InterventionState> => rig.client.workflow.getHandle(IV).query(interventionStateQuery);
  const refusedWhy = async (n: number) => waitFor(`${n} refusal(s) recorded`, async () => {
    const r = (await state()).approvals.refused;
    return r.length >= n ? r.map((x) => x.why) : undefined;
  }, { timeoutMs: 20_000 });

  beforeAll(async () => {
    rig = await startPaperRig(config, { prefix: 'pstr-signed' });
    await ensureMonitor(rig.client, config);
    await waitFor('intervention 1 in its timelock', async () => {
      const s = await state().catch(() => null);
      return s?.stage === 'timelock' ? s : undefined;
    }, { timeoutMs: 45_000 });
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  }, 30_000);

  it('takes the sign-plan payload pasted into `temporal workflow signal`, once; a replay and an edited copy are refused and recorded', async () => {
    const signed = await client(['sign-plan', '1', '--operator', 'alice', '--reason', 'checked the pool']);
    expect(signed.code, signed.stderr).toBe(0);
    const payload = signed.stdout.trim();
    expect(JSON.parse(payload)).toMatchObject({ operator: 'alice', message: expect.stringMatching(/^pstr-treasury-agent v1; action=approve; treasury=pstr-main; operator=alice; intervention=intervention\/pstr-main\/1; plan=1;/) as unknown });
    const paste = (input: string) => rig.temporal(['workflow', 'signal', '--workflow-id', IV, '--name', 'approve', '--input', input]);

    expect((await paste(payload)).code).toBe(0);
    const approved = await waitFor('alice approved', async () => (await state()).approvals.approvals.find((a) => a.operator === 'alice'), { timeoutMs: 20_000 });
    expect(approved).toMatchObject({ reason: 'checked the pool', plan: 1 });

    expect((await paste(payload)).code).toBe(0);
    expect(await refusedWhy(1)).toEqual(['signature: this signed message was already used (replayed)']);

    const edited = payload.replace(/pumpIn=(\d)/, (_m, d: string) => `pumpIn=${(Number(d) + 1) % 10}`);
    expect(edited).not.toBe(payload);
    expect((await paste(edited)).code).toBe(0);
    expect((await refusedWhy(2))[1]).toMatch(/^signature: not a valid signature of this message by alice's key/);
    expect((await state()).approvals.approvals).toHaveLength(1);
  }, 120_000);

  it('refuses an unsigned Update through the temporal CLI with the reason, and records nothing', async () => {
    const before = (await state()).approvals.refused.length;
    const r = await rig.temporal(['workflow', 'update', 'execute', '--workflow-id', IV, '--name', 'approve', '--input', '{"operator":"bob"}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/approve refused: unsigned: signature is missing/);
    expect((await state()).approvals.refused).toHaveLength(before);
  }, 60_000);

  it('approves with client.ts from the operator key file in the data directory, printing the plan in words', async () => {
    const r = await client(['approve', '1', '--operator', 'bob', '--reason', 'second pair of eyes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^plan 1 of intervention\/pstr-main\/1 \(treasury pstr-main, tier 1/m);
    expect(r.stdout).toMatch(/spend [\d,.]+ PUMP for at least [\d,.]+ PSTR/);
    expect(r.stdout).toContain('approved by bob');
    expect((await state()).approvals.approvals.map((a) => a.operator)).toEqual(['alice', 'bob']);
  }, 60_000);

  it("refuses to sign with a key file that is not the operator's, naming both keys", async () => {
    const r = await client(['reject', '1', '--operator', 'alice', '--key', operatorKeyPath('bob', keysDir), '--reason', 'no']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`holds key ${keys.bob}, but the config lists ${keys.alice} for alice`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(JSON.stringify(await state())).not.toContain(readFileSync(operatorKeyPath('alice', keysDir), 'utf8'));
  }, 60_000);

  it('takes a sign-action payload pasted into `temporal workflow signal` for pause, once; a replay, an unsigned and a null input are refused and recorded, and a signed resume by Update lifts it', async () => {
    const monitor = rig.client.workflow.getHandle(monitorWorkflowId(TREASURY));
    const events = async (n: number) => waitFor(`${n} operator events`, async () => {
      const e = (await monitor.query(statusQuery)).recentOperatorEvents;
      return e.length >= n ? e : undefined;
    }, { timeoutMs: 20_000 });
    const before = (await monitor.query(statusQuery)).recentOperatorEvents.length;
    const signed = await client(['sign-action', 'pause', '--by', 'bob', '--reason', 'pool looks thin']);
    expect(signed.code, signed.stderr).toBe(0);
    const payload = signed.stdout.trim();
    expect(JSON.parse(payload)).toMatchObject({ by: 'bob', message: expect.stringMatching(/^pstr-treasury-agent v1; action=pause; treasury=pstr-main; operator=bob; nonce=/) as unknown });
    const signal = (input: string) => rig.temporal(['workflow', 'signal', '--workflow-id', monitorWorkflowId(TREASURY), '--name', 'pause', '--input', input]);

    expect((await signal(payload)).code).toBe(0);
    await waitFor('paused', async () => ((await monitor.query(statusQuery)).paused ? true : undefined), { timeoutMs: 20_000 });
    expect((await signal(payload)).code).toBe(0);
    expect((await signal('{"by":"bob","reason":"unsigned"}')).code).toBe(0);
    expect((await signal('null')).code).toBe(0);
    const recorded = (await events(before + 4)).slice(before);
    expect(recorded.map((e) => [e.action, e.accepted])).toEqual([['pause', true], ['pause', false], ['pause', false], ['pause', false]]);
    expect(recorded[1]?.detail).toContain('already used (replayed)');
    expect(recorded[2]?.detail).toMatch(/signature is missing/);

    const resume = await client(['sign-action', 'resume', '--by', 'alice', '--reason', 'checked']);
    const r = await rig.temporal(['workflow', 'update', 'execute', '--workflow-id', monitorWorkflowId(TREASURY), '--name', 'resume', '--input', resume.stdout.trim()]);
    expect(r.code, r.stderr).toBe(0);
    expect((await monitor.query(statusQuery)).paused).toBe(false);
  }, 90_000);
});

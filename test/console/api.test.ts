/**
 * The console's HTTP API on the real dev server with the paper world: every
 * read response is validated against the OpenAPI document the server serves
 * (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses), and the write endpoints take
 * only signed operator messages: a signed approval counts once, a replay, a
 * wrong key, an unsigned body, a message for another action and malformed JSON
 * are refused with the reason and change nothing.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { base64 } from '@scure/base';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { startConsole, type RunningConsole } from '../../src/console/server.ts';
import { actionMessage, messageBytes, planMessage, signMessage, type InterventionPlan } from '../../src/domain/operator-message.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { interventionStateQuery, type InterventionState } from '../../src/workflows/contract.ts';
import { waitFor } from '../e2e/fixtures/e2e.ts';
import { startPaperRig, type PaperRig } from '../e2e/fixtures/paper-rig.ts';
import { TEST_OPERATOR_KEYS, TEST_OPERATOR_SEEDS } from '../support/operator-keys.ts';

const T = 'pstr-main';
const IV = `intervention/${T}/1`;

interface Reply { status: number; body: unknown }

describe('the console API on the dev server', () => {
  let rig: PaperRig;
  let web: RunningConsole;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const config = parseConfig({
    treasuryId: T,
    monitor: { cycleIntervalSeconds: 1 },
    intervention: { operators: ['alice', 'bob'], operatorKeys: TEST_OPERATOR_KEYS, timelockMinutes: 600 },
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
    liquidity: { enabled: false },
    paper: { drawdown: { startInSeconds: 0, depth: 0.17, rampSeconds: 1, holdSeconds: 3600 } },
  });
  const call = async (path: string, init?: RequestInit): Promise<Reply> => {
    const r = await fetch(new URL(path, web.url), init);
    return { status: r.status, body: await r.json() };
  };
  const post = (path: string, body: unknown) => call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  /** Asserts the body matches the document's schema `name`, and returns it. */
  const valid = <B>(name: string, reply: Reply, status = 200): B => {
    expect(reply.status, JSON.stringify(reply.body)).toBe(status);
    const check = ajv.getSchema(`console#/components/schemas/${name}`);
    if (!check) throw new Error(`no schema ${name} in /openapi.json`);
    expect(check(reply.body), `${name}: ${ajv.errorsText(check.errors)}\n${JSON.stringify(reply.body).slice(0, 600)}`).toBe(true);
    return reply.body as B;
  };
  const state = (): Promise<InterventionState> => rig.client.workflow.getHandle(IV).query(interventionStateQuery);

  beforeAll(async () => {
    rig = await startPaperRig(config, { prefix: 'pstr-console-api' });
    web = await startConsole({ client: rig.client, treasuries: [T, 'pstr-other'], store: rig.world.store, host: '127.0.0.1', port: 0 });
    const doc = await call('/openapi.json');
    ajv.addSchema({ ...(doc.body as object), $id: 'console' });
    await ensureMonitor(rig.client, config);
    await waitFor('intervention 1 in its timelock', async () => ((await state().catch(() => null))?.stage === 'timelock' ? true : undefined), { timeoutMs: 45_000 });
  }, 120_000);

  afterAll(async () => {
    await web?.close();
    await rig?.stop();
  }, 30_000);

  it('serves an OpenAPI 3.1 document whose every operation answers with a described schema', async () => {
    const doc = (await call('/openapi.json')).body as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>> };
    expect(doc.openapi).toBe('3.1.0');
    const refs = Object.values(doc.paths).flatMap((ops) => Object.values(ops).flatMap((op) => Object.values(op.responses).flatMap((r) => Object.values(r.content ?? {}).flatMap((c) => (c.schema.$ref ? [c.schema.$ref] : [])))));
    expect(refs.length).toBeGreaterThan(15);
    for (const ref of refs) expect(ajv.getSchema(`console${ref}`), ref).toBeTruthy();
  });

  it('answers every read endpoint with a body its schema accepts', async () => {
    expect(valid<{ treasuries: { id: string }[] }>('Treasuries', await call('/api/treasuries')).treasuries).toEqual([{ id: T }, { id: 'pstr-other' }]);
    const status = valid<{ bands: { label: string }[]; operators: { name: string; publicKey: string }[] }>('Status', await call(`/api/treasuries/${T}/status`));
    expect(status.bands.map((b) => b.label)).toEqual(['VWAP 30d', 'trigger (15 % under)', 'tier 1 (15 % drawdown)', 'tier 2 (20 % drawdown)', 'tier 3 (30 % drawdown)']);
    expect(status.operators).toEqual([{ name: 'alice', publicKey: TEST_OPERATOR_KEYS.alice }, { name: 'bob', publicKey: TEST_OPERATOR_KEYS.bob }]);
    const history = valid<{ points: unknown[] }>('History', await call(`/api/treasuries/${T}/history`));
    // The paper world seeds 30 days of history: the chart has points from the first minute.
    expect(history.points.length).toBeGreaterThan(100);
    const list = valid<{ interventions: { id: string }[] }>('Interventions', await call(`/api/treasuries/${T}/interventions`));
    expect(list.interventions.map((i) => i.id)).toEqual([IV]);
    valid('Intervention', await call(`/api/treasuries/${T}/interventions/1`));
    const plan = valid<{ toSign: { message: string; envelopeBase64: string } }>('Plan', await call(`/api/treasuries/${T}/interventions/1/plan?operator=alice&publicKey=${TEST_OPERATOR_KEYS.alice}`));
    expect(base64.decode(plan.toSign.envelopeBase64)).toEqual(messageBytes(plan.toSign.message, TEST_OPERATOR_KEYS.alice));
    const audit = valid<{ lines: string[] }>('Audit', await call(`/api/treasuries/${T}/interventions/1/audit`));
    expect(audit.lines.join('\n')).toContain('step size: tier 1');
    valid('Alerts', await call(`/api/treasuries/${T}/alerts`));
    valid('Proposals', await call(`/api/treasuries/${T}/proposals`));
    const report = valid<{ series: { pstrUsd: (number | null)[] } }>('Report', await call(`/api/treasuries/${T}/report`));
    expect(report.series.pstrUsd.filter((p) => p !== null).length).toBeGreaterThan(100);
  }, 120_000);

  it('serves several treasuries: answers unknown treasuries, a fleet treasury without a monitor, unknown interventions and bad numbers with an Error body', async () => {
    expect(valid<{ error: string }>('Error', await call('/api/treasuries/ghost/status'), 404).error).toBe('treasury "ghost" is not run by this fleet (pstr-main, pstr-other)');
    // A treasury of the fleet whose monitor is not running (yet): 404, and the other treasury is unaffected.
    expect(valid<{ error: string }>('Error', await call('/api/treasuries/pstr-other/status'), 404).error).toMatch(/monitor\/pstr-other/);
    valid('Interventions', await call('/api/treasuries/pstr-other/interventions'));
    valid('Error', await call(`/api/treasuries/${T}/interventions/99`), 404);
    expect(valid<{ error: string }>('Error', await call(`/api/treasuries/${T}/interventions/x1`), 400).error).toBe('n: "x1" is not an intervention number');
  });

  it('takes a signed approval once, from the base58 or the wallet (base64) signature, and refuses every other write with its reason', async () => {
    const plan = (await state()).plan as InterventionPlan;
    const approve = (body: unknown) => post(`/api/treasuries/${T}/interventions/1/approve`, body);

    expect(valid<{ error: string }>('Error', await approve({ message: planMessage(plan, 'approve', 'alice') }), 400).error).toMatch(/^signature: missing/);
    expect(valid<{ error: string }>('Error', await approve('{"message": '), 400).error).toMatch(/^body: expected a JSON object/);
    expect(valid<{ error: string }>('Error', await post(`/api/treasuries/${T}/interventions/1/reject`, signMessage(planMessage(plan, 'approve', 'alice'), TEST_OPERATOR_SEEDS.alice)), 400).error)
      .toBe('action: the message is signed for "approve", this endpoint is "reject"');
    const forged = signMessage(planMessage(plan, 'approve', 'alice'), TEST_OPERATOR_SEEDS.bob);
    expect(valid<{ error: string }>('Error', await approve(forged), 409).error).toMatch(/^approve refused: signature: not a valid signature of this message by alice's key/);
    expect((await state()).approvals.approvals).toEqual([]);

    const signed = signMessage(planMessage(plan, 'approve', 'alice', 'from the API'), TEST_OPERATOR_SEEDS.alice);
    const ok = valid<{ accepted: boolean }>('Decision', await approve(signed));
    expect(ok.accepted).toBe(true);
    expect(valid<{ error: string }>('Error', await approve(signed), 409).error).toBe('approve refused: signature: this signed message was already used (replayed)');

    // bob signs as a wallet does: the envelope bytes, a base64 signature.
    const text = planMessage(plan, 'approve', 'bob');
    const sig = ed25519.sign(messageBytes(text, TEST_OPERATOR_KEYS.bob), TEST_OPERATOR_SEEDS.bob);
    valid('Decision', await approve({ message: text, signatureBase64: base64.encode(sig) }));
    expect((await state()).approvals.approvals.map((a) => [a.operator, a.reason ?? null])).toEqual([['alice', 'from the API'], ['bob', null]]);
  }, 60_000);

  it('takes a signed pause and resume on the monitor, and refuses an unsigned one and an unknown action', async () => {
    const action = (name: string, body: unknown) => post(`/api/treasuries/${T}/actions/${name}`, body);
    const claim = (a: 'pause' | 'resume', nonce: string) => actionMessage({ action: a, treasuryId: T, operator: 'bob', nonce, expiresAt: Date.now() + 10 * 60_000, reason: 'console test' });
    expect(valid<{ error: string }>('Error', await action('pause', { message: claim('pause', 'n1') }), 400).error).toMatch(/^signature: missing/);
    expect(valid<{ error: string }>('Error', await action('selfDestruct', signMessage(claim('pause', 'n1'), TEST_OPERATOR_SEEDS.bob)), 400).error).toMatch(/^action: "selfDestruct" is not one of pause, resume/);
    const paused = valid<{ accepted: boolean; paused: boolean }>('ActionResult', await action('pause', signMessage(claim('pause', 'n2'), TEST_OPERATOR_SEEDS.bob)));
    expect(paused).toMatchObject({ accepted: true, paused: true });
    const resumed = valid<{ accepted: boolean; paused: boolean }>('ActionResult', await action('resume', signMessage(claim('resume', 'n3'), TEST_OPERATOR_SEEDS.bob)));
    expect(resumed).toMatchObject({ accepted: true, paused: false });
  }, 60_000);

  it('streams the status and the interventions as server-sent events', async () => {
    const ac = new AbortController();
    const r = await fetch(new URL(`/api/treasuries/${T}/events`, web.url), { signal: ac.signal });
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!(text.includes('event: status') && text.includes('event: intervention'))) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ac.abort();
    expect(text).toContain(`"id":"${IV}"`);
  }, 30_000);
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  actionMessage, checkActionMessage, checkPlanMessage, escapeValue, parseMessage, planMessage, publicKeyOf, pruneUsed, replayVerdict,
  signMessage, verifyOperatorMessage, type InterventionPlan,
} from './operator-message.ts';

const seed = (n: number) => new Uint8Array(32).fill(n);
const ALICE = seed(1);
const BOB = seed(2);
const MALLORY = seed(3);
const keys = { alice: publicKeyOf(ALICE), bob: publicKeyOf(BOB) };
/** A refusal whose reason matches `re`. */
const refused = (re: RegExp) => ({ ok: false, why: expect.stringMatching(re) as unknown });
const NOW = Date.UTC(2026, 11, 4, 1, 0);

const plan: InterventionPlan = {
  treasuryId: 'pstr-main', interventionId: 'intervention/pstr-main/3', revision: 1, tier: 2,
  pumpIn: '1234567890', minPstrOut: '98700000', consensusPrice: 0.00012345, configVersion: 4, expiresAt: NOW + 3_600_000,
};

describe('signed plan approvals', () => {
  it('accepts an approval signed by a configured operator over the current plan', () => {
    const signed = signMessage(planMessage(plan, 'approve', 'alice'), ALICE);
    const who = verifyOperatorMessage(signed, keys, NOW);
    expect(who.ok && who.value.operator).toBe('alice');
    expect(who.ok && checkPlanMessage(who.value, 'approve', plan).ok).toBe(true);
  });

  it('refuses a message signed by another key than the operator it names', () => {
    const forged = signMessage(planMessage(plan, 'approve', 'alice'), MALLORY);
    const r = verifyOperatorMessage(forged, keys, NOW);
    expect(r).toMatchObject({ ok: false });
    expect(!r.ok && r.why).toMatch(/^signature: not a valid signature of this message by alice's key/);
  });

  it('refuses an approval of an earlier revision of the plan, naming the field', () => {
    const signed = signMessage(planMessage(plan, 'approve', 'bob'), BOB);
    const who = verifyOperatorMessage(signed, keys, NOW);
    const resized = { ...plan, revision: 2, pumpIn: '617283945' };
    const r = who.ok ? checkPlanMessage(who.value, 'approve', resized) : who;
    expect(!r.ok && r.why).toMatch(/^plan: signed "1", the current plan has "2"/);
  });

  it('refuses an approval with any plan field altered after signing', () => {
    const text = planMessage(plan, 'approve', 'alice');
    const signed = signMessage(text, ALICE);
    const tampered = { ...signed, message: text.replace('pumpIn=1234567890', 'pumpIn=9234567890') };
    const r = verifyOperatorMessage(tampered, keys, NOW);
    expect(!r.ok && r.why).toMatch(/^signature:/);
  });

  it('refuses an expired approval', () => {
    const signed = signMessage(planMessage(plan, 'approve', 'alice'), ALICE);
    const r = verifyOperatorMessage(signed, keys, plan.expiresAt);
    expect(!r.ok && r.why).toMatch(/^expires: the message expired at/);
  });

  it('refuses an approval before any plan exists', () => {
    const signed = signMessage(planMessage(plan, 'approve', 'alice'), ALICE);
    const who = verifyOperatorMessage(signed, keys, NOW);
    const r = who.ok ? checkPlanMessage(who.value, 'approve', null) : who;
    expect(!r.ok && r.why).toMatch(/^plan: no plan has been published yet/);
  });

  it('refuses an unsigned payload and an unknown operator', () => {
    expect(verifyOperatorMessage({ operator: 'alice' }, keys, NOW)).toMatchObject(refused(/^unsigned:/));
    const carol = signMessage(planMessage(plan, 'approve', 'carol'), MALLORY);
    expect(verifyOperatorMessage(carol, keys, NOW)).toMatchObject(refused(/^operator: "carol" is not a configured operator/));
  });

  it('refuses a payload whose operator field differs from the signed one', () => {
    const signed = signMessage(planMessage(plan, 'approve', 'alice'), ALICE);
    expect(verifyOperatorMessage({ ...signed, operator: 'bob' }, keys, NOW)).toMatchObject(refused(/^operator: the payload says "bob"/));
  });

  it('refuses a rejection used as an approval', () => {
    const signed = signMessage(planMessage(plan, 'reject', 'alice', 'too big'), ALICE);
    const who = verifyOperatorMessage(signed, keys, NOW);
    const r = who.ok ? checkPlanMessage(who.value, 'approve', plan) : who;
    expect(!r.ok && r.why).toMatch(/^action: the message is signed for "reject"/);
  });

  it('refuses a replayed signature and forgets it once expired', () => {
    const signed = signMessage(planMessage(plan, 'approve', 'alice'), ALICE);
    const used = { [signed.signature]: plan.expiresAt };
    expect(replayVerdict(signed.signature, used)).toMatchObject(refused(/replayed/));
    expect(pruneUsed(used, plan.expiresAt)).toEqual({});
  });
});

describe('signed monitor actions', () => {
  const pause = { action: 'pause' as const, treasuryId: 'pstr-main', operator: 'bob', expiresAt: NOW + 600_000, nonce: '17', reason: 'maintenance' };

  it('accepts a pause signed for this treasury', () => {
    const who = verifyOperatorMessage(signMessage(actionMessage(pause), BOB), keys, NOW);
    expect(who.ok && checkActionMessage(who.value, { action: 'pause', treasuryId: 'pstr-main' }, NOW).ok).toBe(true);
  });

  it('refuses a pause signed for another treasury, and a resume signed as a pause', () => {
    const who = verifyOperatorMessage(signMessage(actionMessage({ ...pause, treasuryId: 'other' }), BOB), keys, NOW);
    expect(who.ok && checkActionMessage(who.value, { action: 'pause', treasuryId: 'pstr-main' }, NOW)).toMatchObject(refused(/^treasury:/));
    const p = verifyOperatorMessage(signMessage(actionMessage(pause), BOB), keys, NOW);
    expect(p.ok && checkActionMessage(p.value, { action: 'resume', treasuryId: 'pstr-main' }, NOW)).toMatchObject(refused(/^action:/));
  });

  it('refuses an action message valid for more than an hour', () => {
    const who = verifyOperatorMessage(signMessage(actionMessage({ ...pause, expiresAt: NOW + 2 * 3_600_000 }), BOB), keys, NOW);
    expect(who.ok && checkActionMessage(who.value, { action: 'pause', treasuryId: 'pstr-main' }, NOW)).toMatchObject(refused(/^expires:/));
  });

  it('binds a config change to its exact patch', () => {
    const patch = '{"monitor":{"cycleIntervalSeconds":60}}';
    const who = verifyOperatorMessage(signMessage(actionMessage({ ...pause, action: 'updateConfig', patch }), BOB), keys, NOW);
    expect(who.ok && checkActionMessage(who.value, { action: 'updateConfig', treasuryId: 'pstr-main', patch }, NOW).ok).toBe(true);
    expect(who.ok && checkActionMessage(who.value, { action: 'updateConfig', treasuryId: 'pstr-main', patch: '{"monitor":{"cycleIntervalSeconds":1}}' }, NOW)).toMatchObject(refused(/^patch:/));
  });
});

describe('the message grammar', () => {
  it('round-trips any reason, in any script, through one line of printable ASCII', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (reason) => {
      const text = planMessage(plan, 'reject', 'alice', reason);
      expect(text).toMatch(/^[\x20-\x7e]+$/);
      const parsed = parseMessage(text);
      expect(parsed.ok && (parsed.value.fields.reason ?? '')).toBe(reason);
    }));
  });

  it('escapes the separator and the escape character', () => {
    expect(escapeValue('a; b%')).toBe('a%3B b%25');
  });

  it('says what is wrong with text that is not one of our messages', () => {
    expect(parseMessage('hello')).toMatchObject(refused(/^message: starts with "hello"/));
    expect(parseMessage(null)).toMatchObject(refused(/^message:/));
    expect(parseMessage('pstr-treasury-agent v1; action=steal; treasury=x; operator=a; expires=2026-01-01T00:00:00.000Z')).toMatchObject(refused(/^message: action "steal"/));
  });
});

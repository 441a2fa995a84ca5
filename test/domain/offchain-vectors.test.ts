/**
 * The operator messages against vectors made without the project's libraries:
 * scripts/offchain-vectors.py assembles the Solana off-chain message envelope
 * by hand from the format and signs it with OpenSSL's ed25519 (Python
 * `cryptography`). The project's encoding must give the same bytes, accept
 * those signatures, and refuse each kind of bad decision made from them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '@noble/hashes/utils.js';
import { base58 } from '@scure/base';
import {
  APPLICATION_DOMAIN, actionMessage, checkPlanMessage, messageBytes, planMessage, replayVerdict, signatureValid, verifyOperatorMessage,
  type InterventionPlan,
} from '../../src/domain/operator-message.ts';

interface Vector { name: string; operator: string; publicKey: string; text: string; envelopeHex: string; signature: string }
const fixture = JSON.parse(readFileSync(new URL('../fixtures/offchain-vectors.json', import.meta.url), 'utf8')) as { applicationDomainHex: string; vectors: Vector[] };
const byName = (name: string): Vector => {
  const v = fixture.vectors.find((x) => x.name === name);
  if (!v) throw new Error(`no vector ${name}`);
  return v;
};
const approve = byName('approve-plan');
const reject = byName('reject-plan');
const keys = { alice: approve.publicKey, bob: reject.publicKey };

/** The plan the vectors sign, as the workflow would publish it. */
const plan: InterventionPlan = {
  treasuryId: 'pstr-main', interventionId: 'intervention/pstr-main/3', revision: 1, tier: 2, pumpIn: '1234567890', minPstrOut: '98700000',
  consensusPrice: 0.00012345, configVersion: 4, expiresAt: Date.parse('2026-12-04T02:00:00.000Z'),
};
const BEFORE = Date.parse('2026-12-04T01:00:00.000Z');

describe('operator messages against independently produced vectors', () => {
  it('use the same application domain and write the same one-line texts', () => {
    expect(bytesToHex(base58.decode(APPLICATION_DOMAIN))).toBe(fixture.applicationDomainHex);
    expect(planMessage(plan, 'approve', 'alice', 'checked the pool')).toBe(approve.text);
    expect(planMessage(plan, 'reject', 'bob', 'too big ; not now')).toBe(reject.text);
    expect(actionMessage({ action: 'pause', treasuryId: 'pstr-main', operator: 'bob', nonce: '7f3a', expiresAt: Date.parse('2026-12-04T01:10:00.000Z'), reason: 'maintenance' })).toBe(byName('pause').text);
  });

  it('encode each message into the same envelope bytes', () => {
    for (const v of fixture.vectors) expect(bytesToHex(messageBytes(v.text, v.publicKey)), v.name).toBe(v.envelopeHex);
  });

  it("accept each recorded signature with its signer's key, and no other key", () => {
    for (const v of fixture.vectors) {
      expect(signatureValid(v.text, v.signature, v.publicKey), v.name).toBe(true);
      const other = v.publicKey === keys.alice ? keys.bob : keys.alice;
      expect(signatureValid(v.text, v.signature, other), `${v.name} with another key`).toBe(false);
    }
  });

  it('take the recorded approval as a valid approval of the plan', () => {
    const who = verifyOperatorMessage({ message: approve.text, signature: approve.signature }, keys, BEFORE);
    expect(who.ok && who.value.operator).toBe('alice');
    expect(who.ok && checkPlanMessage(who.value, 'approve', plan).ok).toBe(true);
  });

  it('refuse the recorded approval under a wrong key, for another plan, once expired, replayed, or without its signature', () => {
    const wrongKey = verifyOperatorMessage({ message: approve.text, signature: approve.signature }, { alice: keys.bob }, BEFORE);
    expect(!wrongKey.ok && wrongKey.why).toMatch(/^signature: not a valid signature/);

    const who = verifyOperatorMessage({ message: approve.text, signature: approve.signature }, keys, BEFORE);
    const other = who.ok ? checkPlanMessage(who.value, 'approve', { ...plan, minPstrOut: '90000000' }) : who;
    expect(!other.ok && other.why).toBe('minPstrOut: signed "98700000", the current plan has "90000000"');

    const expired = verifyOperatorMessage({ message: approve.text, signature: approve.signature }, keys, plan.expiresAt + 1);
    expect(!expired.ok && expired.why).toMatch(/^expires: the message expired at 2026-12-04T02:00:00.000Z/);

    const replay = replayVerdict(approve.signature, { [approve.signature]: plan.expiresAt });
    expect(!replay.ok && replay.why).toMatch(/replayed/);

    const unsigned = verifyOperatorMessage({ message: approve.text }, keys, BEFORE);
    expect(!unsigned.ok && unsigned.why).toMatch(/^unsigned:/);

    const edited = verifyOperatorMessage({ message: approve.text.replace('tier=2', 'tier=3'), signature: approve.signature }, keys, BEFORE);
    expect(!edited.ok && edited.why).toMatch(/^signature:/);
  });
});

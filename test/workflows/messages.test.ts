/** The message and input schemas: whatever is sent, parseMessage answers (never throws) and names the field and what was there, bounded. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config-schema.ts';
import {
  NAME_MAX, PATCH_MAX_BYTES, REASON_MAX, approveMessage, cancelInterventionMessage, claimedName, interventionSettledMessage, jobInputSchema,
  monitorInputSchema, parseMessage, pauseMessage, proposalInputSchema, summarize, updateConfigMessage, voteMessage, wakeMessage,
} from '../../src/workflows/messages.ts';

const MB = 'x'.repeat(1_000_000);
const schemas = { pauseMessage, updateConfigMessage, cancelInterventionMessage, wakeMessage, interventionSettledMessage, approveMessage, voteMessage, proposalInputSchema, jobInputSchema, monitorInputSchema };

describe('parseMessage', () => {
  it('refuses a missing payload, null, a string and a number, naming the payload and what it was', () => {
    expect(parseMessage(pauseMessage, undefined)).toEqual({ ok: false, why: expect.stringMatching(/^\(the payload\): .*\(got missing\)$/) as unknown });
    expect(parseMessage(pauseMessage, null)).toEqual({ ok: false, why: expect.stringMatching(/\(got null\)$/) as unknown });
    expect(parseMessage(pauseMessage, 'alice')).toEqual({ ok: false, why: expect.stringMatching(/\(got "alice"\)$/) as unknown });
    expect(parseMessage(pauseMessage, 7)).toEqual({ ok: false, why: expect.stringMatching(/\(got number 7\)$/) as unknown });
  });

  it('names the offending field of a wrong type', () => {
    const r = parseMessage(pauseMessage, { by: 42 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.why).toMatch(/^by: .*\(got number 42\)$/);
  });

  it('keeps its reason short whatever the size of what was sent (a megabyte string)', () => {
    for (const raw of [MB, { by: MB }, { by: 'alice', reason: MB }, { by: 'alice', patch: { x: MB } }, { voter: MB, choice: MB }]) {
      for (const schema of Object.values(schemas)) {
        const r = parseMessage(schema, raw);
        // A megabyte in a key the schema does not know is dropped (unknown keys are tolerated); anywhere else it is refused.
        if (raw === MB) expect(r.ok).toBe(false);
        if (!r.ok) expect(r.why.length).toBeLessThan(1_200);
      }
    }
  });

  it('refuses a megabyte name, reason or patch', () => {
    expect(parseMessage(pauseMessage, { by: MB }).ok).toBe(false);
    expect(parseMessage(pauseMessage, { by: 'alice', reason: MB }).ok).toBe(false);
    expect(parseMessage(updateConfigMessage, { by: 'alice', patch: { x: MB } }).ok).toBe(false);
    expect(parseMessage(voteMessage, { voter: 'alice', choice: MB }).ok).toBe(false);
  });

  it('caps names at 64 characters, reasons at 500 and a config patch at 16 KiB of JSON', () => {
    expect(parseMessage(pauseMessage, { by: 'a'.repeat(NAME_MAX) }).ok).toBe(true);
    expect(parseMessage(pauseMessage, { by: 'a'.repeat(NAME_MAX + 1) }).ok).toBe(false);
    expect(parseMessage(pauseMessage, { by: 'alice', reason: 'r'.repeat(REASON_MAX) }).ok).toBe(true);
    expect(parseMessage(pauseMessage, { by: 'alice', reason: 'r'.repeat(REASON_MAX + 1) }).ok).toBe(false);
    const big = parseMessage(updateConfigMessage, { by: 'alice', patch: { paper: { note: 'p'.repeat(PATCH_MAX_BYTES) } } });
    expect(big).toEqual({ ok: false, why: expect.stringMatching(/^patch: a config patch may be at most 16384 bytes/) as unknown });
  });

  it('tolerates and drops unknown keys', () => {
    expect(parseMessage(pauseMessage, { by: 'alice', reason: 'drill', colour: 'red' })).toEqual({ ok: true, value: { by: 'alice', reason: 'drill' } });
  });

  it('refuses an empty or whitespace name, and a patch that is not an object (null would reset the config to defaults)', () => {
    expect(parseMessage(pauseMessage, { by: '   ' }).ok).toBe(false);
    for (const patch of [null, 'x', [1], 3]) expect(parseMessage(updateConfigMessage, { by: 'alice', patch }).ok).toBe(false);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(fc.property(fc.anything(), (raw) => {
      for (const schema of Object.values(schemas)) {
        const r = parseMessage(schema, raw);
        expect(typeof r.ok).toBe('boolean');
      }
    }), { numRuns: 300 });
  });
});

describe('the workflow input schemas', () => {
  const proposal = { seq: 3, treasuryId: 'pstr-main', kind: 'emergencyAction', description: 'halt', change: { action: 'pause' }, proposer: 'alice' };

  it('take a short governance proposal input with no config and no createdAt', () => {
    const r = parseMessage(proposalInputSchema, proposal);
    expect(r).toEqual({ ok: true, value: { ...proposal, config: undefined } });
  });

  it('name every missing field of a proposal input', () => {
    const { seq: _seq, proposer: _p, ...rest } = proposal;
    const r = parseMessage(proposalInputSchema, rest);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.why).toContain('seq: ');
      expect(r.why).toContain('proposer: ');
    }
  });

  it('refuses a proposal change with an unknown action, and a job input whose config has an unknown key', () => {
    expect(parseMessage(proposalInputSchema, { ...proposal, change: { action: 'drain' } }).ok).toBe(false);
    const r = parseMessage(jobInputSchema, { config: { ...defaultConfig(), typo: 1 } });
    expect(r).toEqual({ ok: false, why: expect.stringContaining('config: ') as unknown });
  });

  it('take the monitor input the monitor itself carries over', () => {
    const config = defaultConfig();
    expect(parseMessage(monitorInputSchema, { config }).ok).toBe(true);
    expect(parseMessage(monitorInputSchema, { config, state: { paused: false, emergencyStop: true, nextSeq: 4, inFlight: [], extra: 1 } }).ok).toBe(true);
    expect(parseMessage(monitorInputSchema, {}).ok).toBe(false);
  });
});

describe('summarize and claimedName', () => {
  it('describe any value in a bounded line', () => {
    expect(summarize(undefined)).toBe('missing');
    expect(summarize({ a: 1, b: 2 })).toBe('an object with key(s) a, b');
    expect(summarize([1, 2, 3])).toBe('an array of 3 item(s)');
    expect(summarize(MB).length).toBeLessThan(120);
    fc.assert(fc.property(fc.anything(), (v) => summarize(v).length < 200));
  });

  it('keep a sender\'s name only when it is a string, cut to 64 characters', () => {
    expect(claimedName({ by: 'mallory' }, 'by')).toBe('mallory');
    expect(claimedName({ by: 7 }, 'by')).toBeNull();
    expect(claimedName(null, 'operator')).toBeNull();
    expect(claimedName({ voter: MB }, 'voter')?.length).toBe(NAME_MAX + 1);
  });
});

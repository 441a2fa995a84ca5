import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig, type ProposalKind } from '../config-schema.ts';
import {
  castVote,
  executionDelayHours,
  tally,
  takeSnapshot,
  votingPeriodHours,
  votingPower,
  type Holder,
  type VoteChoice,
  type Votes,
} from './governance.ts';

const governance = defaultConfig().governance;
const MULTIPLIER = governance.stakedMultiplier;
const KINDS: readonly ProposalKind[] = ['parameterAdjustment', 'treasuryStrategy', 'protocolUpgrade', 'emergencyAction'];

/** A holder whose power is exactly `power` (an integer): √(power²) is exact in floating point. */
const withPower = (name: string, power: number): Holder => ({ name, liquid: power * power, staked: 0 });

function castAll(snapshot: ReturnType<typeof takeSnapshot>, ballots: readonly [string, string][]): Votes {
  let votes: Votes = {};
  for (const [voter, choice] of ballots) {
    const result = castVote(snapshot, votes, voter, choice);
    if (!result.ok) throw new Error(result.reason);
    votes = result.votes;
  }
  return votes;
}

/**
 * Total power 10 000, of which yes + no = `cast` votes and the rest stays home,
 * so quorum = cast / 10 000 and approval = yes / cast are exact decimal ratios.
 */
function scenario(kind: ProposalKind, yes: number, no: number) {
  const snapshot = takeSnapshot([withPower('y', yes), withPower('n', no), withPower('home', 10_000 - yes - no)], MULTIPLIER);
  const ballots: [string, string][] = [];
  if (yes > 0) ballots.push(['y', 'yes']);
  if (no > 0) ballots.push(['n', 'no']);
  return tally(snapshot, castAll(snapshot, ballots), kind, governance);
}

describe('votingPower', () => {
  it('adds √liquid and 1.5 × √staked', () => {
    // √400 + 1.5·√100 = 20 + 15
    expect(votingPower({ name: 'a', liquid: 400, staked: 100 }, 1.5)).toBe(35);
  });

  it('refuses a negative balance, naming the holder and the field', () => {
    expect(() => votingPower({ name: 'alice', liquid: -1, staked: 0 }, 1.5)).toThrow(/alice.*liquid.*-1/);
    expect(() => votingPower({ name: 'bob', liquid: 1, staked: Number.NaN }, 1.5)).toThrow(/bob.*staked.*NaN/);
  });
});

describe('takeSnapshot', () => {
  it('records each holder’s power and their total', () => {
    const s = takeSnapshot([withPower('a', 3), { name: 'b', liquid: 0, staked: 16 }], MULTIPLIER);
    expect(s.powers).toEqual({ a: 3, b: 6 });
    expect(s.total).toBe(9);
  });

  it('refuses a holder listed twice, naming them', () => {
    expect(() => takeSnapshot([withPower('carol', 1), withPower('dave', 1), withPower('carol', 2)], MULTIPLIER)).toThrow(/"carol"/);
  });

  it('treats a holder named like an Object property as an ordinary holder', () => {
    const s = takeSnapshot([withPower('constructor', 2), withPower('__proto__', 3)], MULTIPLIER);
    expect(castVote(s, {}, 'toString', 'yes').ok).toBe(false);
    const votes = castAll(s, [['__proto__', 'yes'], ['constructor', 'no']]);
    const t = tally(s, votes, 'parameterAdjustment', governance);
    expect([t.yes, t.no, t.total]).toEqual([3, 2, 5]);
  });
});

describe('castVote', () => {
  const snapshot = takeSnapshot([withPower('alice', 10), withPower('bob', 20)], MULTIPLIER);

  it('replaces an earlier vote by the same holder with the later one', () => {
    const votes = castAll(snapshot, [['alice', 'yes'], ['bob', 'no'], ['alice', 'no']]);
    expect(votes).toEqual({ alice: 'no', bob: 'no' });
    const t = tally(snapshot, votes, 'parameterAdjustment', governance);
    expect([t.yes, t.no, t.cast]).toEqual([0, 30, 30]);
  });

  it('returns a new votes object and leaves the old one as it was', () => {
    const before: Votes = { alice: 'yes' };
    const result = castVote(snapshot, before, 'alice', 'abstain');
    expect(result).toEqual({ ok: true, votes: { alice: 'abstain' } });
    expect(before).toEqual({ alice: 'yes' });
    if (result.ok) expect(result.votes).not.toBe(before);
  });

  it('refuses a voter who is not in the snapshot, naming them', () => {
    const result = castVote(snapshot, {}, 'mallory', 'yes');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/"mallory"/);
  });

  it('refuses a choice other than yes, no or abstain, naming it', () => {
    const result = castVote(snapshot, {}, 'alice', 'maybe');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/"maybe"/);
  });
});

describe('tally at the threshold edges', () => {
  describe.each(KINDS)('%s', (kind) => {
    const { quorum: q, approval: a } = governance.thresholds[kind];
    const cast = Math.round(q * 10_000);
    const yes = Math.round(a * cast);
    const no = cast - yes;

    it('passes when quorum and approval both sit exactly on their thresholds', () => {
      const t = scenario(kind, yes, no);
      expect(t.quorum).toBe(q);
      expect(t.approval).toBe(a);
      expect(t.quorumRequired).toBe(q);
      expect(t.approvalRequired).toBe(a);
      expect(t).toMatchObject({ quorumMet: true, approvalMet: true, passed: true });
    });

    it('fails on quorum when one unit of power short of it, even though approval rises', () => {
      const t = scenario(kind, yes, no - 1);
      expect(t.quorum).toBeLessThan(q);
      expect(t.approval).toBeGreaterThan(a);
      expect(t).toMatchObject({ quorumMet: false, approvalMet: true, passed: false });
    });

    it('fails on approval when one unit of yes moves to no', () => {
      const t = scenario(kind, yes - 1, no + 1);
      expect(t.quorum).toBe(q);
      expect(t.approval).toBeLessThan(a);
      expect(t).toMatchObject({ quorumMet: true, approvalMet: false, passed: false });
    });
  });

  it('uses the SPEC table: 10/51, 15/60, 20/67, 25/75 percent', () => {
    expect(KINDS.map((k) => governance.thresholds[k])).toEqual([
      { quorum: 0.1, approval: 0.51 },
      { quorum: 0.15, approval: 0.6 },
      { quorum: 0.2, approval: 0.67 },
      { quorum: 0.25, approval: 0.75 },
    ]);
  });

  it('counts abstentions toward quorum but not approval', () => {
    const snapshot = takeSnapshot([withPower('y', 60), withPower('n', 40), withPower('abs', 100), withPower('home', 800)], MULTIPLIER);
    const t = tally(snapshot, castAll(snapshot, [['y', 'yes'], ['n', 'no'], ['abs', 'abstain']]), 'treasuryStrategy', governance);
    expect([t.cast, t.quorum, t.approval, t.passed]).toEqual([200, 0.2, 0.6, true]);
  });

  it('reports approval 0 and fails when only abstentions were cast', () => {
    const snapshot = takeSnapshot([withPower('abs', 50), withPower('home', 50)], MULTIPLIER);
    const t = tally(snapshot, castAll(snapshot, [['abs', 'abstain']]), 'parameterAdjustment', governance);
    expect([t.quorum, t.approval, t.quorumMet, t.approvalMet, t.passed]).toEqual([0.5, 0, true, false, false]);
  });

  it('refuses votes by someone outside the snapshot', () => {
    const snapshot = takeSnapshot([withPower('a', 1)], MULTIPLIER);
    expect(() => tally(snapshot, { eve: 'yes' }, 'parameterAdjustment', governance)).toThrow(/"eve"/);
  });
});

describe('tally properties', () => {
  const holdersArb = fc.uniqueArray(
    fc.record({
      name: fc.string({ minLength: 1, maxLength: 6 }),
      liquid: fc.double({ min: 0, max: 1e9, noNaN: true }),
      staked: fc.double({ min: 0, max: 1e9, noNaN: true }),
    }),
    { minLength: 1, maxLength: 12, selector: (h) => h.name },
  );
  const ballotsArb = holdersArb.chain((holders) =>
    fc.tuple(
      fc.constant(holders),
      fc.array(fc.tuple(fc.constantFrom(...holders.map((h) => h.name)), fc.constantFrom<VoteChoice>('yes', 'no', 'abstain')), { maxLength: 30 }),
      fc.constantFrom(...KINDS),
    ),
  );

  it('does not depend on the order in which holders voted, and keeps quorum and approval in [0, 1]', () => {
    fc.assert(
      fc.property(ballotsArb, fc.integer(), ([holders, ballots, kind], seed) => {
        const snapshot = takeSnapshot(holders, MULTIPLIER);
        // Last vote per holder, then replayed in a different (seeded) order.
        const finalVotes = new Map(ballots);
        const reordered = [...finalVotes].sort((x, y) => hash(x[0], seed) - hash(y[0], seed));
        const a = tally(snapshot, castAll(snapshot, ballots), kind, governance);
        const b = tally(snapshot, castAll(snapshot, reordered), kind, governance);
        expect(b).toEqual(a);
        for (const ratio of [a.quorum, a.approval]) {
          expect(ratio).toBeGreaterThanOrEqual(0);
          expect(ratio).toBeLessThanOrEqual(1);
        }
        expect(a.passed).toBe(a.quorum >= a.quorumRequired && a.yes + a.no > 0 && a.approval >= a.approvalRequired);
      }),
    );
  });
});

/** A deterministic per-seed shuffle key. */
function hash(text: string, seed: number): number {
  let h = seed | 0;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 0x9e3779b1);
  return h;
}

describe('voting and execution timing', () => {
  it('votes for 72 h and waits 24 h before execution, except Emergency Action (24 h, no delay)', () => {
    expect(KINDS.map((k) => [votingPeriodHours(k, governance), executionDelayHours(k, governance)])).toEqual([
      [72, 24],
      [72, 24],
      [72, 24],
      [24, 0],
    ]);
  });
});

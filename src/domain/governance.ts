/**
 * Governance (SPEC §9): quadratic voting power, a snapshot of it taken when a
 * proposal opens, one replaceable vote per holder, and the tally against the
 * per-kind quorum and approval thresholds. Pure: the proposal's timers and
 * execution live in the workflow; this module only answers "who may vote,
 * with what weight, and did it pass".
 */
import type { Config, ProposalKind } from '../config-schema.ts';

export type VoteChoice = 'yes' | 'no' | 'abstain';

const VOTE_CHOICES: readonly VoteChoice[] = ['yes', 'no', 'abstain'];

export interface Holder {
  readonly name: string;
  readonly liquid: number;
  readonly staked: number;
}

function requireNonNegative(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${field} must be a finite number ≥ 0, got ${value}`);
  }
}

/** SPEC §9: voting power = √liquid + 1.5 × √staked (the multiplier is configurable). */
export function votingPower(h: Holder, stakedMultiplier: number): number {
  requireNonNegative(`holder "${h.name}" liquid`, h.liquid);
  requireNonNegative(`holder "${h.name}" staked`, h.staked);
  requireNonNegative('stakedMultiplier', stakedMultiplier);
  return Math.sqrt(h.liquid) + stakedMultiplier * Math.sqrt(h.staked);
}

/**
 * Voting power frozen when a proposal opens, so buying or moving tokens
 * mid-vote cannot change its outcome.
 */
export interface VoterSnapshot {
  readonly powers: Readonly<Record<string, number>>;
  readonly total: number;
}

export function takeSnapshot(holders: readonly Holder[], stakedMultiplier: number): VoterSnapshot {
  const seen = new Set<string>();
  const entries: [string, number][] = [];
  for (const h of holders) {
    if (h.name.length === 0) throw new RangeError('holder name must not be empty');
    if (seen.has(h.name)) throw new RangeError(`holder "${h.name}" appears more than once; each holder must be listed once`);
    seen.add(h.name);
    entries.push([h.name, votingPower(h, stakedMultiplier)]);
  }
  // fromEntries defines own properties, so a holder named "constructor" or "__proto__" is just a name.
  const powers = Object.freeze(Object.fromEntries(entries));
  // Summed in the object's own key order (integer-like names come first), the
  // same order `tally` uses, so the power cast can never round above the total.
  const total = Object.values(powers).reduce((sum, power) => sum + power, 0);
  return Object.freeze({ powers, total });
}

export type Votes = Readonly<Record<string, VoteChoice>>;

export type CastResult = { ok: true; votes: Votes } | { ok: false; reason: string };

function isVoteChoice(choice: string): choice is VoteChoice {
  return (VOTE_CHOICES as readonly string[]).includes(choice);
}

/** One vote per holder; a later vote replaces the earlier (SPEC §9). Never mutates `votes`. */
export function castVote(snapshot: VoterSnapshot, votes: Votes, voter: string, choice: string): CastResult {
  if (!Object.hasOwn(snapshot.powers, voter)) {
    return { ok: false, reason: `"${voter}" is not a holder in this proposal's snapshot and cannot vote` };
  }
  if (!isVoteChoice(choice)) {
    return { ok: false, reason: `vote "${choice}" by "${voter}" is not one of ${VOTE_CHOICES.join(', ')}` };
  }
  return { ok: true, votes: Object.freeze({ ...votes, [voter]: choice }) };
}

export interface Tally {
  readonly yes: number;
  readonly no: number;
  readonly abstain: number;
  readonly cast: number;
  readonly total: number;
  readonly quorum: number;
  readonly approval: number;
  readonly quorumRequired: number;
  readonly approvalRequired: number;
  readonly quorumMet: boolean;
  readonly approvalMet: boolean;
  readonly passed: boolean;
}

export function tally(snapshot: VoterSnapshot, votes: Votes, kind: ProposalKind, config: Config['governance']): Tally {
  for (const [voter, choice] of Object.entries(votes)) {
    if (!Object.hasOwn(snapshot.powers, voter)) throw new RangeError(`vote by "${voter}", who is not in the snapshot`);
    if (!isVoteChoice(choice)) throw new RangeError(`vote by "${voter}" is "${String(choice)}", not one of ${VOTE_CHOICES.join(', ')}`);
  }
  const sums: Record<VoteChoice, number> = { yes: 0, no: 0, abstain: 0 };
  let cast = 0;
  // Summed in snapshot order, not vote order: float addition is not associative,
  // and the outcome at a threshold edge must not depend on who voted first.
  // `cast` is a sub-sum of the same sequence as `total`, so cast ≤ total exactly.
  for (const [voter, power] of Object.entries(snapshot.powers)) {
    const choice = Object.hasOwn(votes, voter) ? votes[voter] : undefined;
    if (choice === undefined) continue;
    sums[choice] += power;
    cast += power;
  }
  // SPEC §9: quorum = power cast (yes + no + abstain) / total power of all holders.
  const quorum = snapshot.total > 0 ? cast / snapshot.total : 0;
  // SPEC §9: approval = yes / (yes + no); no decisive votes means no approval.
  const decisive = sums.yes + sums.no;
  const approval = decisive > 0 ? sums.yes / decisive : 0;
  const { quorum: quorumRequired, approval: approvalRequired } = config.thresholds[kind];
  // SPEC §9: passes when quorum and approval both reach the thresholds (≥).
  // Approval is undefined without a yes or no vote, so it is never met then (even at a 0 threshold).
  const quorumMet = quorum >= quorumRequired;
  const approvalMet = decisive > 0 && approval >= approvalRequired;
  return {
    yes: sums.yes,
    no: sums.no,
    abstain: sums.abstain,
    cast,
    total: snapshot.total,
    quorum,
    approval,
    quorumRequired,
    approvalRequired,
    quorumMet,
    approvalMet,
    passed: quorumMet && approvalMet,
  };
}

/** SPEC §9: voting lasts 72 h by default, 24 h for Emergency Action. */
export function votingPeriodHours(kind: ProposalKind, config: Config['governance']): number {
  return kind === 'emergencyAction' ? config.emergencyVotingPeriodHours : config.votingPeriodHours;
}

/** SPEC §9: a passed proposal waits 24 h before it takes effect; Emergency Action has no delay. */
export function executionDelayHours(kind: ProposalKind, config: Config['governance']): number {
  return kind === 'emergencyAction' ? 0 : config.executionDelayHours;
}

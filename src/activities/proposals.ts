/**
 * Propose-only: the multisig proposals that can still execute, as every gate
 * reads them (the intervention's gateContext and the monitor's own cycle),
 * and when a late member execution last moved money. Proposals that cannot
 * be read count as live: the gates fail closed and say why.
 */
import type { LiveProposal } from '../ports.ts';
import type { ActivityDeps } from './deps.ts';

export const PROPOSAL_LOOKBACK_MS = 30 * 86_400_000;

/** An unreadable multisig, as one live proposal with the reason. */
export function unreadable(err: unknown): LiveProposal {
  const why = (err instanceof Error ? err.message : String(err)).slice(0, 300);
  return { interventionId: '(unknown)', slice: -1, proposal: '(unknown)', transactionIndex: '?', state: 'unreadable', note: `the multisig's proposals could not be read (${why}); counted as in flight` };
}

/** A live proposal as a gate reason names it. */
export function describeLive(p: LiveProposal): string {
  return `proposal ${p.proposal} (#${p.transactionIndex}, ${p.state}) of ${p.interventionId} slice ${p.slice}${p.note ? `: ${p.note}` : ''}`;
}

export interface ProposalFacts {
  /** Each proposal that can still execute, named for a gate reason. */
  live: string[];
  /** Every confirmed slice's settle time in the lookback (a proposal executed after its intervention ended dates a swap). */
  confirmedAt: number[];
}

/** The proposal facts of a propose-only treasury, each unsettled proposal re-read (and settled) from the chain; null for other treasuries. */
export async function proposalFacts(deps: ActivityDeps, treasuryId: string, now: number): Promise<ProposalFacts | null> {
  if (!deps.treasury.liveProposals) return null;
  const live = await deps.treasury.liveProposals().catch((err: unknown): LiveProposal[] => [unreadable(err)]);
  const confirmed = await deps.store.confirmedSwapsSince(treasuryId, now - PROPOSAL_LOOKBACK_MS);
  return { live: live.map(describeLive), confirmedAt: confirmed.map((s) => s.updatedAt) };
}

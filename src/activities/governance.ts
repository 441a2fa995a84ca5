/** Governance activities: the proposal and its votes in the store, and the voter snapshot's source. */
import { ApplicationFailure } from '@temporalio/activity';
import type { Config, ProposalKind } from '../config-schema.ts';
import { tally, type Holder, type VoterSnapshot, type VoteChoice } from '../domain/governance.ts';
import type { Verdict } from '../domain/operators.ts';
import type { ApplyProposalRequest, ApplyProposalResult } from '../workflows/contract.ts';
import type { ActivityDeps } from './deps.ts';

export interface ProposalRecordInput {
  id: string;
  treasuryId: string;
  kind: string;
  description: string;
  change: unknown;
  createdAt: number;
  deadline: number;
  status: string;
  snapshot: unknown;
  outcome: unknown;
}

export function governanceActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /** Paper mode: the holders listed in config.governance.holders. */
    async voterHolders(): Promise<Holder[]> {
      return deps.config.governance.holders.map((h) => ({ name: h.name, liquid: h.liquid, staked: h.staked }));
    },

    async upsertProposal(p: ProposalRecordInput): Promise<void> {
      await store.upsertProposal({ ...p, outcome: p.outcome ?? null });
    },

    /** Asks the monitor to apply a passed proposal's change; its answer (accepted, or refused with the reason) is the result. */
    async applyProposalToMonitor(input: { treasuryId: string; request: ApplyProposalRequest }): Promise<ApplyProposalResult> {
      if (!deps.applyProposalToMonitor) {
        throw ApplicationFailure.nonRetryable('this worker gives its activities no Temporal client: it cannot send a proposal to the monitor', 'NoMonitorClient');
      }
      const answer = await deps.applyProposalToMonitor(input.treasuryId, input.request);
      deps.logger.info({ treasuryId: input.treasuryId, proposalId: input.request.proposalId, accepted: answer.accepted, detail: answer.detail }, 'proposal sent to the monitor');
      return answer;
    },

    /**
     * Whether a proposal's recorded vote passes the thresholds of the governance config the monitor runs with, not
     * only those its starter put in its input: the snapshot and the votes from the store, tallied again.
     */
    async proposalPassesHere(input: { proposalId: string; governance: Config['governance'] }): Promise<Verdict> {
      const row = await store.proposal(input.proposalId);
      if (!row) return { ok: false, why: `no proposal ${input.proposalId} in the store` };
      if (!Object.hasOwn(input.governance.thresholds, row.kind)) return { ok: false, why: `proposal ${input.proposalId} has no kind of this monitor's (${row.kind})` };
      const votes: Record<string, VoteChoice> = {};
      for (const v of await store.votes(input.proposalId)) votes[v.voter] = v.choice;
      const t = tally(row.snapshot as VoterSnapshot, votes, row.kind as ProposalKind, input.governance);
      const figures = `quorum ${(t.quorum * 100).toFixed(2)} % (needs ${(t.quorumRequired * 100).toFixed(0)} %), approval ${(t.approval * 100).toFixed(2)} % (needs ${(t.approvalRequired * 100).toFixed(0)} %)`;
      return t.passed ? { ok: true, why: `passes this monitor's thresholds: ${figures}` } : { ok: false, why: `proposal ${input.proposalId} does not pass this monitor's thresholds: ${figures}` };
    },

    async recordVote(v: { proposalId: string; treasuryId: string; voter: string; choice: 'yes' | 'no' | 'abstain'; power: number; at: number }): Promise<void> {
      await store.recordVote(v);
    },
  };
}

/** Governance activities: the proposal and its votes in the store, and the voter snapshot's source. */
import { ApplicationFailure } from '@temporalio/activity';
import type { Holder } from '../domain/governance.ts';
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

    async recordVote(v: { proposalId: string; treasuryId: string; voter: string; choice: 'yes' | 'no' | 'abstain'; power: number; at: number }): Promise<void> {
      await store.recordVote(v);
    },
  };
}

/**
 * Activities behind the monitor's operator checks: a governance-originated
 * message is applied only when the store holds that passed proposal with the
 * same change; a proposal started with a short input reads the worker's
 * governance config.
 */
import type { Config } from '../config.ts';
import { proposalActionVerdict, type Verdict } from '../domain/operators.ts';
import type { ActivityDeps } from './deps.ts';

export interface VerifyProposalActionInput {
  treasuryId: string;
  proposalId: string;
  /** The change the message claims, as a ProposalChange ({ action, … }). */
  change: unknown;
}

export function operatorActivities(deps: ActivityDeps) {
  return {
    /** Checks a governance message against the store (never throws for a refusal: it says why). */
    async verifyProposalAction(input: VerifyProposalActionInput): Promise<Verdict & { kind: string | null; deadline?: number | null }> {
      const row = await deps.store.proposal(input.proposalId);
      // The vote's end: the monitor adds its own execution delay to it before applying (config-key-classes on).
      const verdict = { ...proposalActionVerdict(row, input), kind: row?.kind ?? null, deadline: row?.deadline ?? null };
      deps.logger.info({ treasuryId: input.treasuryId, proposalId: input.proposalId, ok: verdict.ok, why: verdict.why }, 'governance message checked');
      return verdict;
    },

    /** The worker's governance configuration, for a proposal started without one. */
    async governanceConfig(): Promise<Config['governance']> {
      return deps.config.governance;
    },
  };
}

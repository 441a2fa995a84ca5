/**
 * What a landed proposal of ours means for its slice, read from the chain
 * only: still able to execute (live), executed (and by which transaction,
 * with the amounts that transaction moved), or dead (rejected, cancelled, or
 * stale before it was approved). And what the agent's member key may do when
 * the intervention gives up on it.
 *
 * Squads v4 facts this leans on (program source, vault_transaction_execute /
 * proposal_vote): a proposal executes only from Approved; an Approved one
 * stays executable even when stale; a Draft/Active one at or below the
 * multisig's staleTransactionIndex can no longer be approved (nor rejected),
 * so it can never execute. `proposalReject` needs the Vote permission and an
 * Active proposal, and rejects it at `cutoff` rejections; `proposalCancel`
 * needs Vote and an Approved proposal, and cancels it at `threshold`
 * cancellations. An Initiate-only key can do neither.
 */
import * as multisig from '@sqds/multisig';
import type { PublicKey } from '@solana/web3.js';
import type { Chain } from './chain.ts';
import type { ProposalAttempt } from './squads-buffer-record.ts';
import { readProposal } from './squads.ts';
import type { ProposalView } from './squads.ts';

export interface ProposalScope {
  chain: Chain;
  multisig: PublicKey;
  programId?: PublicKey;
  vault: PublicKey;
  mints: { pump: PublicKey; pstr: PublicKey };
}

export type Judgement =
  | { kind: 'live'; view: ProposalView; note?: string }
  | { kind: 'executed'; view: ProposalView; signature: string; pumpIn: bigint; pstrOut: bigint }
  | { kind: 'dead'; view: ProposalView; why: string };

/** Every signature the agent itself sent for a slice: never mistaken for the members' execute transaction. */
export function ownSignatures(attempts: readonly ProposalAttempt[]): Set<string> {
  const ours = new Set<string>();
  for (const a of attempts) {
    if (a.signature !== undefined) ours.add(a.signature);
    for (const s of a.buffer?.steps ?? []) ours.add(s.signature);
  }
  return ours;
}

export interface ExecutedBy {
  signature: string;
  pumpIn: bigint;
  pstrOut: bigint;
}

/**
 * The members' vaultTransactionExecute: the successful transaction on the
 * vault transaction's account, not ours, that changed the vault's token
 * balances (the accounts-close transaction touches the account but no vault
 * token). Its own pre/post balances are the slice's realized amounts, so
 * other vault movements before or after cannot mix in. Null while the
 * finalized signature index does not show it (unknown, not "none").
 */
export async function executedBy(s: ProposalScope, transactionIndex: bigint, ours: ReadonlySet<string>): Promise<ExecutedBy | null> {
  const [transaction] = multisig.getTransactionPda({ multisigPda: s.multisig, index: transactionIndex, ...(s.programId && { programId: s.programId }) });
  const vault = s.vault.toBase58();
  for (const sig of await s.chain.signaturesForAddress(transaction, { limit: 100 })) {
    if (sig.err !== null || ours.has(sig.signature)) continue;
    const b = await s.chain.transactionBalances(sig.signature);
    if (!b || b.err !== null) continue;
    const mine = b.tokens.filter((t) => t.owner === vault);
    if (mine.length === 0) continue;
    const delta = (mint: PublicKey) => mine.filter((t) => t.mint === mint.toBase58()).reduce((sum, t) => sum + (t.post - t.pre), 0n);
    return { signature: sig.signature, pumpIn: -delta(s.mints.pump), pstrOut: delta(s.mints.pstr) };
  }
  return null;
}

/** Where our landed proposal stands, from the chain. */
export async function judgeProposal(s: ProposalScope, a: ProposalAttempt, ours: ReadonlySet<string>): Promise<Judgement> {
  const index = BigInt(a.transactionIndex);
  const view = await readProposal(s.chain, s.multisig, index, s.programId);
  const name = `proposal ${a.proposal} (#${a.transactionIndex})`;
  if (view.state === 'Rejected' || view.state === 'Cancelled') return { kind: 'dead', view, why: `${name} was ${view.state.toLowerCase()} by the multisig; nothing moved` };
  if (view.stale) {
    return { kind: 'dead', view, why: `${name} is stale (index ≤ the multisig's stale index ${view.staleTransactionIndex}) and was never approved: it can no longer execute; nothing moved` };
  }
  if (view.state !== 'Executed' && view.state !== 'missing') return { kind: 'live', view };
  const exec = await executedBy(s, index, ours);
  if (exec) return { kind: 'executed', view, ...exec };
  const note = view.state === 'Executed'
    ? `${name} is executed but its execute transaction is not in the finalized index yet; settled once it is`
    : `${name} account is closed and no execute transaction of it is found; its outcome is unknown, it stays counted as in flight`;
  return { kind: 'live', view, note };
}

export type AgainstKind = 'reject' | 'cancel';

/** The vote the agent may still cast against a live proposal, or why it cannot. */
export function voteAgainst(view: ProposalView, agent: string, canVote: boolean): { kind: AgainstKind } | { none: string } {
  if (!canVote) return { none: 'the agent’s member key has no Vote permission (Initiate only): it cannot reject or cancel' };
  if (view.state === 'Active' && !view.rejected.includes(agent)) return { kind: 'reject' };
  if (view.state === 'Approved' && !view.cancelled.includes(agent)) return { kind: 'cancel' };
  return { none: `the agent has already voted against it or it is ${view.state}` };
}

/** One sentence for the members: what still has to happen for the proposal to be dead. */
export function membersMust(view: ProposalView, proposal: string): string {
  const name = `proposal ${proposal} (#${view.transactionIndex})`;
  if (view.state === 'Active' || view.state === 'Draft') {
    const left = Math.max(0, view.cutoff - view.rejected.length);
    return `reject ${name} in Squads: ${left} more rejection(s) make it Rejected (cutoff ${view.cutoff}, ${view.rejected.length} so far); until then it can still be approved and executed`;
  }
  if (view.state === 'Approved') {
    const left = Math.max(0, view.threshold - view.cancelled.length);
    return `cancel ${name} in Squads (proposalCancel): ${left} more cancellation(s) make it Cancelled (threshold ${view.threshold}, ${view.cancelled.length} so far); until then any member with Execute can execute it`;
  }
  return `check ${name} in Squads (it reads ${view.state}); the agent keeps it counted as in flight until the chain shows it rejected, cancelled, stale or executed`;
}

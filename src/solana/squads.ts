/**
 * Propose-only mode (solana.multisig): the agent holds only a Squads v4
 * member key with the Initiate permission. It wraps the swap instructions in
 * a vault transaction and opens a proposal (`vaultTransactionCreate` +
 * `proposalCreate`, one agent-signed transaction); members approve, and after
 * the multisig's time lock one of them executes it. The intervention then
 * waits on the proposal's status.
 */
import * as multisig from '@sqds/multisig';
import { PublicKey, TransactionMessage } from '@solana/web3.js';
import type { AddressLookupTableAccount, TransactionInstruction } from '@solana/web3.js';
import type { Chain } from './chain.ts';
import type { JupiterSwapInstructions } from './jupiter.ts';

const { Multisig, Proposal } = multisig.accounts;

export const SQUADS_PROGRAM_ID: PublicKey = multisig.PROGRAM_ID;

export interface SwapProposalInput {
  multisig: PublicKey;
  vaultIndex: number;
  /** The multisig's next transaction index (see `nextTransactionIndex`). */
  transactionIndex: bigint;
  /** The agent's member key (Initiate permission); signs the outer transaction. */
  creator: PublicKey;
  rentPayer?: PublicKey;
  /** What the vault will execute, with the vault as the user (Jupiter's userPublicKey = the vault). */
  instructions: readonly TransactionInstruction[];
  lookupTables?: AddressLookupTableAccount[];
  memo?: string;
  programId?: PublicKey;
}

export interface SwapProposal {
  vault: PublicKey;
  transaction: PublicKey;
  proposal: PublicKey;
  transactionIndex: bigint;
  /** [vaultTransactionCreate, proposalCreate], in this order, for one transaction signed by the creator. */
  instructions: [TransactionInstruction, TransactionInstruction];
}

/** The vault's address: the owner of the treasury's token accounts in propose-only mode. */
export function vaultAddress(multisigPda: PublicKey, vaultIndex: number, programId?: PublicKey): PublicKey {
  return multisig.getVaultPda({ multisigPda, index: vaultIndex, ...(programId && { programId }) })[0];
}

/**
 * Jupiter's instructions as the vault runs them: without the compute-budget
 * ones, which only work at the top level of the outer (execute) transaction.
 */
export function vaultSwapInstructions(ixs: JupiterSwapInstructions): TransactionInstruction[] {
  return [...ixs.setup, ixs.swap, ...(ixs.cleanup ? [ixs.cleanup] : []), ...ixs.other];
}

export function buildSwapProposal(input: SwapProposalInput): SwapProposal {
  const programId = input.programId ?? multisig.PROGRAM_ID;
  const vault = vaultAddress(input.multisig, input.vaultIndex, programId);
  const [transaction] = multisig.getTransactionPda({ multisigPda: input.multisig, index: input.transactionIndex, programId });
  const [proposal] = multisig.getProposalPda({ multisigPda: input.multisig, transactionIndex: input.transactionIndex, programId });
  // The vault message's blockhash is ignored by Squads (the execute transaction carries its own): any valid value will do.
  const message = new TransactionMessage({ payerKey: vault, recentBlockhash: PublicKey.default.toBase58(), instructions: [...input.instructions] });
  const create = multisig.instructions.vaultTransactionCreate({
    multisigPda: input.multisig, transactionIndex: input.transactionIndex, creator: input.creator, rentPayer: input.rentPayer ?? input.creator,
    vaultIndex: input.vaultIndex, ephemeralSigners: 0, transactionMessage: message, addressLookupTableAccounts: input.lookupTables ?? [],
    ...(input.memo !== undefined && { memo: input.memo }), programId,
  });
  const propose = multisig.instructions.proposalCreate({
    multisigPda: input.multisig, creator: input.creator, rentPayer: input.rentPayer ?? input.creator, transactionIndex: input.transactionIndex, isDraft: false, programId,
  });
  return { vault, transaction, proposal, transactionIndex: input.transactionIndex, instructions: [create, propose] };
}

/** The index the next vault transaction must use: the multisig's transactionIndex + 1. */
export async function nextTransactionIndex(chain: Chain, multisigPda: PublicKey): Promise<bigint> {
  const data = await chain.accountData(multisigPda);
  if (!data) throw new Error(`Squads multisig ${multisigPda.toBase58()} does not exist`);
  const [account] = Multisig.deserialize(Buffer.from(data));
  return BigInt(account.transactionIndex.toString()) + 1n;
}

export type ProposalState = 'missing' | 'Draft' | 'Active' | 'Rejected' | 'Approved' | 'Executing' | 'Executed' | 'Cancelled';

/** Where the proposal for `transactionIndex` stands; 'missing' before it is created (or after it was closed). */
export async function proposalStatus(chain: Chain, multisigPda: PublicKey, transactionIndex: bigint, programId?: PublicKey): Promise<ProposalState> {
  const [address] = multisig.getProposalPda({ multisigPda, transactionIndex, ...(programId && { programId }) });
  const data = await chain.accountData(address);
  if (!data) return 'missing';
  const [proposal] = Proposal.deserialize(Buffer.from(data));
  return proposal.status.__kind;
}

export interface ProposalView {
  address: string;
  transactionIndex: bigint;
  state: ProposalState;
  /** The multisig's staleTransactionIndex: a config change made every index up to it stale. */
  staleTransactionIndex: bigint;
  /**
   * Draft or Active at or below the stale index: the program refuses to approve it, so it can never execute.
   * An Approved proposal stays executable when stale (vault_transaction_execute does not check staleness).
   */
  stale: boolean;
  threshold: number;
  /** Rejections that make it Rejected: voters − threshold + 1. */
  cutoff: number;
  approved: string[];
  rejected: string[];
  cancelled: string[];
}

export interface MemberRights {
  initiate: boolean;
  vote: boolean;
  execute: boolean;
}

/** The member's permissions on the multisig; null when `key` is not a member. */
export async function memberRights(chain: Chain, multisigPda: PublicKey, key: PublicKey): Promise<MemberRights | null> {
  const account = await readMultisig(chain, multisigPda);
  const m = account.members.find((x) => x.key.equals(key));
  if (!m) return null;
  const has = (p: multisig.types.Permission) => multisig.types.Permissions.has(m.permissions, p);
  const { Permission } = multisig.types;
  return { initiate: has(Permission.Initiate), vote: has(Permission.Vote), execute: has(Permission.Execute) };
}

async function readMultisig(chain: Chain, multisigPda: PublicKey) {
  const data = await chain.accountData(multisigPda);
  if (!data) throw new Error(`Squads multisig ${multisigPda.toBase58()} does not exist`);
  return Multisig.deserialize(Buffer.from(data))[0];
}

/** The proposal for `transactionIndex` with the multisig facts that decide whether it can still execute. */
export async function readProposal(chain: Chain, multisigPda: PublicKey, transactionIndex: bigint, programId?: PublicKey): Promise<ProposalView> {
  const [address] = multisig.getProposalPda({ multisigPda, transactionIndex, ...(programId && { programId }) });
  const [ms, data] = await Promise.all([readMultisig(chain, multisigPda), chain.accountData(address)]);
  const staleTransactionIndex = BigInt(ms.staleTransactionIndex.toString());
  const voters = ms.members.filter((m) => multisig.types.Permissions.has(m.permissions, multisig.types.Permission.Vote)).length;
  const base = { address: address.toBase58(), transactionIndex, staleTransactionIndex, threshold: ms.threshold, cutoff: voters - ms.threshold + 1 };
  if (!data) return { ...base, state: 'missing', stale: false, approved: [], rejected: [], cancelled: [] };
  const [p] = Proposal.deserialize(Buffer.from(data));
  const state = p.status.__kind;
  const keys = (xs: PublicKey[]) => xs.map((k) => k.toBase58());
  return {
    ...base, state, stale: (state === 'Draft' || state === 'Active') && transactionIndex <= staleTransactionIndex,
    approved: keys(p.approved), rejected: keys(p.rejected), cancelled: keys(p.cancelled),
  };
}

/** The member's vote against the proposal: reject while Active, cancel once Approved (the program's only two ways). */
export function voteAgainstInstruction(kind: 'reject' | 'cancel', multisigPda: PublicKey, transactionIndex: bigint, member: PublicKey, memo: string, programId?: PublicKey): TransactionInstruction {
  const args = { multisigPda, transactionIndex, member, memo, ...(programId && { programId }) };
  return kind === 'reject' ? multisig.instructions.proposalReject(args) : multisig.instructions.proposalCancelV2(args);
}

export interface WaitOptions {
  sleep: (ms: number) => Promise<void>;
  pollIntervalMs: number;
  /** Give up (throw) after this many polls; the intervention decides what an unexecuted proposal means. */
  maxPolls: number;
}

/** Polls until the proposal is executed, rejected or cancelled; throws when it is still open after `maxPolls`. */
export async function waitForProposal(chain: Chain, multisigPda: PublicKey, transactionIndex: bigint, opts: WaitOptions): Promise<'Executed' | 'Rejected' | 'Cancelled'> {
  let last: ProposalState = 'missing';
  for (let i = 0; i < opts.maxPolls; i++) {
    last = await proposalStatus(chain, multisigPda, transactionIndex);
    if (last === 'Executed' || last === 'Rejected' || last === 'Cancelled') return last;
    await opts.sleep(opts.pollIntervalMs);
  }
  throw new Error(`Squads proposal #${transactionIndex} of ${multisigPda.toBase58()} is still ${last} after ${opts.maxPolls} polls`);
}

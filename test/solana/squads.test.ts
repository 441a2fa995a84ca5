import * as multisig from '@sqds/multisig';
import { createTransferCheckedInstruction } from '@solana/spl-token';
import { ComputeBudgetProgram, Keypair, SystemProgram } from '@solana/web3.js';
import type { PublicKey } from '@solana/web3.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildSwapProposal, nextTransactionIndex, proposalStatus, vaultAddress, vaultSwapInstructions, waitForProposal } from '../../src/solana/squads.ts';
import { DECIMALS, UNIT, makeWorld } from './world.ts';
import type { World } from './world.ts';

const { Multisig, Proposal } = multisig.accounts;
const { vaultTransactionCreateStruct, vaultTransactionCreateInstructionDiscriminator, proposalCreateStruct, proposalCreateInstructionDiscriminator } = multisig.generated;
type SvmAddress = Parameters<World['svm']['setAccount']>[0]['address'];

let world: World;
const multisigPda = Keypair.generate().publicKey;
const agent = Keypair.generate().publicKey;

beforeEach(() => {
  world = makeWorld();
});

/** Writes a Squads account into LiteSVM as the program would own it. */
function putAccount(address: PublicKey, data: Buffer): void {
  world.svm.setAccount({
    address: address.toBase58() as SvmAddress, data: new Uint8Array(data), executable: false, lamports: 10_000_000n as never,
    programAddress: multisig.PROGRAM_ID.toBase58() as SvmAddress, space: BigInt(data.length),
  });
}

function putProposal(transactionIndex: bigint, status: multisig.generated.ProposalStatus): void {
  const [address] = multisig.getProposalPda({ multisigPda, transactionIndex });
  const [data] = Proposal.fromArgs({ multisig: multisigPda, transactionIndex: Number(transactionIndex), status, bump: 255, approved: [], rejected: [], cancelled: [] }).serialize();
  putAccount(address, data);
}

describe('Squads propose-only', () => {
  const swapLeg = () => {
    const vault = vaultAddress(multisigPda, 0);
    return createTransferCheckedInstruction(world.ata(vault, world.mints.pump), world.mints.pump, world.ata(world.pool.publicKey, world.mints.pump), vault, 5n * UNIT, DECIMALS);
  };

  it('builds vaultTransactionCreate with the multisig, transaction PDA, creator and rent payer, wrapping the swap for the vault', () => {
    const leg = swapLeg();
    const p = buildSwapProposal({ multisig: multisigPda, vaultIndex: 0, transactionIndex: 8n, creator: agent, instructions: [leg], memo: 'intervention/pstr-main/3 slice 0' });
    const [create] = p.instructions;
    expect(create.programId.equals(multisig.PROGRAM_ID)).toBe(true);
    expect(create.keys.map((k) => [k.pubkey.toBase58(), k.isWritable, k.isSigner])).toEqual([
      [multisigPda.toBase58(), true, false],
      [multisig.getTransactionPda({ multisigPda, index: 8n })[0].toBase58(), true, false],
      [agent.toBase58(), false, true],
      [agent.toBase58(), true, true],
      [SystemProgram.programId.toBase58(), false, false],
    ]);
    const [decoded] = vaultTransactionCreateStruct.deserialize(create.data);
    expect(decoded.instructionDiscriminator).toEqual(vaultTransactionCreateInstructionDiscriminator);
    expect(decoded.args).toMatchObject({ vaultIndex: 0, ephemeralSigners: 0, memo: 'intervention/pstr-main/3 slice 0' });

    const [message] = multisig.types.transactionMessageBeet.deserialize(Buffer.from(decoded.args.transactionMessage));
    expect(message.accountKeys[0]?.equals(p.vault)).toBe(true); // the vault pays and signs inside
    expect(message.numSigners).toBe(1);
    expect(message.instructions).toHaveLength(1);
    const inner = message.instructions[0] as multisig.types.CompiledMsInstruction;
    expect(message.accountKeys[inner.programIdIndex]?.equals(leg.programId)).toBe(true);
    expect(inner.accountIndexes.map((i) => message.accountKeys[i]?.toBase58())).toEqual(leg.keys.map((k) => k.pubkey.toBase58()));
    expect(Buffer.from(inner.data)).toEqual(leg.data);
  });

  it('builds proposalCreate for the same index, not as a draft', () => {
    const p = buildSwapProposal({ multisig: multisigPda, vaultIndex: 0, transactionIndex: 8n, creator: agent, rentPayer: world.treasury.publicKey, instructions: [swapLeg()] });
    const [, propose] = p.instructions;
    expect(propose.keys.map((k) => [k.pubkey.toBase58(), k.isWritable, k.isSigner])).toEqual([
      [multisigPda.toBase58(), false, false],
      [p.proposal.toBase58(), true, false],
      [agent.toBase58(), false, true],
      [world.treasury.publicKey.toBase58(), true, true],
      [SystemProgram.programId.toBase58(), false, false],
    ]);
    const [decoded] = proposalCreateStruct.deserialize(propose.data);
    expect(decoded.instructionDiscriminator).toEqual(proposalCreateInstructionDiscriminator);
    expect(BigInt(decoded.args.transactionIndex.toString())).toBe(8n);
    expect(decoded.args.draft).toBe(false);
    expect(p.proposal.equals(multisig.getProposalPda({ multisigPda, transactionIndex: 8n })[0])).toBe(true);
  });

  it("leaves Jupiter's compute-budget instructions out of the vault transaction", () => {
    const leg = swapLeg();
    const ixs = vaultSwapInstructions({ computeBudget: [ComputeBudgetProgram.setComputeUnitLimit({ units: 1 })], setup: [], swap: leg, cleanup: null, other: [], lookupTableAddresses: [] });
    expect(ixs).toEqual([leg]);
  });

  it("reads the next transaction index from the multisig account", async () => {
    const [data] = Multisig.fromArgs({
      createKey: Keypair.generate().publicKey, configAuthority: SystemProgram.programId, threshold: 2, timeLock: 3600, transactionIndex: 41,
      staleTransactionIndex: 0, rentCollector: null, bump: 254, members: [{ key: agent, permissions: multisig.types.Permissions.fromPermissions([multisig.types.Permission.Initiate]) }],
    }).serialize();
    putAccount(multisigPda, data);
    expect(await nextTransactionIndex(world.chain, multisigPda)).toBe(42n);
  });

  it('reports the proposal status, and waits until the multisig executed it', async () => {
    expect(await proposalStatus(world.chain, multisigPda, 8n)).toBe('missing');
    putProposal(8n, { __kind: 'Active', timestamp: 1 });
    expect(await proposalStatus(world.chain, multisigPda, 8n)).toBe('Active');
    let polls = 0;
    const sleep = async () => {
      polls += 1;
      if (polls === 2) putProposal(8n, { __kind: 'Approved', timestamp: 2 });
      if (polls === 4) putProposal(8n, { __kind: 'Executed', timestamp: 3 });
    };
    expect(await waitForProposal(world.chain, multisigPda, 8n, { sleep, pollIntervalMs: 1, maxPolls: 10 })).toBe('Executed');
    expect(polls).toBe(4);
  });

  it('gives up waiting on a proposal still open after maxPolls', async () => {
    putProposal(9n, { __kind: 'Active', timestamp: 1 });
    await expect(waitForProposal(world.chain, multisigPda, 9n, { sleep: async () => {}, pollIntervalMs: 1, maxPolls: 3 })).rejects.toThrow(/proposal #9 .* still Active after 3 polls/);
  });
});

/**
 * Squads v4 transaction buffers, for vault messages too big to ride in one
 * `vaultTransactionCreate`: `transactionBufferCreate` (the final message's
 * sha256 and size, and its first chunk), `transactionBufferExtend` (the next
 * chunk, appended: the program takes no offset, so sending a chunk twice
 * appends it twice), then `vaultTransactionCreateFromBuffer` (+
 * `proposalCreate`), which checks size and hash, turns the buffer into the
 * vault transaction and closes the buffer to its creator.
 *
 * The buffer's address is the PDA ["multisig", multisig, "transaction_buffer",
 * creator, buffer_index (u8)]; only its creator may extend, use or close it.
 */
import * as multisig from '@sqds/multisig';
import { PublicKey, SystemProgram } from '@solana/web3.js';
import type { TransactionInstruction } from '@solana/web3.js';
import type { Chain } from './chain.ts';
import type { BufferOnChain } from './squads-buffer-plan.ts';
import type { SwapProposal } from './squads.ts';

const { TransactionBuffer } = multisig.accounts;
const g = multisig.generated;

export interface BufferTarget {
  multisig: PublicKey;
  creator: PublicKey;
  bufferIndex: number;
  programId: PublicKey;
}

export function bufferAddress(t: BufferTarget): PublicKey {
  if (!Number.isInteger(t.bufferIndex) || t.bufferIndex < 0 || t.bufferIndex > 255) throw new RangeError(`buffer index must be in [0, 255], got ${t.bufferIndex}`);
  return PublicKey.findProgramAddressSync(
    [Buffer.from('multisig'), t.multisig.toBuffer(), Buffer.from('transaction_buffer'), t.creator.toBuffer(), Buffer.from([t.bufferIndex])],
    t.programId,
  )[0];
}

/** The vault message exactly as `vaultTransactionCreate` would carry it (what the buffer must end up holding). */
export function vaultMessageBytes(p: SwapProposal): Uint8Array {
  const [decoded] = g.vaultTransactionCreateStruct.deserialize(Buffer.from(p.instructions[0].data));
  return Uint8Array.from(decoded.args.transactionMessage);
}

export function bufferCreateInstruction(t: BufferTarget, a: { vaultIndex: number; hash: string; size: number; chunk: Uint8Array }): TransactionInstruction {
  return g.createTransactionBufferCreateInstruction(
    { multisig: t.multisig, transactionBuffer: bufferAddress(t), creator: t.creator, rentPayer: t.creator },
    { args: { bufferIndex: t.bufferIndex, vaultIndex: a.vaultIndex, finalBufferHash: [...Buffer.from(a.hash, 'hex')], finalBufferSize: a.size, buffer: a.chunk } },
    t.programId,
  );
}

export function bufferExtendInstruction(t: BufferTarget, chunk: Uint8Array): TransactionInstruction {
  return g.createTransactionBufferExtendInstruction({ multisig: t.multisig, transactionBuffer: bufferAddress(t), creator: t.creator }, { args: { buffer: chunk } }, t.programId);
}

export function bufferCloseInstruction(t: BufferTarget): TransactionInstruction {
  return g.createTransactionBufferCloseInstruction({ multisig: t.multisig, transactionBuffer: bufferAddress(t), creator: t.creator }, t.programId);
}

/** [vaultTransactionCreateFromBuffer, proposalCreate] for `transactionIndex`: one transaction, like the single-transaction path. */
export function createFromBufferInstructions(t: BufferTarget, a: { vaultIndex: number; transactionIndex: bigint; memo?: string }): [TransactionInstruction, TransactionInstruction] {
  const [transaction] = multisig.getTransactionPda({ multisigPda: t.multisig, index: a.transactionIndex, programId: t.programId });
  const create = g.createVaultTransactionCreateFromBufferInstruction({
    vaultTransactionCreateItemMultisig: t.multisig, vaultTransactionCreateItemTransaction: transaction, vaultTransactionCreateItemCreator: t.creator,
    vaultTransactionCreateItemRentPayer: t.creator, vaultTransactionCreateItemSystemProgram: SystemProgram.programId, transactionBuffer: bufferAddress(t), creator: t.creator,
  }, {
    // The program insists on an empty message here ([0; 6]): the real one comes from the buffer.
    args: { vaultIndex: a.vaultIndex, ephemeralSigners: 0, transactionMessage: new Uint8Array(6), memo: a.memo ?? null },
  }, t.programId);
  const propose = multisig.instructions.proposalCreate({
    multisigPda: t.multisig, creator: t.creator, rentPayer: t.creator, transactionIndex: a.transactionIndex, isDraft: false, programId: t.programId,
  });
  return [create, propose];
}

/** The buffer account as the chain holds it; null when there is none. */
export async function readBuffer(chain: Chain, address: PublicKey): Promise<BufferOnChain | null> {
  const data = await chain.accountData(address);
  if (!data) return null;
  const [b] = TransactionBuffer.deserialize(Buffer.from(data));
  return { creator: b.creator.toBase58(), hash: Buffer.from(b.finalBufferHash).toString('hex'), size: b.finalBufferSize, content: Uint8Array.from(b.buffer) };
}

/** The first buffer index from `start` (wrapping) whose account does not exist. */
export async function freeBufferIndex(chain: Chain, t: Omit<BufferTarget, 'bufferIndex'>, start: number): Promise<number> {
  for (let i = 0; i < 256; i++) {
    const bufferIndex = (start + i) % 256;
    if ((await chain.accountData(bufferAddress({ ...t, bufferIndex }))) === null) return bufferIndex;
  }
  throw new Error(`all 256 transaction buffer slots of ${t.creator.toBase58()} on ${t.multisig.toBase58()} are in use; close some (transactionBufferClose)`);
}

/**
 * For the fake-chain tests: what the Squads program does to accounts for the
 * transaction buffer instructions (create, extend, close, create-from-buffer
 * + proposalCreate), applied to an in-memory account map when a transaction
 * lands. Like the runtime, a signature already processed is not applied
 * again, and a failing transaction changes nothing. Only what the treasury
 * reads back is modelled: the buffer account, the multisig's index, the
 * transaction and proposal accounts.
 */
import { createHash } from 'node:crypto';
import * as multisig from '@sqds/multisig';
import { PublicKey, VersionedTransaction } from '@solana/web3.js';
import { base58 } from '../../src/solana/chain.ts';

const { Multisig, Proposal, TransactionBuffer } = multisig.accounts;
const g = multisig.generated;
const is = (data: Uint8Array, disc: number[]) => Buffer.from(data.subarray(0, 8)).equals(Buffer.from(disc));

export interface SquadsBufferProgram {
  /** Applies a landed transaction's Squads buffer instructions; returns the error text, or null when it succeeded (or was a duplicate). */
  apply(bytes: Uint8Array): string | null;
  /** Every buffer instruction applied, in order: "create 0-900", "extend 900-1850", "final #42", "close". */
  log: string[];
}

export function squadsBufferProgram(accounts: Map<string, Uint8Array>, multisigPda: PublicKey): SquadsBufferProgram {
  const processed = new Set<string>();
  const log: string[] = [];
  const apply = (bytes: Uint8Array): string | null => {
    const tx = VersionedTransaction.deserialize(bytes);
    const signature = base58(tx.signatures[0] as Uint8Array);
    if (processed.has(signature)) return null;
    processed.add(signature);
    const keys = tx.message.staticAccountKeys;
    const next = new Map(accounts);
    const entries: string[] = [];
    for (const ix of tx.message.compiledInstructions) {
      if (!keys[ix.programIdIndex]?.equals(multisig.PROGRAM_ID)) continue;
      const key = (n: number) => (keys[ix.accountKeyIndexes[n] as number] as PublicKey).toBase58();
      const readBuffer = () => {
        const data = next.get(key(1));
        return data ? TransactionBuffer.deserialize(Buffer.from(data))[0] : null;
      };
      const putBuffer = (b: multisig.generated.TransactionBufferArgs) => next.set(key(1), new Uint8Array(TransactionBuffer.fromArgs(b).serialize()[0]));
      if (is(ix.data, g.transactionBufferCreateInstructionDiscriminator)) {
        if (next.has(key(1))) return `create: buffer ${key(1)} already in use`;
        const [{ args }] = g.transactionBufferCreateStruct.deserialize(Buffer.from(ix.data));
        putBuffer({ multisig: multisigPda, creator: new PublicKey(key(2)), ...args, buffer: Uint8Array.from(args.buffer) });
        entries.push(`create 0-${args.buffer.length}`);
      } else if (is(ix.data, g.transactionBufferExtendInstructionDiscriminator)) {
        const b = readBuffer();
        if (!b) return 'extend: no buffer';
        const [{ args }] = g.transactionBufferExtendStruct.deserialize(Buffer.from(ix.data));
        if (b.buffer.length + args.buffer.length > b.finalBufferSize) return 'extend: FinalBufferSizeExceeded';
        putBuffer({ ...b, buffer: Buffer.concat([b.buffer, args.buffer]) });
        entries.push(`extend ${b.buffer.length}-${b.buffer.length + args.buffer.length}`);
      } else if (is(ix.data, g.transactionBufferCloseInstructionDiscriminator)) {
        if (!next.delete(key(1))) return 'close: no buffer';
        entries.push('close');
      } else if (is(ix.data, g.vaultTransactionCreateFromBufferInstructionDiscriminator)) {
        const bufferKey = key(5);
        const data = next.get(bufferKey);
        if (!data) return 'from buffer: no buffer';
        const [b] = TransactionBuffer.deserialize(Buffer.from(data));
        if (createHash('sha256').update(b.buffer).digest('hex') !== Buffer.from(b.finalBufferHash).toString('hex')) return 'from buffer: FinalBufferHashMismatch';
        const [m] = Multisig.deserialize(Buffer.from(next.get(multisigPda.toBase58()) as Uint8Array));
        const index = BigInt(m.transactionIndex.toString()) + 1n;
        if (!multisig.getTransactionPda({ multisigPda, index })[0].equals(new PublicKey(key(1)))) return 'from buffer: ConstraintSeeds (index taken)';
        next.delete(bufferKey);
        next.set(key(1), new Uint8Array(8));
        next.set(multisigPda.toBase58(), new Uint8Array(Multisig.fromArgs({ ...m, transactionIndex: Number(index) }).serialize()[0]));
        const [proposal] = multisig.getProposalPda({ multisigPda, transactionIndex: index });
        const [p] = Proposal.fromArgs({ multisig: multisigPda, transactionIndex: Number(index), status: { __kind: 'Active', timestamp: 1 }, bump: 255, approved: [], rejected: [], cancelled: [] }).serialize();
        next.set(proposal.toBase58(), new Uint8Array(p));
        entries.push(`final #${index}`);
      }
    }
    for (const [k, v] of next) accounts.set(k, v);
    for (const k of accounts.keys()) if (!next.has(k)) accounts.delete(k);
    log.push(...entries);
    return null;
  };
  return { apply, log };
}

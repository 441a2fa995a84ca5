import * as multisig from '@sqds/multisig';
import { AddressLookupTableAccount, ComputeBudgetProgram, Keypair, PublicKey, SystemProgram, TransactionInstruction, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import { BufferFlow } from '../../src/solana/squads-buffer-flow.ts';
import { bufferCreateInstruction, bufferExtendInstruction, createFromBufferInstructions, vaultMessageBytes } from '../../src/solana/squads-buffer.ts';
import { TX_SIZE_LIMIT, chunkCapacity, chunkRanges, compactU16Size, fitsInOneTransaction, nextBufferAction, sha256Hex, transactionSize } from '../../src/solana/squads-buffer-plan.ts';
import type { BufferSituation } from '../../src/solana/squads-buffer-plan.ts';
import { signTransaction } from '../../src/solana/squads-buffer-record.ts';
import { buildSwapProposal, vaultAddress } from '../../src/solana/squads.ts';

const member = Keypair.generate();
const multisigPda = Keypair.generate().publicKey;
const vault = vaultAddress(multisigPda, 0);
const memo = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
const route = (memos: number) => [
  SystemProgram.transfer({ fromPubkey: vault, toPubkey: Keypair.generate().publicKey, lamports: 5 }),
  ...Array.from({ length: memos }, (_, i) => new TransactionInstruction({ programId: memo, keys: [], data: Buffer.from(`leg ${i}`.padEnd(100, '.')) })),
];
const proposalOf = (memos: number) => buildSwapProposal({ multisig: multisigPda, vaultIndex: 0, transactionIndex: 5n, creator: member.publicKey, instructions: route(memos), memo: 'swap x slice 0 attempt 1' });
const singleTransaction = (memos: number) => new TransactionMessage({
  payerKey: member.publicKey, recentBlockhash: PublicKey.default.toBase58(), instructions: [ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1 }), ...proposalOf(memos).instructions],
}).compileToV0Message();

describe('transaction size', () => {
  it('encodes compact-u16 lengths in 1 to 3 bytes', () => {
    expect([0, 127, 128, 16_383, 16_384, 65_535].map(compactU16Size)).toEqual([1, 1, 2, 2, 3, 3]);
    expect(() => compactU16Size(65_536)).toThrow(RangeError);
  });

  it('matches the serialized length of a signed v0 transaction, lookup tables included', () => {
    const table = new AddressLookupTableAccount({
      key: Keypair.generate().publicKey, state: { deactivationSlot: 2n ** 64n - 1n, lastExtendedSlot: 0, lastExtendedSlotStartIndex: 0, authority: undefined, addresses: [Keypair.generate().publicKey, Keypair.generate().publicKey] },
    });
    const [a, b] = table.state.addresses as [PublicKey, PublicKey];
    const message = new TransactionMessage({
      payerKey: member.publicKey, recentBlockhash: PublicKey.default.toBase58(),
      instructions: [new TransactionInstruction({ programId: memo, keys: [{ pubkey: a, isSigner: false, isWritable: true }, { pubkey: b, isSigner: false, isWritable: false }], data: Buffer.alloc(300, 1) })],
    }).compileToV0Message([table]);
    expect(message.addressTableLookups).toHaveLength(1);
    const tx = new VersionedTransaction(message);
    tx.sign([member]);
    expect(transactionSize(message)).toBe(tx.serialize().length);
  });

  it('keeps a small route in one transaction and sends a padded one to the buffer (web3.js cannot even serialize it)', () => {
    const small = singleTransaction(0);
    expect(fitsInOneTransaction(small)).toBe(true);
    expect(transactionSize(small)).toBe(new VersionedTransaction(small).serialize().length);
    const big = singleTransaction(24);
    expect(transactionSize(big)).toBeGreaterThan(TX_SIZE_LIMIT);
    expect(fitsInOneTransaction(big)).toBe(false);
    expect(() => new VersionedTransaction(big).serialize()).toThrow();
    console.info(`single create+propose transaction: ${transactionSize(small)} bytes with the 1-instruction route, ${transactionSize(big)} bytes with 24 memos`);
  });
});

describe('chunking', () => {
  it('leaves room for the length prefixes and refuses a transaction with no room', () => {
    expect(chunkCapacity(300)).toBe(TX_SIZE_LIMIT - 302);
    expect(() => chunkCapacity(1231)).toThrow(/without a chunk/);
  });

  it('cuts the message into contiguous ranges: the create carries the first, extends the rest', () => {
    expect(chunkRanges(2901, 900, 950)).toEqual([[0, 900], [900, 1850], [1850, 2800], [2800, 2901]]);
    expect(chunkRanges(500, 900, 950)).toEqual([[0, 500]]);
    expect(chunkRanges(1850, 900, 950)).toEqual([[0, 900], [900, 1850]]);
    expect(() => chunkRanges(0, 900, 950)).toThrow(RangeError);
  });

  it('every buffer transaction at full capacity stays within 1232 bytes, with the message hash and the real instructions', () => {
    const flow = new BufferFlow({ member, multisig: multisigPda, vaultIndex: 0, programId: multisig.PROGRAM_ID, stepBudget: 3 } as unknown as ConstructorParameters<typeof BufferFlow>[0]);
    const caps = flow.capacities();
    const message = vaultMessageBytes(proposalOf(40));
    const t = { multisig: multisigPda, creator: member.publicKey, bufferIndex: 7, programId: multisig.PROGRAM_ID };
    const life = { blockhash: PublicKey.default.toBase58(), lastValidBlockHeight: 1 };
    const budget = [ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 200_000 }), ComputeBudgetProgram.setComputeUnitLimit({ units: 400_000 })];
    const create = signTransaction(member, [...budget, bufferCreateInstruction(t, { vaultIndex: 0, hash: sha256Hex(message), size: message.length, chunk: message.subarray(0, caps.create) })], life);
    const extend = signTransaction(member, [...budget, bufferExtendInstruction(t, message.subarray(0, caps.extend))], life);
    const final = signTransaction(member, [...budget, ...createFromBufferInstructions(t, { vaultIndex: 0, transactionIndex: 5n, memo: 'swap x slice 0 attempt 1' })], life);
    for (const s of [create, extend]) expect(s.size).toBeGreaterThan(TX_SIZE_LIMIT - 3);
    for (const s of [create, extend, final]) expect(Buffer.from(s.tx, 'base64').length).toBe(s.size);
    expect(() => signTransaction(member, [...budget, bufferExtendInstruction(t, message.subarray(0, caps.extend + 2))], life)).toThrow(/exceeds the 1232-byte limit/);
  });

  it('uploads exactly the bytes vaultTransactionCreate would carry', () => {
    const p = proposalOf(3);
    const [decoded] = multisig.generated.vaultTransactionCreateStruct.deserialize(p.instructions[0].data);
    expect(Buffer.from(vaultMessageBytes(p))).toEqual(Buffer.from(decoded.args.transactionMessage));
  });
});

describe('the next buffer step, from the chain', () => {
  const message = Uint8Array.from({ length: 2000 }, (_, i) => i % 251);
  const creator = member.publicKey.toBase58();
  const base: BufferSituation = { message, hash: sha256Hex(message), creator, onChain: null, bufferSeen: false, indexTaken: false, createCap: 900, extendCap: 950 };
  const onChain = (len: number, over: Partial<NonNullable<BufferSituation['onChain']>> = {}) => ({ creator, hash: base.hash, size: 2000, content: message.subarray(0, len), ...over });

  it('creates, extends from the length on chain, then creates the vault transaction', () => {
    expect(nextBufferAction(base)).toEqual({ kind: 'create', from: 0, to: 900 });
    expect(nextBufferAction({ ...base, bufferSeen: true, onChain: onChain(900) })).toEqual({ kind: 'extend', from: 900, to: 1850 });
    // An extend whose status was lost but which landed: the chain's length moves the next chunk on.
    expect(nextBufferAction({ ...base, bufferSeen: true, onChain: onChain(1850) })).toEqual({ kind: 'extend', from: 1850, to: 2000 });
    expect(nextBufferAction({ ...base, bufferSeen: true, onChain: onChain(2000) })).toEqual({ kind: 'final' });
  });

  it('gives the attempt up when the buffer can no longer become our proposal, closing it only when it is ours', () => {
    expect(nextBufferAction({ ...base, indexTaken: true, onChain: onChain(2000) })).toMatchObject({ kind: 'stale', close: true, reason: /index was taken/ });
    expect(nextBufferAction({ ...base, indexTaken: true })).toMatchObject({ kind: 'stale', close: false });
    expect(nextBufferAction({ ...base, onChain: onChain(10, { hash: 'f'.repeat(64) }) })).toMatchObject({ kind: 'stale', close: false, reason: /different buffer/ });
    const doubled = Buffer.concat([message.subarray(0, 900), message.subarray(0, 900)]);
    expect(nextBufferAction({ ...base, onChain: onChain(0, { content: doubled }) })).toMatchObject({ kind: 'stale', close: true, reason: /not a prefix/ });
    expect(nextBufferAction({ ...base, bufferSeen: true })).toMatchObject({ kind: 'stale', close: false, reason: /gone/ });
  });
});

/**
 * The pure half of proposing through a Squads transaction buffer: how big a
 * transaction is on the wire (web3.js throws instead of answering once a
 * message passes 1232 bytes), how much of the vault message fits in one
 * buffer transaction, and, given what the chain holds, which step comes next.
 *
 * The deciding rule that keeps chunks from being appended twice: a step is
 * only ever chosen after the previous step's transaction has landed or
 * provably cannot land, and it is chosen from the buffer's length ON CHAIN,
 * never from what the journal thinks was sent.
 */
import { createHash } from 'node:crypto';
import type { VersionedMessage } from '@solana/web3.js';

/** Solana's maximum wire size of a transaction (PACKET_DATA_SIZE). */
export const TX_SIZE_LIMIT = 1232;

/** Bytes of a compact-u16 (shortvec) length prefix. */
export function compactU16Size(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`compact-u16 out of range: ${n}`);
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : 3;
}

/** The wire size of a signed v0 transaction carrying `message`, computed without serializing (which throws past the limit). */
export function transactionSize(message: VersionedMessage): number {
  const sigs = message.header.numRequiredSignatures;
  const keys = message.staticAccountKeys.length;
  let size = compactU16Size(sigs) + 64 * sigs + 1 /* version prefix */ + 3 /* header */ + compactU16Size(keys) + 32 * keys + 32 /* blockhash */;
  size += compactU16Size(message.compiledInstructions.length);
  for (const ix of message.compiledInstructions) {
    size += 1 + compactU16Size(ix.accountKeyIndexes.length) + ix.accountKeyIndexes.length + compactU16Size(ix.data.length) + ix.data.length;
  }
  size += compactU16Size(message.addressTableLookups.length);
  for (const l of message.addressTableLookups) {
    size += 32 + compactU16Size(l.writableIndexes.length) + l.writableIndexes.length + compactU16Size(l.readonlyIndexes.length) + l.readonlyIndexes.length;
  }
  return size;
}

export const fitsInOneTransaction = (message: VersionedMessage): boolean => transactionSize(message) <= TX_SIZE_LIMIT;

/**
 * Bytes of message one buffer transaction can carry, given the size of the
 * same transaction with an empty chunk: the rest of the limit, less the two
 * extra bytes the chunk's and the instruction data's length prefixes grow by.
 */
export function chunkCapacity(sizeWithEmptyChunk: number): number {
  const room = TX_SIZE_LIMIT - sizeWithEmptyChunk - 2;
  if (room < 1) throw new RangeError(`a buffer transaction is already ${sizeWithEmptyChunk} bytes without a chunk`);
  return room;
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The [from, to) ranges the message is uploaded in when nothing goes wrong: the first by the create, the rest by extends. */
export function chunkRanges(size: number, createCap: number, extendCap: number): [number, number][] {
  if (size < 1 || createCap < 1 || extendCap < 1) throw new RangeError(`chunkRanges: size ${size}, capacities ${createCap}/${extendCap} must be ≥ 1`);
  const ranges: [number, number][] = [[0, Math.min(size, createCap)]];
  for (let from = ranges[0]![1]; from < size; from = Math.min(size, from + extendCap)) ranges.push([from, Math.min(size, from + extendCap)]);
  return ranges;
}

/** The transaction buffer account at the attempt's address, as the chain holds it (null: no account). */
export interface BufferOnChain {
  creator: string;
  hash: string;
  size: number;
  content: Uint8Array;
}

export interface BufferSituation {
  /** The complete vault message this attempt uploads, and what the buffer was created with. */
  message: Uint8Array;
  hash: string;
  creator: string;
  onChain: BufferOnChain | null;
  /** Whether this attempt's buffer is known to have existed (its create landed, or a later step was built). */
  bufferSeen: boolean;
  /** The multisig already used the attempt's transaction index (our final transaction did not land). */
  indexTaken: boolean;
  createCap: number;
  extendCap: number;
}

export type BufferAction =
  | { kind: 'create'; from: 0; to: number }
  | { kind: 'extend'; from: number; to: number }
  | { kind: 'final' }
  | { kind: 'stale'; close: boolean; reason: string };

/** The next step, decided only from the chain (call it once the previous step landed or provably cannot). */
export function nextBufferAction(s: BufferSituation): BufferAction {
  const size = s.message.length;
  const b = s.onChain;
  if (b && (b.creator !== s.creator || b.hash !== s.hash || b.size !== size)) {
    return { kind: 'stale', close: false, reason: 'the buffer address holds a different buffer (our create could not land there)' };
  }
  if (s.indexTaken) return { kind: 'stale', close: b !== null, reason: 'the transaction index was taken before the proposal landed' };
  if (!b) {
    if (s.bufferSeen) return { kind: 'stale', close: false, reason: 'the buffer is gone but no proposal of ours landed' };
    return { kind: 'create', from: 0, to: Math.min(size, s.createCap) };
  }
  const len = b.content.length;
  if (len > size || !Buffer.from(b.content).equals(Buffer.from(s.message.subarray(0, len)))) {
    return { kind: 'stale', close: true, reason: `the buffer's ${len} bytes are not a prefix of the message` };
  }
  if (len < size) return { kind: 'extend', from: len, to: Math.min(size, len + s.extendCap) };
  return { kind: 'final' };
}

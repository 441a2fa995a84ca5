/**
 * The buffer path of a propose-only swap slice, one step per call of
 * `advance`: create the buffer with the first chunk, extend it chunk by
 * chunk, then vaultTransactionCreateFromBuffer + proposalCreate. Each step's
 * signed bytes are appended to the attempt in the journal (compare-and-set)
 * BEFORE they are sent; a step that may still land is re-sent as the same
 * bytes; the next step is chosen only once the last one landed or provably
 * cannot, and from the chain (the buffer's bytes, the multisig's index), so a
 * crash anywhere resumes where the chain is and no chunk is appended twice.
 * A buffer that can no longer become our proposal (index taken, foreign or
 * corrupt buffer) is closed when it is ours, and the attempt is abandoned: the
 * treasury proposes anew at the next index.
 */
import { ComputeBudgetProgram, PublicKey, TransactionMessage } from '@solana/web3.js';
import type { Keypair, TransactionInstruction } from '@solana/web3.js';
import type { ConfirmationLevel, Chain } from './chain.ts';
import { isFinal, type JournalRecord, type SliceKey, type SwapJournal } from './journal.ts';
import { bufferAddress, bufferCloseInstruction, bufferCreateInstruction, bufferExtendInstruction, createFromBufferInstructions, freeBufferIndex, readBuffer } from './squads-buffer.ts';
import type { BufferTarget } from './squads-buffer.ts';
import { chunkCapacity, chunkRanges, nextBufferAction, sha256Hex, transactionSize } from './squads-buffer-plan.ts';
import { cannotLand, landedOk, proposalAttemptsOf, signTransaction } from './squads-buffer-record.ts';
import type { BufferRecord, BufferStep, ProposalAttempt, Sent } from './squads-buffer-record.ts';
import { nextTransactionIndex } from './squads.ts';

/** The program's limit on a buffered message (MAX_BUFFER_SIZE). */
export const MAX_BUFFER_SIZE = 10_128;
/** Compute limits per step; the step number is added so that two equal chunks never make byte-identical transactions. */
const CU = { create: 100_000, extend: 60_000, final: 400_000, close: 60_000 } as const;

export interface BufferFlowOptions {
  chain: Chain;
  swaps: SwapJournal<SliceKey>;
  member: Keypair;
  multisig: PublicKey;
  vaultIndex: number;
  programId: PublicKey;
  commitment: ConfirmationLevel;
  clock: () => number;
  fee: () => Promise<number>;
  /** Buffer transactions one attempt may build, as a multiple of its planned chunks + 1. */
  stepBudget: number;
}

export type Progress = 'pending' | 'progress';

export class BufferFlow {
  private caps?: { create: number; extend: number };

  constructor(private readonly o: BufferFlowOptions) {}

  private target(bufferIndex: number): BufferTarget {
    return { multisig: this.o.multisig, creator: this.o.member.publicKey, bufferIndex, programId: this.o.programId };
  }

  /** How much message a create / an extend transaction carries, measured on the real instructions with an empty chunk. */
  capacities(): { create: number; extend: number } {
    if (this.caps) return this.caps;
    const t = this.target(0);
    const size = (ix: TransactionInstruction) => transactionSize(new TransactionMessage({
      payerKey: t.creator, recentBlockhash: PublicKey.default.toBase58(), instructions: [...this.budget('create', 0, 0), ix],
    }).compileToV0Message());
    const empty = new Uint8Array(0);
    this.caps = {
      create: chunkCapacity(size(bufferCreateInstruction(t, { vaultIndex: this.o.vaultIndex, hash: '0'.repeat(64), size: 0, chunk: empty }))),
      extend: chunkCapacity(size(bufferExtendInstruction(t, empty))),
    };
    return this.caps;
  }

  /** The buffer record for `message` (nothing sent yet), at a free buffer slot. */
  async plan(message: Uint8Array, transactionIndex: bigint): Promise<BufferRecord> {
    const { multisig, programId, member } = this.o;
    const index = await freeBufferIndex(this.o.chain, { multisig, creator: member.publicKey, programId }, Number(transactionIndex % 256n));
    return { address: bufferAddress(this.target(index)).toBase58(), index, hash: sha256Hex(message), size: message.length, message: Buffer.from(message).toString('base64'), steps: [] };
  }

  /** One step forward for attempt number `i` (0-based), whose buffer is not abandoned: 'progress' means look at the record again. */
  async advance(key: SliceKey, i: number, a: ProposalAttempt): Promise<Progress> {
    const { chain, commitment } = this.o;
    const b = a.buffer as BufferRecord;
    const last = b.steps.at(-1);
    if (last) {
      if (await landedOk(chain, commitment, last.signature)) {
        if (last.kind === 'final') return 'progress'; // our proposal exists: the treasury follows it
      } else if (!(await cannotLand(chain, commitment, last))) {
        return this.send(key, last);
      }
    }
    const message = new Uint8Array(Buffer.from(b.message, 'base64'));
    let bufferSeen = b.steps.some((s) => s.kind !== 'create');
    for (const s of b.steps) if (!bufferSeen && s.kind === 'create') bufferSeen = await landedOk(chain, commitment, s.signature);
    const onChain = await readBuffer(chain, new PublicKey(b.address));
    const indexTaken = (await nextTransactionIndex(chain, this.o.multisig)) > BigInt(a.transactionIndex);
    const caps = this.capacities();
    const action = nextBufferAction({ message, hash: b.hash, creator: this.o.member.publicKey.toBase58(), onChain, bufferSeen, indexTaken, createCap: caps.create, extendCap: caps.extend });
    if (action.kind === 'stale') return this.abandon(key, i, b, action.reason, action.close);
    if (b.steps.length >= (chunkRanges(b.size, caps.create, caps.extend).length + 1) * this.o.stepBudget) {
      return this.abandon(key, i, b, `gave up after ${b.steps.length} buffer transactions`, onChain !== null);
    }
    const t = this.target(b.index);
    const ixs = action.kind === 'create' ? [bufferCreateInstruction(t, { vaultIndex: this.o.vaultIndex, hash: b.hash, size: b.size, chunk: message.subarray(0, action.to) })]
      : action.kind === 'extend' ? [bufferExtendInstruction(t, message.subarray(action.from, action.to))]
        : createFromBufferInstructions(t, { vaultIndex: this.o.vaultIndex, transactionIndex: BigInt(a.transactionIndex), memo: `${this.o.swaps.describe(key)} attempt ${i + 1}` });
    const [from, to] = action.kind === 'final' ? [b.size, b.size] : [action.from, action.to];
    const step = await this.build(action.kind, from, to, b.steps.length, ixs);
    const applied = await this.record(key, i, b.steps.length, action.kind === 'final' ? step.signature : undefined, (c) => ({
      ...c, ...(action.kind === 'final' && { signature: step.signature, tx: step.tx, lastValidBlockHeight: step.lastValidBlockHeight }),
      buffer: { ...b, steps: [...b.steps, step] },
    }));
    return applied ? this.send(key, step) : 'progress';
  }

  private budget(kind: BufferStep['kind'], stepNo: number, fee: number): TransactionInstruction[] {
    return [ComputeBudgetProgram.setComputeUnitPrice({ microLamports: fee }), ComputeBudgetProgram.setComputeUnitLimit({ units: CU[kind] + stepNo })];
  }

  private async build(kind: BufferStep['kind'], from: number, to: number, stepNo: number, ixs: TransactionInstruction[]): Promise<BufferStep> {
    const fee = await this.o.fee();
    const life = await this.o.chain.latestBlockhash();
    const { signature, tx, lastValidBlockHeight } = signTransaction(this.o.member, [...this.budget(kind, stepNo, fee), ...ixs], life);
    return { kind, from, to, signature, tx, lastValidBlockHeight };
  }

  /** Compare-and-set on attempt `i`: applies only while the attempt still has `stepCount` steps and is not abandoned. */
  private async record(key: SliceKey, i: number, stepCount: number, signature: string | undefined, change: (a: ProposalAttempt) => ProposalAttempt): Promise<boolean> {
    const guard = (c: JournalRecord) => {
      const attempts = proposalAttemptsOf(c);
      const b = attempts[i]?.buffer;
      return !isFinal(c) && attempts.length === i + 1 && b !== undefined && b.abandoned === undefined && b.steps.length === stepCount;
    };
    const r = await this.o.swaps.update(key, guard, (c) => {
      const attempts = proposalAttemptsOf(c);
      return { status: c.status, signature, details: { ...c.details, proposals: attempts.map((x, n) => (n === i ? change(x) : x)) } };
    }, this.o.clock());
    return r.applied;
  }

  /** Sends recorded bytes; 'progress' when they landed at once (LiteSVM, a fast RPC), else 'pending' until the next call. */
  private async send(key: SliceKey, s: Sent): Promise<Progress> {
    await this.o.chain.sendRawTransaction(Buffer.from(s.tx, 'base64'));
    await this.o.swaps.update(key, (c) => c.status === 'prepared', (c) => ({ status: 'sent', details: c.details }), this.o.clock());
    return (await landedOk(this.o.chain, this.o.commitment, s.signature)) ? 'progress' : 'pending';
  }

  /** Marks the attempt dead (recording the close transaction first when the buffer is ours to close), then sends the close once. */
  private async abandon(key: SliceKey, i: number, b: BufferRecord, reason: string, close: boolean): Promise<Progress> {
    const closeStep = close ? await this.build('close', 0, 0, b.steps.length, [bufferCloseInstruction(this.target(b.index))]) : undefined;
    const left = closeStep
      ? `buffer ${b.address} closed by ${closeStep.signature} (if that did not land, the buffer and its rent are still there: close it with transactionBufferClose)`
      : `buffer ${b.address} not closed by us`;
    const applied = await this.record(key, i, b.steps.length, undefined, (c) => ({ ...c, buffer: { ...b, steps: closeStep ? [...b.steps, closeStep] : b.steps, abandoned: `${reason}; ${left}` } }));
    if (applied && closeStep) await this.o.chain.sendRawTransaction(Buffer.from(closeStep.tx, 'base64'));
    return 'progress';
  }
}

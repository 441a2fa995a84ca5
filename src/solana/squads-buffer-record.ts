/**
 * What the propose-only treasury writes into a swap record's
 * details.proposals, one entry per proposal attempt, before anything is
 * sent: the single create+propose transaction, or (a route too big for one
 * transaction) the transaction buffer and every buffer transaction, each
 * step appended before its bytes leave. Plus the chain-status helpers both
 * paths judge their transactions with.
 */
import { TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import type { Keypair, TransactionInstruction } from '@solana/web3.js';
import { z } from 'zod';
import { base58, reached } from './chain.ts';
import type { Chain, ConfirmationLevel } from './chain.ts';
import { detailsList, type JournalRecord } from './journal.ts';
import { TX_SIZE_LIMIT, transactionSize } from './squads-buffer-plan.ts';

const digits = z.string().regex(/^\d+$/);
const sentShape = { signature: z.string(), tx: z.string(), lastValidBlockHeight: z.number().int() };

export const bufferStepSchema = z.object({ kind: z.enum(['create', 'extend', 'final', 'close']), from: z.number().int(), to: z.number().int(), ...sentShape });
export type BufferStep = z.infer<typeof bufferStepSchema>;

export const bufferRecordSchema = z.object({
  address: z.string(),
  index: z.number().int().min(0).max(255),
  /** sha256 of the complete vault message, hex. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int(),
  /** The complete vault message, base64: what every chunk is cut from. */
  message: z.string(),
  steps: z.array(bufferStepSchema),
  /** Set when this attempt can no longer produce our proposal; says what was left behind. */
  abandoned: z.string().optional(),
});
export type BufferRecord = z.infer<typeof bufferRecordSchema>;

const proposalAttemptSchema = z.object({
  /** The transaction that creates the vault transaction + proposal; on the buffer path, set once the final step is built. */
  signature: sentShape.signature.optional(),
  tx: sentShape.tx.optional(),
  lastValidBlockHeight: sentShape.lastValidBlockHeight.optional(),
  transactionIndex: digits,
  proposal: z.string(),
  vault: z.string(),
  /** The vault's balances when the proposal was built: the realized swap is the change from these. */
  pre: z.object({ pump: digits, pstr: digits }),
  quotedOut: z.string(),
  minOut: z.string(),
  slippageBps: z.number().int(),
  preparedAt: z.number(),
  buffer: bufferRecordSchema.optional(),
});
export type ProposalAttempt = z.infer<typeof proposalAttemptSchema>;

/** The proposal transactions a record holds, oldest first (details.proposals). */
export function proposalAttemptsOf(r: JournalRecord): ProposalAttempt[] {
  return detailsList(r, 'proposals', proposalAttemptSchema);
}

export interface Sent {
  signature: string;
  tx: string;
  lastValidBlockHeight: number;
}

export async function landedOk(chain: Chain, level: ConfirmationLevel, signature: string): Promise<boolean> {
  const s = await chain.signatureStatus(signature);
  return s !== null && reached(s, level) && s.err === null;
}

/** Expired unseen, or landed with an error. */
export async function cannotLand(chain: Chain, level: ConfirmationLevel, a: Sent): Promise<boolean> {
  const s = await chain.signatureStatus(a.signature);
  if (s) return s.err !== null && reached(s, level);
  if ((await chain.blockHeight()) <= a.lastValidBlockHeight) return false;
  // It may have landed between the two reads: ask once more after seeing the expiry.
  return (await chain.signatureStatus(a.signature)) === null;
}

/** The member's signed v0 transaction; throws rather than build one over the wire limit. */
export function signTransaction(member: Keypair, instructions: TransactionInstruction[], life: { blockhash: string; lastValidBlockHeight: number }): Sent & { size: number } {
  const message = new TransactionMessage({ payerKey: member.publicKey, recentBlockhash: life.blockhash, instructions }).compileToV0Message();
  const size = transactionSize(message);
  if (size > TX_SIZE_LIMIT) throw new Error(`transaction of ${size} bytes exceeds the ${TX_SIZE_LIMIT}-byte limit`);
  const tx = new VersionedTransaction(message);
  tx.sign([member]);
  return { signature: base58(tx.signatures[0] as Uint8Array), tx: Buffer.from(tx.serialize()).toString('base64'), lastValidBlockHeight: life.lastValidBlockHeight, size };
}

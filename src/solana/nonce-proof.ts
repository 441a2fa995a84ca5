/**
 * Which transaction consumed a durable nonce, proven from the finalized chain.
 *
 * "The nonce moved" is no proof that our transaction cannot land: only this
 * agent advances the path's nonce, so it usually moved because one of OUR
 * transactions landed, and a lagging signature-status index may not know it
 * yet. A rebuild is safe only once the transaction that consumed the nonce
 * value is found, finalized, and it is not ours. A durable-nonce transaction
 * names the nonce it consumes as its message's blockhash, and it advances the
 * nonce account even when its instructions fail, so the consumer of value N
 * is the finalized transaction touching the nonce account whose blockhash is
 * N. When none is found (the address index lags), nothing is proven and the
 * executor stops at needs-reconciliation: it neither sends nor rebuilds.
 */
import type { PublicKey } from '@solana/web3.js';
import type { AddressSignature, Chain } from './chain.ts';

/** How far back the nonce account's history is searched (newest first); the consumer of the last attempt's nonce is recent. */
export const NONCE_HISTORY_LIMIT = 100;

export type NonceConsumer =
  /** One of the record's own transactions consumed it: it landed (maybe failed); settle from it. */
  | { kind: 'ours'; signature: string; entry: AddressSignature }
  /** A transaction not in the record consumed it: none of the record's transactions over that nonce can land. */
  | { kind: 'other'; signature: string }
  /** No finalized transaction over that nonce could be found: unknown, never "none". */
  | { kind: 'unproven'; reason: string };

/** Finds the finalized transaction that consumed `nonce` in `account`, given the record's own signatures. */
export async function nonceConsumer(chain: Chain, account: PublicKey, nonce: string, own: readonly string[]): Promise<NonceConsumer> {
  const history = await chain.signaturesForAddress(account, { limit: NONCE_HISTORY_LIMIT });
  // Any of ours in the account's finalized history landed, whichever nonce it used: that settles the record.
  const ours = history.find((h) => own.includes(h.signature));
  if (ours) return { kind: 'ours', signature: ours.signature, entry: ours };
  for (const h of chain.transactionBlockhash ? history : []) {
    if ((await chain.transactionBlockhash?.(h.signature)) === nonce) return { kind: 'other', signature: h.signature };
  }
  return {
    kind: 'unproven',
    reason: `nonce ${nonce} of account ${account.toBase58()} was consumed, but none of the ${history.length} finalized transaction(s) of that account over it could be found (a lagging index?)`,
  };
}

/**
 * The executor's stop when a nonce's consumer cannot be proven: nothing is
 * sent and nothing rebuilt. Its name is a non-retryable failure type, so the
 * workflow alerts (critical) instead of retrying into a possible second spend.
 */
export class NeedsReconciliationError extends Error {
  override readonly name = 'NeedsReconciliation';
  constructor(readonly record: string, readonly reason: string) {
    super(`needs-reconciliation: ${record}: ${reason}; nothing was sent or rebuilt. Find on chain whether its transactions landed before any retry`);
  }
}

/**
 * Durable-nonce transactions, for waits longer than a blockhash lives
 * (~60–90 s). The message's "recent blockhash" is the nonce stored in a nonce
 * account, and its first instruction advances that nonce. Such a transaction
 * never expires by age; it becomes impossible to land once the nonce has moved.
 * So any number of variants signed over the same nonce land at most once
 * together: the first one advances the nonce and every other one is void.
 */
import { NONCE_ACCOUNT_LENGTH, NonceAccount, SystemProgram, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import type { AddressLookupTableAccount, Keypair, PublicKey, TransactionInstruction } from '@solana/web3.js';
import type { Chain } from './chain.ts';

export interface NonceState {
  account: PublicKey;
  /** The stored nonce: the value a transaction must use as its blockhash. */
  nonce: string;
  authority: PublicKey;
}

/** Reads a nonce account; a clear error when it is missing or not a nonce account. */
export async function readNonce(chain: Chain, account: PublicKey): Promise<NonceState> {
  const data = await chain.accountData(account);
  if (!data) throw new Error(`durable nonce account ${account.toBase58()} does not exist`);
  if (data.length !== NONCE_ACCOUNT_LENGTH) throw new Error(`account ${account.toBase58()} is not a nonce account (${data.length} bytes)`);
  const decoded = NonceAccount.fromAccountData(Buffer.from(data));
  return { account, nonce: decoded.nonce, authority: decoded.authorizedPubkey };
}

/** Instructions creating a nonce account owned by the system program, with `authority` allowed to advance it. */
export function createNonceAccountInstructions(opts: { payer: PublicKey; nonceAccount: PublicKey; authority: PublicKey; lamports: number }): TransactionInstruction[] {
  return SystemProgram.createNonceAccount({
    fromPubkey: opts.payer, noncePubkey: opts.nonceAccount, authorizedPubkey: opts.authority, lamports: opts.lamports,
  }).instructions;
}

export interface NonceTransactionInput {
  payer: PublicKey;
  nonce: NonceState;
  instructions: readonly TransactionInstruction[];
  lookupTables?: AddressLookupTableAccount[];
}

/** The unsigned v0 transaction: nonceAdvance first (the runtime requires it there), then `instructions`. */
export function buildNonceTransaction(input: NonceTransactionInput): VersionedTransaction {
  const advance = SystemProgram.nonceAdvance({ noncePubkey: input.nonce.account, authorizedPubkey: input.nonce.authority });
  const message = new TransactionMessage({
    payerKey: input.payer, recentBlockhash: input.nonce.nonce, instructions: [advance, ...input.instructions],
  }).compileToV0Message(input.lookupTables);
  return new VersionedTransaction(message);
}

/** Signs with every given key the message requires; throws naming a required signer nobody supplied. */
export function signWith(tx: VersionedTransaction, keys: readonly Keypair[]): VersionedTransaction {
  const required = tx.message.staticAccountKeys.slice(0, tx.message.header.numRequiredSignatures);
  const needed = keys.filter((k) => required.some((r) => r.equals(k.publicKey)));
  tx.sign(needed);
  required.forEach((r, i) => {
    if (!needed.some((k) => k.publicKey.equals(r))) throw new Error(`transaction needs a signature from ${r.toBase58()} (signer #${i}) and no key for it was given`);
  });
  return tx;
}

/** True when the nonce account still holds `nonce`: a transaction over it can still land. */
export async function nonceStillValid(chain: Chain, account: PublicKey, nonce: string): Promise<boolean> {
  return (await readNonce(chain, account)).nonce === nonce;
}

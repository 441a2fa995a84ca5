/**
 * The narrow view of Solana the executor needs. Two implementations: `rpcChain`
 * over a web3.js 1.x `Connection` (devnet/mainnet) and, in tests, one over
 * LiteSVM (test/solana/litesvm-chain.ts). Keeping it this small is what lets
 * the at-most-once logic run against real transactions in process.
 */
import type { Commitment, Connection, ParsedAccountData, PublicKey, TokenBalance } from '@solana/web3.js';

export interface BlockhashLifetime {
  blockhash: string;
  /** The last block height at which a transaction using `blockhash` can still be included. */
  lastValidBlockHeight: number;
}

export type ConfirmationLevel = 'processed' | 'confirmed' | 'finalized';

/** Where a signature stands; `null` from `signatureStatus` means the chain does not know it. */
export interface SignatureStatus {
  slot: number;
  /** The transaction error as text, null when it succeeded. */
  err: string | null;
  confirmation: ConfirmationLevel;
}

/** One token account touched by a transaction: its balance before and after (0 when it did not exist). */
export interface TokenBalanceChange {
  account: string;
  owner: string;
  mint: string;
  pre: bigint;
  post: bigint;
}

export interface TransactionBalances {
  err: string | null;
  feeLamports: bigint;
  tokens: TokenBalanceChange[];
  lamports: { account: string; pre: bigint; post: bigint }[];
}

export interface Chain {
  latestBlockhash(): Promise<BlockhashLifetime>;
  /** The block height expiry is judged against. rpcChain reads it at `finalized`: it lags, so a rebuild only ever comes late, never early. */
  blockHeight(): Promise<number>;
  /** Submits signed wire bytes; returns the signature. Re-submitting the same bytes is harmless. */
  sendRawTransaction(bytes: Uint8Array): Promise<string>;
  signatureStatus(signature: string): Promise<SignatureStatus | null>;
  /** Pre/post balances of a landed transaction; null when the chain does not (yet) return it. */
  transactionBalances(signature: string): Promise<TransactionBalances | null>;
  /** Sum of `owner`'s token accounts of `mint`, in base units. */
  tokenBalance(owner: PublicKey, mint: PublicKey): Promise<bigint>;
  lamports(address: PublicKey): Promise<bigint>;
  accountData(address: PublicKey): Promise<Uint8Array | null>;
  /** Recent prioritization fees (micro-lamports per compute unit) paid by transactions writing these accounts. */
  recentPrioritizationFees(writableAccounts: readonly PublicKey[]): Promise<number[]>;
  /**
   * Signatures of landed transactions that touched `address`, newest first, at `finalized` (what can be
   * proven): how the executor finds which transaction consumed a durable nonce or executed a proposal.
   * An index that lags simply returns fewer; callers must treat "not found" as "unknown", never as "none".
   */
  signaturesForAddress(address: PublicKey, opts?: { limit?: number }): Promise<AddressSignature[]>;
  /**
   * The recent blockhash a landed transaction's message names; for a durable-nonce transaction, the nonce
   * value it consumed (how the executor proves WHICH transaction consumed a nonce). Null when unknown.
   * Optional so chain fakes that never use durable nonces need not answer; without it no consumer is ever proven.
   */
  transactionBlockhash?(signature: string): Promise<string | null>;
}

export interface AddressSignature {
  signature: string;
  slot: number;
  err: string | null;
}

const RANK: Record<ConfirmationLevel, number> = { processed: 0, confirmed: 1, finalized: 2 };

/** Whether `status` has reached `level` (finalized counts as confirmed). */
export function reached(status: SignatureStatus, level: ConfirmationLevel): boolean {
  return RANK[status.confirmation] >= RANK[level];
}

/**
 * The priority fee to pay: the `percentile` (nearest rank) of recent fees,
 * capped at `maxMicroLamports`; 0 when there are no samples.
 */
export function priorityFee(samples: readonly number[], opts: { percentile: number; maxMicroLamports: number }): number {
  const { percentile, maxMicroLamports } = opts;
  if (!(percentile >= 0 && percentile <= 100)) throw new RangeError(`priorityFee: percentile must be in [0, 100], got ${percentile}`);
  if (!Number.isSafeInteger(maxMicroLamports) || maxMicroLamports < 0) {
    throw new RangeError(`priorityFee: maxMicroLamports must be an integer ≥ 0, got ${maxMicroLamports}`);
  }
  const fees = samples.filter((f) => Number.isFinite(f) && f >= 0).sort((a, b) => a - b);
  if (fees.length === 0) return 0;
  // Nearest rank: the smallest fee with at least `percentile`% of samples at or below it.
  const rank = Math.max(1, Math.ceil((percentile / 100) * fees.length));
  return Math.min(Math.floor(fees[rank - 1] as number), maxMicroLamports);
}

export interface RpcChainOptions {
  /** The level a landed transaction must reach to count as settled; also used for reads. */
  commitment?: Commitment;
}

/** The chain over JSON-RPC. Sends skip preflight and RPC retries: the executor resends the same bytes itself. */
export function rpcChain(connection: Connection, opts: RpcChainOptions = {}): Chain {
  const commitment = opts.commitment ?? 'confirmed';
  return {
    async latestBlockhash() {
      return connection.getLatestBlockhash(commitment);
    },
    async blockHeight() {
      return connection.getBlockHeight('finalized');
    },
    async sendRawTransaction(bytes) {
      return connection.sendRawTransaction(bytes, { skipPreflight: true, maxRetries: 0 });
    },
    async signatureStatus(signature) {
      const { value } = await connection.getSignatureStatuses([signature], { searchTransactionHistory: true });
      const s = value[0];
      if (!s) return null;
      return { slot: s.slot, err: s.err === null ? null : JSON.stringify(s.err), confirmation: s.confirmationStatus ?? 'processed' };
    },
    async transactionBalances(signature) {
      // getTransaction knows only confirmed and finalized.
      const finality = commitment === 'finalized' ? 'finalized' : 'confirmed';
      const tx = await connection.getTransaction(signature, { commitment: finality, maxSupportedTransactionVersion: 0 });
      if (!tx?.meta) return null;
      const { meta } = tx;
      const keys = tx.transaction.message.getAccountKeys({ accountKeysFromLookups: meta.loadedAddresses ?? null });
      const keyAt = (i: number) => keys.get(i)?.toBase58() ?? `#${i}`;
      return {
        err: meta.err === null ? null : JSON.stringify(meta.err),
        feeLamports: BigInt(meta.fee),
        tokens: tokenChanges(meta.preTokenBalances ?? [], meta.postTokenBalances ?? [], keyAt),
        lamports: meta.preBalances.map((pre, i) => ({ account: keyAt(i), pre: BigInt(pre), post: BigInt(meta.postBalances[i] ?? 0) })),
      };
    },
    async tokenBalance(owner, mint) {
      const { value } = await connection.getParsedTokenAccountsByOwner(owner, { mint }, commitment);
      return value.reduce((sum, a) => sum + BigInt(parsedTokenAmount(a.account.data, a.pubkey)), 0n);
    },
    async lamports(address) {
      return BigInt(await connection.getBalance(address, commitment));
    },
    async accountData(address) {
      const info = await connection.getAccountInfo(address, commitment);
      return info ? new Uint8Array(info.data) : null;
    },
    async recentPrioritizationFees(writableAccounts) {
      const fees = await connection.getRecentPrioritizationFees({ lockedWritableAccounts: [...writableAccounts] });
      return fees.map((f) => f.prioritizationFee);
    },
    async transactionBlockhash(signature) {
      const tx = await connection.getTransaction(signature, { commitment: 'finalized', maxSupportedTransactionVersion: 0 });
      return tx?.transaction.message.recentBlockhash ?? null;
    },
    async signaturesForAddress(address, o) {
      const list = await connection.getSignaturesForAddress(address, { limit: o?.limit ?? 100 }, 'finalized');
      return list.map((x) => ({ signature: x.signature, slot: x.slot, err: x.err === null ? null : JSON.stringify(x.err) }));
    },
  };
}

/** Pairs RPC pre/post token balances by account index; a side that is missing was a zero balance. */
export function tokenChanges(pre: readonly TokenBalance[], post: readonly TokenBalance[], keyAt: (i: number) => string): TokenBalanceChange[] {
  const byIndex = new Map<number, TokenBalanceChange>();
  const entry = (b: TokenBalance) => {
    const found = byIndex.get(b.accountIndex);
    if (found) return found;
    const created: TokenBalanceChange = { account: keyAt(b.accountIndex), owner: b.owner ?? '', mint: b.mint, pre: 0n, post: 0n };
    byIndex.set(b.accountIndex, created);
    return created;
  };
  for (const b of pre) entry(b).pre = BigInt(b.uiTokenAmount.amount);
  for (const b of post) entry(b).post = BigInt(b.uiTokenAmount.amount);
  return [...byIndex.values()];
}

function parsedTokenAmount(data: ParsedAccountData | Buffer, account: PublicKey): string {
  const parsed = (data as ParsedAccountData).parsed as { info?: { tokenAmount?: { amount?: unknown } } } | undefined;
  const amount = parsed?.info?.tokenAmount?.amount;
  if (typeof amount !== 'string' || !/^\d+$/.test(amount)) {
    throw new Error(`token account ${account.toBase58()}: RPC returned no parsed tokenAmount.amount`);
  }
  return amount;
}

/** Base58 of raw bytes (a signature is 64 bytes, so not a PublicKey). */
export function base58(bytes: Uint8Array): string {
  const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  let n = 0n;
  for (const b of bytes) n = n * 256n + BigInt(b);
  let out = '';
  while (n > 0n) {
    out = (ALPHABET[Number(n % 58n)] as string) + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

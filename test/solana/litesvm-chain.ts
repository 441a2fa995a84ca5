/**
 * The executor's Chain over LiteSVM: real transactions, the real SPL Token
 * program, in process. LiteSVM has no blocks, so block height is the clock's
 * slot; a blockhash is valid for `validBlocks` slots from when it was first
 * handed out, and `advanceSlots` expires it in LiteSVM once that has passed,
 * so old bytes really stop landing. Like an RPC with skipPreflight, a send
 * the runtime refuses before execution (expired blockhash, already processed)
 * is silently dropped, and a transaction that fails in execution lands failed.
 */
import { fromVersionedTransaction } from '@solana/compat';
import { AccountLayout, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { VersionedTransaction } from '@solana/web3.js';
import type { PublicKey } from '@solana/web3.js';
import { FailedTransactionMetadata } from 'litesvm';
import type { LiteSVM } from 'litesvm';
import { base58 } from '../../src/solana/chain.ts';
import type { Chain, SignatureStatus, TokenBalanceChange, TransactionBalances } from '../../src/solana/chain.ts';

type SvmAddress = Parameters<LiteSVM['getAccount']>[0];
const addr = (k: PublicKey | string) => (typeof k === 'string' ? k : k.toBase58()) as SvmAddress;

export interface LiteSvmChain extends Chain {
  readonly svm: LiteSVM;
  advanceSlots(n: number): void;
  /** What recentPrioritizationFees answers. */
  fees: number[];
  /** Signatures signaturesForAddress must not return yet (a lagging RPC index). */
  unindexed: Set<string>;
  /** Landed signatures signatureStatus answers "unknown" (null) for: a lagging status index. */
  unknownStatus: Set<string>;
}

interface TokenState {
  mint: string;
  owner: string;
  amount: bigint;
}

/** Text of a LiteSVM failure, e.g. "InstructionError(2, Custom(1))". */
export function failureText(f: FailedTransactionMetadata): string {
  return /err: (.*?), meta: /s.exec(f.toString())?.[1] ?? String(f.err());
}

export function litesvmChain(svm: LiteSVM, opts: { validBlocks?: number } = {}): LiteSvmChain {
  const validBlocks = opts.validBlocks ?? 150;
  const lastValid = new Map<string, number>();
  const landed = new Map<string, { slot: number; balances: TransactionBalances; keys: string[]; blockhash: string }>();
  const height = () => Number(svm.getClock().slot);

  const tokenState = (key: string): TokenState | null => {
    const acc = svm.getAccount(addr(key));
    if (!acc.exists) return null;
    const owner = acc.programAddress as string;
    if ((owner !== TOKEN_PROGRAM_ID.toBase58() && owner !== TOKEN_2022_PROGRAM_ID.toBase58()) || acc.data.length < AccountLayout.span) return null;
    const raw = AccountLayout.decode(Buffer.from(acc.data).subarray(0, AccountLayout.span));
    return { mint: raw.mint.toBase58(), owner: raw.owner.toBase58(), amount: raw.amount };
  };
  const snapshot = (keys: string[]) => new Map(keys.map((k) => [k, { token: tokenState(k), lamports: svm.getBalance(addr(k)) ?? 0n }]));

  const chain: LiteSvmChain = {
    svm,
    fees: [],
    unindexed: new Set(),
    unknownStatus: new Set(),
    advanceSlots(n) {
      const to = height() + n;
      svm.warpToSlot(BigInt(to));
      const valid = lastValid.get(svm.latestBlockhash());
      if (valid !== undefined && to > valid) svm.expireBlockhash();
    },
    async latestBlockhash() {
      const blockhash = svm.latestBlockhash();
      if (!lastValid.has(blockhash)) lastValid.set(blockhash, height() + validBlocks);
      return { blockhash, lastValidBlockHeight: lastValid.get(blockhash) as number };
    },
    async blockHeight() {
      return height();
    },
    async sendRawTransaction(bytes) {
      const tx = VersionedTransaction.deserialize(bytes);
      const signature = base58(tx.signatures[0] as Uint8Array);
      if (landed.has(signature)) return signature;
      const keys = tx.message.staticAccountKeys.map((k) => k.toBase58());
      const before = snapshot(keys);
      const result = svm.sendTransaction(fromVersionedTransaction(tx));
      const err = result instanceof FailedTransactionMetadata ? failureText(result) : null;
      if (err !== null && /BlockhashNotFound|AlreadyProcessed|SignatureFailure|MissingSignature/.test(err)) return signature;
      const after = snapshot(keys);
      const tokens: TokenBalanceChange[] = [];
      for (const k of keys) {
        const pre = before.get(k)?.token ?? null;
        const post = after.get(k)?.token ?? null;
        const any = post ?? pre;
        if (any) tokens.push({ account: k, owner: any.owner, mint: any.mint, pre: pre?.amount ?? 0n, post: post?.amount ?? 0n });
      }
      const lamports = keys.map((k) => ({ account: k, pre: before.get(k)?.lamports ?? 0n, post: after.get(k)?.lamports ?? 0n }));
      // The fee is what the payer lost beyond its own transfers; LiteSVM charges 5000 per signature.
      const feeLamports = BigInt(tx.signatures.length) * 5000n;
      landed.set(signature, { slot: height(), balances: { err, feeLamports, tokens, lamports }, keys, blockhash: tx.message.recentBlockhash });
      return signature;
    },
    async signatureStatus(signature): Promise<SignatureStatus | null> {
      const found = svm.getTransaction(signature as Parameters<LiteSVM['getTransaction']>[0]);
      const mine = landed.get(signature);
      if (!found || !mine || chain.unknownStatus.has(signature)) return null;
      return { slot: mine.slot, err: found instanceof FailedTransactionMetadata ? failureText(found) : null, confirmation: 'finalized' };
    },
    async transactionBalances(signature) {
      return landed.get(signature)?.balances ?? null;
    },
    async transactionBlockhash(signature) {
      return landed.get(signature)?.blockhash ?? null;
    },
    async tokenBalance(owner, mint) {
      let sum = 0n;
      for (const program of [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID]) {
        for (const acc of svm.getProgramAccounts(addr(program))) {
          const s = tokenState(acc.address);
          if (s && s.owner === owner.toBase58() && s.mint === mint.toBase58()) sum += s.amount;
        }
      }
      return sum;
    },
    async lamports(address) {
      return svm.getBalance(addr(address)) ?? 0n;
    },
    async accountData(address) {
      const acc = svm.getAccount(addr(address));
      return acc.exists ? new Uint8Array(acc.data) : null;
    },
    async recentPrioritizationFees() {
      return [...chain.fees];
    },
    async signaturesForAddress(address, o) {
      const key = address.toBase58();
      const found = [...landed.entries()]
        .filter(([sig, l]) => l.keys.includes(key) && !chain.unindexed.has(sig))
        .map(([signature, l]) => ({ signature, slot: l.slot, err: l.balances.err }))
        .reverse();
      return found.slice(0, o?.limit ?? 100);
    },
  };
  return chain;
}

/** A Chain wrapper that counts sends and lets a test drop or break calls. */
export interface Spy {
  sends: string[];
  /** Return the signature without delivering (a send lost on the way). */
  drop?: (signature: string, nth: number) => boolean;
  /** Deliver, then throw (the process died right after the bytes left). */
  crashAfterSend?: boolean;
  /** Throw from signatureStatus on these call numbers (an RPC dropping mid-confirmation). */
  statusFails?: (call: number) => boolean;
}

export function spyChain(inner: Chain, spy: Spy): Chain {
  let statusCalls = 0;
  return {
    ...inner,
    async sendRawTransaction(bytes) {
      const signature = base58(VersionedTransaction.deserialize(bytes).signatures[0] as Uint8Array);
      spy.sends.push(signature);
      if (spy.drop?.(signature, spy.sends.filter((s) => s === signature).length)) return signature;
      const sent = await inner.sendRawTransaction(bytes);
      if (spy.crashAfterSend) throw new Error('worker crashed right after sending');
      return sent;
    },
    async signatureStatus(signature) {
      statusCalls += 1;
      if (spy.statusFails?.(statusCalls)) throw new Error('fetch failed: RPC connection reset');
      return inner.signatureStatus(signature);
    },
  };
}

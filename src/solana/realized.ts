/**
 * What a landed swap really moved for one owner and one mint, from the
 * transaction's own pre/post balances (never from balances read later, which
 * other transactions may have changed).
 *
 * For an SPL token it is the change of the owner's token accounts of that
 * mint. Native SOL is not a token balance: a swap whose input (or output) is
 * SOL moves lamports, usually through a temporary wrapped-SOL account that is
 * created, synced, spent and closed within the transaction. So for the native
 * mint the owner's SOL position is its own lamports plus every lamport held in
 * its token accounts (a wrapped-SOL account holds its token amount as
 * lamports; any token account holds its rent deposit, which the owner gets
 * back when it closes). The change of that position, with the network fee
 * added back when the owner paid it (the fee is not part of the swap), is what
 * the swap moved: wrapping, unwrapping and the rent of accounts the swap
 * opened or closed cancel out.
 */
import type { TransactionBalances } from './chain.ts';

/** The native mint: Jupiter and the SPL Token program treat it as SOL (wrapped in a token account). */
export const NATIVE_MINT = 'So11111111111111111111111111111111111111112';

export interface RealizedQuery {
  /** The account whose holdings the swap changed (a wallet, or a multisig vault). */
  owner: string;
  mint: string;
  /** Who paid the network fee; default the transaction's first account (Solana's fee payer). */
  feePayer?: string;
}

/**
 * The signed change of `owner`'s holdings of `mint` caused by the transaction, in base units (lamports for SOL):
 * negative for what it spent, positive for what it received. The fee is excluded.
 */
export function realizedDelta(b: TransactionBalances, q: RealizedQuery): bigint {
  const own = b.tokens.filter((t) => t.owner === q.owner);
  if (q.mint !== NATIVE_MINT) return own.filter((t) => t.mint === q.mint).reduce((s, t) => s + t.post - t.pre, 0n);
  const tokenAccounts = new Set(own.map((t) => t.account));
  const lamportDelta = b.lamports
    .filter((l) => l.account === q.owner || tokenAccounts.has(l.account))
    .reduce((s, l) => s + l.post - l.pre, 0n);
  const payer = q.feePayer ?? b.lamports[0]?.account;
  return lamportDelta + (payer === q.owner ? b.feeLamports : 0n);
}

/** A swap's realized input and output: what the owner spent of `input` and received of `output` (both ≥ 0 on a normal swap). */
export function realizedSwap(b: TransactionBalances, owner: string, input: string, output: string, feePayer?: string): { amountIn: bigint; amountOut: bigint } {
  const q = feePayer === undefined ? {} : { feePayer };
  return { amountIn: -realizedDelta(b, { owner, mint: input, ...q }), amountOut: realizedDelta(b, { owner, mint: output, ...q }) };
}

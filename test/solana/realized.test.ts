/**
 * Realized amounts of a landed swap, native SOL legs included (src/solana/realized.ts). Real transactions on
 * LiteSVM with the real System, SPL Token and ATA programs, read back through the executor's Chain
 * (transactionBalances), shaped by the recorded mainnet Jupiter SOL→USDC quote (100000000 lamports in,
 * 16198753 USDC base units out); plus synthetic balance sets for the corners.
 */
import {
  MINT_SIZE, MintLayout, NATIVE_MINT, TOKEN_PROGRAM_ID, createAssociatedTokenAccountIdempotentInstruction, createCloseAccountInstruction,
  createSyncNativeInstruction, createTransferCheckedInstruction,
} from '@solana/spl-token';
import { Keypair, SystemProgram, TransactionMessage, VersionedTransaction, type TransactionInstruction } from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import type { TransactionBalances } from '../../src/solana/chain.ts';
import { NATIVE_MINT as SOL, realizedDelta, realizedSwap } from '../../src/solana/realized.ts';
import { DECIMALS, fixture, makeWorld, type World } from './world.ts';

const recorded = fixture('jupiter-swap-v1-quote-sol-usdc.docs.json').body as { inputMint: string; inAmount: string; outAmount: string };
const SOL_IN = BigInt(recorded.inAmount);
const USDC_OUT = BigInt(recorded.outAmount);
type SvmAddress = Parameters<World['svm']['getAccount']>[0];

/** LiteSVM starts without the native mint account; the SPL Token program needs it to wrap SOL. */
function addNativeMint(w: World): void {
  const data = Buffer.alloc(MINT_SIZE);
  MintLayout.encode({ mintAuthorityOption: 0, mintAuthority: SystemProgram.programId, supply: 0n, decimals: 9, isInitialized: true, freezeAuthorityOption: 0, freezeAuthority: SystemProgram.programId }, data);
  w.svm.setAccount({ address: NATIVE_MINT.toBase58() as SvmAddress, data, executable: false, lamports: 1_000_000_000n as never, programAddress: TOKEN_PROGRAM_ID.toBase58() as SvmAddress, space: BigInt(MINT_SIZE) });
}

/** Lands `instructions` (payer = the treasury, the pool co-signing its leg) through the Chain and returns their balances. */
async function land(w: World, instructions: TransactionInstruction[]): Promise<TransactionBalances> {
  const message = new TransactionMessage({ payerKey: w.treasury.publicKey, recentBlockhash: (await w.chain.latestBlockhash()).blockhash, instructions }).compileToV0Message();
  const tx = new VersionedTransaction(message);
  tx.sign([w.treasury, w.pool]);
  const signature = await w.chain.sendRawTransaction(tx.serialize());
  const b = await w.chain.transactionBalances(signature);
  if (!b || b.err !== null) throw new Error(`swap did not land: ${b?.err ?? 'no balances'}`);
  return b;
}

describe('a swap whose input is native SOL', () => {
  it('records the lamports it spent, not 0, and the fee stays out of it (plain SOL transfer leg)', async () => {
    const w = makeWorld();
    const owner = w.treasury.publicKey;
    const usdcBefore = await w.balance(owner, w.mints.usdc);
    const b = await land(w, [
      SystemProgram.transfer({ fromPubkey: owner, toPubkey: w.pool.publicKey, lamports: SOL_IN }),
      createTransferCheckedInstruction(w.ata(w.pool.publicKey, w.mints.usdc), w.mints.usdc, w.ata(owner, w.mints.usdc), w.pool.publicKey, 1n, DECIMALS),
    ]);
    expect(b.feeLamports).toBeGreaterThan(0n);
    expect(realizedSwap(b, owner.toBase58(), SOL, w.mints.usdc.toBase58())).toEqual({ amountIn: SOL_IN, amountOut: 1n });
    expect(await w.balance(owner, w.mints.usdc)).toBe(usdcBefore + 1n);
  });

  it('records the recorded quote\'s 100000000 lamports in and 16198753 USDC out through a wrapped-SOL account opened and closed in the swap', async () => {
    const w = makeWorld();
    addNativeMint(w);
    const owner = w.treasury.publicKey;
    const pool = w.pool.publicKey;
    w.mintTo(pool, w.mints.usdc, USDC_OUT);
    const wsol = w.ata(owner, NATIVE_MINT);
    const poolWsol = w.ata(pool, NATIVE_MINT);
    const b = await land(w, [
      // Jupiter's wrapAndUnwrapSol: open the owner's WSOL account, fund and sync it, swap the tokens, close it back to the owner.
      createAssociatedTokenAccountIdempotentInstruction(owner, wsol, owner, NATIVE_MINT),
      createAssociatedTokenAccountIdempotentInstruction(owner, poolWsol, pool, NATIVE_MINT),
      SystemProgram.transfer({ fromPubkey: owner, toPubkey: wsol, lamports: SOL_IN }),
      createSyncNativeInstruction(wsol),
      createTransferCheckedInstruction(wsol, NATIVE_MINT, poolWsol, owner, SOL_IN, 9),
      createTransferCheckedInstruction(w.ata(pool, w.mints.usdc), w.mints.usdc, w.ata(owner, w.mints.usdc), pool, USDC_OUT, DECIMALS),
      createCloseAccountInstruction(wsol, owner, owner),
    ]);
    // The owner also paid the rent of the pool's new WSOL account: a cost of this route, outside what the swap moved for the owner.
    const poolWsolRent = (b.lamports.find((l) => l.account === poolWsol.toBase58())?.post ?? 0n) - SOL_IN;
    expect(realizedSwap(b, owner.toBase58(), recorded.inputMint, w.mints.usdc.toBase58())).toEqual({ amountIn: SOL_IN + poolWsolRent, amountOut: USDC_OUT });
    // Read as tokens only (the rule before this fix), the SOL leg was 0.
    expect(b.tokens.filter((t) => t.owner === owner.toBase58() && t.mint === SOL).reduce((s, t) => s + t.post - t.pre, 0n)).toBe(0n);
  });

  it('records SOL received by a PUMP → SOL swap', async () => {
    const w = makeWorld();
    const owner = w.treasury.publicKey;
    const b = await land(w, [
      createTransferCheckedInstruction(w.ata(owner, w.mints.pump), w.mints.pump, w.ata(w.pool.publicKey, w.mints.pump), owner, 5_000_000n, DECIMALS),
      SystemProgram.transfer({ fromPubkey: w.pool.publicKey, toPubkey: owner, lamports: 123_456_789n }),
    ]);
    expect(realizedSwap(b, owner.toBase58(), w.mints.pump.toBase58(), SOL)).toEqual({ amountIn: 5_000_000n, amountOut: 123_456_789n });
  });
});

describe('realized deltas from balance sets', () => {
  const owner = Keypair.generate().publicKey.toBase58();
  const other = Keypair.generate().publicKey.toBase58();
  const base = (over: Partial<TransactionBalances>): TransactionBalances => ({ err: null, feeLamports: 5000n, tokens: [], lamports: [], ...over });

  it('adds the fee back only when the owner paid it', () => {
    const lamports = [{ account: other, pre: 1_000_000n, post: 995_000n }, { account: owner, pre: 10_000n, post: 5_000n }];
    expect(realizedDelta(base({ lamports }), { owner, mint: SOL })).toBe(-5_000n);
    const paid = [{ account: owner, pre: 10_000n, post: 0n }, { account: other, pre: 0n, post: 5_000n }];
    expect(realizedDelta(base({ lamports: paid }), { owner, mint: SOL })).toBe(-5_000n);
    expect(realizedDelta(base({ lamports: paid }), { owner, mint: SOL, feePayer: other })).toBe(-10_000n);
  });

  it('counts a wrapped-SOL account the owner keeps open as SOL it holds', () => {
    const wsol = Keypair.generate().publicKey.toBase58();
    // Received 2 SOL as WSOL into an existing account (rent 2039280 unchanged); paid the fee.
    const b = base({
      tokens: [{ account: wsol, owner, mint: SOL, pre: 0n, post: 2_000_000_000n }],
      lamports: [{ account: owner, pre: 1_000_000_000n, post: 999_995_000n }, { account: wsol, pre: 2_039_280n, post: 2_002_039_280n }],
    });
    expect(realizedDelta(b, { owner, mint: SOL })).toBe(2_000_000_000n);
  });

  it('reads token legs from the owner\'s token accounts of that mint only', () => {
    const mint = Keypair.generate().publicKey.toBase58();
    const b = base({
      tokens: [
        { account: 'a', owner, mint, pre: 100n, post: 40n },
        { account: 'b', owner: other, mint, pre: 0n, post: 60n },
        { account: 'c', owner, mint: 'another', pre: 0n, post: 9n },
      ],
    });
    expect(realizedDelta(b, { owner, mint })).toBe(-60n);
  });
});

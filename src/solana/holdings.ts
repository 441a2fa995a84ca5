/** What both Solana treasuries (direct and propose-only) read the same way: an owner's balances and a PUMP → PSTR quote. */
import type { PublicKey } from '@solana/web3.js';
import type { Balances } from '../ports.ts';
import type { Chain } from './chain.ts';
import type { JupiterClient } from './jupiter.ts';

export interface TokenMints {
  pump: { mint: PublicKey };
  usdc: { mint: PublicKey };
  pstr: { mint: PublicKey };
}

export async function balancesOf(chain: Chain, owner: PublicKey, tokens: TokenMints): Promise<Balances> {
  const [pump, usdc, sol, pstr] = await Promise.all([
    chain.tokenBalance(owner, tokens.pump.mint), chain.tokenBalance(owner, tokens.usdc.mint),
    chain.lamports(owner), chain.tokenBalance(owner, tokens.pstr.mint),
  ]);
  // PSTR the treasury holds is what it bought back: retired from float (SPEC §3). LP positions are not managed here.
  return { pump, usdc, sol, pstrRetired: pstr, lpValueUsd: 0 };
}

export async function quotePumpToPstr(jupiter: JupiterClient, tokens: TokenMints, pumpIn: bigint, maxSlippageBps: number): Promise<bigint> {
  if (typeof pumpIn !== 'bigint' || pumpIn <= 0n) throw new RangeError(`quote: pumpIn must be a bigint > 0, got ${String(pumpIn)}`);
  const q = await jupiter.quote({ inputMint: tokens.pump.mint.toBase58(), outputMint: tokens.pstr.mint.toBase58(), amount: pumpIn, slippageBps: maxSlippageBps });
  return q.outAmount;
}

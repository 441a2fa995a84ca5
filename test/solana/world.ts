/**
 * A small Solana world for the executor tests: LiteSVM with the real SPL
 * Token and ATA programs, three 6-decimal mints (PUMP, PSTR, USDC), the
 * treasury and a "pool" keypair with token accounts, and a fake Jupiter on
 * 127.0.0.1. Its quotes start from the recorded Jupiter quote fixture (only
 * mints and amounts replaced); its swap-instructions route is an atomic
 * two-leg swap: the treasury's input leg to the pool (signed by the
 * treasury, as Jupiter's swapInstruction), and the pool's output leg back
 * (signed by the pool keypair, carried as cleanupInstruction). Both legs ride
 * in one transaction, so either both move or neither does. The same route
 * is served by Swap API V2's `/swap/v2/build` (quote and instructions in one
 * answer, for the `taker`), with the `x-api-key` recorded and rate-limit
 * headers (or a 429) chosen by the test.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  MINT_SIZE, TOKEN_PROGRAM_ID, createAssociatedTokenAccountIdempotentInstruction, createInitializeMint2Instruction, createMintToInstruction,
  createTransferCheckedInstruction, getAssociatedTokenAddressSync,
} from '@solana/spl-token';
import { fromVersionedTransaction } from '@solana/compat';
import { ComputeBudgetProgram, Keypair, PublicKey, SystemProgram, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import type { TransactionInstruction } from '@solana/web3.js';
import { FailedTransactionMetadata, LiteSVM } from 'litesvm';
import { TreasuryStore } from '../../src/db/store.ts';
import { thresholdFor, type JupiterQuote, type QuoteRequest } from '../../src/solana/jupiter.ts';
import { failureText, litesvmChain } from './litesvm-chain.ts';
import type { LiteSvmChain } from './litesvm-chain.ts';

export const FIXTURES = '/work/shared/fixtures';

/** A quote of 1 PSTR per 10 PUMP, its threshold from the requested slippage: the fake Jupiter the propose-only tests share. */
export function tenToOneQuote(req: QuoteRequest): JupiterQuote {
  const outAmount = req.amount / 10n;
  return { inputMint: req.inputMint, outputMint: req.outputMint, inAmount: req.amount, outAmount, otherAmountThreshold: thresholdFor(outAmount, req.slippageBps), slippageBps: req.slippageBps, priceImpactPct: '0', raw: {} };
}
export const fixture = (name: string): { body: Record<string, unknown>; status?: number } =>
  JSON.parse(readFileSync(`${FIXTURES}/${name}`, 'utf8')) as { body: Record<string, unknown>; status?: number };

type SvmAddress = Parameters<LiteSVM['getAccount']>[0];

export const DECIMALS = 6;
export const UNIT = 10n ** BigInt(DECIMALS);

/** Sends `instructions` now and throws with LiteSVM's error when they fail: for setting the world up. */
export function sendNow(svm: LiteSVM, payer: Keypair, instructions: TransactionInstruction[], signers: Keypair[] = []): void {
  const message = new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: svm.latestBlockhash(), instructions }).compileToV0Message();
  const tx = new VersionedTransaction(message);
  tx.sign([payer, ...signers]);
  const r = svm.sendTransaction(fromVersionedTransaction(tx));
  if (r instanceof FailedTransactionMetadata) throw new Error(`setup transaction failed: ${failureText(r)}\n${r.meta().logs().join('\n')}`);
}

export interface World {
  svm: LiteSVM;
  chain: LiteSvmChain;
  treasury: Keypair;
  pool: Keypair;
  mints: { pump: PublicKey; pstr: PublicKey; usdc: PublicKey };
  ata(owner: PublicKey, mint: PublicKey): PublicKey;
  balance(owner: PublicKey, mint: PublicKey): Promise<bigint>;
  mintTo(owner: PublicKey, mint: PublicKey, amount: bigint): void;
}

export function makeWorld(): World {
  const svm = new LiteSVM();
  const chain = litesvmChain(svm);
  const treasury = Keypair.generate();
  const pool = Keypair.generate();
  const authority = Keypair.generate();
  for (const k of [treasury, pool, authority]) svm.airdrop(k.publicKey.toBase58() as SvmAddress, 100_000_000_000n as never);
  const rent = Number(svm.minimumBalanceForRentExemption(BigInt(MINT_SIZE)));
  const mintKeys = { pump: Keypair.generate(), pstr: Keypair.generate(), usdc: Keypair.generate() };
  for (const m of Object.values(mintKeys)) {
    sendNow(svm, authority, [
      SystemProgram.createAccount({ fromPubkey: authority.publicKey, newAccountPubkey: m.publicKey, lamports: rent, space: MINT_SIZE, programId: TOKEN_PROGRAM_ID }),
      createInitializeMint2Instruction(m.publicKey, DECIMALS, authority.publicKey, null),
    ], [m]);
  }
  const mints = { pump: mintKeys.pump.publicKey, pstr: mintKeys.pstr.publicKey, usdc: mintKeys.usdc.publicKey };
  const ata = (owner: PublicKey, mint: PublicKey) => getAssociatedTokenAddressSync(mint, owner, true);
  const mintTo = (owner: PublicKey, mint: PublicKey, amount: bigint) => {
    sendNow(svm, authority, [
      createAssociatedTokenAccountIdempotentInstruction(authority.publicKey, ata(owner, mint), owner, mint),
      createMintToInstruction(mint, ata(owner, mint), authority.publicKey, amount),
    ]);
  };
  mintTo(treasury.publicKey, mints.pump, 1_000_000n * UNIT);
  mintTo(treasury.publicKey, mints.usdc, 100_000n * UNIT);
  mintTo(pool.publicKey, mints.pump, 10_000_000n * UNIT);
  mintTo(pool.publicKey, mints.pstr, 10_000_000n * UNIT);
  mintTo(pool.publicKey, mints.usdc, 1n * UNIT);
  return { svm, chain, treasury, pool, mints, ata, mintTo, balance: (owner, mint) => chain.tokenBalance(owner, mint) };
}

/** An intervention row for swap_records to reference. */
export async function storeWithIntervention(id: string, treasuryId = 'pstr-main'): Promise<TreasuryStore> {
  const store = TreasuryStore.open(':memory:');
  await store.upsertIntervention({
    id, treasuryId, seq: 1, startedAt: 0, status: 'running', tier: null, fraction: null, pumpAmount: null, pstrBought: null, usdValue: null,
    decidedPrice: 0.01, vwap30: 0.012, drawdown: 0.17, executedAt: null, reason: null, updatedAt: 0,
  });
  return store;
}

const wire = (i: TransactionInstruction) => ({
  programId: i.programId.toBase58(),
  accounts: i.keys.map((k) => ({ pubkey: k.pubkey.toBase58(), isSigner: k.isSigner, isWritable: k.isWritable })),
  data: Buffer.from(i.data).toString('base64'),
});

export interface FakeJupiter {
  /** Metis v1 (`/swap/v1`: /quote + /swap-instructions). */
  baseUrl: string;
  /** Swap API V2 (`/swap/v2`: /build, quote and raw instructions in one answer, for the `taker`). */
  v2BaseUrl: string;
  /** Output per input base unit the quote promises (out = in × num / den). */
  rate: { num: bigint; den: bigint };
  /** What the pool really sends back, given the quoted output (default: the quote). */
  fill: (quotedOut: bigint) => bigint;
  /** Every quote asked: v1 /quote and V2 /build alike. */
  quotes: { amount: string; slippageBps: number }[];
  swapInstructionCalls: number;
  /** Every V2 /build request: its taker and the x-api-key it carried. */
  builds: { amount: string; slippageBps: number; taker: string; apiKey: string | null }[];
  /** Decides each V2 answer's rate-limit headers, or a refusal: 429 (rate limited) or 401 (key refused); n: the 1-based count of /build requests so far. */
  rateLimit: (n: number) => { status?: 429 | 401; headers: Record<string, string> } | null;
  close(): Promise<void>;
}

export async function fakeJupiter(world: World): Promise<FakeJupiter> {
  const quoteFixture = fixture('jupiter-swap-v1-quote-sol-usdc.docs.json').body;
  const decimalsOf = () => DECIMALS;
  const state = {
    rate: { num: 1n, den: 10n }, fill: (q: bigint) => q, quotes: [] as { amount: string; slippageBps: number }[], swapInstructionCalls: 0,
    builds: [] as FakeJupiter['builds'], rateLimit: (() => null) as FakeJupiter['rateLimit'],
  };

  const quoteBody = (url: URL) => {
    const inputMint = url.searchParams.get('inputMint') ?? '';
    const outputMint = url.searchParams.get('outputMint') ?? '';
    const amount = BigInt(url.searchParams.get('amount') ?? '0');
    const slippageBps = Number(url.searchParams.get('slippageBps') ?? '50');
    state.quotes.push({ amount: amount.toString(), slippageBps });
    const outAmount = (amount * state.rate.num) / state.rate.den;
    const route = (quoteFixture.routePlan as { swapInfo: Record<string, unknown>; percent: number }[])[0] as { swapInfo: Record<string, unknown>; percent: number };
    return {
      ...quoteFixture, inputMint, outputMint, inAmount: amount.toString(), outAmount: outAmount.toString(),
      otherAmountThreshold: thresholdFor(outAmount, slippageBps).toString(), slippageBps,
      routePlan: [{ ...route, swapInfo: { ...route.swapInfo, ammKey: world.pool.publicKey.toBase58(), label: 'Test pool', inputMint, outputMint, inAmount: amount.toString(), outAmount: outAmount.toString() } }],
    };
  };

  const swapInstructionsBody = (req: { quoteResponse: Record<string, string>; userPublicKey: string }) => {
    state.swapInstructionCalls += 1;
    const user = new PublicKey(req.userPublicKey);
    const input = new PublicKey(req.quoteResponse.inputMint as string);
    const output = new PublicKey(req.quoteResponse.outputMint as string);
    const inAmount = BigInt(req.quoteResponse.inAmount as string);
    const fill = state.fill(BigInt(req.quoteResponse.outAmount as string));
    const pool = world.pool.publicKey;
    const ata = (owner: PublicKey, mint: PublicKey) => world.ata(owner, mint);
    return {
      tokenLedgerInstruction: null,
      computeBudgetInstructions: [ComputeBudgetProgram.setComputeUnitLimit({ units: 200_000 }), ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 777_777 })].map(wire),
      setupInstructions: [wire(createAssociatedTokenAccountIdempotentInstruction(user, ata(user, output), user, output))],
      swapInstruction: wire(createTransferCheckedInstruction(ata(user, input), input, ata(pool, input), user, inAmount, decimalsOf())),
      cleanupInstruction: wire(createTransferCheckedInstruction(ata(pool, output), output, ata(user, output), pool, fill, decimalsOf())),
      otherInstructions: [],
      addressLookupTableAddresses: [],
      prioritizationFeeLamports: 0,
    };
  };

  /**
   * Swap API V2 `GET /build` (shape of Jupiter's "Build" docs, 2026-12): the quote's fields and the raw
   * instructions in one body, built for `taker`; lookup tables as a map, the blockhash as bytes, no tip.
   */
  const buildBody = (url: URL) => {
    const taker = url.searchParams.get('taker') ?? '';
    const quote = quoteBody(url);
    const ixs = swapInstructionsBody({ quoteResponse: quote as unknown as Record<string, string>, userPublicKey: taker });
    state.swapInstructionCalls -= 1; // counted as a build, not a v1 swap-instructions call
    const { tokenLedgerInstruction: _t, addressLookupTableAddresses: _a, prioritizationFeeLamports: _p, ...instructions } = ixs;
    return {
      ...quote, ...instructions, tipInstruction: null, addressesByLookupTableAddress: null,
      blockhashWithMetadata: { blockhash: Array.from(world.pool.publicKey.toBytes()), lastValidBlockHeight: 1 },
    };
  };

  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    void (async () => {
      try {
        if (req.method === 'GET' && url.pathname === '/swap/v2/build') {
          const key = req.headers['x-api-key'];
          state.builds.push({
            amount: url.searchParams.get('amount') ?? '', slippageBps: Number(url.searchParams.get('slippageBps')), taker: url.searchParams.get('taker') ?? '',
            apiKey: typeof key === 'string' ? key : null,
          });
          const limit = state.rateLimit(state.builds.length);
          if (limit?.status) return send(res, limit.status, { code: limit.status, message: limit.status === 429 ? 'Rate limit exceeded' : 'Invalid API key' }, limit.headers);
          return send(res, 200, buildBody(url), limit?.headers);
        }
        if (req.method === 'GET' && url.pathname === '/swap/v1/quote') return send(res, 200, quoteBody(url));
        if (req.method === 'POST' && url.pathname === '/swap/v1/swap-instructions') {
          return send(res, 200, swapInstructionsBody(JSON.parse(await readBody(req)) as { quoteResponse: Record<string, string>; userPublicKey: string }));
        }
        send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
      } catch (error) {
        send(res, 500, { error: (error as Error).message });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    baseUrl: `http://127.0.0.1:${port}/swap/v1`,
    v2BaseUrl: `http://127.0.0.1:${port}/swap/v2`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  });
}

/**
 * Jupiter, over plain fetch, in two versions behind one interface
 * (`JupiterClient`: quote, then swapInstructions) so the executors do not
 * care which:
 *   - 'v2' (the default): Swap API V2, `GET /build` (jupiter-v2.ts);
 *   - 'v1': Metis v1, `GET /quote` + `POST /swap-instructions`, kept only as
 *     an explicit option (`solana.jupiter.api: "v1"`): Jupiter is phasing it out.
 * Not the `@jup-ag/api` client: its `QuoteGetRequest.amount` is a JS number,
 * and treasury amounts in base units can pass 2^53. Responses are validated;
 * a non-2xx answer becomes a JupiterError carrying the body's message; the
 * rate limit is honoured (jupiter-http.ts). In v1 the quote is posted back to
 * /swap-instructions exactly as received.
 */
import { PublicKey, TransactionInstruction } from '@solana/web3.js';
import { z } from 'zod';
import { JupiterError, jupiterHttp, type JupiterHttpOptions } from './jupiter-http.ts';
import { jupiterV2Client } from './jupiter-v2.ts';

export { JupiterError } from './jupiter-http.ts';

const digits = z.string().regex(/^\d+$/, 'an integer amount in base units as a decimal string');
const base58Key = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'a base58 public key');

export const quoteSchema = z.looseObject({
  inputMint: base58Key,
  inAmount: digits,
  outputMint: base58Key,
  outAmount: digits,
  otherAmountThreshold: digits,
  swapMode: z.enum(['ExactIn', 'ExactOut']),
  slippageBps: z.number().int().min(0).max(10_000),
  priceImpactPct: z.string(),
  routePlan: z.array(z.unknown()),
});

export const instructionSchema = z.object({
  programId: base58Key,
  accounts: z.array(z.object({ pubkey: base58Key, isSigner: z.boolean(), isWritable: z.boolean() })),
  data: z.string(),
});

const swapInstructionsSchema = z.looseObject({
  computeBudgetInstructions: z.array(instructionSchema).default([]),
  setupInstructions: z.array(instructionSchema).default([]),
  swapInstruction: instructionSchema,
  cleanupInstruction: instructionSchema.nullish(),
  otherInstructions: z.array(instructionSchema).default([]),
  addressLookupTableAddresses: z.array(base58Key).default([]),
});

export interface JupiterQuote {
  inputMint: string;
  outputMint: string;
  inAmount: bigint;
  outAmount: bigint;
  /** The least output the swap instruction accepts on chain. */
  otherAmountThreshold: bigint;
  slippageBps: number;
  priceImpactPct: string;
  /** The response as received: what /swap-instructions must be given back. */
  raw: Record<string, unknown>;
}

export interface JupiterSwapInstructions {
  computeBudget: TransactionInstruction[];
  setup: TransactionInstruction[];
  swap: TransactionInstruction;
  cleanup: TransactionInstruction | null;
  other: TransactionInstruction[];
  lookupTableAddresses: PublicKey[];
}

export interface QuoteRequest {
  inputMint: string;
  outputMint: string;
  amount: bigint;
  slippageBps: number;
  /** V2: the wallet the route is built for (default: the client's `taker`). v1 ignores it. */
  taker?: string;
  /** Only single-hop routes (a pool-price probe). */
  onlyDirectRoutes?: boolean;
  signal?: AbortSignal;
}

export interface SwapInstructionsRequest {
  userPublicKey: string;
  /** We set the priority fee ourselves; Jupiter's own compute-unit price instruction is dropped by the executor. */
  wrapAndUnwrapSol?: boolean;
}

export interface JupiterClient {
  quote(req: QuoteRequest): Promise<JupiterQuote>;
  swapInstructions(quote: JupiterQuote, req: SwapInstructionsRequest): Promise<JupiterSwapInstructions>;
}

export interface JupiterClientOptions extends JupiterHttpOptions {
  /** e.g. https://api.jup.ag/swap/v2 (config solana.jupiter.baseUrl). */
  baseUrl: string;
  /** Which API; left out: v1 for a root ending in /v1, V2 otherwise (config solana.jupiter.api is always explicit). */
  api?: 'v1' | 'v2';
  /**
   * V2 only: the wallet a quote is built for when the request names none (/build builds instructions for one taker):
   * the treasury (payer or Squads vault). A function so the runtime can name it once the treasury is built.
   */
  taker?: string | (() => string | undefined);
}

export function jupiterClient(opts: JupiterClientOptions): JupiterClient {
  const api = opts.api ?? (/\/v1\/?$/.test(opts.baseUrl) ? 'v1' : 'v2');
  return api === 'v2' ? jupiterV2Client(opts) : jupiterV1Client(opts);
}

function jupiterV1Client(opts: JupiterClientOptions): JupiterClient {
  const call = jupiterHttp(opts);
  return {
    async quote(req) {
      checkQuoteRequest(req);
      const query = new URLSearchParams({
        inputMint: req.inputMint, outputMint: req.outputMint, amount: req.amount.toString(), slippageBps: String(req.slippageBps),
        swapMode: 'ExactIn', restrictIntermediateTokens: 'true', ...(req.onlyDirectRoutes ? { onlyDirectRoutes: 'true' } : {}),
      });
      const body = await call(`/quote?${query.toString()}`, { method: 'GET', ...(req.signal ? { signal: req.signal } : {}) });
      return checkAnswered(req, parseQuote(body), body);
    },

    async swapInstructions(quote, req) {
      const body = await call('/swap-instructions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          quoteResponse: quote.raw, userPublicKey: req.userPublicKey, wrapAndUnwrapSol: req.wrapAndUnwrapSol ?? true, dynamicComputeUnitLimit: true,
        }),
      });
      return parseSwapInstructions(body);
    },
  };
}

export function checkQuoteRequest(req: QuoteRequest): void {
  if (req.amount <= 0n) throw new RangeError(`Jupiter quote: amount must be > 0, got ${req.amount}`);
  if (!Number.isInteger(req.slippageBps) || req.slippageBps < 0 || req.slippageBps > 10_000) {
    throw new RangeError(`Jupiter quote: slippageBps must be an integer in [0, 10000], got ${req.slippageBps}`);
  }
}

/** The answer must be for what was asked: the same mints and input amount. */
export function checkAnswered(req: QuoteRequest, q: JupiterQuote, body: unknown): JupiterQuote {
  if (q.inputMint !== req.inputMint || q.outputMint !== req.outputMint || q.inAmount !== req.amount) {
    throw new JupiterError(
      `Jupiter quote: answered ${q.inAmount} ${q.inputMint} → ${q.outputMint}, asked ${req.amount} ${req.inputMint} → ${req.outputMint}`, 200, body, false,
    );
  }
  return q;
}

/** Validates a /quote body (ExactIn only: the treasury always spends a fixed amount). */
export function parseQuote(body: unknown): JupiterQuote {
  const r = quoteSchema.safeParse(body);
  if (!r.success) throw new JupiterError(`Jupiter quote: unexpected response: ${z.prettifyError(r.error)}`, 200, body, false);
  const q = r.data;
  if (q.swapMode !== 'ExactIn') throw new JupiterError(`Jupiter quote: swapMode must be ExactIn, got ${q.swapMode}`, 200, body, false);
  return {
    inputMint: q.inputMint, outputMint: q.outputMint, inAmount: BigInt(q.inAmount), outAmount: BigInt(q.outAmount),
    otherAmountThreshold: BigInt(q.otherAmountThreshold), slippageBps: q.slippageBps, priceImpactPct: q.priceImpactPct, raw: q,
  };
}

export function parseSwapInstructions(body: unknown): JupiterSwapInstructions {
  const r = swapInstructionsSchema.safeParse(body);
  if (!r.success) throw new JupiterError(`Jupiter swap-instructions: unexpected response: ${z.prettifyError(r.error)}`, 200, body, false);
  const s = r.data;
  return {
    computeBudget: s.computeBudgetInstructions.map(toInstruction),
    setup: s.setupInstructions.map(toInstruction),
    swap: toInstruction(s.swapInstruction),
    cleanup: s.cleanupInstruction ? toInstruction(s.cleanupInstruction) : null,
    other: s.otherInstructions.map(toInstruction),
    lookupTableAddresses: s.addressLookupTableAddresses.map((a) => new PublicKey(a)),
  };
}

export function toInstruction(i: z.infer<typeof instructionSchema>): TransactionInstruction {
  return new TransactionInstruction({
    programId: new PublicKey(i.programId),
    keys: i.accounts.map((a) => ({ pubkey: new PublicKey(a.pubkey), isSigner: a.isSigner, isWritable: a.isWritable })),
    data: Buffer.from(i.data, 'base64'),
  });
}

/**
 * The slippage (bps) to ask Jupiter for so its on-chain minimum stays at or
 * above `floor`: bps ≤ (out − floor)·10000 / out makes
 * ceil(out·(10000 − bps)/10000) ≥ floor; never more than `maxBps`.
 * Null when the quote itself is below the floor.
 */
export function slippageBpsForFloor(outAmount: bigint, floor: bigint, maxBps: number): number | null {
  if (outAmount <= 0n || outAmount < floor) return null;
  const room = ((outAmount - floor) * 10_000n) / outAmount;
  return Math.min(Number(room), maxBps);
}

/** Jupiter's minimum output for a slippage: ceil(out × (10000 − bps) / 10000) (fixtures README). */
export function thresholdFor(outAmount: bigint, slippageBps: number): bigint {
  const keep = outAmount * BigInt(10_000 - slippageBps);
  return (keep + 9_999n) / 10_000n;
}

/**
 * Jupiter Swap API V2 (`https://api.jup.ag/swap/v2`, `x-api-key` on every
 * call), the `/build` path: raw instructions we put in our own transaction
 * (direct swaps, durable-nonce transactions, Squads vault transactions).
 * `/order` + `/execute` is not used: Jupiter assembles and lands that
 * transaction itself, so it cannot carry a nonce or go through a multisig.
 *
 * What we rely on (Jupiter's developer docs, "Build" and "Metis to Build"
 * migration pages, checked 2026-12; recorded shape in
 * test/fixtures/jupiter/swap-v2-build.json):
 *   GET /build?inputMint&outputMint&amount&taker[&slippageBps][&onlyDirectRoutes]
 *     - ExactIn only (no swapMode parameter); `taker` (v1's userPublicKey) is
 *       required: the instructions name the taker's token accounts;
 *     - slippageBps defaults to 50: we always send it.
 *   200 → the quote and its instructions in one body:
 *     inputMint, outputMint, inAmount, outAmount, otherAmountThreshold
 *     (decimal strings), swapMode "ExactIn", slippageBps, priceImpactPct,
 *     routePlan[] ({ swapInfo: { ammKey, label, … }, percent, bps }),
 *     computeBudgetInstructions[] (a compute-unit price only, no limit),
 *     setupInstructions[], swapInstruction, cleanupInstruction (nullable),
 *     otherInstructions[], tipInstruction (null unless a tip was asked for;
 *     we never ask, and never include one), addressesByLookupTableAddress
 *     ({ table: [addresses] } or null), blockhashWithMetadata
 *     ({ blockhash: byte array, lastValidBlockHeight }: unused, our
 *     transactions take their own blockhash or durable nonce).
 *   errors: `{ error, errorCode }`, `{ code, message }` or a zod issue list.
 *
 * One call quotes and builds. The interface's quote() therefore already holds
 * the instructions (kept beside the quote, not in it); swapInstructions()
 * answers from them when asked for the same taker and builds again only for
 * another one, refusing a rebuild whose on-chain minimum fell below the
 * quoted one (the executor checked the floor against the quote).
 */
import { PublicKey } from '@solana/web3.js';
import { z } from 'zod';
import {
  checkAnswered, checkQuoteRequest, instructionSchema, parseQuote, quoteSchema, toInstruction,
  type JupiterClient, type JupiterClientOptions, type JupiterQuote, type JupiterSwapInstructions, type QuoteRequest,
} from './jupiter.ts';
import { JupiterError, jupiterHttp } from './jupiter-http.ts';

const base58Key = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'a base58 public key');

let schema: z.ZodType<BuildBody> | null = null;
/** Built on first use: jupiter.ts and this module import each other. */
function buildSchema(): z.ZodType<BuildBody> {
  schema ??= quoteSchema.extend({
    computeBudgetInstructions: z.array(instructionSchema).default([]),
    setupInstructions: z.array(instructionSchema).default([]),
    swapInstruction: instructionSchema,
    cleanupInstruction: instructionSchema.nullish(),
    otherInstructions: z.array(instructionSchema).default([]),
    addressesByLookupTableAddress: z.record(base58Key, z.array(base58Key)).nullish(),
  }) as unknown as z.ZodType<BuildBody>;
  return schema;
}

type WireInstruction = z.infer<typeof instructionSchema>;
interface BuildBody {
  computeBudgetInstructions: WireInstruction[];
  setupInstructions: WireInstruction[];
  swapInstruction: WireInstruction;
  cleanupInstruction?: WireInstruction | null;
  otherInstructions: WireInstruction[];
  addressesByLookupTableAddress?: Record<string, string[]> | null;
}

/** A /build body → the interface's instructions; the lookup tables are named (the executor reads them on chain). */
export function parseBuild(body: unknown): { quote: JupiterQuote; instructions: JupiterSwapInstructions } {
  const r = buildSchema().safeParse(body);
  if (!r.success) throw new JupiterError(`Jupiter build: unexpected response: ${z.prettifyError(r.error)}`, 200, body, false);
  const b = r.data;
  return {
    quote: parseQuote(body),
    instructions: {
      computeBudget: b.computeBudgetInstructions.map(toInstruction),
      setup: b.setupInstructions.map(toInstruction),
      swap: toInstruction(b.swapInstruction),
      cleanup: b.cleanupInstruction ? toInstruction(b.cleanupInstruction) : null,
      other: b.otherInstructions.map(toInstruction),
      lookupTableAddresses: Object.keys(b.addressesByLookupTableAddress ?? {}).map((a) => new PublicKey(a)),
    },
  };
}

export function jupiterV2Client(opts: JupiterClientOptions): JupiterClient {
  const call = jupiterHttp(opts);
  /** The instructions each quote was built with, and for whom. */
  const built = new WeakMap<JupiterQuote, { taker: string; instructions: JupiterSwapInstructions }>();

  const takerOf = (req: QuoteRequest): string => {
    const t = req.taker ?? (typeof opts.taker === 'function' ? opts.taker() : opts.taker);
    if (!t) throw new JupiterError('Jupiter V2 /build: no taker: it builds instructions for one wallet, so name the treasury (client option taker)', null, null, false);
    return t;
  };

  async function build(req: QuoteRequest, taker: string): Promise<JupiterQuote> {
    checkQuoteRequest(req);
    const query = new URLSearchParams({
      inputMint: req.inputMint, outputMint: req.outputMint, amount: req.amount.toString(), taker, slippageBps: String(req.slippageBps),
      ...(req.onlyDirectRoutes ? { onlyDirectRoutes: 'true' } : {}),
    });
    const body = await call(`/build?${query.toString()}`, { method: 'GET', ...(req.signal ? { signal: req.signal } : {}) });
    const { quote, instructions } = parseBuild(body);
    checkAnswered(req, quote, body);
    built.set(quote, { taker, instructions });
    return quote;
  }

  return {
    // async: a missing taker is a rejected promise, never a synchronous throw (ports.ts).
    quote: async (req) => build(req, takerOf(req)),

    async swapInstructions(quote, req) {
      const mine = built.get(quote);
      if (mine && mine.taker === req.userPublicKey) return mine.instructions;
      // Built for another wallet (or a quote from elsewhere): build for this one, no looser than what was quoted.
      const again = await build({ inputMint: quote.inputMint, outputMint: quote.outputMint, amount: quote.inAmount, slippageBps: quote.slippageBps }, req.userPublicKey);
      if (again.otherAmountThreshold < quote.otherAmountThreshold) {
        throw new JupiterError(
          `Jupiter V2 /build for ${req.userPublicKey}: on-chain minimum ${again.otherAmountThreshold} is below the quoted ${quote.otherAmountThreshold}; nothing built`,
          200, again.raw, true,
        );
      }
      return (built.get(again) as { instructions: JupiterSwapInstructions }).instructions;
    },
  };
}

/**
 * The treasury on Solana (live modes): balances from the token accounts, and
 * swaps through Jupiter executed AT MOST ONCE per key (SPEC §5 step 5).
 *
 * The state machine, over a journal record (swap_records for slices):
 *   prepared ─(signed bytes, signature and lifetime written BEFORE sending)─▶
 *   sent ─▶ confirmed | failed.
 * Every call first asks the chain for every signature the record holds: one
 * that landed settles the swap, and nothing is sent. Otherwise the same bytes
 * are re-sent while they can still land (block height ≤ lastValidBlockHeight,
 * or the durable nonce unchanged). A new transaction is built only when the
 * old one provably cannot land (expired AND its signature unknown), and it is
 * attached by compare-and-set, so two racing attempts never both send one.
 * A moved durable nonce is no such proof by itself: the finalized transaction
 * that consumed it must be found (nonce-proof.ts); ours settles the record, a
 * foreign one allows the rebuild, none found stops at needs-reconciliation.
 *
 * The slippage guard: a quote below `minOut` (the consensus-implied floor the
 * workflow passes) is refused with nothing sent; otherwise Jupiter's slippage
 * is narrowed so its on-chain minimum stays at or above the floor too.
 */
import { balancesOf, quotePumpToPstr } from './holdings.ts';
import { ComputeBudgetProgram, PublicKey, TransactionInstruction, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import type { Keypair } from '@solana/web3.js';
import { AddressLookupTableAccount } from '@solana/web3.js';
import { z } from 'zod';
import type { TreasuryStore } from '../db/store.ts';
import { slippage } from '../domain/swap.ts';
import type { AccumulationRequest, Balances, SwapRequest, SwapResult, Treasury } from '../ports.ts';
import { base58, priorityFee, reached } from './chain.ts';
import type { Chain, ConfirmationLevel, SignatureStatus, TransactionBalances } from './chain.ts';
import { realizedSwap } from './realized.ts';
import { slippageBpsForFloor } from './jupiter.ts';
import type { JupiterClient, JupiterSwapInstructions } from './jupiter.ts';
import { detailsList, isFinal, storeMoneyJournal, storeSwapJournal } from './journal.ts';
import type { JournalRecord, SliceKey, SwapJournal } from './journal.ts';
import { buildNonceTransaction, readNonce, signWith } from './nonce.ts';
import { NeedsReconciliationError, nonceConsumer } from './nonce-proof.ts';

export interface TokenSpec {
  mint: PublicKey;
  decimals: number;
}

export interface SolanaTreasuryOptions {
  treasuryId: string;
  store: TreasuryStore;
  chain: Chain;
  jupiter: JupiterClient;
  /** Owns the treasury's token accounts, pays fees and signs. */
  payer: Keypair;
  /** Other keys a swap's instructions may require (tests: the counterparty pool of the fake route). */
  cosigners?: readonly Keypair[];
  tokens: { pump: TokenSpec; pstr: TokenSpec; usdc: TokenSpec };
  /** risk.maxSlippage in basis points: the widest slippage ever asked of Jupiter. */
  maxSlippageBps: number;
  priorityFee: { percentile: number; maxMicroLamports: number };
  /**
   * The durable-nonce variant (solana.durableNonce): transactions never expire by age. One nonce
   * account per money path (a path absent here uses blockhashes); the same account for two paths is refused.
   */
  durableNonce?: { authority: Keypair; accounts: Partial<Record<NoncePath, PublicKey>> };
  /** Where accumulation buys are journaled (they have no intervention row); default the store's money_journal, shared by every worker (journal.ts). */
  accumulationJournal?: SwapJournal<string>;
  /** The level a transaction must reach to be settled; default confirmed. */
  commitment?: Exclude<ConfirmationLevel, 'processed'>;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  pollIntervalMs?: number;
  resendIntervalMs?: number;
  /** How long one call waits for a landing before giving up (the record stays, a retry resumes). */
  confirmTimeoutMs?: number;
  /** Transactions built for one key at most (each after the previous provably expired). */
  maxAttempts?: number;
}

const lifetimeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('blockhash'), blockhash: z.string(), lastValidBlockHeight: z.number().int() }),
  z.object({ kind: z.literal('nonce'), account: z.string(), nonce: z.string() }),
]);
const attemptSchema = z.object({
  signature: z.string(),
  tx: z.string(),
  lifetime: lifetimeSchema,
  quotedOut: z.string(),
  minOut: z.string(),
  slippageBps: z.number().int(),
  priorityFeeMicroLamports: z.number().int(),
  preparedAt: z.number(),
});
export type Attempt = z.infer<typeof attemptSchema>;

/** The transactions a record holds, oldest first (details.attempts). */
export function attemptsOf(r: JournalRecord): Attempt[] {
  return detailsList(r, 'attempts', attemptSchema);
}

/** The money paths the executor moves money on; each may have its own durable nonce. */
export type NoncePath = 'intervention' | 'accumulation';

/** Reports progress while a call waits on the chain (Temporal's activity heartbeat, in a worker). */
export type Heartbeat = (details: Record<string, unknown>) => void;

interface Leg<K> {
  path: NoncePath;
  heartbeat?: Heartbeat;
  journal: SwapJournal<K>;
  key: K;
  input: TokenSpec;
  output: TokenSpec;
  amountIn: bigint;
  minOut: bigint;
}

export interface ExecutionOutcome {
  status: 'confirmed' | 'failed';
  amountIn: bigint;
  amountOut: bigint;
  signature: string | null;
  alreadyDone: boolean;
  error?: string;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SolanaTreasury implements Treasury {
  private readonly swaps: SwapJournal<SliceKey>;
  private readonly buys: SwapJournal<string>;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly commitment: ConfirmationLevel;
  private readonly pollIntervalMs: number;
  private readonly resendEveryPolls: number;
  private readonly maxPolls: number;
  private readonly maxAttempts: number;

  constructor(private readonly o: SolanaTreasuryOptions) {
    if (!Number.isInteger(o.maxSlippageBps) || o.maxSlippageBps < 0 || o.maxSlippageBps > 10_000) {
      throw new RangeError(`SolanaTreasury: maxSlippageBps must be an integer in [0, 10000], got ${o.maxSlippageBps}`);
    }
    this.swaps = storeSwapJournal(o.store, o.treasuryId);
    this.buys = o.accumulationJournal ?? storeMoneyJournal(o.store, o.treasuryId, 'accumulation');
    this.clock = o.clock ?? Date.now;
    this.sleep = o.sleep ?? defaultSleep;
    this.commitment = o.commitment ?? 'confirmed';
    this.pollIntervalMs = o.pollIntervalMs ?? 500;
    this.resendEveryPolls = Math.max(1, Math.ceil((o.resendIntervalMs ?? 2_000) / this.pollIntervalMs));
    this.maxPolls = Math.max(1, Math.ceil((o.confirmTimeoutMs ?? 120_000) / this.pollIntervalMs));
    this.maxAttempts = o.maxAttempts ?? 3;
    const a = o.durableNonce?.accounts;
    if (a?.intervention && a.accumulation && a.intervention.equals(a.accumulation)) {
      throw new RangeError(`SolanaTreasury: durable nonce account ${a.intervention.toBase58()} is given for both the intervention and the accumulation path; each path needs its own`);
    }
  }

  get owner(): PublicKey {
    return this.o.payer.publicKey;
  }

  balances(): Promise<Balances> {
    return balancesOf(this.o.chain, this.owner, this.o.tokens);
  }

  quote(pumpIn: bigint): Promise<bigint> {
    return quotePumpToPstr(this.o.jupiter, this.o.tokens, pumpIn, this.o.maxSlippageBps);
  }

  async swap(req: SwapRequest, opts: { heartbeat?: Heartbeat } = {}): Promise<SwapResult> {
    if (!req.interventionId) throw new RangeError('swap: interventionId must be a non-empty string');
    if (!Number.isSafeInteger(req.slice) || req.slice < 0) throw new RangeError(`swap: slice must be an integer ≥ 0, got ${req.slice}`);
    if (typeof req.pumpIn !== 'bigint' || req.pumpIn <= 0n) throw new RangeError(`swap: pumpIn must be a bigint > 0, got ${String(req.pumpIn)}`);
    if (typeof req.minPstrOut !== 'bigint' || req.minPstrOut < 0n) throw new RangeError(`swap: minPstrOut must be a bigint ≥ 0, got ${String(req.minPstrOut)}`);
    const { tokens } = this.o;
    const r = await this.execute({
      path: 'intervention', ...(opts.heartbeat && { heartbeat: opts.heartbeat }), journal: this.swaps, key: { interventionId: req.interventionId, slice: req.slice }, input: tokens.pump, output: tokens.pstr, amountIn: req.pumpIn, minOut: req.minPstrOut,
    });
    return { status: r.status, pumpIn: r.amountIn, pstrOut: r.amountOut, reference: r.signature ?? `swap/${req.interventionId}/${req.slice}`, alreadyDone: r.alreadyDone, ...(r.error !== undefined && { error: r.error }) };
  }

  /** USDC → PUMP, at most once per `req.key`, journaled in the shared money journal. */
  async accumulate(req: AccumulationRequest, opts: { heartbeat?: Heartbeat } = {}): Promise<{ applied: boolean; pumpOut: bigint; usdcIn: bigint; alreadyDone: boolean; reference: string; error?: string }> {
    if (!req.key) throw new RangeError('accumulate: key must be a non-empty string');
    if (typeof req.usdcIn !== 'bigint' || req.usdcIn <= 0n) throw new RangeError(`accumulate: usdcIn must be a bigint > 0, got ${String(req.usdcIn)}`);
    if (typeof req.minPumpOut !== 'bigint' || req.minPumpOut < 0n) throw new RangeError(`accumulate: minPumpOut must be a bigint ≥ 0, got ${String(req.minPumpOut)}`);
    const { tokens } = this.o;
    const r = await this.execute({
      path: 'accumulation', ...(opts.heartbeat && { heartbeat: opts.heartbeat }), journal: this.buys, key: req.key, input: tokens.usdc, output: tokens.pump, amountIn: req.usdcIn, minOut: req.minPumpOut,
    });
    const ok = r.status === 'confirmed';
    return {
      applied: ok, pumpOut: ok ? r.amountOut : 0n, usdcIn: ok ? r.amountIn : 0n, alreadyDone: r.alreadyDone, reference: r.signature ?? req.key,
      ...(r.error !== undefined && { error: r.error }),
    };
  }

  // ── the at-most-once state machine ─────────────────────────────────────────

  async execute<K>(leg: Leg<K>): Promise<ExecutionOutcome> {
    let rec = await leg.journal.open(leg.key, leg.amountIn, this.clock());
    let sentThisCall = false;
    const markSent = () => {
      sentThisCall = true;
    };
    for (;;) {
      if (isFinal(rec)) return outcomeOf(rec, true);
      const attempts = attemptsOf(rec);
      // Any recorded transaction that landed settles the swap: never send after that.
      for (const a of attempts) {
        const status = await this.o.chain.signatureStatus(a.signature);
        if (status && reached(status, this.commitment)) return this.settleLanded(leg, a, status, !sentThisCall);
      }
      const last = attempts.at(-1);
      if (!last) {
        const next = await this.attachNew(leg, 0);
        if (next.refused) return next.refused;
        rec = next.record;
        continue;
      }
      const landed = await this.drive(leg, attempts, markSent);
      if (landed) return this.settleLanded(leg, landed.attempt, landed.status, !sentThisCall);
      if (attempts.length >= this.maxAttempts) {
        const error = `${attempts.length} transaction(s) expired without landing (last ${last.signature}); nothing moved`;
        const r = await this.settle(leg, (c) => attemptsOf(c).length === attempts.length, () => ({ status: 'failed', amountOut: 0n, error }));
        if (r.applied) return { status: 'failed', amountIn: leg.amountIn, amountOut: 0n, signature: last.signature, alreadyDone: false, error };
        rec = r.record;
        continue;
      }
      const next = await this.attachNew(leg, attempts.length);
      if (next.refused) return next.refused;
      rec = next.record;
    }
  }

  /**
   * Quotes, checks the floor, builds and signs a transaction, and attaches it
   * when the record still holds exactly `expected` attempts (else adopts what
   * a concurrent attempt attached). A refused quote settles the record failed.
   */
  private async attachNew<K>(leg: Leg<K>, expected: number): Promise<{ record: JournalRecord; refused?: ExecutionOutcome }> {
    const built = await this.prepare(leg, expected + 1);
    const guard = (c: JournalRecord) => !isFinal(c) && attemptsOf(c).length === expected;
    if ('refused' in built) {
      const r = await this.settle(leg, guard, () => ({ status: 'failed', amountOut: 0n, error: built.refused }));
      if (!r.applied) return { record: r.record };
      return { record: r.record, refused: { status: 'failed', amountIn: leg.amountIn, amountOut: 0n, signature: null, alreadyDone: false, error: built.refused } };
    }
    const r = await leg.journal.update(leg.key, guard, (c) => ({
      status: c.status, signature: built.signature, details: { ...c.details, attempts: [...attemptsOf(c), built] },
    }), this.clock());
    return { record: r.record };
  }

  /**
   * Sends and re-sends the last attempt's bytes until one of the record's
   * transactions lands (it and its status) or the last provably cannot (null).
   * Heartbeats every poll. Throws on timeout, and NeedsReconciliationError
   * when a durable nonce moved and who consumed it cannot be proven.
   */
  private async drive<K>(leg: Leg<K>, attempts: readonly Attempt[], markSent: () => void): Promise<{ attempt: Attempt; status: SignatureStatus } | null> {
    const { chain } = this.o;
    const a = attempts.at(-1) as Attempt;
    const bytes = Buffer.from(a.tx, 'base64');
    for (let poll = 0; poll < this.maxPolls; poll++) {
      leg.heartbeat?.({ record: leg.journal.describe(leg.key), signature: a.signature, attempt: attempts.length, poll, maxPolls: this.maxPolls });
      const status = await chain.signatureStatus(a.signature);
      if (status && reached(status, this.commitment)) return { attempt: a, status };
      if (!status) {
        const life = await this.lifetime(leg, a, attempts);
        if (life !== 'valid') {
          if (typeof life === 'object') return life;
          // It may have landed between the two reads: ask once more after seeing the expiry.
          const again = await chain.signatureStatus(a.signature);
          if (!again) return null;
          if (reached(again, this.commitment)) return { attempt: a, status: again };
        }
      }
      if (!status && poll % this.resendEveryPolls === 0) {
        await chain.sendRawTransaction(bytes);
        markSent();
        await leg.journal.update(leg.key, (c) => c.status === 'prepared', (c) => ({ status: 'sent', details: c.details }), this.clock());
      }
      await this.sleep(this.pollIntervalMs);
    }
    throw new Error(`${leg.journal.describe(leg.key)}: transaction ${a.signature} still unconfirmed after ${this.maxPolls} polls; the record keeps it and a retry resumes it`);
  }

  /**
   * Whether `a` can still land: 'valid'; 'expired' when provably not (its
   * blockhash is past lastValidBlockHeight, or its nonce was consumed by a
   * proven transaction that is not the record's); or the record's transaction
   * that consumed the nonce. An unprovable consumer stops everything.
   */
  private async lifetime<K>(leg: Leg<K>, a: Attempt, attempts: readonly Attempt[]): Promise<'valid' | 'expired' | { attempt: Attempt; status: SignatureStatus }> {
    const { chain } = this.o;
    if (a.lifetime.kind === 'blockhash') return (await chain.blockHeight()) > a.lifetime.lastValidBlockHeight ? 'expired' : 'valid';
    const account = new PublicKey(a.lifetime.account);
    if ((await readNonce(chain, account)).nonce === a.lifetime.nonce) return 'valid';
    const consumer = await nonceConsumer(chain, account, a.lifetime.nonce, attempts.map((x) => x.signature));
    if (consumer.kind === 'ours') {
      const attempt = attempts.find((x) => x.signature === consumer.signature) as Attempt;
      return { attempt, status: { slot: consumer.entry.slot, err: consumer.entry.err, confirmation: 'finalized' } };
    }
    if (consumer.kind === 'other') {
      // Proven void, unless the chain knows one of ours after all (then the caller's next read settles from it).
      for (const x of attempts) if (await chain.signatureStatus(x.signature)) return 'valid';
      return 'expired';
    }
    await leg.journal.update(leg.key, (c) => !isFinal(c), (c) => ({
      status: c.status, details: { ...c.details, needsReconciliation: { reason: consumer.reason, nonceAccount: a.lifetime.kind === 'nonce' ? a.lifetime.account : null, at: this.clock() } },
    }), this.clock());
    throw new NeedsReconciliationError(leg.journal.describe(leg.key), consumer.reason);
  }

  private async settleLanded<K>(leg: Leg<K>, a: Attempt, status: SignatureStatus, alreadyDone: boolean): Promise<ExecutionOutcome> {
    const balances = await this.landedBalances(a.signature);
    const err = status.err ?? balances?.err ?? null;
    if (err !== null) {
      const error = `transaction ${a.signature} failed on chain: ${err}; nothing moved but the fee`;
      const r = await this.settle(leg, () => true, () => ({ status: 'failed', amountOut: 0n, signature: a.signature, error, extra: { feeLamports: balances?.feeLamports ?? null } }));
      return r.applied ? { status: 'failed', amountIn: leg.amountIn, amountOut: 0n, signature: a.signature, alreadyDone, error } : outcomeOf(r.record, true);
    }
    if (!balances) throw new Error(`${leg.journal.describe(leg.key)}: ${a.signature} landed but the chain returned no balances yet; a retry settles it`);
    // Token legs from token balances, native SOL legs from lamports (realized.ts): a SOL input is never recorded as 0.
    const { amountIn, amountOut } = realizedSwap(balances, this.owner.toBase58(), leg.input.mint.toBase58(), leg.output.mint.toBase58());
    const r = await this.settle(leg, () => true, (c) => ({
      status: 'confirmed', amountOut, signature: a.signature,
      extra: { realized: realizedDetails(a, amountIn, amountOut, leg, c.details.impliedPstrOut, balances) },
    }));
    return r.applied ? { status: 'confirmed', amountIn, amountOut, signature: a.signature, alreadyDone } : outcomeOf(r.record, true);
  }

  private async landedBalances(signature: string): Promise<TransactionBalances | null> {
    for (let i = 0; i < 5; i++) {
      const b = await this.o.chain.transactionBalances(signature);
      if (b) return b;
      await this.sleep(this.pollIntervalMs);
    }
    return null;
  }

  private settle<K>(
    leg: Leg<K>, guard: (c: JournalRecord) => boolean,
    what: (c: JournalRecord) => { status: 'confirmed' | 'failed'; amountOut: bigint; signature?: string; error?: string; extra?: Record<string, unknown> },
  ) {
    return leg.journal.update(leg.key, (c) => !isFinal(c) && guard(c), (c) => {
      const w = what(c);
      return {
        status: w.status, amountOut: w.amountOut, ...(w.signature !== undefined && { signature: w.signature }),
        details: { ...c.details, ...w.extra, ...(w.error !== undefined && { error: w.error }) },
      };
    }, this.clock());
  }

  private async prepare<K>(leg: Leg<K>, attemptNo: number): Promise<Attempt | { refused: string }> {
    const { jupiter, chain } = this.o;
    const request = { inputMint: leg.input.mint.toBase58(), outputMint: leg.output.mint.toBase58(), amount: leg.amountIn };
    let quote = await jupiter.quote({ ...request, slippageBps: this.o.maxSlippageBps });
    const bps = slippageBpsForFloor(quote.outAmount, leg.minOut, this.o.maxSlippageBps);
    const refusal = (out: bigint, threshold: bigint) =>
      `quote below the slippage floor: ${out} out (on-chain minimum ${threshold}) for ${leg.amountIn} in, floor ${leg.minOut}; nothing sent`;
    if (bps === null) return { refused: refusal(quote.outAmount, quote.otherAmountThreshold) };
    if (quote.otherAmountThreshold < leg.minOut) {
      // Jupiter's on-chain minimum would let a fill below our floor through: ask for the narrower slippage.
      quote = await jupiter.quote({ ...request, slippageBps: bps });
      if (quote.outAmount < leg.minOut || quote.otherAmountThreshold < leg.minOut) return { refused: refusal(quote.outAmount, quote.otherAmountThreshold) };
    }
    const ixs = await jupiter.swapInstructions(quote, { userPublicKey: this.owner.toBase58() });
    const writable = ixs.swap.keys.filter((k) => k.isWritable).map((k) => k.pubkey);
    const fee = priorityFee(await chain.recentPrioritizationFees(writable), this.o.priorityFee);
    const instructions = [...withPriorityFee(ixs, fee), memo(`${leg.journal.describe(leg.key)} attempt ${attemptNo}`)];
    const lookupTables = await this.lookupTables(ixs.lookupTableAddresses);
    const nonceAccount = this.o.durableNonce?.accounts[leg.path];
    const signers = [this.o.payer, ...(nonceAccount && this.o.durableNonce ? [this.o.durableNonce.authority] : []), ...(this.o.cosigners ?? [])];
    let tx: VersionedTransaction;
    let lifetime: Attempt['lifetime'];
    if (nonceAccount) {
      const nonce = await readNonce(chain, nonceAccount);
      tx = buildNonceTransaction({ payer: this.owner, nonce, instructions, lookupTables });
      lifetime = { kind: 'nonce', account: nonce.account.toBase58(), nonce: nonce.nonce };
    } else {
      const { blockhash, lastValidBlockHeight } = await chain.latestBlockhash();
      tx = new VersionedTransaction(new TransactionMessage({ payerKey: this.owner, recentBlockhash: blockhash, instructions }).compileToV0Message(lookupTables));
      lifetime = { kind: 'blockhash', blockhash, lastValidBlockHeight };
    }
    signWith(tx, signers);
    return {
      signature: base58(tx.signatures[0] as Uint8Array), tx: Buffer.from(tx.serialize()).toString('base64'), lifetime,
      quotedOut: quote.outAmount.toString(), minOut: quote.otherAmountThreshold.toString(), slippageBps: quote.slippageBps,
      priorityFeeMicroLamports: fee, preparedAt: this.clock(),
    };
  }

  private async lookupTables(addresses: readonly PublicKey[]): Promise<AddressLookupTableAccount[]> {
    return Promise.all(addresses.map(async (key) => {
      const data = await this.o.chain.accountData(key);
      if (!data) throw new Error(`address lookup table ${key.toBase58()} named by Jupiter does not exist`);
      return new AddressLookupTableAccount({ key, state: AddressLookupTableAccount.deserialize(data) });
    }));
  }
}

const SET_COMPUTE_UNIT_PRICE = 3;
export const MEMO_PROGRAM_ID = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');

/**
 * Labels the transaction with its key and attempt. Besides the audit trail,
 * it makes every transaction unique: two slices of equal size built within
 * one blockhash would otherwise be the same bytes, and the second would
 * "find" the first one's signature landed.
 */
export function memo(text: string): TransactionInstruction {
  return new TransactionInstruction({ programId: MEMO_PROGRAM_ID, keys: [], data: Buffer.from(text, 'utf8') });
}

/** Jupiter's instructions in order, its compute-unit price replaced by ours (capped); its compute-unit limit kept. */
export function withPriorityFee(ixs: JupiterSwapInstructions, microLamports: number): TransactionInstruction[] {
  const isPrice = (i: TransactionInstruction) => i.programId.equals(ComputeBudgetProgram.programId) && i.data[0] === SET_COMPUTE_UNIT_PRICE;
  return [
    ...ixs.computeBudget.filter((i) => !isPrice(i)),
    ComputeBudgetProgram.setComputeUnitPrice({ microLamports }),
    ...ixs.setup, ixs.swap, ...(ixs.cleanup ? [ixs.cleanup] : []), ...ixs.other,
  ];
}

function realizedDetails<K>(a: Attempt, amountIn: bigint, amountOut: bigint, leg: Leg<K>, implied: unknown, b: TransactionBalances): Record<string, unknown> {
  const tokensIn = Number(amountIn) / 10 ** leg.input.decimals;
  const tokensOut = Number(amountOut) / 10 ** leg.output.decimals;
  const impliedOut = typeof implied === 'string' && /^\d+$/.test(implied) ? BigInt(implied) : null;
  return {
    signature: a.signature, amountIn: amountIn.toString(), amountOut: amountOut.toString(),
    /** Input tokens paid per output token. */
    price: tokensOut > 0 ? tokensIn / tokensOut : null,
    quotedOut: a.quotedOut,
    slippageVsQuote: slippage(amountOut, BigInt(a.quotedOut)),
    slippageVsImplied: impliedOut === null ? null : slippage(amountOut, impliedOut),
    feeLamports: b.feeLamports.toString(),
  };
}

function outcomeOf(r: JournalRecord, alreadyDone: boolean): ExecutionOutcome {
  const error = typeof r.details.error === 'string' ? r.details.error : undefined;
  const realizedIn = (r.details.realized as { amountIn?: unknown } | undefined)?.amountIn;
  const amountIn = typeof realizedIn === 'string' ? BigInt(realizedIn) : r.amountIn;
  return {
    status: r.status === 'confirmed' ? 'confirmed' : 'failed', amountIn, amountOut: r.amountOut ?? 0n, signature: r.signature, alreadyDone,
    ...(error !== undefined && { error }),
  };
}

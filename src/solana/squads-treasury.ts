/**
 * The treasury in propose-only mode (solana.multisig): the tokens sit in a
 * Squads v4 vault, and the agent's key is only a member allowed to initiate.
 * A swap slice becomes one vault transaction + proposal; the members approve
 * and execute it, and the intervention asks again (the same request) until
 * the proposal is executed, rejected or cancelled.
 *
 * At most once per (interventionId, slice), over `swap_records`:
 *   prepared ─(outer transaction bytes, its signature, the transaction index,
 *   the proposal address and the vault's pre-swap balances written BEFORE
 *   sending)─▶ sent ─▶ confirmed | failed.
 * Every call first asks the chain for the recorded signatures: one that landed
 * means the proposal is ours, and nothing new is ever sent after that. The
 * same bytes are re-sent while they can still land; a new proposal
 * transaction is built only when the last one provably cannot (blockhash
 * expired and signature unknown, or it failed on chain, e.g. because another
 * member took the same transaction index), attached by compare-and-set.
 *
 * A route too big for one transaction (over 1232 bytes with the vault message
 * inside) goes through a Squads transaction buffer instead, step by step,
 * each step recorded before it is sent (squads-buffer-flow.ts).
 */
import { balancesOf, quotePumpToPstr } from './holdings.ts';
import { AddressLookupTableAccount, ComputeBudgetProgram, PublicKey as Key, TransactionMessage } from '@solana/web3.js';
import type { Keypair, PublicKey } from '@solana/web3.js';
import type { TreasuryStore } from '../db/store.ts';
import type { AccumulationRequest, Balances, SwapRequest, SwapResult, Treasury } from '../ports.ts';
import { priorityFee } from './chain.ts';
import type { Chain, ConfirmationLevel } from './chain.ts';
import type { TokenSpec } from './executor.ts';
import { slippageBpsForFloor } from './jupiter.ts';
import type { JupiterClient } from './jupiter.ts';
import { isFinal, storeSwapJournal } from './journal.ts';
import type { JournalRecord, SliceKey, SwapJournal } from './journal.ts';
import { BufferFlow, MAX_BUFFER_SIZE } from './squads-buffer-flow.ts';
import { vaultMessageBytes } from './squads-buffer.ts';
import { fitsInOneTransaction } from './squads-buffer-plan.ts';
import { cannotLand, landedOk, proposalAttemptsOf, signTransaction } from './squads-buffer-record.ts';
import type { ProposalAttempt, Sent } from './squads-buffer-record.ts';
import { SQUADS_PROGRAM_ID, buildSwapProposal, nextTransactionIndex, proposalStatus, vaultAddress, vaultSwapInstructions } from './squads.ts';

export { proposalAttemptsOf };
export type { ProposalAttempt };

export interface SquadsTreasuryOptions {
  treasuryId: string;
  store: TreasuryStore;
  chain: Chain;
  jupiter: JupiterClient;
  /** The agent's member key (Initiate permission): signs and pays for the proposal transactions. */
  member: Keypair;
  multisig: PublicKey;
  vaultIndex: number;
  programId?: PublicKey;
  tokens: { pump: TokenSpec; pstr: TokenSpec; usdc: TokenSpec };
  /** risk.maxSlippage in basis points: the widest slippage ever asked of Jupiter. */
  maxSlippageBps: number;
  priorityFee: { percentile: number; maxMicroLamports: number };
  /** The level the proposal transaction must reach to count as landed; default confirmed. */
  commitment?: Exclude<ConfirmationLevel, 'processed'>;
  /** Proposal transactions built for one slice at most (each after the previous provably could not land). */
  maxAttempts?: number;
  clock?: () => number;
}

export const ACCUMULATION_UNSUPPORTED = 'accumulation is not supported in propose-only mode; buy through the multisig';

export class SquadsTreasury implements Treasury {
  private readonly swaps: SwapJournal<SliceKey>;
  private readonly clock: () => number;
  private readonly commitment: ConfirmationLevel;
  private readonly maxAttempts: number;
  private readonly buffers: BufferFlow;
  readonly vault: PublicKey;

  constructor(private readonly o: SquadsTreasuryOptions) {
    if (!Number.isInteger(o.maxSlippageBps) || o.maxSlippageBps < 0 || o.maxSlippageBps > 10_000) {
      throw new RangeError(`SquadsTreasury: maxSlippageBps must be an integer in [0, 10000], got ${o.maxSlippageBps}`);
    }
    if (!Number.isInteger(o.vaultIndex) || o.vaultIndex < 0 || o.vaultIndex > 255) {
      throw new RangeError(`SquadsTreasury: vaultIndex must be an integer in [0, 255], got ${o.vaultIndex}`);
    }
    this.swaps = storeSwapJournal(o.store, o.treasuryId);
    this.clock = o.clock ?? Date.now;
    this.commitment = o.commitment ?? 'confirmed';
    this.maxAttempts = o.maxAttempts ?? 3;
    this.vault = vaultAddress(o.multisig, o.vaultIndex, o.programId);
    this.buffers = new BufferFlow({
      chain: o.chain, swaps: this.swaps, member: o.member, multisig: o.multisig, vaultIndex: o.vaultIndex, programId: o.programId ?? SQUADS_PROGRAM_ID,
      commitment: this.commitment, clock: this.clock, fee: () => this.fee(), stepBudget: this.maxAttempts,
    });
  }

  private async fee(): Promise<number> {
    return priorityFee(await this.o.chain.recentPrioritizationFees([this.o.multisig]), this.o.priorityFee);
  }

  balances(): Promise<Balances> {
    return balancesOf(this.o.chain, this.vault, this.o.tokens);
  }

  quote(pumpIn: bigint): Promise<bigint> {
    return quotePumpToPstr(this.o.jupiter, this.o.tokens, pumpIn, this.o.maxSlippageBps);
  }

  /** Buying PUMP is left to the multisig's members: nothing is proposed or moved. */
  async accumulate(req: AccumulationRequest): Promise<{ applied: boolean; pumpOut: bigint; usdcIn: bigint; alreadyDone: boolean; reference: string; error: string }> {
    return { applied: false, pumpOut: 0n, usdcIn: 0n, alreadyDone: false, reference: req.key, error: ACCUMULATION_UNSUPPORTED };
  }

  async swap(req: SwapRequest): Promise<SwapResult> {
    if (!req.interventionId) throw new RangeError('swap: interventionId must be a non-empty string');
    if (!Number.isSafeInteger(req.slice) || req.slice < 0) throw new RangeError(`swap: slice must be an integer ≥ 0, got ${req.slice}`);
    if (typeof req.pumpIn !== 'bigint' || req.pumpIn <= 0n) throw new RangeError(`swap: pumpIn must be a bigint > 0, got ${String(req.pumpIn)}`);
    if (typeof req.minPstrOut !== 'bigint' || req.minPstrOut < 0n) throw new RangeError(`swap: minPstrOut must be a bigint ≥ 0, got ${String(req.minPstrOut)}`);
    const key: SliceKey = { interventionId: req.interventionId, slice: req.slice };
    let rec = await this.swaps.open(key, req.pumpIn, this.clock());
    for (;;) {
      if (isFinal(rec)) return resultOf(rec, key, true);
      const attempts = proposalAttemptsOf(rec);
      // A proposal transaction that landed makes its proposal ours: only its status matters from then on.
      for (const a of attempts) if (a.signature !== undefined && (await landedOk(this.o.chain, this.commitment, a.signature))) return this.follow(key, a);
      const last = attempts.at(-1);
      if (last?.buffer && last.buffer.abandoned === undefined) {
        if ((await this.buffers.advance(key, attempts.length - 1, last)) === 'pending') return pending(req.pumpIn, last.proposal);
        rec = (await this.swaps.read(key)) as JournalRecord;
        continue;
      }
      if (last && !last.buffer && !(await cannotLand(this.o.chain, this.commitment, last as Sent))) {
        await this.o.chain.sendRawTransaction(Buffer.from(last.tx as string, 'base64'));
        await this.swaps.update(key, (c) => c.status === 'prepared', (c) => ({ status: 'sent', details: c.details }), this.clock());
        return pending(req.pumpIn, last.proposal);
      }
      if (attempts.length >= this.maxAttempts) {
        const why = last?.buffer?.abandoned ?? `last ${last?.signature}`;
        const error = `${attempts.length} proposal attempt(s) failed or expired without landing (${why}); nothing proposed, nothing moved`;
        rec = (await this.settle(key, (c) => proposalAttemptsOf(c).length === attempts.length, { status: 'failed', amountOut: 0n, error })).record;
        continue;
      }
      const built = await this.prepare(key, req, attempts.length + 1);
      const guard = (c: JournalRecord) => !isFinal(c) && proposalAttemptsOf(c).length === attempts.length;
      rec = 'refused' in built
        ? (await this.settle(key, guard, { status: 'failed', amountOut: 0n, error: built.refused })).record
        : (await this.swaps.update(key, guard, (c) => ({ status: c.status, signature: built.signature, details: { ...c.details, proposals: [...proposalAttemptsOf(c), built] } }), this.clock())).record;
      if ('refused' in built && isFinal(rec)) return resultOf(rec, key, false);
    }
  }

  /** Our proposal exists: settle the slice when the multisig has decided, else keep waiting. */
  private async follow(key: SliceKey, a: ProposalAttempt): Promise<SwapResult> {
    const { chain, tokens } = this.o;
    const state = await proposalStatus(chain, this.o.multisig, BigInt(a.transactionIndex), this.o.programId);
    if (state === 'Rejected' || state === 'Cancelled') {
      const error = `proposal ${a.proposal} (#${a.transactionIndex}) was ${state.toLowerCase()} by the multisig; nothing moved`;
      const r = await this.settle(key, () => true, { status: 'failed', amountOut: 0n, error });
      return resultOf(r.record, key, !r.applied);
    }
    if (state !== 'Executed') {
      const rec = (await this.swaps.update(key, (c) => c.status === 'prepared', (c) => ({ status: 'sent', details: c.details }), this.clock())).record;
      // A closed proposal account ('missing' after ours landed) hides the outcome: keep waiting and say so; the intervention times it out.
      const note = state === 'missing' ? `proposal ${a.proposal} account is closed; its outcome is unknown, check the vault against the recorded pre-balances` : undefined;
      return { ...pending(rec.amountIn, a.proposal), ...(note !== undefined && { error: note }) };
    }
    const [pump, pstr] = await Promise.all([chain.tokenBalance(this.vault, tokens.pump.mint), chain.tokenBalance(this.vault, tokens.pstr.mint)]);
    // Realized amounts: the vault's change since the recorded pre-balances (other vault movements in between would show here too).
    const pumpIn = BigInt(a.pre.pump) - pump;
    const pstrOut = pstr - BigInt(a.pre.pstr);
    const realized = {
      proposal: a.proposal, transactionIndex: a.transactionIndex, amountIn: pumpIn.toString(), amountOut: pstrOut.toString(), quotedOut: a.quotedOut, minOut: a.minOut,
      post: { pump: pump.toString(), pstr: pstr.toString() },
    };
    const r = await this.settle(key, () => true, { status: 'confirmed', amountOut: pstrOut, extra: { realized } });
    if (!r.applied) return resultOf(r.record, key, true);
    return { status: 'confirmed', pumpIn, pstrOut, reference: a.proposal, alreadyDone: false };
  }

  private settle(key: SliceKey, guard: (c: JournalRecord) => boolean, w: { status: 'confirmed' | 'failed'; amountOut: bigint; error?: string; extra?: Record<string, unknown> }) {
    return this.swaps.update(key, (c) => !isFinal(c) && guard(c), (c) => ({
      status: w.status, amountOut: w.amountOut, details: { ...c.details, ...w.extra, ...(w.error !== undefined && { error: w.error }) },
    }), this.clock());
  }

  /** Quotes with the vault as the user, checks the floor, and builds the signed proposal transaction. */
  private async prepare(key: SliceKey, req: SwapRequest, attemptNo: number): Promise<ProposalAttempt | { refused: string }> {
    const { jupiter, chain, tokens, member } = this.o;
    const request = { inputMint: tokens.pump.mint.toBase58(), outputMint: tokens.pstr.mint.toBase58(), amount: req.pumpIn };
    // The request's config-version limit when it carries one (issue #10 item 6), else the one this treasury was built with.
    const maxBps = req.maxSlippageBps ?? this.o.maxSlippageBps;
    let quote = await jupiter.quote({ ...request, slippageBps: maxBps });
    const bps = slippageBpsForFloor(quote.outAmount, req.minPstrOut, maxBps);
    const refusal = (out: bigint, threshold: bigint) =>
      `quote below the slippage floor: ${out} out (on-chain minimum ${threshold}) for ${req.pumpIn} in, floor ${req.minPstrOut}; nothing proposed`;
    if (bps === null) return { refused: refusal(quote.outAmount, quote.otherAmountThreshold) };
    if (quote.otherAmountThreshold < req.minPstrOut) {
      // The on-chain minimum guards the floor when the members execute, possibly much later.
      quote = await jupiter.quote({ ...request, slippageBps: bps });
      if (quote.outAmount < req.minPstrOut || quote.otherAmountThreshold < req.minPstrOut) return { refused: refusal(quote.outAmount, quote.otherAmountThreshold) };
    }
    const ixs = await jupiter.swapInstructions(quote, { userPublicKey: this.vault.toBase58() });
    const lookupTables = await this.lookupTables(ixs.lookupTableAddresses);
    const transactionIndex = await nextTransactionIndex(chain, this.o.multisig);
    const proposal = buildSwapProposal({
      multisig: this.o.multisig, vaultIndex: this.o.vaultIndex, transactionIndex, creator: member.publicKey, instructions: vaultSwapInstructions(ixs), lookupTables,
      memo: `${this.swaps.describe(key)} attempt ${attemptNo}`, ...(this.o.programId && { programId: this.o.programId }),
    });
    const [pump, pstr] = await Promise.all([chain.tokenBalance(this.vault, tokens.pump.mint), chain.tokenBalance(this.vault, tokens.pstr.mint)]);
    const common = {
      transactionIndex: transactionIndex.toString(), proposal: proposal.proposal.toBase58(), vault: this.vault.toBase58(),
      pre: { pump: pump.toString(), pstr: pstr.toString() },
      quotedOut: quote.outAmount.toString(), minOut: quote.otherAmountThreshold.toString(), slippageBps: quote.slippageBps, preparedAt: this.clock(),
    };
    const instructions = [ComputeBudgetProgram.setComputeUnitPrice({ microLamports: await this.fee() }), ...proposal.instructions];
    const probe = new TransactionMessage({ payerKey: member.publicKey, recentBlockhash: Key.default.toBase58(), instructions }).compileToV0Message();
    if (fitsInOneTransaction(probe)) {
      const { signature, tx, lastValidBlockHeight } = signTransaction(member, instructions, await chain.latestBlockhash());
      return { signature, tx, lastValidBlockHeight, ...common };
    }
    // Too big for one transaction: upload the vault message through a transaction buffer (nothing sent yet).
    const message = vaultMessageBytes(proposal);
    if (message.length > MAX_BUFFER_SIZE) return { refused: `the swap route's vault message is ${message.length} bytes, over the Squads buffer limit of ${MAX_BUFFER_SIZE}; nothing proposed` };
    return { ...common, buffer: await this.buffers.plan(message, transactionIndex) };
  }

  private async lookupTables(addresses: readonly PublicKey[]): Promise<AddressLookupTableAccount[]> {
    return Promise.all(addresses.map(async (key) => {
      const data = await this.o.chain.accountData(key);
      if (!data) throw new Error(`address lookup table ${key.toBase58()} named by Jupiter does not exist`);
      return new AddressLookupTableAccount({ key, state: AddressLookupTableAccount.deserialize(data) });
    }));
  }
}

function pending(pumpIn: bigint, proposal: string): SwapResult {
  return { status: 'pending', pumpIn, pstrOut: 0n, reference: proposal, alreadyDone: false };
}

function resultOf(r: JournalRecord, key: SliceKey, alreadyDone: boolean): SwapResult {
  const error = typeof r.details.error === 'string' ? r.details.error : undefined;
  const realized = r.details.realized as { amountIn?: unknown; proposal?: unknown } | undefined;
  const pumpIn = typeof realized?.amountIn === 'string' ? BigInt(realized.amountIn) : r.amountIn;
  const proposal = typeof realized?.proposal === 'string' ? realized.proposal : proposalAttemptsOf(r).at(-1)?.proposal;
  return {
    status: r.status === 'confirmed' ? 'confirmed' : 'failed', pumpIn, pstrOut: r.amountOut ?? 0n,
    reference: proposal ?? `swap/${key.interventionId}/${key.slice}`, alreadyDone, ...(error !== undefined && { error }),
  };
}

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
import type { AbandonOutcome, AccumulationRequest, Balances, LiveProposal, SwapRequest, SwapResult, Treasury } from '../ports.ts';
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
import { SQUADS_PROGRAM_ID, buildSwapProposal, memberRights, nextTransactionIndex, readProposal, vaultAddress, vaultSwapInstructions, voteAgainstInstruction } from './squads.ts';
import { judgeProposal, membersMust, ownSignatures, voteAgainst } from './squads-proposal.ts';
import type { Judgement, ProposalScope } from './squads-proposal.ts';

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
  /** Whether the agent votes against a proposal it gives up on when its member key has the Vote permission (default true). */
  voteOnAbandon?: boolean;
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

  /** Our proposal exists: settle the slice when the chain shows it decided, else keep waiting. */
  private async follow(key: SliceKey, a: ProposalAttempt): Promise<SwapResult> {
    const rec = (await this.swaps.read(key)) as JournalRecord;
    const j = await judgeProposal(this.scope(), a, ownSignatures(proposalAttemptsOf(rec)));
    if (j.kind === 'live') {
      const sent = (await this.swaps.update(key, (c) => c.status === 'prepared', (c) => ({ status: 'sent', details: c.details }), this.clock())).record;
      return { ...pending(sent.amountIn, a.proposal), ...(j.note !== undefined && { error: j.note }) };
    }
    const r = await this.settleJudged(key, a, j);
    if (!r.applied || j.kind === 'dead') return resultOf(r.record, key, !r.applied);
    return { status: 'confirmed', pumpIn: j.pumpIn, pstrOut: j.pstrOut, reference: a.proposal, alreadyDone: false };
  }

  private scope(): ProposalScope {
    const { chain, tokens, multisig, programId } = this.o;
    return { chain, multisig, vault: this.vault, mints: { pump: tokens.pump.mint, pstr: tokens.pstr.mint }, ...(programId && { programId }) };
  }

  /** Settles a decided proposal's slice: failed when dead, confirmed with what the execute transaction itself moved. */
  private settleJudged(key: SliceKey, a: ProposalAttempt, j: Exclude<Judgement, { kind: 'live' }>) {
    if (j.kind === 'dead') return this.settle(key, () => true, { status: 'failed', amountOut: 0n, error: j.why });
    // Realized amounts: the vault's token balance changes inside the members' execute transaction.
    const realized = {
      proposal: a.proposal, transactionIndex: a.transactionIndex, executedBy: j.signature, amountIn: j.pumpIn.toString(), amountOut: j.pstrOut.toString(),
      quotedOut: a.quotedOut, minOut: a.minOut,
    };
    return this.settle(key, () => true, { status: 'confirmed', amountOut: j.pstrOut, extra: { realized } });
  }

  /** The landed proposal attempt of a record, if any (at most one can land: each later one is built only once the earlier provably cannot). */
  private async landed(rec: JournalRecord): Promise<ProposalAttempt | undefined> {
    for (const a of proposalAttemptsOf(rec)) if (a.signature !== undefined && (await landedOk(this.o.chain, this.commitment, a.signature))) return a;
    return undefined;
  }

  /**
   * Re-reads one slice's proposal on chain without proposing anything: settles
   * the record when the proposal is decided, and answers what is still live
   * (a landed proposal that can still execute, or a proposal transaction that
   * may still land); null when nothing of it can execute any more.
   */
  async resolveProposal(key: SliceKey): Promise<LiveProposal | null> {
    const rec = await this.swaps.read(key);
    if (!rec || isFinal(rec)) return null;
    const a = await this.landed(rec);
    if (a) {
      const j = await judgeProposal(this.scope(), a, ownSignatures(proposalAttemptsOf(rec)));
      if (j.kind !== 'live') {
        await this.settleJudged(key, a, j);
        return null;
      }
      return { ...key, proposal: a.proposal, transactionIndex: a.transactionIndex, state: j.view.state, ...(j.note !== undefined && { note: j.note }) };
    }
    const last = proposalAttemptsOf(rec).at(-1);
    if (last?.signature === undefined || last.lastValidBlockHeight === undefined) return null;
    if (await cannotLand(this.o.chain, this.commitment, { signature: last.signature, tx: '', lastValidBlockHeight: last.lastValidBlockHeight })) return null;
    return { ...key, proposal: last.proposal, transactionIndex: last.transactionIndex, state: 'proposing', note: `the proposal transaction ${last.signature} may still land` };
  }

  /** Every proposal of this treasury that can still execute, each unsettled record first re-read (and settled) from the chain. */
  async liveProposals(): Promise<LiveProposal[]> {
    const live: LiveProposal[] = [];
    for (const row of await this.o.store.unsettledSwaps(this.o.treasuryId)) {
      const found = await this.resolveProposal({ interventionId: row.interventionId, slice: row.slice });
      if (found) live.push(found);
    }
    return live;
  }

  /**
   * The intervention gives up on the slice's proposal: the agent votes against
   * it when its member key may (reject while Active, cancel once Approved),
   * the vote recorded before it is sent; the record stays unsettled (counted
   * as in flight) until the chain shows it dead or executed.
   */
  async abandonProposal(key: SliceKey, why: string): Promise<AbandonOutcome> {
    const found = await this.resolveProposal(key);
    const rec = (await this.swaps.read(key));
    const a = rec ? await this.landed(rec) : undefined;
    if (!found || !a) {
      const proposal = found?.proposal ?? (rec && proposalAttemptsOf(rec).at(-1)?.proposal) ?? '(none)';
      const settled = !found;
      return {
        proposal, transactionIndex: found?.transactionIndex ?? '', state: found?.state ?? (rec?.status ?? 'missing'), action: 'none', signature: null, settled,
        membersMust: settled ? 'nothing: the chain shows it can no longer execute' : `watch for proposal ${proposal} (#${found?.transactionIndex}): its transaction may still land; reject it if it does`,
      };
    }
    const agent = this.o.member.publicKey;
    const rights = await memberRights(this.o.chain, this.o.multisig, agent);
    const view = await readProposal(this.o.chain, this.o.multisig, BigInt(a.transactionIndex), this.o.programId);
    const vote = this.o.voteOnAbandon === false ? { none: 'voting on abandon is turned off for this treasury' } : voteAgainst(view, agent.toBase58(), rights?.vote === true);
    let signature: string | null = null;
    if ('kind' in vote) {
      const ix = voteAgainstInstruction(vote.kind, this.o.multisig, view.transactionIndex, agent, `${this.swaps.describe(key)}: ${why}`.slice(0, 200), this.o.programId);
      const sent = signTransaction(this.o.member, [ComputeBudgetProgram.setComputeUnitPrice({ microLamports: await this.fee() }), ix], await this.o.chain.latestBlockhash());
      const abandon = { at: this.clock(), why, vote: vote.kind, signature: sent.signature, tx: sent.tx, lastValidBlockHeight: sent.lastValidBlockHeight };
      const r = await this.swaps.update(key, (c) => !isFinal(c), (c) => ({ status: c.status, details: { ...c.details, abandon } }), this.clock());
      if (r.applied) {
        await this.o.chain.sendRawTransaction(Buffer.from(sent.tx, 'base64'));
        signature = sent.signature;
      }
    } else {
      await this.swaps.update(key, (c) => !isFinal(c), (c) => ({ status: c.status, details: { ...c.details, abandon: { at: this.clock(), why, vote: null, because: vote.none } } }), this.clock());
    }
    const after = await this.resolveProposal(key);
    // Read again after the vote: the state it reports is what the chain shows now (Rejected when the vote reached the cutoff).
    const now = await readProposal(this.o.chain, this.o.multisig, view.transactionIndex, this.o.programId);
    return {
      proposal: a.proposal, transactionIndex: a.transactionIndex, state: after?.state ?? now.state, settled: after === null,
      action: 'kind' in vote ? (vote.kind === 'reject' ? 'rejected' : 'cancelled') : 'none', signature, ...('none' in vote && { because: vote.none }),
      membersMust: after === null ? 'nothing: the chain shows it can no longer execute' : membersMust(now, a.proposal),
    };
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

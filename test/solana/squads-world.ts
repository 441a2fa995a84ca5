/**
 * The real Squads v4 program in LiteSVM, shared by the propose-only suites
 * (squads-program.test.ts, squads-abandon.test.ts): the pinned binary from
 * SQUADS_PROGRAM_SO (skipped when absent, see test/fixtures/programs/README.md),
 * a 2-of-3 multisig the program itself created, a vault holding PUMP and PSTR,
 * a fake pool whose swap the vault alone signs, and the members' own
 * instructions (vote, execute) as their wallets would send them.
 */
import { existsSync } from 'node:fs';
import * as multisig from '@sqds/multisig';
import { createApproveCheckedInstruction, createAssociatedTokenAccountIdempotentInstruction, createTransferCheckedInstruction } from '@solana/spl-token';
import { ComputeBudgetProgram, Keypair, PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import { TransactionInstruction } from '@solana/web3.js';
import type { AccountInfo, Connection } from '@solana/web3.js';
import { fromVersionedTransaction } from '@solana/compat';
import { FailedTransactionMetadata } from 'litesvm';
import type { LiteSVM } from 'litesvm';
import type { JupiterClient, JupiterQuote } from '../../src/solana/jupiter.ts';
import { vaultAddress } from '../../src/solana/squads.ts';
import { failureText } from './litesvm-chain.ts';
import { DECIMALS, UNIT, makeWorld, sendNow, tenToOneQuote } from './world.ts';
import type { World } from './world.ts';

export const SO = process.env.SQUADS_PROGRAM_SO;
/** The Squads v4 program as deployed (immutable) at SQDS4ep65T869zMMBKyuUq6aD6EgTu8psMjkvj52pCf, 1,470,416 bytes. */
export const SO_SHA256 = 'dec8d3e0fae58c7c8f2416e5f67c25e673f047afd6dd2bba4a47e0b29a01d34c';

export const { Multisig, Proposal, VaultTransaction, ProgramConfig } = multisig.accounts;
const { Permission, Permissions } = multisig.types;
type SvmAddress = Parameters<LiteSVM['getAccount']>[0];
export const addr = (k: PublicKey) => k.toBase58() as SvmAddress;

export const ID = 'intervention/pstr-main/7';
export const request = { interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 95n * UNIT };
/** What the pool really sends back for the 1,000 PUMP: 98.7 PSTR, not the 100 quoted (above the 98 on-chain minimum at 200 bps). */
export const FILLED = 98_700_000n;

export interface SquadsWorld extends World {
  agent: Keypair;
  alice: Keypair;
  bob: Keypair;
  multisigPda: PublicKey;
  vault: PublicKey;
}

/** Sends now; answers LiteSVM's error text and logs when it failed, null when it landed. */
export function trySend(svm: LiteSVM, payer: Keypair, instructions: TransactionInstruction[], signers: Keypair[] = []): { err: string; logs: string[] } | null {
  const message = new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: svm.latestBlockhash(), instructions }).compileToV0Message();
  const tx = new VersionedTransaction(message);
  tx.sign([payer, ...signers]);
  const r = svm.sendTransaction(fromVersionedTransaction(tx));
  return r instanceof FailedTransactionMetadata ? { err: failureText(r), logs: r.meta().logs() } : null;
}

/** What the SDK's execute builder reads through a Connection (the VaultTransaction account), served from LiteSVM. */
export function svmConnection(svm: LiteSVM): Connection {
  return {
    async getAccountInfo(key: PublicKey): Promise<AccountInfo<Buffer> | null> {
      const acc = svm.getAccount(addr(key));
      if (!acc.exists) return null;
      return { data: Buffer.from(acc.data), executable: acc.executable, lamports: Number(acc.lamports), owner: new PublicKey(acc.programAddress), rentEpoch: 0 };
    },
  } as unknown as Connection;
}

/**
 * LiteSVM with the real Squads program, its ProgramConfig (what the
 * program's one-time initializer would have written: zero creation fee), and
 * a 2-of-3 multisig created by the program itself: the agent may only
 * initiate; alice may do everything, bob votes and executes. The vault holds 50,000 PUMP and
 * 3 PSTR.
 */
export interface SquadsWorldOptions {
  /** Whether the agent's member key may also vote (default: Initiate only). */
  agentVotes?: boolean;
  /** Whether bob may vote (default true); without, alice (and the agent when it votes) are the only voters. */
  bobVotes?: boolean;
}

export function squadsWorld(so: string, opts: SquadsWorldOptions = {}): SquadsWorld {
  const world = makeWorld();
  const { svm } = world;
  svm.addProgramFromFile(addr(multisig.PROGRAM_ID), so);

  const [programConfig] = multisig.getProgramConfigPda({});
  const feeTreasury = Keypair.generate().publicKey;
  const [config] = ProgramConfig.fromArgs({ authority: Keypair.generate().publicKey, multisigCreationFee: 0, treasury: feeTreasury, reserved: new Array<number>(64).fill(0) }).serialize();
  svm.setAccount({
    address: addr(programConfig), data: new Uint8Array(config), executable: false, lamports: svm.minimumBalanceForRentExemption(BigInt(config.length)) as never,
    programAddress: addr(multisig.PROGRAM_ID), space: BigInt(config.length),
  });

  const [agent, alice, bob] = [Keypair.generate(), Keypair.generate(), Keypair.generate()];
  for (const k of [agent, alice, bob]) svm.airdrop(addr(k.publicKey), 10_000_000_000n as never);
  svm.airdrop(addr(feeTreasury), 1_000_000_000n as never);
  const createKey = Keypair.generate();
  const [multisigPda] = multisig.getMultisigPda({ createKey: createKey.publicKey });
  sendNow(svm, alice, [multisig.instructions.multisigCreateV2({
    treasury: feeTreasury, creator: alice.publicKey, multisigPda, configAuthority: null, threshold: 2, timeLock: 0, createKey: createKey.publicKey, rentCollector: null,
    members: [
      { key: agent.publicKey, permissions: Permissions.fromPermissions(opts.agentVotes ? [Permission.Initiate, Permission.Vote] : [Permission.Initiate]) },
      { key: alice.publicKey, permissions: Permissions.all() },
      { key: bob.publicKey, permissions: Permissions.fromPermissions(opts.bobVotes === false ? [Permission.Execute] : [Permission.Vote, Permission.Execute]) },
    ],
  })], [createKey]);

  const vault = vaultAddress(multisigPda, 0);
  world.mintTo(vault, world.mints.pump, 50_000n * UNIT);
  world.mintTo(vault, world.mints.pstr, 3n * UNIT);
  const { pool, mints } = world;
  sendNow(svm, pool, [createApproveCheckedInstruction(world.ata(pool.publicKey, mints.pstr), mints.pstr, vault, pool.publicKey, 1_000_000n * UNIT, DECIMALS)]);
  return { ...world, agent, alice, bob, multisigPda, vault };
}

/** Alice creates vault transaction #1 herself (its content does not matter: a 0 PUMP transfer from the vault to itself); null when the program accepted it. */
export function aliceTakesIndex1(w: SquadsWorld): { err: string; logs: string[] } | null {
  const msg = new TransactionMessage({
    payerKey: w.vault, recentBlockhash: PublicKey.default.toBase58(),
    instructions: [createTransferCheckedInstruction(w.ata(w.vault, w.mints.pump), w.mints.pump, w.ata(w.vault, w.mints.pump), w.vault, 0n, DECIMALS)],
  });
  return trySend(w.svm, w.alice, [multisig.instructions.vaultTransactionCreate({
    multisigPda: w.multisigPda, transactionIndex: 1n, creator: w.alice.publicKey, vaultIndex: 0, ephemeralSigners: 0, transactionMessage: msg,
  })]);
}

const MEMO_PROGRAM = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
/** `n` memo instructions of 100 bytes each: route padding that makes the vault message too big for one transaction. */
const memos = (n: number): TransactionInstruction[] =>
  Array.from({ length: n }, (_, i) => new TransactionInstruction({ programId: MEMO_PROGRAM, keys: [], data: Buffer.from(`route leg ${String(i).padStart(3, '0')} `.padEnd(100, '.')) }));

/**
 * Quotes 1 PSTR per 10 PUMP; the route is the fake pool's atomic swap with `userPublicKey` (the vault) as its only signer,
 * plus `padding` memo instructions (a long Jupiter route stand-in).
 */
export function poolJupiter(w: SquadsWorld, padding = 0) {
  const calls = { quotes: 0, users: [] as string[] };
  const client: JupiterClient = {
    async quote(req) {
      calls.quotes += 1;
      return tenToOneQuote(req);
    },
    async swapInstructions(q: JupiterQuote, req) {
      calls.users.push(req.userPublicKey);
      const user = new PublicKey(req.userPublicKey);
      const input = new PublicKey(q.inputMint);
      const output = new PublicKey(q.outputMint);
      const pool = w.pool.publicKey;
      return {
        computeBudget: [ComputeBudgetProgram.setComputeUnitLimit({ units: 300_000 })],
        setup: [createAssociatedTokenAccountIdempotentInstruction(user, w.ata(user, output), user, output)],
        swap: createTransferCheckedInstruction(w.ata(user, input), input, w.ata(pool, input), user, q.inAmount, DECIMALS),
        cleanup: createTransferCheckedInstruction(w.ata(pool, output), output, w.ata(user, output), user, FILLED, DECIMALS),
        other: memos(padding), lookupTableAddresses: [],
      };
    },
  };
  return { client, calls };
}

/** Why the real-program suites skip (null: they run). */
export const SKIP_REASON = SO === undefined ? 'SQUADS_PROGRAM_SO is not set' : !existsSync(SO) ? `SQUADS_PROGRAM_SO=${SO} does not exist` : null;


/** A member's vote on a proposal, sent straight to LiteSVM; null when the program accepted it. */
export function voteOn(w: SquadsWorld, member: Keypair, transactionIndex: bigint, how: 'approve' | 'reject' | 'cancel') {
  const args = { multisigPda: w.multisigPda, transactionIndex, member: member.publicKey };
  const ix = how === 'approve' ? multisig.instructions.proposalApprove(args) : how === 'reject' ? multisig.instructions.proposalReject(args) : multisig.instructions.proposalCancelV2(args);
  return trySend(w.svm, member, [ix]);
}

/**
 * A member executes the vault transaction, through the chain port (not LiteSVM directly) so the signature index
 * knows the execute transaction the treasury settles from; the program's refusal (error and logs) when it fails.
 */
export async function executeVault(w: SquadsWorld, member: Keypair, transactionIndex: bigint): Promise<{ err: string; logs: string[] } | null> {
  const { instruction } = await multisig.instructions.vaultTransactionExecute({ connection: svmConnection(w.svm), multisigPda: w.multisigPda, transactionIndex, member: member.publicKey });
  const message = new TransactionMessage({ payerKey: member.publicKey, recentBlockhash: w.svm.latestBlockhash(), instructions: [ComputeBudgetProgram.setComputeUnitLimit({ units: 400_000 }), instruction] }).compileToV0Message();
  const tx = new VersionedTransaction(message);
  tx.sign([member]);
  const sim = w.svm.simulateTransaction(fromVersionedTransaction(tx));
  if (sim instanceof FailedTransactionMetadata) return { err: failureText(sim), logs: sim.meta().logs() };
  await w.chain.sendRawTransaction(tx.serialize());
  return null;
}

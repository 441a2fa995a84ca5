import * as multisig from '@sqds/multisig';
import { createTransferCheckedInstruction, getAssociatedTokenAddressSync } from '@solana/spl-token';
import { ComputeBudgetProgram, Keypair, PublicKey, SystemProgram, TransactionInstruction, VersionedTransaction } from '@solana/web3.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import type { TreasuryStore } from '../../src/db/store.ts';
import { buildLiveWorld } from '../../src/runtime/live-world.ts';
import { base58 } from '../../src/solana/chain.ts';
import type { Chain, SignatureStatus } from '../../src/solana/chain.ts';
import type { JupiterClient, JupiterQuote } from '../../src/solana/jupiter.ts';
import { ACCUMULATION_UNSUPPORTED, SquadsTreasury, proposalAttemptsOf } from '../../src/solana/squads-treasury.ts';
import { vaultAddress } from '../../src/solana/squads.ts';
import { squadsBufferProgram } from './squads-buffer-fake.ts';
import type { SquadsBufferProgram } from './squads-buffer-fake.ts';
import { storeWithIntervention, tenToOneQuote } from './world.ts';
import { TEST_OPERATOR_KEYS } from '../support/operator-keys.ts';

const { Multisig, Proposal } = multisig.accounts;
const { vaultTransactionCreateStruct, proposalCreateStruct } = multisig.generated;

const ID = 'intervention/pstr-main/7';
const DECIMALS = 6;
const UNIT = 10n ** 6n;
const multisigPda = Keypair.generate().publicKey;
const member = Keypair.generate();
const pool = Keypair.generate().publicKey;
const mints = { pump: Keypair.generate().publicKey, pstr: Keypair.generate().publicKey, usdc: Keypair.generate().publicKey };
const vault = vaultAddress(multisigPda, 0);
const ata = (owner: PublicKey, mint: PublicKey) => getAssociatedTokenAddressSync(mint, owner, true);

/** An in-memory chain: accounts and balances set by the test; every sent transaction lands unless `landOnSend` is off. */
interface FakeChain extends Chain {
  accounts: Map<string, Uint8Array>;
  balances: Map<string, bigint>;
  statuses: Map<string, SignatureStatus>;
  sends: Uint8Array[];
  height: number;
  landOnSend: boolean;
  onSend?: (signature: string) => void | Promise<void>;
  /** The Squads buffer instructions' effect on `accounts` when a transaction lands (squads-buffer-fake.ts). */
  program?: SquadsBufferProgram;
}

function fakeChain(): FakeChain {
  const c: FakeChain = {
    accounts: new Map(), balances: new Map(), statuses: new Map(), sends: [], height: 1_000, landOnSend: true,
    latestBlockhash: async () => ({ blockhash: Keypair.generate().publicKey.toBase58(), lastValidBlockHeight: c.height + 150 }),
    blockHeight: async () => c.height,
    async sendRawTransaction(bytes) {
      const signature = base58(VersionedTransaction.deserialize(bytes).signatures[0] as Uint8Array);
      c.sends.push(bytes);
      if (c.landOnSend) c.statuses.set(signature, { slot: 1, err: c.program?.apply(bytes) ?? null, confirmation: 'confirmed' });
      await c.onSend?.(signature);
      return signature;
    },
    signatureStatus: async (s) => c.statuses.get(s) ?? null,
    transactionBalances: async () => null,
    tokenBalance: async (owner, mint) => c.balances.get(`${owner.toBase58()}/${mint.toBase58()}`) ?? 0n,
    lamports: async () => 0n,
    accountData: async (a) => c.accounts.get(a.toBase58()) ?? null,
    recentPrioritizationFees: async () => [],
    signaturesForAddress: async () => [],
  };
  return c;
}

const setBalance = (c: FakeChain, mint: PublicKey, amount: bigint) => c.balances.set(`${vault.toBase58()}/${mint.toBase58()}`, amount);

function putMultisig(c: FakeChain, transactionIndex: number): void {
  const [data] = Multisig.fromArgs({
    createKey: Keypair.generate().publicKey, configAuthority: SystemProgram.programId, threshold: 2, timeLock: 0, transactionIndex,
    staleTransactionIndex: 0, rentCollector: null, bump: 254,
    members: [{ key: member.publicKey, permissions: multisig.types.Permissions.fromPermissions([multisig.types.Permission.Initiate]) }],
  }).serialize();
  c.accounts.set(multisigPda.toBase58(), new Uint8Array(data));
}

function putProposal(c: FakeChain, transactionIndex: bigint, status: multisig.generated.ProposalStatus): void {
  const [address] = multisig.getProposalPda({ multisigPda, transactionIndex });
  const [data] = Proposal.fromArgs({ multisig: multisigPda, transactionIndex: Number(transactionIndex), status, bump: 255, approved: [], rejected: [], cancelled: [] }).serialize();
  c.accounts.set(address.toBase58(), new Uint8Array(data));
}

const MEMO = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
const memoPadding = (n: number) => Array.from({ length: n }, (_, i) => new TransactionInstruction({ programId: MEMO, keys: [], data: Buffer.from(`leg ${i}`.padEnd(100, '.')) }));

/** Quotes 1 PSTR per 10 PUMP (plus `padding` 100-byte memo instructions: a long route); the swap route is one transfer of the user's PUMP to the pool, signed by the user. */
function fakeJupiter(padding = 0) {
  const calls = { quotes: 0, users: [] as string[] };
  const client: JupiterClient = {
    async quote(req) {
      calls.quotes += 1;
      return tenToOneQuote(req);
    },
    async swapInstructions(q: JupiterQuote, req) {
      calls.users.push(req.userPublicKey);
      const user = new PublicKey(req.userPublicKey);
      return {
        computeBudget: [ComputeBudgetProgram.setComputeUnitLimit({ units: 200_000 })], setup: [],
        swap: createTransferCheckedInstruction(ata(user, mints.pump), mints.pump, ata(pool, mints.pump), user, q.inAmount, DECIMALS),
        cleanup: null, other: memoPadding(padding), lookupTableAddresses: [],
      };
    },
  };
  return { client, calls };
}

let chain: FakeChain;
let store: TreasuryStore;
let jup: ReturnType<typeof fakeJupiter>;

beforeEach(async () => {
  chain = fakeChain();
  store = await storeWithIntervention(ID);
  jup = fakeJupiter();
  putMultisig(chain, 41);
  setBalance(chain, mints.pump, 50_000n * UNIT);
  setBalance(chain, mints.pstr, 3n * UNIT);
});

afterEach(async () => {
  await store.close();
});

const treasury = () => new SquadsTreasury({
  treasuryId: 'pstr-main', store, chain, jupiter: jup.client, member, multisig: multisigPda, vaultIndex: 0,
  tokens: { pump: { mint: mints.pump, decimals: DECIMALS }, pstr: { mint: mints.pstr, decimals: DECIMALS }, usdc: { mint: mints.usdc, decimals: DECIMALS } },
  maxSlippageBps: 200, priorityFee: { percentile: 75, maxMicroLamports: 200_000 },
});

const request = { interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 95n * UNIT };
const proposal42 = multisig.getProposalPda({ multisigPda, transactionIndex: 42n })[0];

describe('SquadsTreasury (propose-only)', () => {
  it('proposes the swap as vault transaction #42 signed by the member, and answers pending with the proposal address', async () => {
    const r = await treasury().swap(request);

    expect(r).toEqual({ status: 'pending', pumpIn: 1_000n * UNIT, pstrOut: 0n, reference: proposal42.toBase58(), alreadyDone: false });
    expect(jup.calls.users).toEqual([vault.toBase58()]);
    expect(chain.sends).toHaveLength(1);
    const tx = VersionedTransaction.deserialize(chain.sends[0] as Uint8Array);
    const keys = tx.message.staticAccountKeys;
    expect(keys[0]?.equals(member.publicKey)).toBe(true);
    expect(tx.message.header.numRequiredSignatures).toBe(1);
    const squads = tx.message.compiledInstructions.filter((i) => keys[i.programIdIndex]?.equals(multisig.PROGRAM_ID));
    expect(squads).toHaveLength(2);
    const [create] = vaultTransactionCreateStruct.deserialize(Buffer.from((squads[0] as { data: Uint8Array }).data));
    expect(create.args).toMatchObject({ vaultIndex: 0, ephemeralSigners: 0, memo: `swap ${ID} slice 0 attempt 1` });
    const [message] = multisig.types.transactionMessageBeet.deserialize(Buffer.from(create.args.transactionMessage));
    expect(message.accountKeys[0]?.equals(vault)).toBe(true);
    expect(message.instructions).toHaveLength(1); // Jupiter's compute budget stays out of the vault transaction
    const inner = message.instructions[0] as multisig.types.CompiledMsInstruction;
    const innerKeys = inner.accountIndexes.map((i) => message.accountKeys[i]?.toBase58());
    expect(innerKeys).toEqual([ata(vault, mints.pump), mints.pump, ata(pool, mints.pump), vault].map((k) => k.toBase58()));
    expect(Buffer.from(inner.data).readBigUInt64LE(1)).toBe(1_000n * UNIT);
    const [propose] = proposalCreateStruct.deserialize(Buffer.from((squads[1] as { data: Uint8Array }).data));
    expect(BigInt(propose.args.transactionIndex.toString())).toBe(42n);
    expect(propose.args.draft).toBe(false);

    const row = await store.swap(ID, 0);
    expect(row).toMatchObject({ status: 'sent', signature: base58(tx.signatures[0] as Uint8Array), pstrOut: null });
    const [attempt] = proposalAttemptsOf({ status: 'sent', amountIn: 0n, amountOut: null, signature: null, details: row?.details as Record<string, unknown> });
    expect(attempt).toMatchObject({ transactionIndex: '42', proposal: proposal42.toBase58(), vault: vault.toBase58(), pre: { pump: (50_000n * UNIT).toString(), pstr: (3n * UNIT).toString() } });
  });

  it('writes the proposal, its index, the pre-balances and the signature down before sending', async () => {
    let recordedAtSend: unknown;
    chain.onSend = async () => {
      recordedAtSend = await store.swap(ID, 0);
    };
    await treasury().swap(request);
    const signature = base58(VersionedTransaction.deserialize(chain.sends[0] as Uint8Array).signatures[0] as Uint8Array);
    expect(recordedAtSend).toMatchObject({ status: 'prepared', signature, details: { proposals: [{ signature, transactionIndex: '42', pre: { pump: (50_000n * UNIT).toString() } }] } });
  });

  it('stays pending while the proposal is active, sending nothing again', async () => {
    const t = treasury();
    await t.swap(request);
    putProposal(chain, 42n, { __kind: 'Active', timestamp: 1 });
    const again = await t.swap(request);
    expect(again).toMatchObject({ status: 'pending', reference: proposal42.toBase58(), pstrOut: 0n });
    expect(chain.sends).toHaveLength(1);
    expect(jup.calls.quotes).toBe(1);
  });

  it('confirms once executed with the amounts of the execute transaction itself, and stays pending while that transaction is not indexed', async () => {
    const t = treasury();
    await t.swap(request);
    putProposal(chain, 42n, { __kind: 'Executed', timestamp: 2 });
    // The vault moved more than the swap (another movement in between): its balances must not be the realized amounts.
    setBalance(chain, mints.pump, 40_000n * UNIT);
    setBalance(chain, mints.pstr, 3n * UNIT + 98_700_000n);
    const notYet = await t.swap(request);
    expect(notYet).toMatchObject({ status: 'pending', pstrOut: 0n });
    expect(notYet.error).toMatch(/execute transaction is not in the finalized index yet/);
    expect(await store.swap(ID, 0)).toMatchObject({ status: 'sent' });

    // The members' execute transaction: 1,000 PUMP out of the vault, 98.7 PSTR in (not the 100 quoted).
    const [transactionPda] = multisig.getTransactionPda({ multisigPda, index: 42n });
    const account = (mint: PublicKey, pre: bigint, post: bigint) => ({ account: Keypair.generate().publicKey.toBase58(), owner: vault.toBase58(), mint: mint.toBase58(), pre, post });
    chain.signaturesForAddress = async (a) => (a.equals(transactionPda) ? [{ signature: 'execute-sig', slot: 9, err: null }] : []);
    chain.transactionBalances = async (sig) => (sig === 'execute-sig'
      ? { err: null, feeLamports: 5000n, lamports: [], tokens: [account(mints.pump, 41_000n * UNIT, 40_000n * UNIT), account(mints.pstr, 3n * UNIT, 3n * UNIT + 98_700_000n)] }
      : null);
    const r = await t.swap(request);
    expect(r).toEqual({ status: 'confirmed', pumpIn: 1_000n * UNIT, pstrOut: 98_700_000n, reference: proposal42.toBase58(), alreadyDone: false });
    expect(await store.swap(ID, 0)).toMatchObject({ status: 'confirmed', pstrOut: 98_700_000n, details: { realized: { executedBy: 'execute-sig' } } });
    const later = await t.swap(request);
    expect(later).toMatchObject({ status: 'confirmed', pumpIn: 1_000n * UNIT, pstrOut: 98_700_000n, reference: proposal42.toBase58(), alreadyDone: true });
    expect(chain.sends).toHaveLength(1);
  });

  it.each(['Rejected', 'Cancelled'] as const)('fails with nothing moved when the multisig %s the proposal', async (kind) => {
    const t = treasury();
    await t.swap(request);
    putProposal(chain, 42n, { __kind: kind, timestamp: 3 });
    const r = await t.swap(request);
    expect(r).toMatchObject({ status: 'failed', pumpIn: 1_000n * UNIT, pstrOut: 0n, reference: proposal42.toBase58(), alreadyDone: false });
    expect(r.error).toMatch(new RegExp(`${kind.toLowerCase()} by the multisig; nothing moved`));
    expect(await store.swap(ID, 0)).toMatchObject({ status: 'failed', pstrOut: 0n });
    expect(chain.sends).toHaveLength(1);
  });

  it('after a crash between send and record, a retry finds the recorded signature landed and sends nothing new', async () => {
    chain.onSend = () => {
      throw new Error('worker crashed after the bytes left');
    };
    await expect(treasury().swap(request)).rejects.toThrow(/crashed/);
    expect((await store.swap(ID, 0))?.status).toBe('prepared');
    chain.onSend = undefined;
    putProposal(chain, 42n, { __kind: 'Active', timestamp: 1 });
    putMultisig(chain, 42); // the landed proposal advanced the multisig's index

    const r = await treasury().swap(request);
    expect(r).toMatchObject({ status: 'pending', reference: proposal42.toBase58() });
    expect(chain.sends).toHaveLength(1);
    expect(jup.calls.quotes).toBe(1);
    expect((await store.swap(ID, 0))?.status).toBe('sent');
  });

  it('re-sends the same bytes while they may land, and proposes anew only once they provably cannot', async () => {
    chain.landOnSend = false;
    const t = treasury();
    await t.swap(request);
    await t.swap(request);
    expect(chain.sends).toHaveLength(2);
    expect(Buffer.from(chain.sends[1] as Uint8Array)).toEqual(Buffer.from(chain.sends[0] as Uint8Array));
    chain.height += 151; // past lastValidBlockHeight, never seen
    chain.landOnSend = true;
    const r = await t.swap(request);
    expect(r).toMatchObject({ status: 'pending', reference: proposal42.toBase58() });
    expect(chain.sends).toHaveLength(3);
    expect(Buffer.from(chain.sends[2] as Uint8Array)).not.toEqual(Buffer.from(chain.sends[0] as Uint8Array));
    expect(proposalAttemptsOf({ status: 'sent', amountIn: 0n, amountOut: null, signature: null, details: (await store.swap(ID, 0))?.details as Record<string, unknown> })).toHaveLength(2);
  });

  it('refuses a quote below the floor with nothing proposed', async () => {
    const r = await treasury().swap({ ...request, minPstrOut: 101n * UNIT });
    expect(r).toMatchObject({ status: 'failed', pstrOut: 0n, alreadyDone: false });
    expect(r.error).toMatch(/below the slippage floor.*nothing proposed/);
    expect(chain.sends).toEqual([]);
    expect(jup.calls.users).toEqual([]);
  });

  it("reports the vault's balances, and refuses accumulation without moving anything", async () => {
    const t = treasury();
    expect(await t.balances()).toMatchObject({ pump: 50_000n * UNIT, pstrRetired: 3n * UNIT, usdc: 0n });
    const r = await t.accumulate({ key: 'accumulation/pstr-main/2025-01-01T10', usdcIn: 5n * UNIT, minPumpOut: 1n });
    expect(r).toMatchObject({ applied: false, pumpOut: 0n, usdcIn: 0n, error: ACCUMULATION_UNSUPPORTED });
    expect(chain.sends).toEqual([]);
  });
});

describe('the live world in propose-only mode', () => {
  it('builds a SquadsTreasury over the configured vault when solana.multisig is set', async () => {
    const config = parseConfig({
      treasuryId: 'pstr-main', mode: 'devnet',
      tokens: { pstr: { mint: mints.pstr.toBase58() }, pump: { mint: mints.pump.toBase58() }, usdc: { mint: mints.usdc.toBase58() } },
      oracle: { pyth: { endpoint: 'http://127.0.0.1:9/', requiresKey: false, streaming: false, feeds: { pstr: 'a'.repeat(64), pump: 'b'.repeat(64), sol: 'c'.repeat(64) } } },
      solana: { rpcUrl: 'http://127.0.0.1:9/', multisig: { address: multisigPda.toBase58(), vaultIndex: 0 }, jupiter: { api: 'v1' } },
      intervention: { operators: ['alice'], operatorKeys: { alice: TEST_OPERATOR_KEYS.alice } },
    });
    const live = buildLiveWorld(config, { dataDir: '/nonexistent', overrides: { chain, payer: member, storePath: ':memory:' } });
    try {
      expect(live.treasury).toBeInstanceOf(SquadsTreasury);
      expect((live.treasury as SquadsTreasury).vault.equals(vault)).toBe(true);
      // The propose-only reads the gates and the abandoning intervention use are wired (the treasury port's optional methods).
      expect(typeof live.treasury.liveProposals).toBe('function');
      expect(typeof live.treasury.abandonProposal).toBe('function');
      expect(await live.treasury.liveProposals?.()).toEqual([]);
      expect(config.solana.multisig?.voteOnAbandon).toBe(true);
      expect(await live.treasury.balances()).toMatchObject({ pump: 50_000n * UNIT, pstrRetired: 3n * UNIT });
    } finally {
      await live.close();
    }
  });
});

describe('SquadsTreasury through a transaction buffer (a route too big for one transaction)', () => {
  let program: SquadsBufferProgram;
  beforeEach(() => {
    jup = fakeJupiter(24);
    program = squadsBufferProgram(chain.accounts, multisigPda);
    chain.program = program;
  });
  const attempts = async () => proposalAttemptsOf({ status: 'sent', amountIn: 0n, amountOut: null, signature: null, details: (await store.swap(ID, 0))?.details as Record<string, unknown> });
  const proposal43 = multisig.getProposalPda({ multisigPda, transactionIndex: 43n })[0];
  /** What the program applied: contiguous chunks from 0 to the end, each once, and exactly one vault transaction from the buffer. */
  const expectUploadedOnce = (index = 42) => {
    const ranges = program.log.filter((e) => /^(create|extend) /.test(e)).map((e) => (e.split(' ')[1] as string).split('-').map(Number) as [number, number]);
    expect(ranges.map((r) => r[0])).toEqual([0, ...ranges.slice(0, -1).map((r) => r[1])]);
    expect(program.log.filter((e) => e.startsWith('final'))).toEqual([`final #${index}`]);
  };

  it('uploads the vault message in chunks, writing each step down before sending it, then proposes #42 from the buffer', async () => {
    const recordedFirst: boolean[] = [];
    chain.onSend = async (signature) => {
      recordedFirst.push((await attempts())[0]?.buffer?.steps.at(-1)?.signature === signature);
    };
    const r = await treasury().swap(request);
    expect(r).toEqual({ status: 'pending', pumpIn: 1_000n * UNIT, pstrOut: 0n, reference: proposal42.toBase58(), alreadyDone: false });
    const [a] = await attempts();
    const b = a?.buffer;
    if (!a || !b) throw new Error('expected a buffer attempt');
    expect(b.steps.map((s) => s.kind)).toEqual(['create', 'extend', 'extend', 'final']);
    expect(recordedFirst).toEqual([true, true, true, true]);
    expect(program.log).toEqual(['create 0-858', 'extend 858-1786', `extend 1786-${b.size}`, 'final #42']);
    expectUploadedOnce();
    expect(chain.accounts.has(b.address)).toBe(false);
    expect(a.signature).toBe(b.steps[3]?.signature);
    expect((await store.swap(ID, 0))?.signature).toBe(a.signature);
    expect(await treasury().swap(request)).toMatchObject({ status: 'pending', reference: proposal42.toBase58() });
    expect(chain.sends).toHaveLength(4);
    expect(jup.calls.quotes).toBe(1);
  });

  it.each([1, 2, 3, 4])('after a crash right after send #%i (the bytes left), a retry resumes from the chain: each chunk once, one proposal', async (n) => {
    chain.onSend = () => {
      if (chain.sends.length === n) throw new Error('worker crashed after the bytes left');
    };
    await expect(treasury().swap(request)).rejects.toThrow(/crashed/);
    chain.onSend = undefined;
    expect(await treasury().swap(request)).toMatchObject({ status: 'pending', reference: proposal42.toBase58() });
    expectUploadedOnce();
    expect(chain.sends).toHaveLength(4); // nothing sent twice: what landed before the crash was read back
    expect(jup.calls.quotes).toBe(1);
  });

  it('an extend that landed but whose status was lost: once it expired, the next chunk starts at the length on chain', async () => {
    chain.onSend = (signature) => {
      if (chain.sends.length !== 2) return;
      chain.statuses.delete(signature);
      throw new Error('worker crashed after the bytes left');
    };
    await expect(treasury().swap(request)).rejects.toThrow(/crashed/);
    chain.onSend = undefined;
    chain.height += 151;
    expect(await treasury().swap(request)).toMatchObject({ status: 'pending', reference: proposal42.toBase58() });
    expectUploadedOnce();
    expect((await attempts())[0]?.buffer?.steps.map((s) => `${s.kind} ${s.from}`)).toEqual(['create 0', 'extend 858', 'extend 1786', `final ${(await attempts())[0]?.buffer?.size}`]);
  });

  it('an extend in flight is re-sent as the same bytes, and rebuilt for the same chunk only once it provably cannot land', async () => {
    chain.onSend = () => {
      if (chain.sends.length === 1) chain.landOnSend = false; // the create lands, the first extend does not (yet)
    };
    const t = treasury();
    expect(await t.swap(request)).toMatchObject({ status: 'pending', reference: proposal42.toBase58() });
    expect(await t.swap(request)).toMatchObject({ status: 'pending' });
    expect(chain.sends).toHaveLength(3);
    expect(Buffer.from(chain.sends[2] as Uint8Array)).toEqual(Buffer.from(chain.sends[1] as Uint8Array));
    chain.onSend = undefined;
    chain.landOnSend = true;
    chain.height += 151;
    expect(await t.swap(request)).toMatchObject({ status: 'pending', reference: proposal42.toBase58() });
    expectUploadedOnce();
    expect((await attempts())[0]?.buffer?.steps.map((s) => `${s.kind} ${s.from}`).slice(0, 3)).toEqual(['create 0', 'extend 858', 'extend 858']);
  });

  it('when another member takes the index during the upload, the buffer is closed and the slice is proposed anew at #43', async () => {
    chain.onSend = () => {
      if (chain.sends.length === 2) putMultisig(chain, 42); // vault transaction #42 is someone else's now
    };
    const r = await treasury().swap(request);
    expect(r).toMatchObject({ status: 'pending', reference: proposal43.toBase58() });
    const [first, second] = await attempts();
    expect(first?.buffer?.abandoned).toMatch(/index was taken before the proposal landed; buffer \S+ closed by \S+/);
    expect(first?.buffer?.steps.map((s) => s.kind)).toEqual(['create', 'extend', 'close']);
    expect(chain.accounts.has(first?.buffer?.address as string)).toBe(false);
    expect(second?.transactionIndex).toBe('43');
    expect(program.log.slice(0, 3)).toEqual(['create 0-858', 'extend 858-1786', 'close']);
    expect(program.log.filter((e) => e.startsWith('final'))).toEqual(['final #43']);
    expect(jup.calls.quotes).toBe(2);
  });
});

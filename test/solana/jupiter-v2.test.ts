/**
 * Jupiter Swap API V2 against a local server serving V2-shaped answers
 * (test/solana/world.ts's fake Jupiter, `/swap/v2/build`): the real client,
 * its x-api-key, its rate-limit handling, and the three money paths built
 * from /build's raw instructions: a direct transaction and a durable-nonce
 * one on LiteSVM with the real SPL Token program, and a Squads vault
 * transaction proposal. v1 is used only when asked for.
 */
import * as multisig from '@sqds/multisig';
import type { PublicKey} from '@solana/web3.js';
import { Keypair, NONCE_ACCOUNT_LENGTH, SystemProgram, VersionedTransaction } from '@solana/web3.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TreasuryStore } from '../../src/db/store.ts';
import { jupiterClientProbe } from '../../src/oracles/jupiter-v2-probe.ts';
import { OracleFailure } from '../../src/oracles/resilience.ts';
import { base58, type Chain } from '../../src/solana/chain.ts';
import { SolanaTreasury, attemptsOf, type SolanaTreasuryOptions } from '../../src/solana/executor.ts';
import { JupiterError, jupiterClient, type JupiterClientOptions } from '../../src/solana/jupiter.ts';
import { createNonceAccountInstructions } from '../../src/solana/nonce.ts';
import { SquadsTreasury } from '../../src/solana/squads-treasury.ts';
import { vaultAddress } from '../../src/solana/squads.ts';
import { DECIMALS, UNIT, fakeJupiter, makeWorld, sendNow, storeWithIntervention, type FakeJupiter, type World } from './world.ts';

const ID = 'intervention/pstr-main/1';
const KEY = 'jup-key-4b1e-never-logged';
const T0 = 1_800_000_000_000;

let world: World;
let jup: FakeJupiter;
let store: TreasuryStore;

beforeEach(async () => {
  world = makeWorld();
  jup = await fakeJupiter(world);
  store = await storeWithIntervention(ID);
});
afterEach(async () => {
  await jup.close();
  await store.close();
});

const taker = () => world.treasury.publicKey.toBase58();
/** A fixed clock that only the injected sleep moves: waits are counted, never taken. */
function fakeTime() {
  const t = { now: T0, sleeps: [] as number[] };
  return { t, clock: () => t.now, sleep: async (ms: number) => { t.sleeps.push(ms); t.now += ms; } };
}
const v2 = (over: Partial<JupiterClientOptions> = {}) => jupiterClient({ api: 'v2', baseUrl: jup.v2BaseUrl, apiKey: KEY, taker: taker(), ...over });
const pair = () => ({ inputMint: world.mints.pump.toBase58(), outputMint: world.mints.pstr.toBase58() });

describe('the Jupiter Swap API V2 client', () => {
  it('quotes and builds in one /build call for the taker, with the x-api-key, the exact amount and our slippage, and reuses those instructions', async () => {
    const client = v2();
    const amount = 2n ** 60n + 7n;
    const q = await client.quote({ ...pair(), amount, slippageBps: 120 });
    expect(q).toMatchObject({ inAmount: amount, outAmount: amount / 10n, slippageBps: 120 });
    expect(jup.builds).toEqual([{ amount: amount.toString(), slippageBps: 120, taker: taker(), apiKey: KEY }]);
    const ixs = await client.swapInstructions(q, { userPublicKey: taker() });
    // The instructions came with the quote: no second request, and nothing from v1.
    expect(jup.builds).toHaveLength(1);
    expect(jup.swapInstructionCalls).toBe(0);
    expect(ixs.swap.programId.toBase58()).toBe('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA');
    expect(ixs.setup).toHaveLength(1);
    expect(ixs.cleanup).not.toBeNull();
    expect(ixs.lookupTableAddresses).toEqual([]);
  });

  it('builds again for another wallet, and refuses a rebuild whose on-chain minimum fell below the quoted one', async () => {
    const client = v2();
    const q = await client.quote({ ...pair(), amount: 1_000n * UNIT, slippageBps: 50 });
    const other = Keypair.generate().publicKey.toBase58();
    await client.swapInstructions(q, { userPublicKey: other });
    expect(jup.builds.map((b) => b.taker)).toEqual([taker(), other]);
    jup.rate = { num: 1n, den: 11n };
    await expect(client.swapInstructions(q, { userPublicKey: Keypair.generate().publicKey.toBase58() })).rejects.toThrow(/on-chain minimum \d+ is below the quoted \d+; nothing built/);
  });

  it('refuses to build without a taker, before any request', async () => {
    await expect(jupiterClient({ api: 'v2', baseUrl: jup.v2BaseUrl }).quote({ ...pair(), amount: 10n, slippageBps: 50 })).rejects.toThrow(/no taker/);
    expect(jup.builds).toEqual([]);
  });

  it('uses v1 (/quote + /swap-instructions) only when asked for; a /swap/v2 root or no api chosen means /build', async () => {
    const asked = jupiterClient({ api: 'v1', baseUrl: jup.baseUrl });
    const q1 = await asked.quote({ ...pair(), amount: 100n * UNIT, slippageBps: 50 });
    await asked.swapInstructions(q1, { userPublicKey: taker() });
    expect({ quotes: jup.quotes.length, swapInstructions: jup.swapInstructionCalls, builds: jup.builds.length }).toEqual({ quotes: 1, swapInstructions: 1, builds: 0 });
    await jupiterClient({ baseUrl: jup.v2BaseUrl, taker: taker() }).quote({ ...pair(), amount: 100n * UNIT, slippageBps: 50 });
    expect(jup.builds).toHaveLength(1);
    expect(jup.swapInstructionCalls).toBe(1);
  });

  it('names a refused key as such (401, not retryable), without the key', async () => {
    jup.rateLimit = () => ({ status: 401, headers: {} });
    const err = await v2().quote({ ...pair(), amount: 1n, slippageBps: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JupiterError);
    expect(err).toMatchObject({ status: 401, retryable: false });
    expect((err as Error).message).toMatch(/HTTP 401: .*Invalid API key \(the x-api-key was refused or is missing: check solana\.jupiter\.apiKey/);
    expect((err as Error).message).not.toContain(KEY);
  });
});

describe("Jupiter's rate limit (x-ratelimit-* headers)", () => {
  it('waits for the reset once a window says 0 remaining, then sends: one wait, counted, and no request into the exhausted window', async () => {
    const time = fakeTime();
    jup.rateLimit = (n) => ({ headers: { 'x-ratelimit-remaining': n === 1 ? '0' : '59', 'x-ratelimit-current': String(n), 'x-ratelimit-reset': '2' } });
    const client = v2({ clock: time.clock, sleep: time.sleep, maxRateLimitWaitMs: 5_000 });
    await client.quote({ ...pair(), amount: 10n * UNIT, slippageBps: 50 });
    expect(time.t.sleeps).toEqual([]);
    await client.quote({ ...pair(), amount: 20n * UNIT, slippageBps: 50 });
    expect(time.t.sleeps).toEqual([2_000]);
    expect(jup.builds.map((b) => b.amount)).toEqual([(10n * UNIT).toString(), (20n * UNIT).toString()]);
    // A window with requests left: no wait.
    await client.quote({ ...pair(), amount: 30n * UNIT, slippageBps: 50 });
    expect(time.t.sleeps).toEqual([2_000]);
  });

  it('fails at once, retryable and naming the reset, when the window resets later than it may wait; nothing is sent until then', async () => {
    const time = fakeTime();
    jup.rateLimit = () => ({ headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-current': '60', 'x-ratelimit-reset': '30' } });
    const client = v2({ clock: time.clock, sleep: time.sleep, maxRateLimitWaitMs: 2_000 });
    await client.quote({ ...pair(), amount: 10n * UNIT, slippageBps: 50 });
    for (let i = 0; i < 3; i++) {
      const err = await client.quote({ ...pair(), amount: 10n * UNIT, slippageBps: 50 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JupiterError);
      expect(err).toMatchObject({ status: 429, retryable: true, retryAt: T0 + 30_000 });
      expect((err as Error).message).toMatch(/not sent: Jupiter's rate limit is exhausted \(0 requests left in its 60 s window, 60 used\); it resets at .* \(in 30 s\)/);
    }
    expect(jup.builds).toHaveLength(1);
    expect(time.t.sleeps).toEqual([]);
    // Once the window has reset, requests flow again.
    time.t.now = T0 + 30_000;
    jup.rateLimit = () => null;
    await client.quote({ ...pair(), amount: 10n * UNIT, slippageBps: 50 });
    expect(jup.builds).toHaveLength(2);
  });

  it('takes a 429 as an exhausted window: the error is retryable with its reset, the next call waits it out instead of hammering', async () => {
    const time = fakeTime();
    jup.rateLimit = (n) => (n === 1 ? { status: 429, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' } } : null);
    const client = v2({ clock: time.clock, sleep: time.sleep });
    const err = await client.quote({ ...pair(), amount: 10n * UNIT, slippageBps: 50 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, retryable: true, retryAt: T0 + 1_000 });
    expect((err as Error).message).toMatch(/HTTP 429: .*Rate limit exceeded.*rate limited; the window resets at/);
    expect((err as Error).message).not.toContain(KEY);
    await client.quote({ ...pair(), amount: 10n * UNIT, slippageBps: 50 });
    expect(time.t.sleeps).toEqual([1_000]);
    expect(jup.builds).toHaveLength(2);
  });

  it("reaches the DEX probe as a rate-limited oracle failure, so resilience.ts backs off and counts it", async () => {
    jup.rateLimit = () => ({ status: 429, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '40' } });
    const probe = jupiterClientProbe(v2(), { ...pair(), inputDecimals: DECIMALS, outputDecimals: DECIMALS, amount: 100 * 10 ** DECIMALS, quote: 'output-in-input' });
    const err = await probe(new AbortController().signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OracleFailure);
    expect(err).toMatchObject({ source: 'dex-twap', kind: 'rate-limited', status: 429 });
  });
});

describe('the money paths built from /build', () => {
  const spec = (mint: PublicKey) => ({ mint, decimals: DECIMALS });
  const solana = (extra: Partial<SolanaTreasuryOptions> = {}) => new SolanaTreasury({
    treasuryId: 'pstr-main', store, chain: world.chain, jupiter: v2(), payer: world.treasury, cosigners: [world.pool],
    tokens: { pump: spec(world.mints.pump), pstr: spec(world.mints.pstr), usdc: spec(world.mints.usdc) },
    maxSlippageBps: 200, priorityFee: { percentile: 75, maxMicroLamports: 200_000 },
    pollIntervalMs: 1, resendIntervalMs: 1, confirmTimeoutMs: 1_000, sleep: async () => world.chain.advanceSlots(10),
    ...extra,
  });
  const recorded = async () => attemptsOf({ status: 'confirmed', amountIn: 0n, amountOut: 0n, signature: null, details: (await store.swap(ID, 0))?.details as Record<string, unknown> });

  it('direct: one /build for the treasury, one transaction on LiteSVM, the realized output from the chain', async () => {
    jup.fill = (quoted) => quoted - quoted / 100n;
    const before = await world.balance(world.treasury.publicKey, world.mints.pump);
    const r = await solana().swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 95n * UNIT });
    expect(r).toMatchObject({ status: 'confirmed', pumpIn: 1_000n * UNIT, pstrOut: 99n * UNIT });
    expect(await world.balance(world.treasury.publicKey, world.mints.pump)).toBe(before - 1_000n * UNIT);
    expect(await world.balance(world.treasury.publicKey, world.mints.pstr)).toBe(99n * UNIT);
    expect(jup.builds).toEqual([{ amount: (1_000n * UNIT).toString(), slippageBps: 200, taker: taker(), apiKey: KEY }]);
    expect(jup.swapInstructionCalls).toBe(0);
    expect((await recorded())[0]?.lifetime.kind).toBe('blockhash');
  });

  it('durable nonce: the /build instructions after nonceAdvance, confirmed once', async () => {
    const nonceAccount = Keypair.generate();
    const lamports = Number(world.svm.minimumBalanceForRentExemption(BigInt(NONCE_ACCOUNT_LENGTH)));
    sendNow(world.svm, world.treasury, createNonceAccountInstructions({ payer: world.treasury.publicKey, nonceAccount: nonceAccount.publicKey, authority: world.treasury.publicKey, lamports }), [nonceAccount]);
    world.svm.expireBlockhash();
    const r = await solana({ durableNonce: { authority: world.treasury, accounts: { intervention: nonceAccount.publicKey } } })
      .swap({ interventionId: ID, slice: 0, pumpIn: 500n * UNIT, minPstrOut: 0n });
    expect(r).toMatchObject({ status: 'confirmed', pstrOut: 50n * UNIT });
    const [attempt] = await recorded();
    expect(attempt?.lifetime.kind).toBe('nonce');
    const tx = VersionedTransaction.deserialize(Buffer.from(attempt?.tx ?? '', 'base64'));
    const first = tx.message.compiledInstructions[0];
    expect(tx.message.staticAccountKeys[first?.programIdIndex ?? -1]?.equals(SystemProgram.programId)).toBe(true);
    expect(jup.builds.map((b) => b.taker)).toEqual([taker()]);
  });

  it("Squads: one /build for the vault as taker, its swap instruction inside the proposed vault transaction", async () => {
    const multisigPda = Keypair.generate().publicKey;
    const member = Keypair.generate();
    const vault = vaultAddress(multisigPda, 0);
    const sends: Uint8Array[] = [];
    const [msData] = multisig.accounts.Multisig.fromArgs({
      createKey: Keypair.generate().publicKey, configAuthority: SystemProgram.programId, threshold: 2, timeLock: 0, transactionIndex: 4,
      staleTransactionIndex: 0, rentCollector: null, bump: 254,
      members: [{ key: member.publicKey, permissions: multisig.types.Permissions.fromPermissions([multisig.types.Permission.Initiate]) }],
    }).serialize();
    const chain: Chain = {
      ...world.chain,
      accountData: async (a) => (a.equals(multisigPda) ? new Uint8Array(msData) : world.chain.accountData(a)),
      async sendRawTransaction(bytes) {
        sends.push(bytes);
        return base58(VersionedTransaction.deserialize(bytes).signatures[0] as Uint8Array);
      },
      // Only what was sent lands (the proposal transaction is never put on LiteSVM: no Squads program there).
      signatureStatus: async (sig) => (sends.some((b) => base58(VersionedTransaction.deserialize(b).signatures[0] as Uint8Array) === sig) ? { slot: 1, err: null, confirmation: 'confirmed' } : null),
      tokenBalance: async () => 10_000n * UNIT,
    };
    const t = new SquadsTreasury({
      treasuryId: 'pstr-main', store, chain, jupiter: v2({ taker: () => vault.toBase58() }), member, multisig: multisigPda, vaultIndex: 0,
      tokens: { pump: spec(world.mints.pump), pstr: spec(world.mints.pstr), usdc: spec(world.mints.usdc) },
      maxSlippageBps: 200, priorityFee: { percentile: 75, maxMicroLamports: 200_000 },
    });
    const r = await t.swap({ interventionId: ID, slice: 0, pumpIn: 1_000n * UNIT, minPstrOut: 95n * UNIT });
    expect(r).toMatchObject({ status: 'pending', pumpIn: 1_000n * UNIT });
    expect(jup.builds).toEqual([{ amount: (1_000n * UNIT).toString(), slippageBps: 200, taker: vault.toBase58(), apiKey: KEY }]);
    expect(sends).toHaveLength(1);
    const tx = VersionedTransaction.deserialize(sends[0] as Uint8Array);
    const keys = tx.message.staticAccountKeys;
    const [create] = tx.message.compiledInstructions.filter((i) => keys[i.programIdIndex]?.equals(multisig.PROGRAM_ID));
    const [args] = multisig.generated.vaultTransactionCreateStruct.deserialize(Buffer.from((create as { data: Uint8Array }).data));
    const [message] = multisig.types.transactionMessageBeet.deserialize(Buffer.from(args.args.transactionMessage));
    expect(message.accountKeys[0]?.equals(vault)).toBe(true);
    // The vault's PUMP leg from /build: 1,000 PUMP out of the vault's account.
    const legs = message.instructions.filter((i) => Buffer.from(i.data)[0] === 12 && Buffer.from(i.data).readBigUInt64LE(1) === 1_000n * UNIT);
    expect(legs).toHaveLength(1);
    const leg = legs[0] as multisig.types.CompiledMsInstruction;
    expect(message.accountKeys[leg.accountIndexes[0] as number]?.equals(world.ata(vault, world.mints.pump))).toBe(true);
  });
});

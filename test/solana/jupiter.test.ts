import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JupiterError, jupiterClient, parseSwapInstructions, slippageBpsForFloor, thresholdFor } from '../../src/solana/jupiter.ts';
import { fixture } from './world.ts';

const quoteFixture = fixture('jupiter-swap-v1-quote-sol-usdc.docs.json');
const errorFixture = fixture('jupiter-quote-error-400.api-client-tests.json');
const SOL = 'So11111111111111111111111111111111111111112';
const USDC = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';

/** Serves the recorded payloads; `next` picks the answer of the next request. */
let next: { status: number; body: unknown } = { status: 200, body: quoteFixture.body };
let lastRequest: { url: string; headers: Record<string, unknown> } | null = null;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    lastRequest = { url: req.url ?? '', headers: req.headers };
    res.writeHead(next.status, { 'content-type': 'application/json' }).end(typeof next.body === 'string' ? next.body : JSON.stringify(next.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/swap/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('jupiterClient', () => {
  it('parses the recorded quote and sends the amount as an exact decimal string', async () => {
    next = { status: 200, body: quoteFixture.body };
    const q = await jupiterClient({ baseUrl, apiKey: 'k-123456' }).quote({ inputMint: SOL, outputMint: USDC, amount: 100_000_000n, slippageBps: 50 });
    expect(q).toMatchObject({ inAmount: 100_000_000n, outAmount: 16_198_753n, otherAmountThreshold: 16_117_760n, slippageBps: 50 });
    expect(q.raw).toEqual(quoteFixture.body);
    const url = new URL(lastRequest?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/swap/v1/quote');
    expect(url.searchParams.get('amount')).toBe('100000000');
    expect(lastRequest?.headers['x-api-key']).toBe('k-123456');
  });

  it('keeps amounts above 2^53 exact', async () => {
    const big = 2n ** 60n + 1n;
    next = { status: 200, body: { ...quoteFixture.body, inAmount: big.toString(), outAmount: (big * 3n).toString() } };
    const q = await jupiterClient({ baseUrl }).quote({ inputMint: SOL, outputMint: USDC, amount: big, slippageBps: 50 });
    expect(new URL(lastRequest?.url ?? '', 'http://x').searchParams.get('amount')).toBe(big.toString());
    expect(q.outAmount).toBe(big * 3n);
  });

  it("surfaces a 400 with the body's message", async () => {
    next = { status: errorFixture.status ?? 400, body: errorFixture.body };
    const call = jupiterClient({ baseUrl, apiKey: 'secret-key-1' }).quote({ inputMint: SOL, outputMint: USDC, amount: 1n, slippageBps: 50 });
    await expect(call).rejects.toThrow(/HTTP 400: Query parameter amount cannot be parsed: ParseIntError/);
    await expect(call).rejects.toBeInstanceOf(JupiterError);
    await expect(call).rejects.not.toThrow(/secret-key-1/);
  });

  it('names the error code of the {errorCode, error} shape', async () => {
    next = { status: 400, body: { errorCode: 'INVALID_REQUEST', error: 'Cannot set dexes and exclude dexes at the same time' } };
    await expect(jupiterClient({ baseUrl }).quote({ inputMint: SOL, outputMint: USDC, amount: 1n, slippageBps: 50 }))
      .rejects.toThrow('HTTP 400: INVALID_REQUEST: Cannot set dexes and exclude dexes at the same time');
  });

  it('refuses a malformed quote, naming the field', async () => {
    const { outAmount: _dropped, ...rest } = quoteFixture.body;
    next = { status: 200, body: rest };
    await expect(jupiterClient({ baseUrl }).quote({ inputMint: SOL, outputMint: USDC, amount: 100_000_000n, slippageBps: 50 })).rejects.toThrow(/outAmount/);
  });

  it('refuses a quote for another amount or pair than asked', async () => {
    next = { status: 200, body: quoteFixture.body };
    await expect(jupiterClient({ baseUrl }).quote({ inputMint: SOL, outputMint: USDC, amount: 5n, slippageBps: 50 })).rejects.toThrow(/answered 100000000 .* asked 5/);
  });

  it('decodes swap-instructions into web3.js instructions', () => {
    const ix = { programId: SOL, accounts: [{ pubkey: USDC, isSigner: false, isWritable: true }], data: Buffer.from([1, 2, 3]).toString('base64') };
    const r = parseSwapInstructions({ computeBudgetInstructions: [], setupInstructions: [ix], swapInstruction: ix, cleanupInstruction: null, otherInstructions: [], addressLookupTableAddresses: [USDC] });
    expect(r.swap.programId.toBase58()).toBe(SOL);
    expect([...r.swap.data]).toEqual([1, 2, 3]);
    expect(r.cleanup).toBeNull();
    expect(r.lookupTableAddresses.map((k) => k.toBase58())).toEqual([USDC]);
    expect(() => parseSwapInstructions({ swapInstruction: { ...ix, programId: 'not-a-key' } })).toThrow(/programId/);
  });
});

describe('slippage for a floor', () => {
  it("reproduces the fixture's otherAmountThreshold (ceil, not floor)", () => {
    expect(thresholdFor(16_198_753n, 50)).toBe(16_117_760n);
  });

  it('gives a slippage whose on-chain minimum never falls below the floor', () => {
    fc.assert(fc.property(fc.bigInt({ min: 1n, max: 10n ** 20n }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), (out, floorBps, maxBps) => {
      const floor = (out * BigInt(10_000 - floorBps)) / 10_000n;
      const bps = slippageBpsForFloor(out, floor, maxBps);
      expect(bps).not.toBeNull();
      expect(bps as number).toBeLessThanOrEqual(maxBps);
      expect(thresholdFor(out, bps as number)).toBeGreaterThanOrEqual(floor);
    }));
  });

  it('has no slippage to give when the quote is below the floor', () => {
    expect(slippageBpsForFloor(99n, 100n, 200)).toBeNull();
    expect(slippageBpsForFloor(100n, 100n, 200)).toBe(0);
    expect(slippageBpsForFloor(1000n, 995n, 200)).toBe(50);
  });
});

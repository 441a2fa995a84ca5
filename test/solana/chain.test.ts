import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Connection, Keypair } from '@solana/web3.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base58, priorityFee, reached, rpcChain } from '../../src/solana/chain.ts';

describe('priorityFee', () => {
  it('takes the nearest-rank percentile and caps it', () => {
    expect(priorityFee([50, 100, 5_000, 300_000], { percentile: 75, maxMicroLamports: 200_000 })).toBe(5_000);
    expect(priorityFee([50, 100, 5_000, 300_000], { percentile: 100, maxMicroLamports: 200_000 })).toBe(200_000);
    expect(priorityFee([50, 100, 5_000, 300_000], { percentile: 0, maxMicroLamports: 200_000 })).toBe(50);
    expect(priorityFee([], { percentile: 75, maxMicroLamports: 200_000 })).toBe(0);
  });

  it('never exceeds the cap, is one of the samples below it, and grows with the percentile', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 5_000_000 }), (fees, p, q, cap) => {
      const fee = priorityFee(fees, { percentile: p, maxMicroLamports: cap });
      expect(fee).toBeLessThanOrEqual(cap);
      if (fee < cap) expect(fees).toContain(fee);
      const [lo, hi] = p <= q ? [p, q] : [q, p];
      expect(priorityFee(fees, { percentile: lo, maxMicroLamports: cap })).toBeLessThanOrEqual(priorityFee(fees, { percentile: hi, maxMicroLamports: cap }));
    }));
  });

  it('refuses a percentile outside [0, 100]', () => {
    expect(() => priorityFee([1], { percentile: 101, maxMicroLamports: 1 })).toThrow('priorityFee: percentile must be in [0, 100], got 101');
  });
});

describe('base58 and reached', () => {
  it('encodes like web3.js does for 32 bytes, leading zeros as 1', () => {
    const k = Keypair.generate().publicKey;
    expect(base58(k.toBytes())).toBe(k.toBase58());
    expect(base58(new Uint8Array([0, 0, 1]))).toBe('112');
  });

  it('counts finalized as confirmed, processed as neither', () => {
    expect(reached({ slot: 1, err: null, confirmation: 'finalized' }, 'confirmed')).toBe(true);
    expect(reached({ slot: 1, err: null, confirmation: 'processed' }, 'confirmed')).toBe(false);
  });
});

describe('rpcChain over JSON-RPC', () => {
  const calls: { method: string; params: unknown[] }[] = [];
  let server: Server;
  let url: string;
  const answers: Record<string, (params: unknown[]) => unknown> = {
    getSignatureStatuses: (params) => ({
      context: { slot: 10 },
      value: (params[0] as string[]).map((s) => (s === 'landed' ? { slot: 9, confirmations: null, err: { InstructionError: [2, { Custom: 1 }] }, confirmationStatus: 'finalized' } : null)),
    }),
    getBlockHeight: () => 1234,
    getTransaction: (params) => (params[0] !== 'consumer' ? null : {
      slot: 9, blockTime: null, version: 'legacy', meta: null,
      transaction: {
        signatures: ['consumer'],
        message: {
          header: { numRequiredSignatures: 1, numReadonlySignedAccounts: 0, numReadonlyUnsignedAccounts: 1 },
          accountKeys: ['11111111111111111111111111111112', '11111111111111111111111111111111'],
          recentBlockhash: 'GHtXQBsoZHVnNFa9YevAzFr17DJjgHXk3ycTKD5xD3Zi',
          instructions: [{ programIdIndex: 1, accounts: [0], data: '' }],
        },
      },
    }),
    getRecentPrioritizationFees: () => [{ slot: 1, prioritizationFee: 10 }, { slot: 2, prioritizationFee: 30 }],
  };
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { id: number; method: string; params: unknown[] };
        calls.push({ method: body.method, params: body.params });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: answers[body.method]?.(body.params) ?? null }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('asks for signature statuses with history search and maps the error', async () => {
    const chain = rpcChain(new Connection(url, 'confirmed'));
    expect(await chain.signatureStatus('landed')).toEqual({ slot: 9, err: '{"InstructionError":[2,{"Custom":1}]}', confirmation: 'finalized' });
    expect(await chain.signatureStatus('unknown')).toBeNull();
    expect(calls.at(-1)?.params[1]).toEqual({ searchTransactionHistory: true });
  });

  it('reads the blockhash (for a durable-nonce transaction, the nonce it consumed) of a finalized transaction, null for an unknown one', async () => {
    const chain = rpcChain(new Connection(url, 'confirmed'));
    expect(await chain.transactionBlockhash?.('consumer')).toBe('GHtXQBsoZHVnNFa9YevAzFr17DJjgHXk3ycTKD5xD3Zi');
    expect(calls.at(-1)?.params[1]).toMatchObject({ commitment: 'finalized', maxSupportedTransactionVersion: 0 });
    expect(await chain.transactionBlockhash?.('unknown')).toBeNull();
  });

  it('judges expiry on the finalized block height and reads recent fees', async () => {
    const chain = rpcChain(new Connection(url, 'confirmed'));
    expect(await chain.blockHeight()).toBe(1234);
    expect(calls.at(-1)?.params[0]).toMatchObject({ commitment: 'finalized' });
    expect(await chain.recentPrioritizationFees([])).toEqual([10, 30]);
  });
});

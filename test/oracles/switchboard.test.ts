/**
 * Switchboard is tested at the loader boundary with an object of the shape
 * `PullFeed.loadData()` returns (bn.js BNs, web3.js PublicKeys), not against an
 * encoded account: the SDK ships no IDL. `AnchorUtils.loadProgramFromConnection`
 * fetches the program's IDL from chain, so decoding a PullFeed account on a
 * local JSON-RPC server would need Switchboard's on-chain IDL, which is not
 * available here. The SDK loader itself is exercised against a local JSON-RPC
 * server up to that point: it calls the configured RPC, and its errors come
 * back as typed failures.
 */
import BN from 'bn.js';
import fc from 'fast-check';
import { PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config-schema.ts';
import { connectionFor } from '../../src/oracles/index.ts';
import { ResilientRead } from '../../src/oracles/resilience.ts';
import { fromFixed18, readingFromPullFeed, sdkFeedLoader, switchboardRead } from '../../src/oracles/switchboard.ts';
import { FixtureServer } from './fixture-server.ts';

const FEED = '7Zi7LkGGARDKhUEFPBUQDsVZ9L965LPEv2rBRdmSXCWh';
const UPDATED_S = 1715627140;
const NOW = UPDATED_S * 1000 + 4_000;

/** The fields of PullFeedAccountData as loadData() returns them (BN for i128/u64/i64). */
function pullFeedData(over: { value?: string; stdDev?: string; lastUpdateTimestamp?: number } = {}) {
  const e18 = (s: string) => new BN(s);
  return {
    submissions: [{ oracle: new PublicKey(FEED), slot: new BN(299283700), value: e18(over.value ?? '12500000000000000') }],
    authority: PublicKey.default,
    queue: PublicKey.default,
    feedHash: new Uint8Array(32),
    initializedAt: new BN(1700000000),
    permissions: new BN(0),
    maxVariance: new BN(1_000_000_000),
    minResponses: 1,
    name: new Uint8Array(32),
    sampleSize: 1,
    lastUpdateTimestamp: new BN(over.lastUpdateTimestamp ?? UPDATED_S),
    lutSlot: new BN(0),
    result: {
      value: e18(over.value ?? '12500000000000000'),
      stdDev: e18(over.stdDev ?? '25000000000000'),
      mean: e18('12500000000000000'),
      range: new BN(0),
      minValue: e18('12500000000000000'),
      maxValue: e18('12500000000000000'),
      slot: new BN(299283700),
      minSlot: new BN(299283700),
      maxSlot: new BN(299283700),
    },
    maxStaleness: 250,
    minSampleSize: 1,
    historicalResultIdx: 0,
    historicalResults: [],
  };
}

describe('fromFixed18', () => {
  it('reads 18-decimal fixed point exactly at the hand-checked boundaries', () => {
    expect(fromFixed18('1000000000000000000')).toBe(1);
    expect(fromFixed18('12500000000000000')).toBe(0.0125);
    expect(fromFixed18('1')).toBe(1e-18);
    expect(fromFixed18('-1500000000000000000')).toBe(-1.5);
    expect(fromFixed18('0')).toBe(0);
  });

  it('agrees with the exact decimal value to the nearest double (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (x) => {
        const abs = x < 0n ? -x : x;
        const exact = `${x < 0n ? '-' : ''}${abs / 10n ** 18n}.${(abs % 10n ** 18n).toString().padStart(18, '0')}`;
        expect(fromFixed18(x.toString())).toBe(Number(exact));
      }),
    );
  });
});

describe('Switchboard PullFeed reading (loader boundary, loadData() shape)', () => {
  it('takes result.value as the price, result.stdDev as the confidence and lastUpdateTimestamp as the publish time', () => {
    expect(readingFromPullFeed(pullFeedData(), { feed: FEED })).toEqual({ source: 'switchboard', price: 0.0125, confidence: 0.000025, publishTime: UPDATED_S * 1000 });
  });

  it('reads through an injected loader, a fresh load per read', async () => {
    let loads = 0;
    const read = switchboardRead(async (feed) => {
      loads++;
      expect(feed).toBe(FEED);
      return pullFeedData({ value: loads === 1 ? '12500000000000000' : '13000000000000000' });
    }, FEED, { maxStalenessSeconds: 60, clock: () => NOW });
    const signal = new AbortController().signal;
    expect((await read(signal)).price).toBe(0.0125);
    expect((await read(signal)).price).toBe(0.013);
  });

  it('is stale when the last update is more than 60 s old, and never-updated feeds say so', async () => {
    const read = switchboardRead(async () => pullFeedData(), FEED, { maxStalenessSeconds: 60, clock: () => UPDATED_S * 1000 + 60_001 });
    await expect(read(new AbortController().signal)).rejects.toMatchObject({ kind: 'stale', detail: expect.stringMatching(/published 60.001 s before now/) as unknown });
    expect(() => readingFromPullFeed(pullFeedData({ lastUpdateTimestamp: 0 }), { feed: FEED })).toThrow(/never updated \(lastUpdateTimestamp 0\)/);
  });

  it('names the field of a malformed account: a missing result, a plain object for a BN, a negative std-dev', () => {
    const { result: _r, ...noResult } = pullFeedData();
    expect(() => readingFromPullFeed(noResult, { feed: FEED })).toThrow(`switchboard: malformed: feed ${FEED}: result = missing is not an object`);
    const plain = pullFeedData();
    (plain.result as { value: unknown }).value = { words: [1] };
    expect(() => readingFromPullFeed(plain, { feed: FEED })).toThrow(/result.value = \{"words":\[1\]\} is not an 18-decimal integer/);
    expect(() => readingFromPullFeed(pullFeedData({ stdDev: '-5' }), { feed: FEED })).toThrow(/result.stdDev = -5 is not a non-negative/);
  });

  it('bounds a loader that hangs (the SDK cannot be aborted) with the resilience timeout', async () => {
    const hang = switchboardRead(() => new Promise(() => {}), FEED, { maxStalenessSeconds: 60, clock: () => NOW });
    const started = performance.now();
    const r = new ResilientRead('switchboard', hang, { timeoutMs: 100, retries: 0, retryBackoffMs: 10, breaker: { failureThreshold: 3, cooldownMs: 1000 } });
    await expect(r.call()).rejects.toMatchObject({ kind: 'timeout' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('Switchboard SDK loader against a JSON-RPC server on 127.0.0.1', () => {
  let rpc: FixtureServer;
  let mode: 'rate-limited' | 'no-idl' = 'no-idl';
  beforeAll(async () => {
    rpc = await FixtureServer.start();
    rpc.on('POST', '/', (r) => {
      const req = JSON.parse(r.body) as { id: number; method: string };
      if (mode === 'rate-limited') return { status: 429, body: 'Too many requests for a specific RPC call' };
      if (req.method === 'getGenesisHash') return { json: { jsonrpc: '2.0', id: req.id, result: '5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d' } };
      return { json: { jsonrpc: '2.0', id: req.id, result: { context: { slot: 1 }, value: null } } };
    });
  });
  afterAll(async () => rpc.close());
  const config = () => parseConfig({ solana: { rpcUrl: rpc.url } });

  it('reports an RPC 429 as rate-limited at once, without web3.js retrying it for seconds', async () => {
    mode = 'rate-limited';
    const read = switchboardRead(sdkFeedLoader(connectionFor(config())), FEED, { maxStalenessSeconds: 60 });
    const started = performance.now();
    await expect(read(new AbortController().signal)).rejects.toMatchObject({ kind: 'rate-limited', status: 429 });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(rpc.requests.map((r) => (JSON.parse(r.body) as { method: string }).method)).toContain('getAccountInfo');
  });

  it('reports a program whose IDL the RPC does not have as unavailable, naming the feed', async () => {
    mode = 'no-idl';
    const read = switchboardRead(sdkFeedLoader(connectionFor(config())), FEED, { maxStalenessSeconds: 60 });
    await expect(read(new AbortController().signal)).rejects.toMatchObject({ kind: 'unavailable', detail: expect.stringMatching(new RegExp(`feed ${FEED}: IDL not found`)) as unknown });
  });
});

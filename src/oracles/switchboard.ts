/**
 * Switchboard On-Demand (`@switchboard-xyz/on-demand` 3.10.4): the PSTR/USD
 * PullFeed account's current result as a SPEC §2 reading.
 *
 * `result.value` (the median of the oracle submissions) is the price and
 * `result.stdDev` the confidence, both i128 fixed-point with 18 decimals (BN);
 * `lastUpdateTimestamp` (unix seconds) is the publish time, so staleness is
 * measured from the feed's last update. (`maxStaleness` on the account is in
 * slots and is the feed owner's limit for on-chain consumers; ours is SPEC
 * §2's 60 s.)
 *
 * The SDK sits behind a narrow `FeedLoader` (feed address → the account's
 * fields). The live loader builds the Anchor program once and a fresh
 * `PullFeed` per read, because `PullFeed.loadData()` caches the account on the
 * instance. The SDK is imported lazily: it is large, and paper mode or the
 * tests never need it.
 */
import type { Connection } from '@solana/web3.js';
import type { AnchorUtils } from '@switchboard-xyz/on-demand';
import type { OracleReading } from '../domain/consensus.ts';
import { checkFresh } from './pyth.ts';
import { classifyError, OracleFailure } from './resilience.ts';

export const SWITCHBOARD_SOURCE = 'switchboard';

/** Anything whose toString() gives the base-10 integer: bn.js BN, bigint, an integer string. */
export type IntegerLike = { toString(base?: number): string };

/** The fields of `PullFeedAccountData` this adapter reads (the SDK's own type has more). */
export interface PullFeedFields {
  result: { value: IntegerLike; stdDev: IntegerLike };
  lastUpdateTimestamp: IntegerLike;
}

/** Loads the feed account's current data; `signal` is advisory (the SDK cannot abort). */
export type FeedLoader = (feed: string, signal?: AbortSignal) => Promise<unknown>;

/** The SDK loader: `AnchorUtils.loadProgramFromConnection(connection)` once, then `new PullFeed(program, feed).loadData()` per read. */
export function sdkFeedLoader(connection: Connection): FeedLoader {
  type Program = Awaited<ReturnType<typeof AnchorUtils.loadProgramFromConnection>>;
  let program: Promise<Program> | null = null;
  return async (feed) => {
    const sdk = await import('@switchboard-xyz/on-demand');
    // Loading the program fetches its IDL from chain; a failure is not cached, so the next read tries again.
    program ??= sdk.AnchorUtils.loadProgramFromConnection(connection).catch((err: unknown) => {
      program = null;
      throw err;
    });
    return new sdk.PullFeed(await program, feed).loadData();
  };
}

const DECIMALS = 18;

/** An 18-decimal fixed-point integer (as its base-10 string) → number, correctly rounded via a decimal string. */
export function fromFixed18(integer: string): number {
  const negative = integer.startsWith('-');
  const digits = (negative ? integer.slice(1) : integer).padStart(DECIMALS + 1, '0');
  return Number(`${negative ? '-' : ''}${digits.slice(0, -DECIMALS)}.${digits.slice(-DECIMALS)}`);
}

export interface SwitchboardParseOptions {
  source?: string;
  feed: string;
  /** With maxStalenessSeconds: the staleness check's reference (epoch ms). */
  now?: number;
  maxStalenessSeconds?: number;
}

/** PullFeed account data → a reading; throws a `malformed` failure naming the field, or a `stale` one. */
export function readingFromPullFeed(data: unknown, o: SwitchboardParseOptions): OracleReading {
  const source = o.source ?? SWITCHBOARD_SOURCE;
  const bad = (field: string, value: unknown, want: string) =>
    new OracleFailure({ source, kind: 'malformed', detail: `feed ${o.feed}: ${field} = ${show(value)} is not ${want}` });
  if (!isRecord(data)) throw bad('account data', data, 'an object');
  const result = data.result;
  if (!isRecord(result)) throw bad('result', result, 'an object');
  const value = integerText(result.value);
  if (value === null || value === undefined) throw bad('result.value', result.value, 'an 18-decimal integer (BN)');
  const stdDev = integerText(result.stdDev);
  if (stdDev === null || stdDev === undefined || stdDev.startsWith('-')) throw bad('result.stdDev', result.stdDev, 'a non-negative 18-decimal integer (BN)');
  const ts = integerText(data.lastUpdateTimestamp);
  if (ts === null || ts === undefined || ts.startsWith('-')) throw bad('lastUpdateTimestamp', data.lastUpdateTimestamp, 'a non-negative integer of unix seconds');
  if (ts === '0') throw new OracleFailure({ source, kind: 'stale', detail: `feed ${o.feed}: never updated (lastUpdateTimestamp 0)` });
  const reading: OracleReading = { source, price: fromFixed18(value), confidence: fromFixed18(stdDev), publishTime: Number(ts) * 1000 };
  if (o.now !== undefined && o.maxStalenessSeconds !== undefined) checkFresh(reading, o.now, o.maxStalenessSeconds, `feed ${o.feed}: `);
  return reading;
}

/** A read function for resilience.ts. */
export function switchboardRead(
  loader: FeedLoader,
  feed: string,
  o: { source?: string; maxStalenessSeconds: number; clock?: () => number },
): (signal: AbortSignal) => Promise<OracleReading> {
  const source = o.source ?? SWITCHBOARD_SOURCE;
  const clock = o.clock ?? Date.now;
  return async (signal) => {
    let data: unknown;
    try {
      data = await loader(feed, signal);
    } catch (err) {
      throw signal.aborted && signal.reason instanceof OracleFailure ? signal.reason : loadFailure(source, feed, err);
    }
    return readingFromPullFeed(data, { source, feed, now: clock(), maxStalenessSeconds: o.maxStalenessSeconds });
  };
}

/** web3.js reports RPC HTTP errors as "429 Too Many Requests: …" / "failed to get info about account …: …". */
function loadFailure(source: string, feed: string, err: unknown): OracleFailure {
  const message = err instanceof Error ? err.message : String(err);
  const status = /\b(429|5\d\d)\b/.exec(message);
  if (status) {
    const code = Number(status[1]);
    return new OracleFailure({ source, kind: code === 429 ? 'rate-limited' : 'http', status: code, detail: `feed ${feed}: ${message.slice(0, 200)}` });
  }
  if (/Account does not exist|has no data/i.test(message)) {
    return new OracleFailure({ source, kind: 'unavailable', detail: `feed ${feed}: account not found (${message.slice(0, 120)})` });
  }
  const f = classifyError(source, err);
  return new OracleFailure({ source, kind: f.kind, ...(f.status !== undefined ? { status: f.status } : {}), detail: `feed ${feed}: ${f.detail}` });
}

function integerText(v: unknown): string | null | undefined {
  if (v === undefined || v === null) return undefined;
  const text = typeof v === 'string' || typeof v === 'bigint' ? v.toString() : typeof v === 'object' ? ownString(v) : null;
  return text !== null && /^-?\d+$/.test(text) ? text : null;
}

/** What a BN (or any object with its own toString) prints; null for a plain object, which would print "[object Object]". */
function ownString(v: object): string | null {
  const f = (v as { toString?: unknown }).toString;
  if (typeof f !== 'function' || f === Object.prototype.toString) return null;
  const text: unknown = (f as () => unknown).call(v);
  return typeof text === 'string' ? text : null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'bigint') return `${v}n`;
  const s = (typeof v === 'object' && v !== null ? ownString(v) : null) ?? JSON.stringify(v) ?? typeof v;
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

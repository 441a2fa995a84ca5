/**
 * Pyth through Hermes (`@pythnetwork/hermes-client` 3.x, Node 24): the latest price
 * of configured feeds as SPEC §2 readings.
 *
 * Hermes answers `{ binary, parsed: [{ id, price: { price, conf, expo,
 * publish_time }, ema_price, metadata }] }`. `price` and `conf` are integer
 * strings scaled by 10^expo, `publish_time` is unix seconds. Every field is
 * checked here, whatever the client's own schema let through; a bad one is a
 * `malformed` failure naming the feed, the field and the value.
 *
 * The client's own retries are turned off (`httpRetries: 0`): retries, the
 * timeout and the breaker belong to resilience.ts, so they are counted once.
 */
import { HermesClient } from '@pythnetwork/hermes-client';
import type { OracleReading } from '../domain/consensus.ts';
import { classifyError, OracleFailure } from './resilience.ts';

export const PYTH_SOURCE = 'pyth';

export interface HermesOptions {
  endpoint: string;
  /** Sent as `Authorization: Bearer <key>`; never logged. */
  apiKey?: string;
  /** The client's own per-request timeout; keep it ≥ the resilience timeout so ours decides. */
  timeoutMs: number;
}

export function createHermesClient(o: HermesOptions): HermesClient {
  // `accessToken` is sent as `Authorization: Bearer <key>` on the HTTP requests and on the SSE stream's request.
  return new HermesClient(o.endpoint, { timeout: o.timeoutMs, httpRetries: 0, ...(o.apiKey ? { accessToken: o.apiKey } : {}) });
}

export interface PythParseOptions {
  source?: string;
  /** Epoch ms; with maxStalenessSeconds, the reference for the staleness check (left out: no check). */
  now?: number;
  /** A price published more than this before (or after) `now` is a `stale` failure. */
  maxStalenessSeconds?: number;
}

/** Hex feed id, lower case, without 0x: the form Hermes answers with. */
export function normalizeFeedId(id: string): string {
  return id.toLowerCase().replace(/^0x/, '');
}

/** One `parsed[]` entry → a reading; throws OracleFailure (malformed or stale). */
export function readingFromParsedFeed(entry: unknown, o: PythParseOptions): OracleReading {
  const source = o.source ?? PYTH_SOURCE;
  const feed = isRecord(entry) && typeof entry.id === 'string' ? entry.id : '?';
  const bad = (field: string, value: unknown, want: string) =>
    new OracleFailure({ source, kind: 'malformed', detail: `feed ${feed}: ${field} = ${show(value)} is not ${want}` });
  if (!isRecord(entry)) throw bad('parsed[]', entry, 'an object');
  if (typeof entry.id !== 'string' || !/^(0x)?[0-9a-fA-F]{64}$/.test(entry.id)) throw bad('id', entry.id, '64 hex digits');
  const p = entry.price;
  if (!isRecord(p)) throw bad('price', p, 'an object');
  if (typeof p.price !== 'string' || !/^-?\d{1,20}$/.test(p.price)) throw bad('price.price', p.price, 'an integer string');
  if (typeof p.conf !== 'string' || !/^\d{1,20}$/.test(p.conf)) throw bad('price.conf', p.conf, 'a non-negative integer string');
  // 10^|expo| up to 10^22 is exact in a double, so scaling stays correctly rounded.
  if (typeof p.expo !== 'number' || !Number.isInteger(p.expo) || Math.abs(p.expo) > 22) throw bad('price.expo', p.expo, 'an integer in [-22, 22]');
  if (typeof p.publish_time !== 'number' || !Number.isInteger(p.publish_time) || p.publish_time <= 0) {
    throw bad('price.publish_time', p.publish_time, 'a positive integer of unix seconds');
  }
  const price = scale(p.price, p.expo);
  const confidence = scale(p.conf, p.expo);
  const reading = { source, price, confidence, publishTime: p.publish_time * 1000 };
  if (o.now !== undefined && o.maxStalenessSeconds !== undefined) checkFresh(reading, o.now, o.maxStalenessSeconds, `feed ${feed}: `);
  return reading;
}

/**
 * Same rule as consensus (SPEC §2: drop readings older than maxStalenessSeconds; a reading as far in the
 * future is clock skew), applied at the edge so the failure names the source and the feed.
 */
export function checkFresh(r: OracleReading, now: number, maxStalenessSeconds: number, prefix = ''): void {
  const ageMs = now - r.publishTime;
  if (Math.abs(ageMs) <= maxStalenessSeconds * 1000) return;
  const when = ageMs >= 0 ? `${seconds(ageMs)} s before now` : `${seconds(-ageMs)} s after now (clock skew)`;
  throw new OracleFailure({
    source: r.source, kind: 'stale',
    detail: `${prefix}price ${r.price} published ${when} (${new Date(r.publishTime).toISOString()}); limit ${maxStalenessSeconds} s`,
  });
}

/** A whole Hermes PriceUpdate body → one reading per requested feed (in the order asked); throws on the first problem. */
export function readingsFromPriceUpdate(body: unknown, feedIds: readonly string[], o: PythParseOptions): OracleReading[] {
  const source = o.source ?? PYTH_SOURCE;
  if (!isRecord(body) || !Array.isArray(body.parsed)) {
    throw new OracleFailure({ source, kind: 'malformed', detail: `response.parsed = ${show(isRecord(body) ? body.parsed : body)} is not an array (was parsed=true sent?)` });
  }
  const entries: unknown[] = body.parsed;
  return feedIds.map((id) => {
    const want = normalizeFeedId(id);
    const entry = entries.find((e) => isRecord(e) && typeof e.id === 'string' && normalizeFeedId(e.id) === want);
    if (entry === undefined) throw new OracleFailure({ source, kind: 'malformed', detail: `feed ${want} is missing from the response` });
    return readingFromParsedFeed(entry, o);
  });
}

/** Fetches the latest prices of `feedIds` in one request; transport errors become typed failures. */
export async function fetchPythReadings(
  client: HermesClient,
  feedIds: readonly string[],
  o: { source?: string; maxStalenessSeconds: number; signal?: AbortSignal; clock?: () => number },
): Promise<OracleReading[]> {
  const source = o.source ?? PYTH_SOURCE;
  let body: unknown;
  try {
    body = await client.getLatestPriceUpdates([...feedIds], { parsed: true, encoding: 'base64' }, o.signal ? { signal: o.signal } : undefined);
  } catch (err) {
    // An abort from the resilience timeout carries its OracleFailure as the reason.
    throw o.signal?.aborted && o.signal.reason instanceof OracleFailure ? o.signal.reason : classifyError(source, err);
  }
  return readingsFromPriceUpdate(body, feedIds, { source, now: (o.clock ?? Date.now)(), maxStalenessSeconds: o.maxStalenessSeconds });
}

/** A read function for resilience.ts: the latest price of one feed. */
export function pythRead(
  client: HermesClient,
  feedId: string,
  o: { source?: string; maxStalenessSeconds: number; clock?: () => number },
): (signal: AbortSignal) => Promise<OracleReading> {
  return async (signal) => {
    const [reading] = await fetchPythReadings(client, [feedId], { ...o, signal });
    return reading as OracleReading;
  };
}

function scale(integer: string, expo: number): number {
  const n = Number(integer);
  return expo < 0 ? n / 10 ** -expo : n * 10 ** expo;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v) ?? typeof v;
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function seconds(ms: number): number {
  return Number((ms / 1000).toFixed(3));
}

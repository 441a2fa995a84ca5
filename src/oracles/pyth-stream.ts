/**
 * Pyth streaming mode: Hermes server-sent events (`/v2/updates/price/stream`)
 * keep the latest reading of each feed in memory, so a cycle reads it without
 * a request, and `onUpdate` fires on every price update so the runtime can
 * act between cycles.
 *
 * Wiring to the monitor (runtime side): pass an `onUpdate` that checks the
 * new price against the trigger (see `triggerWatcher`) and, on a crossing,
 * sends the StrategyMonitor workflow a `wake` signal; the monitor then runs a
 * cycle at once instead of waiting for the next 5-minute tick. The latency we
 * own ends when that callback fires (measured by `npm run bench:oracles`).
 *
 * Reconnects: Hermes closes a stream after 24 h and reports errors as events
 * named `error`; a network drop looks the same. On any error the EventSource
 * is closed (its built-in fixed 3 s retry is not used) and reopened after an
 * exponential backoff with jitter, reset once a valid update arrives.
 */
import type { HermesClient } from '@pythnetwork/hermes-client';
import type { OracleReading } from '../domain/consensus.ts';
import { checkFresh, normalizeFeedId, readingFromParsedFeed, PYTH_SOURCE } from './pyth.ts';
import { classifyError, OracleFailure } from './resilience.ts';

type PriceEventSource = Awaited<ReturnType<HermesClient['getPriceUpdatesStream']>>;

export interface StreamReading extends OracleReading {
  readonly feedId: string;
  /** Epoch ms at which the update was received. */
  readonly receivedAt: number;
}

export interface PythStreamOptions {
  client: HermesClient;
  feedIds: readonly string[];
  source?: string;
  /** Called on every valid update of a subscribed feed, after the latest reading is stored. */
  onUpdate?: (reading: StreamReading) => void;
  /** Called on a malformed event, a stream error, or a failed (re)connect; the stream carries on. */
  onError?: (failure: OracleFailure) => void;
  /** First reconnect delay; doubles per failed attempt up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  clock?: () => number;
  random?: () => number;
}

export interface PythStreamStats {
  /** Connections opened, the first included. */
  connects: number;
  /** Errors that led to a reconnect. */
  disconnects: number;
  updates: number;
  lastUpdateAt: number | null;
}

export class PythPriceStream {
  private readonly latestByFeed = new Map<string, StreamReading>();
  private readonly wanted: Set<string>;
  private events: PriceEventSource | null = null;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failedAttempts = 0;
  private closed = false;
  private started = false;
  private readonly clock: () => number;
  private readonly random: () => number;
  readonly stats: PythStreamStats = { connects: 0, disconnects: 0, updates: 0, lastUpdateAt: null };

  constructor(private readonly o: PythStreamOptions) {
    if (o.feedIds.length === 0) throw new RangeError('PythPriceStream: feedIds is empty; subscribe to at least one feed');
    this.wanted = new Set(o.feedIds.map(normalizeFeedId));
    this.clock = o.clock ?? Date.now;
    this.random = o.random ?? Math.random;
  }

  get source(): string {
    return this.o.source ?? PYTH_SOURCE;
  }

  /** Opens the stream (idempotent). Returns once the first connection attempt has been made. */
  async start(): Promise<void> {
    if (this.closed || this.started) return;
    this.started = true;
    await this.connect();
  }

  /** The latest reading of a feed, whatever its age; undefined before the first update. */
  latest(feedId: string): StreamReading | undefined {
    return this.latestByFeed.get(normalizeFeedId(feedId));
  }

  /** The latest reading if it is fresh (SPEC §2 staleness); otherwise a typed failure. */
  fresh(feedId: string, maxStalenessSeconds: number): OracleReading {
    const r = this.latest(feedId);
    if (!r) throw new OracleFailure({ source: this.source, kind: 'unavailable', detail: `stream: no update yet for feed ${normalizeFeedId(feedId)}` });
    checkFresh(r, this.clock(), maxStalenessSeconds, `stream feed ${r.feedId}: `);
    return { source: r.source, price: r.price, confidence: r.confidence, publishTime: r.publishTime };
  }

  /** Stops for good: closes the connection and cancels any pending reconnect. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.events?.close();
    this.events = null;
  }

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.closed) return;
    let es: PriceEventSource;
    try {
      es = await this.o.client.getPriceUpdatesStream([...this.wanted], { parsed: true, encoding: 'base64' });
    } catch (err) {
      this.report(classifyError(this.source, err));
      this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      es.close();
      return;
    }
    this.stats.connects++;
    this.events = es;
    es.onmessage = (ev: { data: unknown }) => this.onMessage(typeof ev.data === 'string' ? ev.data : String(ev.data));
    // addEventListener, not onerror: eventsource 3 calls `onerror` only for transport errors, while a server-sent
    // `event: error` is dispatched to listeners; a listener receives both.
    es.addEventListener('error', (ev: Event) => {
      if (this.events !== es) return;
      // A server-sent `event: error` carries data; a transport error carries a message (eventsource's ErrorEvent).
      const e = ev as Event & { data?: unknown; message?: unknown; code?: unknown };
      const what = typeof e.data === 'string' ? `server error event: ${e.data}` : typeof e.message === 'string' && e.message ? e.message : 'connection lost';
      const status = typeof e.code === 'number' && e.code >= 400 ? e.code : undefined;
      es.close();
      this.events = null;
      this.stats.disconnects++;
      this.report(new OracleFailure({ source: this.source, kind: status === 429 ? 'rate-limited' : status ? 'http' : 'unavailable', ...(status ? { status } : {}), detail: `stream: ${what}` }));
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const initial = this.o.initialBackoffMs ?? 500;
    const max = this.o.maxBackoffMs ?? 30_000;
    const ceiling = Math.min(max, initial * 2 ** this.failedAttempts);
    this.failedAttempts++;
    // Half fixed, half jitter: many workers dropped at once do not reconnect in lockstep.
    const delay = ceiling / 2 + (ceiling / 2) * this.random();
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private onMessage(data: string): void {
    const receivedAt = this.clock();
    let body: unknown;
    try {
      body = JSON.parse(data);
    } catch (err) {
      this.report(new OracleFailure({ source: this.source, kind: 'malformed', detail: `stream event is not JSON: ${(err as Error).message}` }));
      return;
    }
    const parsed = typeof body === 'object' && body !== null ? (body as { parsed?: unknown }).parsed : undefined;
    if (!Array.isArray(parsed)) {
      this.report(new OracleFailure({ source: this.source, kind: 'malformed', detail: 'stream event: parsed is not an array' }));
      return;
    }
    for (const entry of parsed as unknown[]) {
      let reading: OracleReading;
      try {
        reading = readingFromParsedFeed(entry, { source: this.source });
      } catch (err) {
        this.report(classifyError(this.source, err));
        continue;
      }
      const feedId = normalizeFeedId((entry as { id: string }).id);
      if (!this.wanted.has(feedId)) continue;
      const previous = this.latestByFeed.get(feedId);
      if (previous && previous.publishTime > reading.publishTime) continue; // an out-of-order update never replaces a newer one
      const update: StreamReading = { ...reading, feedId, receivedAt };
      this.latestByFeed.set(feedId, update);
      this.failedAttempts = 0;
      this.stats.updates++;
      this.stats.lastUpdateAt = receivedAt;
      this.o.onUpdate?.(update);
    }
  }

  private report(f: OracleFailure): void {
    this.o.onError?.(f);
  }
}

/**
 * Edge-triggered trigger check for `onUpdate`: calls `onCross` when a feed's price goes from above
 * `level()` to at or below it (the SPEC §4 trigger is "price ≤ threshold × VWAP"), then re-arms once
 * the price is back above. `level()` returns null while no trigger level is known (e.g. VWAP warming up).
 */
export function triggerWatcher(level: () => number | null, onCross: (reading: StreamReading, level: number) => void): (reading: StreamReading) => void {
  const armed = new Map<string, boolean>();
  return (reading) => {
    const l = level();
    if (l === null) return;
    const below = reading.price <= l;
    const wasArmed = armed.get(reading.feedId) ?? true;
    armed.set(reading.feedId, !below);
    if (below && wasArmed) onCross(reading, l);
  };
}

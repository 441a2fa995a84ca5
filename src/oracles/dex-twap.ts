/**
 * DEX TWAP source: every read samples the pool's current price through an
 * injected probe, keeps the samples in memory (bounded by the window and a
 * count), and answers the time-weighted mean of log prices over the
 * configured window (src/domain/twap.ts), refusing a series with a gap or too
 * little coverage.
 *
 * Samples live in the worker's memory: after a restart the source needs
 * `minCoverage × window` of samples (18 min with the defaults, about four
 * 5-minute cycles) before it answers again. A Raydium CLMM pool keeps its own
 * observation ring: with `oracle.dex.kind: 'raydium-clmm'` the DEX source reads
 * that instead (raydium-clmm.ts) and has no warm-up.
 *
 * Confidence: price × max(time-weighted σ of the log prices, a floor). Without
 * the floor a flat series would claim zero uncertainty and take an infinite
 * weight in the SPEC §2 confidence-weighted mean; the floor is the pool's fee
 * rate (config `liquidity.feeRate`): an AMM's price can sit anywhere in the
 * fee band before arbitrage moves it.
 *
 * The default probe is a Jupiter quote (`@jup-ag/api`, `SwapApi` pointed at
 * the configured base URL): a small quote's out/in ratio is the pool price
 * plus its fee and a negligible impact.
 */
import { Configuration, SwapApi } from '@jup-ag/api';
import type { OracleReading } from '../domain/consensus.ts';
import { timeWeightedPrice, type PriceSample, type TwapParams } from '../domain/twap.ts';
import type { OracleSource } from '../ports.ts';
import { classifyError, OracleFailure } from './resilience.ts';

export const DEX_SOURCE = 'dex-twap';

export interface DexTwapOptions {
  /** Samples the pool price now (already wrapped in resilience by the caller). */
  sample: () => Promise<number>;
  params: TwapParams;
  /** Relative confidence floor, e.g. 0.0025 for a 25 bp pool fee. */
  confidenceFloor: number;
  /** Hard cap on kept samples (oldest dropped first); default 2,048. */
  maxSamples?: number;
  source?: string;
  clock?: () => number;
}

export class DexTwapSource implements OracleSource {
  readonly name: string;
  private series: PriceSample[] = [];
  private readonly clock: () => number;
  private readonly maxSamples: number;

  constructor(private readonly o: DexTwapOptions) {
    if (!(o.confidenceFloor >= 0) || !Number.isFinite(o.confidenceFloor)) {
      throw new RangeError(`DexTwapSource: confidenceFloor = ${o.confidenceFloor} must be a finite number ≥ 0`);
    }
    this.name = o.source ?? DEX_SOURCE;
    this.clock = o.clock ?? Date.now;
    this.maxSamples = o.maxSamples ?? 2048;
    if (!Number.isInteger(this.maxSamples) || this.maxSamples < 2) throw new RangeError(`DexTwapSource: maxSamples = ${this.maxSamples} must be an integer ≥ 2`);
  }

  /** The samples kept, oldest first. */
  samples(): readonly PriceSample[] {
    return this.series;
  }

  /** Adds a sample (a probe result, or history such as on-chain observations). */
  addSample(sample: PriceSample): void {
    if (!Number.isFinite(sample.at)) throw new RangeError(`DexTwapSource.addSample: at = ${sample.at} is not a finite epoch-ms timestamp`);
    if (!Number.isFinite(sample.price) || sample.price <= 0) throw new RangeError(`DexTwapSource.addSample: price = ${sample.price} must be a positive finite number`);
    this.series = [...this.series, sample].sort((a, b) => a.at - b.at);
    this.prune(this.clock());
  }

  /** Samples the pool, then answers the TWAP; a failed probe adds no sample and fails this read. */
  async read(): Promise<OracleReading> {
    const price = await this.o.sample();
    const at = this.clock();
    this.addSample({ at, price });
    const r = timeWeightedPrice(this.series, at, this.o.params);
    if (!r.ok) {
      // A gap reaching now means the series is stale; no samples or too few is "not available yet".
      throw new OracleFailure({ source: this.name, kind: r.reason === 'gap' ? 'stale' : 'unavailable', detail: `TWAP ${r.reason}: ${r.detail} (${this.series.length} sample(s) kept)` });
    }
    const confidence = r.price * Math.max(r.logStdDev, this.o.confidenceFloor);
    return { source: this.name, price: r.price, confidence, publishTime: at };
  }

  /** Keeps the last sample at or before the window start (it carries into the window) and everything after; caps the count. */
  private prune(now: number): void {
    const start = now - this.o.params.windowMs;
    const firstInside = this.series.findIndex((s) => s.at > start);
    const keepFrom = firstInside === -1 ? this.series.length - 1 : Math.max(0, firstInside - 1);
    this.series = this.series.slice(Math.max(keepFrom, this.series.length - this.maxSamples));
  }
}

export interface JupiterProbeOptions {
  /** e.g. https://lite-api.jup.ag/swap/v1 (config solana.jupiter.baseUrl). */
  baseUrl: string;
  /** Sent as `x-api-key`; never logged. */
  apiKey?: string;
  inputMint: string;
  outputMint: string;
  inputDecimals: number;
  outputDecimals: number;
  /** Input amount in base units. */
  amount: number;
  /**
   * 'input-in-output': the price of the input token in output units (SOL→USDC gives USD per SOL);
   * 'output-in-input': the price of the output token in input units (USDC→PSTR gives USD per PSTR).
   */
  quote: 'input-in-output' | 'output-in-input';
  /** When set, the route must go through this pool (its AMM key); otherwise the probe fails. */
  pool?: string;
  source?: string;
}

/** A pool-price probe over Jupiter's quote API, for resilience.ts. */
export function jupiterQuoteProbe(o: JupiterProbeOptions): (signal: AbortSignal) => Promise<number> {
  const source = o.source ?? DEX_SOURCE;
  const api = new SwapApi(new Configuration({ basePath: o.baseUrl, ...(o.apiKey ? { headers: { 'x-api-key': o.apiKey } } : {}) }));
  return async (signal) => {
    let quote: unknown;
    try {
      quote = await api.quoteGet(
        { inputMint: o.inputMint, outputMint: o.outputMint, amount: o.amount, slippageBps: 50, ...(o.pool ? { onlyDirectRoutes: true } : {}) },
        { signal },
      );
    } catch (err) {
      if (signal.aborted && signal.reason instanceof OracleFailure) throw signal.reason;
      throw await jupiterFailure(source, err);
    }
    return priceFromQuote(quote, o);
  };
}

/** A Jupiter quote body → the price it implies; `malformed` names the field. */
export function priceFromQuote(quote: unknown, o: Pick<JupiterProbeOptions, 'inputDecimals' | 'outputDecimals' | 'quote' | 'pool' | 'source'>): number {
  const source = o.source ?? DEX_SOURCE;
  const bad = (field: string, value: unknown, want: string) =>
    new OracleFailure({ source, kind: 'malformed', detail: `quote.${field} = ${JSON.stringify(value) ?? 'missing'} is not ${want}` });
  if (typeof quote !== 'object' || quote === null) throw bad('(body)', quote, 'an object');
  const q = quote as Record<string, unknown>;
  if (typeof q.inAmount !== 'string' || !/^[1-9]\d*$/.test(q.inAmount)) throw bad('inAmount', q.inAmount, 'a positive integer string');
  if (typeof q.outAmount !== 'string' || !/^[1-9]\d*$/.test(q.outAmount)) throw bad('outAmount', q.outAmount, 'a positive integer string');
  if (o.pool !== undefined) {
    const plan = Array.isArray(q.routePlan) ? (q.routePlan as unknown[]) : [];
    const keys = plan.map((step) => (step as { swapInfo?: { ammKey?: unknown } } | null)?.swapInfo?.ammKey).filter((k): k is string => typeof k === 'string');
    if (!keys.includes(o.pool)) {
      throw new OracleFailure({ source, kind: 'unavailable', detail: `quote did not route through the configured pool ${o.pool} (route: ${keys.join(' → ') || 'none'})` });
    }
  }
  const input = Number(q.inAmount) / 10 ** o.inputDecimals;
  const output = Number(q.outAmount) / 10 ** o.outputDecimals;
  return o.quote === 'input-in-output' ? output / input : input / output;
}

async function jupiterFailure(source: string, err: unknown): Promise<OracleFailure> {
  const e = err as { name?: string; response?: Response; cause?: unknown };
  if (e.name === 'ResponseError' && e.response) {
    const status = e.response.status;
    const body = await e.response.text().catch(() => '');
    return new OracleFailure({ source, kind: status === 429 ? 'rate-limited' : 'http', status, detail: `Jupiter quote: ${body.slice(0, 200) || e.response.statusText}` });
  }
  if (e.name === 'FetchError' && e.cause !== undefined) return classifyError(source, e.cause);
  // The client maps the body with no checks (`json.routePlan.map(…)`): a TypeError here is a payload it could not read.
  if (err instanceof TypeError) return new OracleFailure({ source, kind: 'malformed', detail: `Jupiter quote: ${err.message}` });
  return classifyError(source, err);
}

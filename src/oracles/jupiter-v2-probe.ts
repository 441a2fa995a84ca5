/**
 * The DEX pool-price probe over a `JupiterClient` (Swap API V2's /build, or
 * v1's /quote through the same interface): a small quote's out/in ratio, the
 * route required to go through the configured pool. Jupiter's errors become
 * the typed failures resilience.ts retries and counts.
 */
import type { JupiterClient } from '../solana/jupiter.ts';
import { JupiterError } from '../solana/jupiter-http.ts';
import { DEX_SOURCE, priceFromQuote, type JupiterProbeOptions } from './dex-twap.ts';
import { classifyError, OracleFailure } from './resilience.ts';

export function jupiterClientProbe(client: JupiterClient, o: Omit<JupiterProbeOptions, 'baseUrl' | 'apiKey'>): (signal: AbortSignal) => Promise<number> {
  const source = o.source ?? DEX_SOURCE;
  return async (signal) => {
    let raw: unknown;
    try {
      const q = await client.quote({
        inputMint: o.inputMint, outputMint: o.outputMint, amount: BigInt(o.amount), slippageBps: 50, ...(o.pool ? { onlyDirectRoutes: true } : {}), signal,
      });
      raw = q.raw;
    } catch (err) {
      if (signal.aborted && signal.reason instanceof OracleFailure) throw signal.reason;
      throw failureOf(source, err);
    }
    return priceFromQuote(raw, o);
  };
}

function failureOf(source: string, err: unknown): OracleFailure {
  if (!(err instanceof JupiterError)) return classifyError(source, err);
  if (err.status === null) return new OracleFailure({ source, kind: 'unavailable', detail: err.message });
  if (err.status === 429) return new OracleFailure({ source, kind: 'rate-limited', status: 429, detail: err.message });
  if (err.status === 200) return new OracleFailure({ source, kind: 'malformed', detail: err.message });
  return new OracleFailure({ source, kind: 'http', status: err.status, detail: err.message });
}

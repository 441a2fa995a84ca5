/**
 * What the market tells a cycle besides the PSTR readings (PUMP and SOL
 * prices, pool volume, balances) checked before any arithmetic. A NaN price
 * crosses a Temporal payload as null, and null × a balance is 0 in
 * JavaScript: without this check a broken PUMP feed would value the
 * treasury's PUMP at nothing and could latch an emergency stop, or throw deep
 * in the domain and retry the workflow task forever. Our rule (SPEC.md is
 * silent): a price or balance that is not a finite, positive (prices) or
 * non-negative (balances) number makes the cycle "no valid price" with the
 * reason, so it fails closed; a bad volume only costs the sample its weight.
 */

export interface MarketValues {
  readonly pumpPrice: unknown;
  readonly solPrice: unknown;
  readonly volumeUsd: unknown;
  readonly balances: { readonly pump: unknown; readonly usdc: unknown; readonly sol: unknown; readonly pstrRetired: unknown; readonly lpValueUsd: unknown };
}

export type MarketValuesVerdict =
  | { readonly ok: true; readonly volumeUsd: number; readonly notes: readonly string[] }
  | { readonly ok: false; readonly reason: string; readonly problems: readonly string[] };

const positiveFinite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;
const nonNegativeFinite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
/** Balances cross Temporal as decimal strings of base units. */
const baseUnits = (x: unknown): boolean => typeof x === 'string' && /^\d+$/.test(x);

const shown = (x: unknown): string => (typeof x === 'string' ? JSON.stringify(x) : String(x));

export function checkMarketValues(m: MarketValues): MarketValuesVerdict {
  const problems: string[] = [];
  if (!positiveFinite(m.pumpPrice)) problems.push(`PUMP price ${shown(m.pumpPrice)} is not a positive finite number`);
  if (!positiveFinite(m.solPrice)) problems.push(`SOL price ${shown(m.solPrice)} is not a positive finite number`);
  const b = m.balances as MarketValues['balances'] | null | undefined;
  if (b === null || typeof b !== 'object') {
    problems.push(`balances ${shown(b)} are missing`);
  } else {
    for (const k of ['pump', 'usdc', 'sol', 'pstrRetired'] as const) {
      if (!baseUnits(b[k])) problems.push(`${k} balance ${shown(b[k])} is not a whole number of base units`);
    }
    if (!nonNegativeFinite(b.lpValueUsd)) problems.push(`liquidity value ${shown(b.lpValueUsd)} is not a finite number ≥ 0`);
  }
  if (problems.length > 0) return { ok: false, reason: `no valid price: ${problems.join('; ')}`, problems };
  if (nonNegativeFinite(m.volumeUsd)) return { ok: true, volumeUsd: m.volumeUsd, notes: [] };
  return { ok: true, volumeUsd: 0, notes: [`pool volume ${shown(m.volumeUsd)} is not a finite number ≥ 0: the sample is recorded with volume 0`] };
}

/** Temporal payloads are JSON: bigint amounts cross as decimal strings. */
import type { Balances } from '../ports.ts';

export interface WireBalances {
  pump: string;
  usdc: string;
  sol: string;
  pstrRetired: string;
  lpValueUsd: number;
}

export function toWire(b: Balances): WireBalances {
  return { pump: b.pump.toString(), usdc: b.usdc.toString(), sol: b.sol.toString(), pstrRetired: b.pstrRetired.toString(), lpValueUsd: b.lpValueUsd };
}

/**
 * How an intervention's swap phase ends when it cannot run to its end: which
 * swap errors are deterministic (retrying cannot help), which gate halts the
 * next slice, and the words that say what was filled and what was not.
 */
import { formatAmount } from './amount.ts';

/**
 * Failure types a swap attempt must not retry: the same request fails the same
 * way every time. RangeError/TypeError are the ports' argument checks; the
 * others are the activity's names for deterministic failures it recognizes.
 */
export const NON_RETRYABLE_SWAP_ERRORS = [
  'RangeError', 'TypeError', 'SwapAmountMismatch', 'MissingLookupTable', 'MalformedSwapRecord', 'StoreValueError',
  // A durable nonce moved and who consumed it is unproven: stop and alert, never retry into a second spend (src/solana/nonce-proof.ts).
  'NeedsReconciliation',
] as const;

export type NonRetryableSwapError = (typeof NON_RETRYABLE_SWAP_ERRORS)[number];

/** The errors the executor and journal throw as plain Errors, recognized by their (stable) wording. */
const BY_MESSAGE: readonly { type: NonRetryableSwapError; pattern: RegExp }[] = [
  { type: 'SwapAmountMismatch', pattern: /differs from the requested/ },
  { type: 'MissingLookupTable', pattern: /address lookup table .* does not exist/ },
  { type: 'MalformedSwapRecord', pattern: /swap record details\..* is malformed/ },
];

/** The non-retryable type of an error, or null when a retry may succeed (timeouts, RPC and store outages). */
export function deterministicSwapError(name: string, message: string): NonRetryableSwapError | null {
  const named = NON_RETRYABLE_SWAP_ERRORS.find((t) => t === name);
  if (named) return named;
  return BY_MESSAGE.find((m) => m.pattern.test(message))?.type ?? null;
}

/**
 * What the control flags say about the next slice: why it must not run, or
 * null when it may. `failClosed`: neither the store nor the monitor could
 * tell, which the gate context reads as paused.
 */
export function sliceHalt(ctx: { paused: boolean; emergencyStop: boolean; failClosed?: boolean; reason?: string | null }): string | null {
  if (ctx.emergencyStop) return 'emergency stop';
  if (ctx.failClosed) return `an unknown pause/stop state (read as paused${ctx.reason ? `: ${ctx.reason}` : ''})`;
  if (ctx.paused) return 'monitor paused';
  return null;
}

/** What a swap phase moved so far, in base units. */
export interface Fill {
  readonly slices: number;
  readonly pumpSpent: bigint;
  readonly pstrBought: bigint;
  readonly unfilled: bigint;
}

export interface Decimals {
  readonly pump: number;
  readonly pstr: number;
}

/** "filled 2 slices: 10 PSTR for 5 PUMP; 15 PUMP unfilled", or "nothing moved". */
export function describeFill(f: Fill, d: Decimals): string {
  if (f.pumpSpent === 0n && f.slices === 0) return `nothing moved; ${formatAmount({ raw: f.unfilled, decimals: d.pump })} PUMP unfilled`;
  const pstr = formatAmount({ raw: f.pstrBought, decimals: d.pstr });
  const pump = formatAmount({ raw: f.pumpSpent, decimals: d.pump });
  const left = formatAmount({ raw: f.unfilled, decimals: d.pump });
  return `filled ${f.slices} slice${f.slices === 1 ? '' : 's'}: ${pstr} PSTR for ${pump} PUMP; ${left} PUMP unfilled`;
}

/** The reason an intervention halted mid-swap records: the cause, then what was filled. */
export function haltReason(cause: string, beforeSlice: number, f: Fill, d: Decimals): string {
  return `halted by ${cause} before slice ${beforeSlice}; ${describeFill(f, d)}`;
}

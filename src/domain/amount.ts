/**
 * Token amounts: integers in base units with explicit decimals. Every
 * conversion that can lose precision says how it rounds (always toward zero
 * for amounts we spend or receive, so the treasury never overstates what it
 * holds or can deploy).
 */

export interface TokenAmount {
  readonly raw: bigint;
  readonly decimals: number;
}

export class AmountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AmountError';
  }
}

const DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;

/** Parses a whole-token decimal string ("1234.5") into base units; rejects rather than rounds excess precision. */
export function parseAmount(text: string, decimals: number, field = 'amount'): TokenAmount {
  const match = DECIMAL_RE.exec(text.trim());
  if (!match) {
    throw new AmountError(`${field}: "${text}" is not a non-negative decimal number of whole tokens (e.g. "1250.5")`);
  }
  const whole = match[1] ?? '0';
  const frac = match[2] ?? '';
  if (frac.length > decimals) {
    throw new AmountError(`${field}: "${text}" has ${frac.length} decimal places but the token has only ${decimals}`);
  }
  return { raw: BigInt(whole + frac.padEnd(decimals, '0')), decimals };
}

export function amount(raw: bigint, decimals: number): TokenAmount {
  return { raw, decimals };
}

/** Exact decimal string in whole tokens, trailing zeros trimmed ("1234.5", "0"). */
export function formatAmount(a: TokenAmount): string {
  const negative = a.raw < 0n;
  const digits = (negative ? -a.raw : a.raw).toString().padStart(a.decimals + 1, '0');
  const whole = digits.slice(0, digits.length - a.decimals);
  const frac = digits.slice(digits.length - a.decimals).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** Whole tokens as a float: for pricing and display only, never for bookkeeping. */
export function toTokens(a: TokenAmount): number {
  return Number(a.raw) / 10 ** a.decimals;
}

/** Float whole tokens to base units, rounded toward zero. Non-finite or negative input is a programming error. */
export function fromTokens(tokens: number, decimals: number): TokenAmount {
  if (!Number.isFinite(tokens) || tokens < 0) {
    throw new AmountError(`cannot convert ${tokens} tokens to base units`);
  }
  // Split to keep integer precision beyond 2^53 for large balances of 6-9 decimal tokens.
  const whole = Math.trunc(tokens);
  const frac = tokens - whole;
  const scale = 10n ** BigInt(decimals);
  const fracRaw = BigInt(Math.floor(frac * 10 ** decimals));
  return { raw: BigInt(whole) * scale + fracRaw, decimals };
}

/** USD value at a unit price (float). */
export function usdValue(a: TokenAmount, priceUsd: number): number {
  return toTokens(a) * priceUsd;
}

/** How many base units `usd` buys at `priceUsd` per whole token, rounded down. */
export function amountForUsd(usd: number, priceUsd: number, decimals: number): TokenAmount {
  if (!(priceUsd > 0)) throw new AmountError(`price must be positive, got ${priceUsd}`);
  return fromTokens(Math.max(0, usd) / priceUsd, decimals);
}

const FRACTION_SCALE = 1_000_000_000n;

/**
 * `a × fraction`, rounded down to a base unit. The fraction is quantised to
 * 1e-9 first (exact for the tier fractions 0.10/0.25/0.40 and their halves).
 */
export function mulFraction(a: TokenAmount, fraction: number): TokenAmount {
  if (!Number.isFinite(fraction) || fraction < 0) throw new AmountError(`fraction must be ≥ 0, got ${fraction}`);
  const f = BigInt(Math.round(fraction * Number(FRACTION_SCALE)));
  return { raw: (a.raw * f) / FRACTION_SCALE, decimals: a.decimals };
}

function sameDecimals(a: TokenAmount, b: TokenAmount): void {
  if (a.decimals !== b.decimals) throw new AmountError(`decimals differ: ${a.decimals} vs ${b.decimals}`);
}

export function add(a: TokenAmount, b: TokenAmount): TokenAmount {
  sameDecimals(a, b);
  return { raw: a.raw + b.raw, decimals: a.decimals };
}

export function sub(a: TokenAmount, b: TokenAmount): TokenAmount {
  sameDecimals(a, b);
  return { raw: a.raw - b.raw, decimals: a.decimals };
}

export function min(a: TokenAmount, b: TokenAmount): TokenAmount {
  sameDecimals(a, b);
  return a.raw <= b.raw ? a : b;
}

export function isZero(a: TokenAmount): boolean {
  return a.raw === 0n;
}

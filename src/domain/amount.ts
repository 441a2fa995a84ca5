/**
 * Token amounts: integers in base units with explicit decimals, and the token
 * they are of. Every conversion that can lose precision says how it rounds
 * (always toward zero for amounts we spend or receive, so the treasury never
 * overstates what it holds or can deploy).
 *
 * The token is part of the type (as in Uniswap sdk-core's CurrencyAmount) so
 * PUMP + PSTR — both 6 decimals, so a decimals check alone cannot tell — is a
 * compile error; and part of the value, so amounts that arrive untyped are
 * still refused at run time. Plain data, not a class: these values are built
 * in workflow code, and a class would not survive a JSON round trip.
 */

/** The tokens the treasury books (config `tokens.pstr|pump|usdc|sol`). */
export type TokenSymbol = 'PSTR' | 'PUMP' | 'USDC' | 'SOL';

const TOKEN_SYMBOLS: ReadonlySet<string> = new Set<TokenSymbol>(['PSTR', 'PUMP', 'USDC', 'SOL']);

export interface TokenAmount<T extends TokenSymbol = TokenSymbol> {
  readonly token: T;
  readonly raw: bigint;
  readonly decimals: number;
}

/**
 * Base units and decimals without the token: what display and pricing read.
 * They look at one amount, so nothing can be mixed up, and they format the
 * decimal strings amounts cross Temporal as without building a typed amount.
 */
export type BaseUnits = Pick<TokenAmount, 'raw' | 'decimals'>;

export class AmountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AmountError';
  }
}

const DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;

/** Parses a whole-token decimal string ("1234.5") into base units; rejects rather than rounds excess precision. */
export function parseAmount<T extends TokenSymbol>(token: T, text: string, decimals: number, field = 'amount'): TokenAmount<T> {
  const match = DECIMAL_RE.exec(text.trim());
  if (!match) {
    throw new AmountError(`${field}: "${text}" is not a non-negative decimal number of whole tokens (e.g. "1250.5")`);
  }
  const whole = match[1] ?? '0';
  const frac = match[2] ?? '';
  if (frac.length > decimals) {
    throw new AmountError(`${field}: "${text}" has ${frac.length} decimal places but the token has only ${decimals}`);
  }
  return { token, raw: BigInt(whole + frac.padEnd(decimals, '0')), decimals };
}

export function amount<T extends TokenSymbol>(token: T, raw: bigint, decimals: number): TokenAmount<T> {
  return { token, raw, decimals };
}

/** Exact decimal string in whole tokens, trailing zeros trimmed ("1234.5", "0"); no symbol, callers word it. */
export function formatAmount(a: BaseUnits): string {
  const negative = a.raw < 0n;
  const digits = (negative ? -a.raw : a.raw).toString().padStart(a.decimals + 1, '0');
  const whole = digits.slice(0, digits.length - a.decimals);
  const frac = digits.slice(digits.length - a.decimals).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** Whole tokens as a float: for pricing and display only, never for bookkeeping. */
export function toTokens(a: BaseUnits): number {
  return Number(a.raw) / 10 ** a.decimals;
}

/** Float whole tokens to base units, rounded toward zero. Non-finite or negative input is a programming error. */
export function fromTokens<T extends TokenSymbol>(token: T, tokens: number, decimals: number): TokenAmount<T> {
  if (!Number.isFinite(tokens) || tokens < 0) {
    throw new AmountError(`cannot convert ${tokens} tokens to base units of ${token}`);
  }
  // Split to keep integer precision beyond 2^53 for large balances of 6-9 decimal tokens.
  const whole = Math.trunc(tokens);
  const frac = tokens - whole;
  const scale = 10n ** BigInt(decimals);
  const fracRaw = BigInt(Math.floor(frac * 10 ** decimals));
  return { token, raw: BigInt(whole) * scale + fracRaw, decimals };
}

/** USD value at a unit price (float). */
export function usdValue(a: BaseUnits, priceUsd: number): number {
  return toTokens(a) * priceUsd;
}

/** How many base units of `token` `usd` buys at `priceUsd` per whole token, rounded down. */
export function amountForUsd<T extends TokenSymbol>(token: T, usd: number, priceUsd: number, decimals: number): TokenAmount<T> {
  if (!(priceUsd > 0)) throw new AmountError(`${token} price must be positive, got ${priceUsd}`);
  return fromTokens(token, Math.max(0, usd) / priceUsd, decimals);
}

const FRACTION_SCALE = 1_000_000_000n;

/**
 * `a × fraction`, rounded down to a base unit. The fraction is quantised to
 * 1e-9 first (exact for the tier fractions 0.10/0.25/0.40 and their halves).
 */
export function mulFraction<T extends TokenSymbol>(a: TokenAmount<T>, fraction: number): TokenAmount<T> {
  if (!Number.isFinite(fraction) || fraction < 0) throw new AmountError(`fraction must be ≥ 0, got ${fraction}`);
  const f = BigInt(Math.round(fraction * Number(FRACTION_SCALE)));
  return { token: a.token, raw: (a.raw * f) / FRACTION_SCALE, decimals: a.decimals };
}

/**
 * The run-time half of the type check, for amounts typed only as
 * `TokenAmount` (any token): both must be of one token with one decimals.
 */
function sameToken(op: string, a: TokenAmount, b: TokenAmount): void {
  // A value built without a token (a cast, an old record) cannot prove what it is of: refused, not assumed.
  for (const x of [a, b]) {
    if (!TOKEN_SYMBOLS.has(x.token)) throw new AmountError(`${op}: amount ${formatAmount(x)} has no known token (token: ${JSON.stringify(x.token) ?? 'undefined'})`);
  }
  if (a.token !== b.token) {
    throw new AmountError(`${op}: amounts of different tokens, ${formatAmount(a)} ${String(a.token)} and ${formatAmount(b)} ${String(b.token)}`);
  }
  if (a.decimals !== b.decimals) throw new AmountError(`${op}: ${String(a.token)} decimals differ: ${a.decimals} vs ${b.decimals}`);
}

// The second operand's token is `NoInfer<T>`: T is taken from the first, so a
// PSTR amount where a PUMP one is expected is a type error, not a widened union.

export function add<T extends TokenSymbol>(a: TokenAmount<T>, b: TokenAmount<NoInfer<T>>): TokenAmount<T> {
  sameToken('add', a, b);
  return { token: a.token, raw: a.raw + b.raw, decimals: a.decimals };
}

export function sub<T extends TokenSymbol>(a: TokenAmount<T>, b: TokenAmount<NoInfer<T>>): TokenAmount<T> {
  sameToken('sub', a, b);
  return { token: a.token, raw: a.raw - b.raw, decimals: a.decimals };
}

export function min<T extends TokenSymbol>(a: TokenAmount<T>, b: TokenAmount<NoInfer<T>>): TokenAmount<T> {
  sameToken('min', a, b);
  return a.raw <= b.raw ? a : b;
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b`. */
export function compare<T extends TokenSymbol>(a: TokenAmount<T>, b: TokenAmount<NoInfer<T>>): -1 | 0 | 1 {
  sameToken('compare', a, b);
  return a.raw < b.raw ? -1 : a.raw > b.raw ? 1 : 0;
}

export function isZero(a: TokenAmount): boolean {
  return a.raw === 0n;
}

/**
 * What every column of the store accepts, whichever database holds it
 * (SQLite: src/db/schema.ts, PostgreSQL: src/db/schema-pg.ts). The checks run
 * in drizzle's column mappers, so a bad value is refused before any SQL runs
 * and the error names the column.
 */
export class StoreValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreValueError';
  }
}

/** JSON.stringify replacer: bigint becomes its decimal string (JSON has no integer beyond 2^53). */
export function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * JSON text for a column; `undefined` becomes JSON `null` so the column always
 * parses. (A top-level `null` never gets here: drizzle writes it as SQL NULL.)
 */
export function toJsonText(value: unknown, field = 'json'): string {
  try {
    return JSON.stringify(value, bigintReplacer) ?? 'null';
  } catch (error) {
    throw new StoreValueError(`${field}: value cannot be stored as JSON (${(error as Error).message})`);
  }
}

/** An integer amount in base units as decimal text; `signed` admits a negative delta. */
export function amountText(name: string, value: unknown, signed = false): string {
  if (typeof value !== 'bigint') {
    const what = signed ? 'a bigint delta' : 'a bigint amount';
    throw new StoreValueError(`${name}: expected ${what} in base units, got ${typeof value} ${String(value)}`);
  }
  if (!signed && value < 0n) throw new StoreValueError(`${name}: amount must be ≥ 0, got ${value}`);
  return value.toString();
}

/** A float that is a number (SQLite would store NaN as NULL; PostgreSQL would store it). */
export function realValue(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new StoreValueError(`${name}: expected a number, got ${String(value)}`);
  return value;
}

/** UTC epoch milliseconds. */
export function epochMsValue(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new StoreValueError(`${name}: expected integer epoch milliseconds, got ${String(value)}`);
  }
  return value;
}

/** A 64-bit integer column as the driver returns it (PostgreSQL's int8 comes back as text). */
export function safeIntegerFrom(name: string, value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : (value as number);
  if (!Number.isSafeInteger(n)) throw new StoreValueError(`${name}: stored value ${String(value)} is not a safe integer`);
  return n;
}

export const INTERVENTION_STATUSES = ['running', 'executed', 'invalidated', 'expired', 'rejected', 'aborted'] as const;
export const SWAP_STATUSES = ['prepared', 'sent', 'confirmed', 'failed'] as const;
export const ALERT_LEVELS = ['critical', 'warning', 'info', 'governance'] as const;
export const HEALTH_LEVELS = ['excellent', 'good', 'moderate', 'poor', 'critical'] as const;
export const VOTE_CHOICES = ['yes', 'no', 'abstain'] as const;
export const LEDGER_ENTRY_KINDS = ['init', 'accumulation', 'swap', 'rebalance'] as const;
export const POOL_QUOTES = ['SOL', 'USDC'] as const;
/** The money paths whose movements the money journal keys (intervention slices live in swap_records). */
export const MONEY_PATHS = ['accumulation', 'liquidity'] as const;

/** `"column" IN ('a', 'b')`: the body of a CHECK constraint on an enumerated text column (same SQL in both dialects). */
export function oneOfSql(column: string, values: readonly string[]): string {
  return `"${column}" IN (${values.map((v) => `'${v}'`).join(', ')})`;
}

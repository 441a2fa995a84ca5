/**
 * The signing key: a Solana CLI keypair file (a JSON array of 64 bytes),
 * refused when group or others may read it. Its bytes never appear in an
 * error, a log line or a record; `redactSecrets` scrubs values before logging.
 */
import { Keypair } from '@solana/web3.js';
import { KeyFileError, readKeypairBytes } from './keypair-file.ts';

/** Env variable naming the keypair file when the config has no solana.keypairPath. */
export const KEYPAIR_PATH_ENV = 'SOLANA_KEYPAIR_PATH';

export { KeyFileError, readKeypairBytes } from './keypair-file.ts';

/** The keypair path from config (solana.keypairPath) or else the environment; null when neither names one. */
export function keypairPathFrom(configPath: string | undefined, env: Record<string, string | undefined> = process.env): string | null {
  const path = configPath ?? env[KEYPAIR_PATH_ENV];
  return path === undefined || path === '' ? null : path;
}

/**
 * Loads a keypair file (permissions and content checked by readKeypairBytes);
 * the error names the path, never the content.
 */
export function loadKeypair(path: string): Keypair {
  const bytes = readKeypairBytes(path);
  try {
    return Keypair.fromSecretKey(bytes);
  } catch {
    throw new KeyFileError(`keypair file ${path}: the 64 bytes are not a valid ed25519 keypair`);
  }
}

const SECRET_FIELD = /secret|private|api_?key|password|passphrase|keypair|seed|access_?token|auth_?token/i;
const REDACTED = '[redacted]';

/**
 * A copy of `value` safe to log: fields whose name suggests a secret, any
 * Keypair, and every occurrence of the given secret strings are replaced.
 */
export function redactSecrets<T>(value: T, secrets: readonly string[] = []): T {
  const known = secrets.filter((s) => s.length >= 4);
  const scrub = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return known.reduce((s, secret) => s.split(secret).join(REDACTED), v);
    if (v === null || typeof v !== 'object' || depth > 8) return v;
    if (v instanceof Keypair) return REDACTED;
    if (v instanceof Uint8Array) return REDACTED;
    if (Array.isArray(v)) return v.map((x) => scrub(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = SECRET_FIELD.test(k) ? REDACTED : scrub(x, depth + 1);
    return out;
  };
  return scrub(value, 0) as T;
}

/**
 * The signing key: a Solana CLI keypair file (a JSON array of 64 bytes),
 * refused when group or others may read it. Its bytes never appear in an
 * error, a log line or a record; `redactSecrets` scrubs values before logging.
 */
import { readFileSync, statSync } from 'node:fs';
import { Keypair } from '@solana/web3.js';

/** Env variable naming the keypair file when the config has no solana.keypairPath. */
export const KEYPAIR_PATH_ENV = 'SOLANA_KEYPAIR_PATH';

export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

/** The keypair path from config (solana.keypairPath) or else the environment; null when neither names one. */
export function keypairPathFrom(configPath: string | undefined, env: Record<string, string | undefined> = process.env): string | null {
  const path = configPath ?? env[KEYPAIR_PATH_ENV];
  return path === undefined || path === '' ? null : path;
}

/**
 * Loads a keypair file. Refuses a file whose mode grants anything to group or
 * others (looser than 600), and any content that is not 64 bytes; the error
 * names the path, never the content.
 */
export function loadKeypair(path: string): Keypair {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new KeyFileError(`keypair file ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new KeyFileError(`keypair file ${path}: permissions ${octal} are looser than 600; run: chmod 600 ${path}`);
  }
  let bytes: unknown;
  try {
    bytes = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new KeyFileError(`keypair file ${path}: not a JSON array of 64 bytes`);
  }
  if (!Array.isArray(bytes) || bytes.length !== 64 || !bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    throw new KeyFileError(`keypair file ${path}: not a JSON array of 64 bytes`);
  }
  try {
    return Keypair.fromSecretKey(Uint8Array.from(bytes as number[]));
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

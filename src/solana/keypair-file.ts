/**
 * A Solana CLI keypair file (a JSON array of 64 bytes: the ed25519 seed, then
 * the public key), read without @solana/web3.js so the CLI starts fast.
 * Refused when group or others may read it, or when it is not 64 bytes; the
 * error names the path, never the content.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';

export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

export function readKeypairBytes(path: string): Uint8Array {
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
  return Uint8Array.from(bytes as number[]);
}

/**
 * The 32-byte ed25519 seed of a keypair file, checked against the public key
 * the file carries (a file whose halves disagree is refused).
 */
export function readSigningSeed(path: string): Uint8Array {
  const bytes = readKeypairBytes(path);
  const seed = bytes.slice(0, 32);
  const publicKey = ed25519.getPublicKey(seed);
  if (!publicKey.every((b, i) => b === bytes[32 + i])) throw new KeyFileError(`keypair file ${path}: the 64 bytes are not a valid ed25519 keypair`);
  return seed;
}

/** Writes a new keypair file (mode 600) from a 32-byte seed, in the Solana CLI's format. */
export function writeKeypairFile(path: string, seed: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const bytes = [...seed, ...ed25519.getPublicKey(seed)];
  writeFileSync(path, JSON.stringify(bytes), { mode: 0o600 });
  chmodSync(path, 0o600);
}

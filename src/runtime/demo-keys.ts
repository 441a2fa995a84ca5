/**
 * The demo's operators sign (issue #11): `npm start` without a config writes
 * an ed25519 key for alice and bob into `<data-dir>/operator-keys/` once
 * (Solana CLI keypair files, mode 600) and configures their public keys, so
 * the README's demo flow approves with real signatures. The client finds the
 * same files by default.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { publicKeyOf } from '../domain/operator-message.ts';
import { readSigningSeed, writeKeypairFile } from '../solana/keypair-file.ts';

export const DEMO_OPERATORS = ['alice', 'bob'] as const;

/** An operator's key file under a data directory. */
export function operatorKeyPath(operator: string, dataDir: string): string {
  return join(dataDir, 'operator-keys', `${operator}.json`);
}

/** The demo operators' public keys, generating any key file that does not exist yet. */
export function demoOperatorKeys(dataDir: string): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const name of DEMO_OPERATORS) {
    const path = operatorKeyPath(name, dataDir);
    if (!existsSync(path)) writeKeypairFile(path, randomBytes(32));
    keys[name] = publicKeyOf(readSigningSeed(path));
  }
  return keys;
}

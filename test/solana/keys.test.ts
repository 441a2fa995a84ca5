import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair } from '@solana/web3.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEYPAIR_PATH_ENV, keypairPathFrom, loadKeypair, redactSecrets } from '../../src/solana/keys.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function keyFile(mode: number, content?: string): { path: string; key: Keypair } {
  const key = Keypair.generate();
  const path = join(dir, 'id.json');
  writeFileSync(path, content ?? JSON.stringify([...key.secretKey]));
  chmodSync(path, mode);
  return { path, key };
}

describe('loadKeypair', () => {
  it('loads a keypair file with permissions 600', () => {
    const { path, key } = keyFile(0o600);
    expect(loadKeypair(path).publicKey.equals(key.publicKey)).toBe(true);
  });

  it('refuses a file readable by group or others, naming the path and the mode, never the key', () => {
    const { path, key } = keyFile(0o644);
    let message = '';
    try {
      loadKeypair(path);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(`keypair file ${path}: permissions 644 are looser than 600; run: chmod 600 ${path}`);
    expect(message).not.toContain(String(key.secretKey[0]) + ',');
  });

  it('refuses content that is not 64 bytes without echoing it', () => {
    const { path } = keyFile(0o600, '[1,2,3,"hunter2"]');
    expect(() => loadKeypair(path)).toThrow(`keypair file ${path}: not a JSON array of 64 bytes`);
    expect(() => loadKeypair(path)).not.toThrow(/hunter2/);
  });

  it('names a missing file', () => {
    expect(() => loadKeypair(join(dir, 'nope.json'))).toThrow(/keypair file .*nope\.json: cannot be read \(ENOENT\)/);
  });
});

describe('keypairPathFrom', () => {
  it('prefers the config path, then the environment', () => {
    expect(keypairPathFrom('/a.json', { [KEYPAIR_PATH_ENV]: '/b.json' })).toBe('/a.json');
    expect(keypairPathFrom(undefined, { [KEYPAIR_PATH_ENV]: '/b.json' })).toBe('/b.json');
    expect(keypairPathFrom(undefined, {})).toBeNull();
  });
});

describe('redactSecrets', () => {
  it('hides secret-named fields, keypairs, key bytes and listed secret strings', () => {
    const key = Keypair.generate();
    const out = redactSecrets({ apiKey: 'abc', nested: { secretKey: [1, 2], url: 'https://x/?api-key=SECRET99' }, signer: key, raw: key.secretKey, ok: 7 }, ['SECRET99']);
    expect(out).toEqual({ apiKey: '[redacted]', nested: { secretKey: '[redacted]', url: 'https://x/?api-key=[redacted]' }, signer: '[redacted]', raw: '[redacted]', ok: 7 });
  });
});

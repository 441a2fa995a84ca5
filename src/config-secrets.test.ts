import { describe, expect, it } from 'vitest';
import { parseConfig, type ConfigError } from './config-schema.ts';
import { jupiterApi, jupiterBaseUrl } from './config-secrets.ts';
import { TEST_OPERATOR_KEYS } from '../test/support/operator-keys.ts';

const problemsOf = (input: unknown): string[] => {
  try {
    parseConfig(input);
    return [];
  } catch (err) {
    return (err as ConfigError).problems.slice();
  }
};

describe('secret-bearing config fields', () => {
  it('refuse a plain-string API key naming the field and the { env } fix, without repeating the value', () => {
    const problems = problemsOf({ oracle: { pyth: { apiKey: 'pk-very-secret' } }, solana: { jupiter: { apiKey: 'jk-very-secret' } } });
    expect(problems).toEqual([
      expect.stringMatching(/^oracle\.pyth\.apiKey = "<not shown>": a secret must not be written in the config.*\{ "env": "PYTH_API_KEY" \}/),
      expect.stringMatching(/^solana\.jupiter\.apiKey = "<not shown>": a secret must not be written in the config.*\{ "env": "JUPITER_API_KEY" \}/),
    ]);
    expect(problems.join('\n')).not.toMatch(/very-secret/);
  });

  it('accept { env: NAME } references and keep only the name', () => {
    const c = parseConfig({ oracle: { pyth: { apiKey: { env: 'PYTH_API_KEY' } } }, solana: { rpcUrl: { env: 'SOLANA_RPC_URL' }, jupiter: { apiKey: { env: 'JUPITER_API_KEY' } } } });
    expect(c.oracle.pyth.apiKey).toEqual({ env: 'PYTH_API_KEY' });
    expect(c.solana.rpcUrl).toEqual({ env: 'SOLANA_RPC_URL' });
    expect(c.solana.jupiter).toMatchObject({ apiKey: { env: 'JUPITER_API_KEY' } });
    expect(jupiterApi(c.solana.jupiter)).toBe('v2');
  });

  it('accept a plain RPC URL without credentials, and refuse one with an api-key parameter or user info', () => {
    expect(parseConfig({ solana: { rpcUrl: 'https://api.devnet.solana.com' } }).solana.rpcUrl).toBe('https://api.devnet.solana.com');
    const withKey = problemsOf({ solana: { rpcUrl: 'https://mainnet.helius-rpc.com/?api-key=abc123' } });
    expect(withKey).toEqual([expect.stringMatching(/^solana\.rpcUrl = "<not shown>": this URL carries a credential \(the query parameter "api-key"\).*SOLANA_RPC_URL/)]);
    expect(problemsOf({ solana: { rpcUrl: 'https://user:pw@rpc.example' } })).toEqual([expect.stringMatching(/^solana\.rpcUrl = "<not shown>": .*user info/)]);
    expect(withKey.join()).not.toMatch(/abc123/);
  });

  it('refuse requiresKey: false for Pyth\'s own Hermes, and allow it for a self-hosted one in live mode', () => {
    expect(problemsOf({ oracle: { pyth: { requiresKey: false } } })).toEqual([expect.stringMatching(/^oracle\.pyth\.requiresKey = false: .*needs an API key since 31 July 2026/)]);
    const live = {
      mode: 'devnet', tokens: { pstr: { mint: 'a' }, pump: { mint: 'b' }, usdc: { mint: 'c' } }, intervention: { operators: ['alice'], operatorKeys: { alice: TEST_OPERATOR_KEYS.alice } },
      solana: { rpcUrl: 'http://127.0.0.1:8899', keypairPath: '/k.json', jupiter: { apiKey: { env: 'J' } } },
    };
    expect(problemsOf({ ...live, oracle: { pyth: { endpoint: 'http://hermes.internal:8080', requiresKey: false } } })).toEqual([]);
    expect(problemsOf({ ...live, oracle: { pyth: { endpoint: 'http://hermes.internal:8080' } } })).toEqual([expect.stringMatching(/^oracle\.pyth\.apiKey = missing: required in mode devnet/)]);
  });

  it('refuse a /swap/v1 URL with api v2, and accept it with the explicit v1 option', () => {
    expect(problemsOf({ solana: { jupiter: { api: 'v2', baseUrl: 'https://lite-api.jup.ag/swap/v1' } } })).toEqual([expect.stringMatching(/^solana\.jupiter\.baseUrl = .*api: "v1"/)]);
    expect(problemsOf({ solana: { jupiter: { api: 'v1', baseUrl: 'https://lite-api.jup.ag/swap/v1' } } })).toEqual([]);
  });

  it('take V2 by default, and v1 without an api only for a /swap/v1 baseUrl (the old default that configs in recorded histories carry)', () => {
    expect(jupiterApi(parseConfig({}).solana.jupiter)).toBe('v2');
    expect(jupiterBaseUrl(parseConfig({}).solana.jupiter)).toBe('https://api.jup.ag/swap/v2');
    const old = parseConfig({ solana: { jupiter: { baseUrl: 'https://lite-api.jup.ag/swap/v1' } } }).solana.jupiter;
    expect([jupiterApi(old), jupiterBaseUrl(old)]).toEqual(['v1', 'https://lite-api.jup.ag/swap/v1']);
    expect(jupiterApi(parseConfig({ solana: { jupiter: { baseUrl: 'http://127.0.0.1:1/swap/v2' } } }).solana.jupiter)).toBe('v2');
  });
});

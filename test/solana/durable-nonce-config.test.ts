/** solana.durableNonce is per money path, and solana.journalDir is gone: the config says so, naming the key. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';

const A = '47r3ujEKsaWE5Jf7Y7uNVnWu8PtWu4eCxM4BR6eEPeNo';
const B = '7Zi7LkGGARDKhUEFPBUQDsVZ9L965LPEv2rBRdmSXCWh';

function problems(solana: Record<string, unknown>): readonly string[] {
  try {
    parseConfig({ solana }, 'test.json');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('solana.durableNonce', () => {
  it('takes one nonce account per money path', () => {
    expect(parseConfig({ solana: { durableNonce: { intervention: { account: A }, accumulation: { account: B } } } }).solana.durableNonce)
      .toEqual({ intervention: { account: A }, accumulation: { account: B } });
    expect(problems({ durableNonce: { accumulation: { account: B } } })).toEqual([]);
  });

  it('refuses the same account for two paths, naming it', () => {
    expect(problems({ durableNonce: { intervention: { account: A }, accumulation: { account: A } } }).join('\n'))
      .toMatch(new RegExp(`durableNonce.accumulation.account.*${A}.*its own nonce account`));
  });

  it('refuses the old single-account shape with the per-path one in the message', () => {
    expect(problems({ durableNonce: { account: A } }).join('\n')).toMatch(/durableNonce.account.*per money path/);
  });
});

describe('solana.journalDir', () => {
  it('is refused: accumulation is journaled in the shared store', () => {
    expect(problems({ journalDir: '/var/lib/journal' }).join('\n')).toMatch(/journalDir.*no longer used.*money_journal/);
  });
});

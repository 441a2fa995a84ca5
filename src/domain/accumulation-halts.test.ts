import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config-schema.ts';
import { parseAmount } from './amount.ts';
import { decideAccumulation, treasuryState, type Holdings } from './treasury.ts';

const config = defaultConfig();
const cap = { minRrThreshold: 1.5, minReserveRatio: 3.0 };
const supply = parseAmount('PSTR', '1000000000', 6);
const prices = { pstr: 0.0002, pump: 0.005, sol: 150 };
const holdings = (usdc: string): Holdings => ({
  pump: parseAmount('PUMP', '0', 6), usdc: parseAmount('USDC', usdc, 6), sol: parseAmount('SOL', '0', 9), pstrRetired: parseAmount('PSTR', '0', 6), lpValueUsd: 0,
});
// 900k USDC against a 200k market cap: RR 4.5. 250k USDC: RR 1.25.
const decide = (usdc: string, over: { paused?: boolean; emergencyStop?: boolean; controlKnown?: boolean; controlReason?: string | null } = {}) => {
  const h = holdings(usdc);
  return decideAccumulation({ holdings: h, state: treasuryState(h, prices, supply, cap), prices, paused: false, emergencyStop: false, ...over }, config);
};

describe('hourly accumulation fails closed', () => {
  it('buys when the flags are known, nothing is latched and RR is above 1.5', () => {
    expect(decide('900000', { controlKnown: true })).toMatchObject({ buy: true });
  });

  it('skips when the pause/stop state cannot be told, naming why', () => {
    expect(decide('900000', { controlKnown: false, controlReason: 'store unreadable and no monitor answered' })).toEqual({
      buy: false, skip: 'control-unknown', reason: 'pause/stop state unknown, skipped (fail closed): store unreadable and no monitor answered',
    });
  });

  it('skips below RR 1.5 in this observation even when the latch is not set yet', () => {
    const d = decide('250000');
    expect(d).toMatchObject({ buy: false, skip: 'reserve-ratio' });
    expect(d.reason).toBe('reserve ratio 1.2500 is below 1.5: emergency rule, no buy');
  });

  it('skips when the reserve ratio cannot be compared (NaN)', () => {
    const h = holdings('900000');
    const state = { ...treasuryState(h, prices, supply, cap), reserveRatio: Number.NaN };
    expect(decideAccumulation({ holdings: h, state, prices, paused: false, emergencyStop: false }, config)).toMatchObject({ buy: false, skip: 'reserve-ratio' });
  });

  it('names the latch before RR when both hold', () => {
    expect(decide('250000', { emergencyStop: true })).toMatchObject({ buy: false, skip: 'emergency' });
  });

  it('treats absent control knowledge as known (the backtest has no monitor to ask)', () => {
    expect(decide('900000')).toMatchObject({ buy: true });
  });
});

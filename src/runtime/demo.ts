/**
 * The demo profile `npm start` runs with no --config: paper mode, 15-second
 * cycles, a warm 30-day history and a simulated 17 % drawdown a minute after
 * start, so a tier-1 intervention starts within about three minutes and waits
 * for an operator (alice or bob) to approve it.
 */
import { parseConfig, type Config } from '../config.ts';

/**
 * `operatorKeys`: the demo operators' public keys (demoOperatorKeys writes
 * them under the data directory); without them the operators act by bare
 * name, which paper mode allows with a warning.
 */
export function demoConfig(operatorKeys: Record<string, string> = {}): Config {
  return parseConfig({
    mode: 'paper',
    monitor: { cycleIntervalSeconds: 15 },
    // 40M PUMP ≈ 200k USD: tier 1 deploys ≈ 20k USD, above the 10k timelock threshold, so an operator must approve.
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
    intervention: { operators: ['alice', 'bob'], operatorKeys, timelockMinutes: 2 },
    paper: { drawdown: { startInSeconds: 60, depth: 0.17, rampSeconds: 60, holdSeconds: 1800, recoverSeconds: 600 } },
    governance: { holders: [{ name: 'alice', liquid: 1_000_000, staked: 250_000 }, { name: 'bob', liquid: 400_000 }, { name: 'carol', liquid: 90_000, staked: 10_000 }] },
  });
}

/**
 * Deterministic operator keys for tests whose config runs a live mode: live
 * modes refuse operators without a public key (issue #11), so those configs
 * name alice's and bob's keys from these fixed seeds.
 */
import { publicKeyOf } from '../../src/domain/operator-message.ts';

export const TEST_OPERATOR_SEEDS = { alice: new Uint8Array(32).fill(41), bob: new Uint8Array(32).fill(42) } as const;

export const TEST_OPERATOR_KEYS = {
  alice: publicKeyOf(TEST_OPERATOR_SEEDS.alice),
  bob: publicKeyOf(TEST_OPERATOR_SEEDS.bob),
} as const;

/**
 * The client's side of signed decisions (issue #11): find the operator's key
 * file, read the plan the intervention published, and sign it. The payload is
 * what the workflow expects on the signal and the Update alike, so the exact
 * JSON `sign-plan` prints can be pasted into the Web UI's signal box or
 * `temporal workflow signal --input`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { planMessage, publicKeyOf, signMessage, type InterventionPlan, type PlanAction } from '../domain/operator-message.ts';
import { operatorKeyPath as keyPathIn } from '../runtime/demo-keys.ts';
import { readSigningSeed } from '../solana/keypair-file.ts';
import { planQuery, type OperatorDecision, type PlanView } from '../workflows/contract.ts';
import { query, type Ctx } from './context.ts';
import { CliError } from './errors.ts';
import { price, tokens, utc } from './format.ts';

/** Where `npm start` keeps its files (the demo writes its operators' keys under it). */
export function dataDir(env: Record<string, string | undefined> = process.env): string {
  return resolve(env.PSTR_DATA_DIR ?? 'data');
}

/** The demo's key file of an operator. */
export function operatorKeyPath(operator: string, dir = dataDir()): string {
  return keyPathIn(operator, dir);
}

/** The key file to sign with: --key, else the data directory's file for that operator when it exists; null for none. */
export function keyFileFor(operator: string, key: string | undefined): string | null {
  if (key) return key;
  const path = operatorKeyPath(operator);
  return existsSync(path) ? path : null;
}

/** Signs `text` with a key file, checking the key is the one the monitor's config lists for the operator. */
export function signWithKeyFile(text: string, keyFile: string, operator: string, listed: string | undefined): { message: string; signature: string } {
  let seed: Uint8Array;
  try {
    seed = readSigningSeed(keyFile);
  } catch (err) {
    throw new CliError(`--key: ${(err as Error).message}`);
  }
  const mine = publicKeyOf(seed);
  if (listed !== undefined && listed !== mine) throw new CliError(`--key: ${keyFile} holds key ${mine}, but the config lists ${listed} for ${operator}`);
  return signMessage(text, seed);
}

export async function planOf(ctx: Ctx, id: string): Promise<PlanView> {
  return query(ctx, id, planQuery, `no intervention ${id}`);
}

/**
 * The decision payload for `kind` on the current plan: signed when the
 * intervention wants signatures (or a key is given), a bare name otherwise.
 */
export function decisionPayload(view: PlanView, kind: PlanAction, o: { operator: string; reason?: string; key?: string }, keys: Readonly<Record<string, string>>): OperatorDecision {
  const bare: OperatorDecision = { operator: o.operator, ...(o.reason ? { reason: o.reason } : {}) };
  const keyFile = keyFileFor(o.operator, o.key);
  if (!view.signing && !o.key) return bare;
  if (!view.plan) throw new CliError(`no plan yet: the intervention is at stage ${view.stage}; ${kind} once it has sized and published its plan`);
  if (!keyFile) throw new CliError(`${kind} must be signed: pass --key FILE (a Solana CLI keypair file for ${o.operator}; the demo writes ${operatorKeyPath(o.operator)})`);
  return { operator: o.operator, ...signWithKeyFile(planMessage(view.plan, kind, o.operator, o.reason), keyFile, o.operator, keys[o.operator]) };
}

/** The plan in words, as an operator reads it before signing. */
export function planLines(plan: InterventionPlan, decimals: { pump: number; pstr: number }): string[] {
  return [
    `plan ${plan.revision} of ${plan.interventionId} (treasury ${plan.treasuryId}, tier ${plan.tier}, config version ${plan.configVersion ?? 'none'}):`,
    `  spend ${tokens(plan.pumpIn, decimals.pump, 'PUMP')} for at least ${tokens(plan.minPstrOut, decimals.pstr, 'PSTR')}, sized at the consensus price ${price(plan.consensusPrice)}`,
    `  approvals of this plan are accepted until ${utc(plan.expiresAt)}`,
  ];
}

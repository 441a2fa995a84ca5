/**
 * Signed monitor actions from the client (issue #11): pause, resume,
 * emergency stop, a config change and a cancel are signed by the operator's
 * key whenever the monitor's config lists operator keys (or --key is given).
 * Each message gets a fresh nonce and a 10-minute expiry, so it can be sent
 * once; `sign-action` prints the payload to paste into the Web UI or
 * `temporal workflow signal --input`.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config-schema.ts';
import { actionMessage, signingRequired, type MonitorAction } from '../domain/operator-message.ts';
import { canonicalJson } from '../domain/operators.ts';
import { monitorWorkflowId } from '../workflows/contract.ts';
import { configOrDefault, type Ctx } from './context.ts';
import { CliError } from './errors.ts';
import { keyFileFor, operatorKeyPath, signWithKeyFile } from './sign.ts';

/** How long a signed action may wait before it is sent. */
export const ACTION_TTL_MS = 10 * 60_000;

export interface ActionOptions {
  by: string;
  reason?: string;
  key?: string;
  interventionId?: string;
  patch?: unknown;
}

/** The action's payload: signed when the config wants signatures or a key is given, the bare name otherwise. */
export function actionPayload(ctx: Pick<Ctx, 'treasuryId' | 'now'>, config: Config, action: MonitorAction, o: ActionOptions): Record<string, unknown> {
  const bare: Record<string, unknown> = {
    by: o.by, ...(o.reason ? { reason: o.reason } : {}), ...(o.interventionId !== undefined ? { interventionId: o.interventionId } : {}), ...(o.patch !== undefined ? { patch: o.patch } : {}),
  };
  const keys = config.intervention.operatorKeys ?? {};
  if (!signingRequired(keys) && !o.key) return bare;
  const keyFile = keyFileFor(o.by, o.key);
  if (!keyFile) throw new CliError(`${action} must be signed: pass --key FILE (a Solana CLI keypair file for ${o.by}; the demo writes ${operatorKeyPath(o.by)})`);
  const text = actionMessage({
    action, treasuryId: ctx.treasuryId, operator: o.by, expiresAt: ctx.now() + ACTION_TTL_MS, nonce: randomBytes(8).toString('hex'),
    ...(o.reason ? { reason: o.reason } : {}), ...(o.interventionId !== undefined ? { interventionId: o.interventionId } : {}),
    ...(o.patch !== undefined ? { patch: canonicalJson(o.patch) } : {}),
  });
  return { ...bare, ...signWithKeyFile(text, keyFile, o.by, keys[o.by]) };
}

/** `sign-action`: prints the signed payload of a monitor action as one line of JSON; sends nothing. */
export async function signAction(ctx: Ctx, action: MonitorAction, o: ActionOptions & { patchJson?: string }): Promise<void> {
  let patch: unknown;
  if (o.patchJson !== undefined) {
    try {
      patch = JSON.parse(o.patchJson);
    } catch {
      throw new CliError(`--patch: not JSON: ${o.patchJson.slice(0, 80)}`);
    }
  }
  const config = await configOrDefault(ctx);
  const payload = actionPayload(ctx, { ...config, intervention: { ...config.intervention } }, action, { ...o, ...(patch !== undefined ? { patch } : {}), key: o.key ?? keyFileFor(o.by, undefined) ?? undefined });
  ctx.out(JSON.stringify(payload));
  // The hint goes to stderr: stdout is exactly the payload, for `--input "$(pstr sign-action …)"`.
  process.stderr.write(`# temporal workflow signal --workflow-id ${monitorWorkflowId(ctx.treasuryId)} --name ${action} --input '<the line above>'   (valid for ${ACTION_TTL_MS / 60_000} minutes, once)\n`);
}

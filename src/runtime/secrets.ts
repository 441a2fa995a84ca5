/**
 * Reads the secrets a live worker needs from its environment, where the
 * config's `{ env: NAME }` references point (src/config-secrets.ts). Only
 * the worker does this, when it builds its adapters: the values never go
 * back into the config, so they never reach a workflow's input or history.
 * A reference to a variable that is not set is a start-up error naming the
 * field and the variable (never a value).
 */
import type { Config } from '../config-schema.ts';
import type { EnvRef } from '../config-secrets.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

/** The value behind `ref`; undefined when the field is not configured. */
export function resolveEnvRef(ref: EnvRef | undefined, field: string, env: Env = process.env): string | undefined {
  if (ref === undefined) return undefined;
  const value = env[ref.env];
  if (value === undefined || value.trim() === '') {
    throw new SecretError(`${field} is read from environment variable ${ref.env}, which is not set in the worker's environment: set it, or remove ${field}`);
  }
  return value;
}

export function pythApiKey(config: Config, env: Env = process.env): string | undefined {
  return resolveEnvRef(config.oracle.pyth.apiKey, 'oracle.pyth.apiKey', env);
}

export function jupiterApiKey(config: Config, env: Env = process.env): string | undefined {
  return resolveEnvRef(config.solana.jupiter.apiKey, 'solana.jupiter.apiKey', env);
}

/** solana.rpcUrl as a URL: a plain one as written, a reference read from the environment. */
export function rpcUrl(config: Config, env: Env = process.env): string | undefined {
  const u = config.solana.rpcUrl;
  return typeof u === 'string' ? u : resolveEnvRef(u, 'solana.rpcUrl', env);
}

/**
 * Secret-bearing config fields (the Pyth and Jupiter API keys, an RPC URL
 * with its key). The whole config is workflow input, so a secret written in
 * it would sit in every workflow history: these fields take only
 * `{ "env": "NAME" }`, the name of an environment variable the worker reads
 * at start-up (src/runtime/secrets.ts). A plain string is refused naming the
 * field, and the refusal never repeats the value.
 *
 * Also the live-mode rules for these services: which endpoints need a key
 * (Hermes since 31 July 2026; Jupiter's api.jup.ag), checked by the schema
 * so a live worker refuses to start without one. Pure (workflows validate
 * the config with the schema too).
 */
import { z } from 'zod';
import type { Config } from './config-schema.ts';

export const envRefSchema = z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') });
export type EnvRef = z.infer<typeof envRefSchema>;

/** What a refusal shows instead of the value: an error message is logged, the secret must not be. */
export const NOT_SHOWN = '<not shown>';

const inlineRefusal = (example: string) =>
  'a secret must not be written in the config: the config is workflow input, so it would sit in every workflow history. ' +
  `Put it in the worker's environment and write { "env": "${example}" }`;

/** A secret field: only `{ env: NAME }`; a plain string is refused with a message naming the field (the path) and the fix. */
export function secretRef(example: string) {
  return z.union([z.string(), envRefSchema]).superRefine((v, ctx) => {
    if (typeof v === 'string') ctx.addIssue({ code: 'custom', input: NOT_SHOWN, message: inlineRefusal(example) });
  }).transform((v) => v as EnvRef);
}

/** Why a URL carries a credential (userinfo, or a query parameter named like a key), or null. Path-embedded tokens cannot be told apart. */
export function credentialInUrl(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.username || u.password) return 'user info (user:password@host)';
  for (const k of u.searchParams.keys()) if (/key|token|secret|auth|pass|sig/i.test(k)) return `the query parameter "${k}"`;
  return null;
}

/** solana.rpcUrl: a plain URL without credentials, or `{ env: NAME }` for a URL that carries its key. */
export const rpcUrlSchema = z.union([z.url(), envRefSchema]).superRefine((v, ctx) => {
  if (typeof v !== 'string') return;
  const why = credentialInUrl(v);
  if (why) {
    ctx.addIssue({
      code: 'custom', input: NOT_SHOWN,
      message: `this URL carries a credential (${why}), and the config is workflow input, so it would sit in every workflow history. ` +
        'Put the whole URL in the worker\'s environment and write { "env": "SOLANA_RPC_URL" }',
    });
  }
});

export const JUPITER_V2_URL = 'https://api.jup.ag/swap/v2';
export const JUPITER_V1_URL = 'https://lite-api.jup.ag/swap/v1';

const V1_ROOT = /\/swap\/v1\/?$/;

/** The Jupiter API in use: as configured; left out, v1 only for a /swap/v1 baseUrl (written explicitly, or an old config's default). */
export function jupiterApi(j: Config['solana']['jupiter']): 'v1' | 'v2' {
  return j.api ?? (j.baseUrl !== undefined && V1_ROOT.test(j.baseUrl) ? 'v1' : 'v2');
}

/** The Jupiter API root in use: the configured baseUrl, else the default of the API version in use. */
export function jupiterBaseUrl(j: Config['solana']['jupiter']): string {
  return j.baseUrl ?? (jupiterApi(j) === 'v1' ? JUPITER_V1_URL : JUPITER_V2_URL);
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
}

/** Pyth's own Hermes (hermes.pyth.network and any *.pyth.network) needs a key since the Core upgrade of 31 July 2026. */
export function isPythHosted(endpoint: string): boolean {
  const h = hostOf(endpoint);
  return h === 'pyth.network' || h.endsWith('.pyth.network');
}

/** Whether Hermes at this endpoint needs a key: always for Pyth's hosts; a self-hosted one unless marked `requiresKey: false`. */
export function pythNeedsKey(p: Config['oracle']['pyth']): boolean {
  return isPythHosted(p.endpoint) || p.requiresKey !== false;
}

/** Jupiter's main API host needs `x-api-key` (the lite host and a self-hosted API do not). */
export function jupiterNeedsKey(j: Config['solana']['jupiter']): boolean {
  const h = hostOf(jupiterBaseUrl(j));
  return h === 'api.jup.ag';
}

export interface SecretIssue {
  path: string[];
  input: unknown;
  message: string;
}

/** The rules across these fields; live-only ones when `c.mode` is devnet or mainnet. Called from the config schema's refinement. */
export function serviceIssues(c: Config): SecretIssue[] {
  const out: SecretIssue[] = [];
  const { pyth } = c.oracle;
  const { jupiter } = c.solana;
  if (isPythHosted(pyth.endpoint) && pyth.requiresKey === false) {
    out.push({
      path: ['oracle', 'pyth', 'requiresKey'], input: false,
      message: `${pyth.endpoint} needs an API key since 31 July 2026 (it answers 401 without one); requiresKey: false is only for a self-hosted Hermes`,
    });
  }
  const base = jupiterBaseUrl(jupiter);
  if (jupiter.api === 'v2' && V1_ROOT.test(base)) {
    out.push({ path: ['solana', 'jupiter', 'baseUrl'], input: base, message: 'is a Swap API v1 URL but solana.jupiter.api is "v2": set api: "v1" to use the old API, or a /swap/v2 URL' });
  }
  if (c.mode === 'paper') return out;
  if (pythNeedsKey(pyth) && pyth.apiKey === undefined) {
    out.push({
      path: ['oracle', 'pyth', 'apiKey'], input: undefined,
      message: `required in mode ${c.mode}: Hermes at ${pyth.endpoint} answers 401 without an API key (sent as a Bearer token). ` +
        'Write { "env": "PYTH_API_KEY" } and set PYTH_API_KEY in the worker\'s environment (a self-hosted Hermes without keys: oracle.pyth.requiresKey: false)',
    });
  }
  if (jupiterNeedsKey(jupiter) && jupiter.apiKey === undefined) {
    out.push({
      path: ['solana', 'jupiter', 'apiKey'], input: undefined,
      message: `required in mode ${c.mode}: ${base} needs an x-api-key (from portal.jup.ag). Write { "env": "JUPITER_API_KEY" } and set JUPITER_API_KEY in the worker's environment`,
    });
  }
  return out;
}

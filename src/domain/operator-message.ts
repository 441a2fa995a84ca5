/**
 * Signed operator messages (issue #11): what an operator signs, and how the
 * workflow checks it. A message is one line of printable ASCII (the off-chain
 * message format's "restricted ASCII", the one hardware wallets clear-sign),
 * `pstr-treasury-agent v1; action=approve; treasury=…; …`, so the Web UI, the
 * `temporal` CLI and the history show exactly what was signed. The bytes
 * signed are that text in the Solana off-chain message envelope (v0, our
 * application domain, the operator's key as the one signatory), encoded by
 * `@solana/offchain-messages`; the signature is ed25519 (`@noble/curves`,
 * pure JS, deterministic, so the workflow itself verifies it).
 *
 * Pure: no clock (callers pass `now`), no I/O, no randomness.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base58 } from '@scure/base';
import {
  getOffchainMessageV0Encoder, offchainMessageApplicationDomain, OffchainMessageContentFormat, type OffchainMessageV0,
} from '@solana/offchain-messages';
import type { Address } from '@solana/addresses';

/** The first field of every message: who it is for, and which grammar. */
export const MESSAGE_PREFIX = 'pstr-treasury-agent v1';

/**
 * The off-chain message's application domain: 32 bytes naming this program
 * (base58 of the ASCII bytes "pstr-treasury-agent/operator-v1" padded with
 * zeros), so a signature made here is not valid for another application.
 */
export const APPLICATION_DOMAIN = base58.encode(padTo32(new TextEncoder().encode('pstr-treasury-agent/operator-v1')));

/** The longest a monitor action's signature stays valid: bounds how long a used signature must be remembered. */
export const MAX_ACTION_TTL_MS = 60 * 60_000;

export type PlanAction = 'approve' | 'reject';
export type MonitorAction = 'pause' | 'resume' | 'emergencyStop' | 'updateConfig' | 'cancelIntervention';
export type SignedAction = PlanAction | MonitorAction;
const ACTIONS: readonly string[] = ['approve', 'reject', 'pause', 'resume', 'emergencyStop', 'updateConfig', 'cancelIntervention'];

/** What an intervention publishes after sizing; approvals are bound to it field by field. */
export interface InterventionPlan {
  readonly treasuryId: string;
  readonly interventionId: string;
  /** 1 for the first sizing; a re-size publishes the next revision and voids earlier approvals. */
  readonly revision: number;
  /** The drawdown tier (1, 2 or 3). */
  readonly tier: number;
  /** PUMP to spend, base units. */
  readonly pumpIn: string;
  /** The least PSTR the swap may return, base units. */
  readonly minPstrOut: string;
  /** The PSTR/USD consensus price it was sized at. */
  readonly consensusPrice: number;
  readonly configVersion: number | null;
  /** Epoch ms after which an approval of this plan is refused. */
  readonly expiresAt: number;
}

/** A signed message as it travels in a signal or an Update payload. */
export interface SignedMessage {
  /** The exact text signed (one line, printable ASCII). */
  readonly message: string;
  /** The ed25519 signature of the off-chain message envelope, base58 (as `solana sign-offchain-message` prints it). */
  readonly signature: string;
}

/** The fields of a parsed message; `action`, `treasury`, `operator` and `expires` are always present. */
export interface MessageFields {
  readonly action: SignedAction;
  readonly treasury: string;
  readonly operator: string;
  /** Epoch ms. */
  readonly expires: number;
  readonly fields: Readonly<Record<string, string>>;
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };
const fail = (why: string): { ok: false; why: string } => ({ ok: false, why });

// ── Writing messages ─────────────────────────────────────────────────────────

/** The message an operator signs to approve or reject `plan`. */
export function planMessage(plan: InterventionPlan, action: PlanAction, operator: string, reason?: string): string {
  return formatMessage([
    ['action', action], ['treasury', plan.treasuryId], ['operator', operator],
    ...planFields(plan),
    ['expires', new Date(plan.expiresAt).toISOString()],
    ...(reason ? [['reason', reason] as const] : []),
  ]);
}

/** The plan's fields as they appear in a message (and must match, one by one). */
export function planFields(plan: InterventionPlan): [string, string][] {
  return [
    ['intervention', plan.interventionId],
    ['plan', String(plan.revision)],
    ['tier', String(plan.tier)],
    ['pumpIn', plan.pumpIn],
    ['minPstrOut', plan.minPstrOut],
    ['price', String(plan.consensusPrice)],
    ['configVersion', plan.configVersion === null ? 'none' : String(plan.configVersion)],
  ];
}

export interface ActionClaim {
  readonly action: MonitorAction;
  readonly treasuryId: string;
  readonly operator: string;
  readonly expiresAt: number;
  /** Anything unique per message (a counter, a timestamp, random): two identical actions get two signatures. */
  readonly nonce: string;
  readonly reason?: string;
  readonly interventionId?: string;
  /** updateConfig: the patch as canonical JSON. */
  readonly patch?: string;
}

/** The message an operator signs for a monitor action (pause, resume, emergency stop, config change, cancel). */
export function actionMessage(a: ActionClaim): string {
  return formatMessage([
    ['action', a.action], ['treasury', a.treasuryId], ['operator', a.operator],
    ...(a.interventionId ? [['intervention', a.interventionId] as [string, string]] : []),
    ...(a.patch !== undefined ? [['patch', a.patch] as [string, string]] : []),
    ['nonce', a.nonce],
    ['expires', new Date(a.expiresAt).toISOString()],
    ...(a.reason ? [['reason', a.reason] as [string, string]] : []),
  ]);
}

function formatMessage(pairs: readonly (readonly [string, string])[]): string {
  return [MESSAGE_PREFIX, ...pairs.map(([k, v]) => `${k}=${escapeValue(v)}`)].join('; ');
}

/**
 * Values are percent-escaped where they would break the grammar or the
 * restricted-ASCII format: `%`, `;`, and anything outside 0x20–0x7e (UTF-8
 * bytes). A reason in any language survives, byte for byte.
 */
export function escapeValue(v: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(v)) {
    const c = String.fromCharCode(byte);
    out += byte < 0x20 || byte > 0x7e || c === '%' || c === ';' ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : c;
  }
  return out;
}

function unescapeValue(v: string): string | null {
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== '%') { bytes.push(v.charCodeAt(i)); continue; }
    const hex = v.slice(i + 1, i + 3);
    if (!/^[0-9A-F]{2}$/.test(hex)) return null;
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}

// ── Reading messages ─────────────────────────────────────────────────────────

/** Parses a message's text; says which part is wrong when it is not one of ours. */
export function parseMessage(text: unknown): Checked<MessageFields> {
  if (typeof text !== 'string' || text.length === 0) return fail('message: expected the signed text, got nothing');
  if (!/^[\x20-\x7e]+$/.test(text)) return fail('message: not one line of printable ASCII');
  const [prefix, ...parts] = text.split('; ');
  if (prefix !== MESSAGE_PREFIX) return fail(`message: starts with "${prefix?.slice(0, 40)}", not "${MESSAGE_PREFIX}"`);
  const fields: Record<string, string> = {};
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq) : '';
    const value = eq > 0 ? unescapeValue(part.slice(eq + 1)) : null;
    if (!/^[A-Za-z]+$/.test(key) || value === null) return fail(`message: malformed field "${part.slice(0, 40)}"`);
    if (Object.hasOwn(fields, key)) return fail(`message: field ${key} appears twice`);
    fields[key] = value;
  }
  const { action, treasury, operator, expires } = fields;
  if (!action || !ACTIONS.includes(action)) return fail(`message: action "${action ?? ''}" is not one of ${ACTIONS.join(', ')}`);
  if (!treasury) return fail('message: no treasury field');
  if (!operator) return fail('message: no operator field');
  const expiresAt = expires && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/.test(expires) ? Date.parse(expires) : NaN;
  if (!Number.isFinite(expiresAt)) return fail(`message: expires "${expires ?? ''}" is not an ISO-8601 UTC time`);
  return { ok: true, value: { action: action as SignedAction, treasury, operator, expires: expiresAt, fields } };
}

/** The bytes an operator's key signs: the text in an off-chain message v0 envelope with `signer` as its signatory. */
export function messageBytes(text: string, signer: string): Uint8Array {
  const message = {
    version: 0,
    applicationDomain: offchainMessageApplicationDomain(APPLICATION_DOMAIN),
    content: { format: OffchainMessageContentFormat.RESTRICTED_ASCII_1232_BYTES_MAX, text },
    requiredSignatories: [{ address: signer as Address }],
  } as unknown as OffchainMessageV0;
  return new Uint8Array(getOffchainMessageV0Encoder().encode(message));
}

/** Does `signature` (base58) sign `text` with `publicKey` (a base58 Solana address)? Never throws. */
export function signatureValid(text: string, signature: string, publicKey: string): boolean {
  try {
    const sig = base58.decode(signature);
    const key = base58.decode(publicKey);
    if (sig.length !== 64 || key.length !== 32) return false;
    return ed25519.verify(sig, messageBytes(text, publicKey), key);
  } catch {
    return false;
  }
}

/** Signs `text` with a 32-byte ed25519 seed (the first half of a Solana CLI keypair file): for the client and the tests. */
export function signMessage(text: string, secretSeed: Uint8Array): SignedMessage {
  const publicKey = base58.encode(ed25519.getPublicKey(secretSeed));
  return { message: text, signature: base58.encode(ed25519.sign(messageBytes(text, publicKey), secretSeed)) };
}

/** The Solana address of a 32-byte ed25519 seed. */
export function publicKeyOf(secretSeed: Uint8Array): string {
  return base58.encode(ed25519.getPublicKey(secretSeed));
}

/** Is `s` a base58 ed25519 public key (a Solana address)? */
export function isPublicKey(s: string): boolean {
  try {
    return base58.decode(s).length === 32;
  } catch {
    return false;
  }
}

/** Operator name → public key (base58). */
export type OperatorKeys = Readonly<Record<string, string>>;

/**
 * Checks who signed: the message parses, names a configured operator with a
 * key, carries that key's valid signature, and has not expired. Then the
 * caller checks what was signed (a plan, or a monitor action).
 */
export function verifyOperatorMessage(payload: unknown, keys: OperatorKeys, now: number): Checked<MessageFields> {
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Partial<Record<string, unknown>>;
  if (typeof p.signature !== 'string' || p.signature.length === 0) return fail('unsigned: signature is missing (operator keys are configured, so every operator message must be signed)');
  const parsed = parseMessage(p.message);
  if (!parsed.ok) return parsed;
  const m = parsed.value;
  if (typeof p.operator === 'string' && p.operator !== '' && p.operator !== m.operator) {
    return fail(`operator: the payload says "${p.operator}" but the signed message says "${m.operator}"`);
  }
  const key = Object.hasOwn(keys, m.operator) ? keys[m.operator] : undefined;
  if (!key) return fail(`operator: "${m.operator}" is not a configured operator with a key (intervention.operatorKeys)`);
  if (!signatureValid(p.message as string, p.signature, key)) return fail(`signature: not a valid signature of this message by ${m.operator}'s key ${key}`);
  if (m.expires <= now) return fail(`expires: the message expired at ${new Date(m.expires).toISOString()}`);
  return { ok: true, value: m };
}

/**
 * Is a verified message an approval (or rejection) of exactly `plan`? Names
 * the first field that differs. `plan` null: the intervention has not sized yet.
 */
export function checkPlanMessage(m: MessageFields, action: PlanAction, plan: InterventionPlan | null): Checked<MessageFields> {
  if (!plan) return fail(`plan: no plan has been published yet; ${action} after sizing, against the plan the intervention shows`);
  if (m.action !== action) return fail(`action: the message is signed for "${m.action}", not "${action}"`);
  if (m.treasury !== plan.treasuryId) return fail(`treasury: signed for "${m.treasury}", the plan is for "${plan.treasuryId}"`);
  for (const [key, want] of planFields(plan)) {
    const got = m.fields[key];
    if (got !== want) return fail(`${key}: signed "${got ?? ''}", the current plan has "${want}"${key === 'plan' ? ' (the plan was re-sized; sign the new one)' : ''}`);
  }
  if (m.expires !== plan.expiresAt) return fail(`expires: signed ${new Date(m.expires).toISOString()}, the plan expires ${new Date(plan.expiresAt).toISOString()}`);
  return { ok: true, value: m };
}

/** Is a verified message this monitor action, for this treasury, with a bounded lifetime? */
export function checkActionMessage(m: MessageFields, expected: { action: MonitorAction; treasuryId: string; interventionId?: string; patch?: string }, now: number): Checked<MessageFields> {
  if (m.action !== expected.action) return fail(`action: the message is signed for "${m.action}", not "${expected.action}"`);
  if (m.treasury !== expected.treasuryId) return fail(`treasury: signed for "${m.treasury}", this monitor runs "${expected.treasuryId}"`);
  if (!m.fields.nonce) return fail('nonce: a monitor action needs a nonce');
  if (m.expires - now > MAX_ACTION_TTL_MS) return fail(`expires: ${new Date(m.expires).toISOString()} is more than ${MAX_ACTION_TTL_MS / 60_000} minutes away`);
  if (expected.interventionId !== undefined && m.fields.intervention !== expected.interventionId) {
    return fail(`intervention: signed "${m.fields.intervention ?? ''}", the request names "${expected.interventionId}"`);
  }
  if (expected.patch !== undefined && m.fields.patch !== expected.patch) return fail('patch: the signed patch differs from the one sent');
  return { ok: true, value: m };
}

/**
 * A signature already used is refused (a replayed approval, pause or resume).
 * `used` maps signature → its message's expiry; entries past expiry can be
 * dropped, since an expired message is refused anyway.
 */
export function replayVerdict(signature: string, used: Readonly<Record<string, number>>): Checked<true> {
  return Object.hasOwn(used, signature) ? fail('signature: this signed message was already used (replayed)') : { ok: true, value: true };
}

/** The used-signature set without entries that have expired by `now`. */
export function pruneUsed(used: Readonly<Record<string, number>>, now: number): Record<string, number> {
  return Object.fromEntries(Object.entries(used).filter(([, expires]) => expires > now));
}

/**
 * Whether operator messages must be signed. With any key configured, yes
 * (every operator needs one). With none, only paper mode may run on bare
 * names, and the start-up and the status say so.
 */
export function signingRequired(keys: OperatorKeys): boolean {
  return Object.keys(keys).length > 0;
}

function padTo32(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  out.set(bytes.subarray(0, 32));
  return out;
}

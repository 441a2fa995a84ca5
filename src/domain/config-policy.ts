/**
 * Who may change which configuration key of a running monitor (issue #10, item 5). Pure: the monitor feeds it the
 * running config, the patch and where the patch comes from; this module merges, classifies every changed leaf and
 * says yes, or no naming the key, its class, the old and the new value.
 *
 * Key classes:
 * - operational: how the agent runs, not what it may do with money (cycle interval, alert sinks, logging, oracle
 *   timeouts and retries, report windows). An operator changes them directly; so may any config-carrying proposal.
 * - tightening: a limit with a safe direction. Anyone allowed to reconfigure may make it stricter (maxSlippage down,
 *   cooldownHours up, …); making it looser is a governed change, carried only by the proposal kind named for it.
 * - governed: the shape of the strategy and who controls it (tiers, allocations, treasury amounts, the operator
 *   list, the timelock, governance itself). Only a passed proposal of the kind named for it, after its execution
 *   delay (the proposal workflow waits it out; the monitor checks its own delay and re-tallies with its own
 *   thresholds before applying).
 * - fixed: read once when the worker builds its world (mode, token mints, the Solana connection and keys, the oracle
 *   sources' wiring, the paper market). Changing them on a running monitor would make its config say one thing
 *   while the worker does another: change the config file and restart instead. Nobody may patch them.
 * - immutable: treasuryId, the monitor's identity (its workflow id, every record's key). Never changes.
 *
 * Proposal kinds (SPEC §9: Parameter Adjustment and Treasury Strategy change the configuration; Emergency Action
 * pauses, resumes or cancels). The SPEC leaves Protocol Upgrade's reach open; it has the higher thresholds of the
 * config kinds (20 % / 67 %), so it carries the changes of control: the operators, the timelock, governance itself.
 * - parameterAdjustment (10 % / 51 %): loosening risk, oracle and intervention-pace limits; strategy parameters.
 * - treasuryStrategy (15 % / 60 %): tiers, allocations, capital and period, treasury amounts, liquidity pools.
 * - protocolUpgrade (20 % / 67 %): intervention.operators, the timelock (threshold, minutes, approvals), governance.*.
 * - emergencyAction (25 % / 75 %): pause, resume (the only proposal that lifts an emergency stop), cancel an
 *   intervention; it carries no config patch (domain/operators.ts ACTIONS_BY_KIND).
 * Every config-carrying kind may also carry operational keys and tighten any limit.
 */
import { ConfigError, mergeConfig, type Config, type ProposalKind } from '../config-schema.ts';
import { ACTIONS_BY_KIND, canonicalJson, proposalMayDo } from './operators.ts';

export type KeyClass = 'operational' | 'tightening' | 'governed' | 'fixed' | 'immutable';
export type ConfigProposalKind = Exclude<ProposalKind, 'emergencyAction'>;
/** Which way is stricter: a smaller number, a larger number, or switched off. */
export type Stricter = 'lower' | 'higher' | 'off';

export interface KeyRule {
  readonly class: KeyClass;
  /** tightening: the safe direction. */
  readonly stricter?: Stricter;
  /** tightening (to loosen) and governed: the one proposal kind that may carry the change. */
  readonly by?: ConfigProposalKind;
}

const op: KeyRule = { class: 'operational' };
const fixed: KeyRule = { class: 'fixed' };
const tight = (stricter: Stricter, by: ConfigProposalKind = 'parameterAdjustment'): KeyRule => ({ class: 'tightening', stricter, by });
const gov = (by: ConfigProposalKind): KeyRule => ({ class: 'governed', by });

/**
 * Every key of src/config-schema.ts (config-policy.test.ts walks the schema and fails on a leaf without a rule).
 * A key ending in `.*` covers its whole subtree: only for classes without a direction.
 */
export const KEY_RULES: Readonly<Record<string, KeyRule>> = {
  treasuryId: { class: 'immutable' },
  mode: fixed,
  'tokens.*': fixed,

  'strategy.totalCapital': gov('treasuryStrategy'),
  'strategy.accumulationPeriodDays': gov('treasuryStrategy'),
  'strategy.treasuryAllocation': gov('treasuryStrategy'),
  'strategy.liquidityAllocation': gov('treasuryStrategy'),
  'strategy.tiers': gov('treasuryStrategy'),
  // A lower trigger needs a deeper drawdown: fewer interventions.
  'strategy.triggerThreshold': tight('lower'),
  'strategy.cooldownHours': tight('higher'),
  'strategy.minVwapHistoryDays': tight('higher'),
  'strategy.vwapWindowDays': gov('parameterAdjustment'),

  'risk.minReserveRatio': tight('higher'),
  'risk.maxPumpConcentration': tight('lower'),
  'risk.maxDailyInterventions': tight('lower'),
  'risk.maxDeployment': tight('lower'),
  // A higher floor latches the emergency stop sooner; a higher reduction mark halves more often.
  'risk.minRrThreshold': tight('higher'),
  'risk.reductionBelowRr': tight('higher'),
  'risk.reductionFactor': tight('lower'),
  'risk.maxSlippage': tight('lower'),
  // Windows of the risk report: they measure, they move nothing.
  'risk.varLookbackDays': op,
  'risk.minReturnsForVar': op,
  'risk.volatilityWindowDays': op,

  'oracle.maxPriceDeviation': tight('lower'),
  'oracle.confidenceWeight': gov('parameterAdjustment'),
  'oracle.maxStalenessSeconds': tight('lower'),
  'oracle.minAgreeingSources': tight('higher'),
  'oracle.noValidPriceAlertCycles': op,
  'oracle.timeoutMs': op,
  'oracle.retries': op,
  'oracle.retryBackoffMs': op,
  'oracle.breaker.*': op,
  // The sources themselves (endpoints, keys, feed ids, pools) are built by the worker at start-up.
  'oracle.pyth.*': fixed,
  // The console's address is bound when the worker starts.
  'console.*': fixed,
  'oracle.switchboard.*': fixed,
  'oracle.dex.*': fixed,

  'solana.priorityFee.*': op,
  'solana.*': fixed,

  'monitor.cycleIntervalSeconds': op,

  'intervention.timelockThresholdUsd': tight('lower', 'protocolUpgrade'),
  'intervention.timelockMinutes': tight('higher', 'protocolUpgrade'),
  'intervention.approvalsRequired': tight('higher', 'protocolUpgrade'),
  // A shorter wait for approval expires sooner: nothing moves without a timely decision.
  'intervention.approvalTimeoutHours': tight('lower'),
  'intervention.operators': gov('protocolUpgrade'),
  'intervention.operatorKeys': gov('protocolUpgrade'),
  'intervention.sliceWindowMinutes': tight('lower'),
  'intervention.trackHorizonsHours': op,

  'treasury.initial.*': gov('treasuryStrategy'),
  // A larger supply means a larger market cap, a lower RR: stricter. A lower count would unlock spending.
  'treasury.pstrCirculatingSupply': { class: 'tightening', stricter: 'higher', by: 'treasuryStrategy' },

  'liquidity.enabled': tight('off', 'treasuryStrategy'),
  'liquidity.pools': gov('treasuryStrategy'),
  'liquidity.rangeWidth': gov('treasuryStrategy'),
  'liquidity.rebalanceThreshold': gov('treasuryStrategy'),
  'liquidity.minRebalanceIntervalHours': tight('higher', 'treasuryStrategy'),
  // The backtest's fee model.
  'liquidity.feeRate': op,
  'liquidity.volumeShare': op,

  'governance.deadlineWarningHours': op,
  'governance.*': { class: 'governed', by: 'protocolUpgrade' },

  'paper.*': fixed,
  'alerts.*': op,
  'ops.*': op,
  'backtest.*': op,
};

/** The rule of a key path: the exact key, else the nearest `prefix.*` (the path's own or an ancestor's). Null: not a configuration key. */
export function ruleOf(path: readonly string[]): { key: string; rule: KeyRule; subtree: boolean } | null {
  const exact = path.join('.');
  if (Object.hasOwn(KEY_RULES, exact)) return { key: exact, rule: KEY_RULES[exact] as KeyRule, subtree: false };
  for (let i = path.length; i >= 1; i--) {
    const key = `${path.slice(0, i).join('.')}.*`;
    if (Object.hasOwn(KEY_RULES, key)) return { key, rule: KEY_RULES[key] as KeyRule, subtree: true };
  }
  return null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a rule names something strictly inside `path` (then a patch of it is judged key by key). */
function rulesBelow(path: readonly string[]): boolean {
  const prefix = `${path.join('.')}.`;
  return Object.keys(KEY_RULES).some((k) => k.startsWith(prefix) && k !== `${prefix}*`);
}

/**
 * The classified paths a patch touches: leaves with their own rule, and whole subtrees of one class (a patch of
 * `alerts` is one operational change). Arrays and scalars are replaced whole by a merge, so they are leaves.
 */
export function touchedKeys(patch: Record<string, unknown>, prefix: readonly string[] = []): { path: string[]; rule: KeyRule | null }[] {
  const out: { path: string[]; rule: KeyRule | null }[] = [];
  for (const [k, v] of Object.entries(patch)) {
    const path = [...prefix, k];
    if (isPlainObject(v) && rulesBelow(path)) out.push(...touchedKeys(v, path));
    else out.push({ path, rule: ruleOf(path)?.rule ?? null });
  }
  return out;
}

function valueAt(v: unknown, path: readonly string[]): unknown {
  let cur = v;
  for (const k of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

export type Origin = { kind: 'operator' } | { kind: 'governance'; proposalKind: string };

export interface KeyChange {
  readonly key: string;
  readonly class: KeyClass;
  readonly from: unknown;
  readonly to: unknown;
  /** tightening: whether the change is stricter (or equal). */
  readonly stricter?: boolean;
}

export type ConfigDecision =
  | { readonly ok: true; readonly config: Config; readonly changes: readonly KeyChange[]; readonly why: string }
  | { readonly ok: false; readonly why: string; readonly refused: readonly KeyChange[] };

const show = (v: unknown): string => {
  const text = canonicalJson(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/**
 * Values are shown for keys with their own rule; a whole subtree (alert sinks with their webhook URLs) and the
 * fixed keys (RPC URLs, API keys) are named without their values: refusals and summaries reach logs and history.
 */
const OPAQUE = '(value not shown)';
const fromTo = (key: string, rule: KeyRule | null, from: unknown, to: unknown): string =>
  rule === null || rule.class === 'fixed' || Object.hasOwn(KEY_RULES, `${key}.*`) || !Object.hasOwn(KEY_RULES, key)
    ? `${key} ${OPAQUE}`
    : `${key} ${show(from)} → ${show(to)}`;

const an = (name: string) => (/^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`);
const kindName = (k: string) => ({ parameterAdjustment: 'Parameter Adjustment', treasuryStrategy: 'Treasury Strategy', protocolUpgrade: 'Protocol Upgrade', emergencyAction: 'Emergency Action' } as Record<string, string>)[k] ?? k;

/** Exact order of two whole-token decimal strings ("2000000000", "1250.5"): negative, zero or positive. */
function compareDecimal(a: string, b: string): number {
  const [ai = '', af = ''] = a.split('.');
  const [bi = '', bf = ''] = b.split('.');
  const ia = ai.replace(/^0+(?=\d)/, '');
  const ib = bi.replace(/^0+(?=\d)/, '');
  if (ia.length !== ib.length) return ia.length - ib.length;
  if (ia !== ib) return ia < ib ? -1 : 1;
  const width = Math.max(af.length, bf.length);
  const fa = af.padEnd(width, '0');
  const fb = bf.padEnd(width, '0');
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

const DECIMAL = /^\d+(\.\d+)?$/;

function isStricter(direction: Stricter, from: unknown, to: unknown): boolean {
  if (direction === 'off') return to === false || to === from;
  let order: number;
  if (typeof from === 'number' && typeof to === 'number') order = to - from;
  else if (typeof from === 'string' && typeof to === 'string' && DECIMAL.test(from) && DECIMAL.test(to)) order = compareDecimal(to, from);
  else return false;
  return direction === 'lower' ? order <= 0 : order >= 0;
}

const DIRECTION_WORD: Record<Stricter, string> = { lower: 'lower', higher: 'higher', off: 'switched off' };

/** Why one leaf change is refused to `origin`, or null when it is allowed. */
export function refusalOf(c: { key: string; rule: KeyRule; from: unknown; to: unknown }, origin: Origin): string | null {
  const what = fromTo(c.key, c.rule, c.from, c.to).replace(c.key, `${c.key} (${c.rule.class})`);
  const governedBy = origin.kind === 'governance' && c.rule.by === origin.proposalKind;
  const who = origin.kind === 'operator' ? 'an operator' : `${an(kindName(origin.proposalKind))} proposal`;
  switch (c.rule.class) {
    case 'immutable':
      return `${what}: the treasury id is the monitor's identity and never changes`;
    case 'fixed':
      return `${what}: read when the worker starts; change the config file and restart, never on a running monitor`;
    case 'operational':
      return null;
    case 'tightening': {
      if (isStricter(c.rule.stricter ?? 'lower', c.from, c.to) || governedBy) return null;
      return `${what}: looser; ${who} may only make it stricter (${DIRECTION_WORD[c.rule.stricter ?? 'lower']}); loosening it takes a passed ${kindName(c.rule.by ?? 'parameterAdjustment')} proposal`;
    }
    case 'governed':
      return governedBy ? null : `${what}: governed; only a passed ${kindName(c.rule.by ?? 'parameterAdjustment')} proposal may change it, not ${who}`;
  }
}

/**
 * May `origin` apply `patch` to the running `current` config? Merges and validates it (the schema's ceilings), then
 * judges every key whose value changes. Refused as a whole when any change is refused.
 */
export function decideConfigPatch(current: Config, patch: Record<string, unknown>, origin: Origin): ConfigDecision {
  if (origin.kind === 'governance' && !proposalMayDo(origin.proposalKind, 'updateConfig')) {
    return { ok: false, why: `${an(kindName(origin.proposalKind))} proposal may not change the configuration (it may ${actionsOf(origin.proposalKind)})`, refused: [] };
  }
  let next: Config;
  try {
    next = mergeConfig(current, patch, 'updateConfig');
  } catch (err) {
    return { ok: false, why: err instanceof ConfigError ? err.message : String(err), refused: [] };
  }
  const changes: KeyChange[] = [];
  const refused: { change: KeyChange; why: string }[] = [];
  for (const t of touchedKeys(patch)) {
    const key = t.path.join('.');
    const from = valueAt(current, t.path);
    const to = valueAt(next, t.path);
    if (canonicalJson(from) === canonicalJson(to)) continue;
    if (t.rule === null) {
      refused.push({ change: { key, class: 'fixed', from, to }, why: `${key} is not a classified configuration key: refused` });
      continue;
    }
    const change: KeyChange = t.rule.class === 'tightening'
      ? { key, class: t.rule.class, from, to, stricter: isStricter(t.rule.stricter ?? 'lower', from, to) }
      : { key, class: t.rule.class, from, to };
    const why = refusalOf({ key, rule: t.rule, from, to }, origin);
    if (why === null) changes.push(change);
    else refused.push({ change, why });
  }
  if (refused.length) return { ok: false, why: refused.map((r) => r.why).join('; '), refused: refused.map((r) => r.change) };
  const summary = changes.length ? changes.map((c) => fromTo(c.key, ruleOf(c.key.split('.'))?.rule ?? null, c.from, c.to)).join(', ') : 'no key changes';
  return { ok: true, config: next, changes, why: summary };
}

function actionsOf(kind: string): string {
  return Object.hasOwn(ACTIONS_BY_KIND, kind) ? (ACTIONS_BY_KIND as Record<string, readonly string[]>)[kind]?.join(', ') ?? 'nothing' : 'nothing: it is not a proposal kind';
}

/**
 * The part of a proposal's change that can be judged when it is started, before any running config is known: its
 * action is one its kind may carry, its patch renames no treasury and names no fixed key, and every governed key
 * it names belongs to its kind. (Whether a tightening key is loosened is judged by the monitor when applying.)
 */
export function proposalChangeVerdict(
  kind: string,
  change: { action: string; patch?: unknown },
  treasuryId: string,
): { ok: true; why: string } | { ok: false; field: string; why: string } {
  if (!proposalMayDo(kind, change.action)) {
    return { ok: false, field: 'change.action', why: `${an(kindName(kind))} proposal may not ${change.action} (it may ${actionsOf(kind)})` };
  }
  if (change.action !== 'updateConfig') return { ok: true, why: `${kind} may ${change.action}` };
  if (!isPlainObject(change.patch)) return { ok: false, field: 'change.patch', why: 'must be an object (a partial configuration)' };
  for (const t of touchedKeys(change.patch)) {
    const key = t.path.join('.');
    const value = valueAt(change.patch, t.path);
    const field = `change.patch.${key}`;
    if (t.rule === null) return { ok: false, field, why: `${key} is not a configuration key` };
    if (t.rule.class === 'immutable') {
      if (value !== treasuryId) return { ok: false, field, why: `treasuryId never changes (${treasuryId} → ${show(value)})` };
      continue;
    }
    if (t.rule.class === 'fixed') return { ok: false, field, why: `${key} is fixed on a running monitor (change the config file and restart)` };
    if (t.rule.class === 'governed' && t.rule.by !== kind) {
      return { ok: false, field, why: `${key} is governed by ${kindName(t.rule.by ?? '')} proposals, not ${kindName(kind)}` };
    }
  }
  return { ok: true, why: `${kind} may carry this patch` };
}

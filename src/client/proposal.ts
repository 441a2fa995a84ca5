/**
 * `client.ts propose`: the proposal type as the operator types it, and the
 * change it carries, checked before anything starts (SPEC §9). A config patch
 * is validated against the running configuration here, so a proposal that
 * could never apply is refused now rather than after a 72-hour vote.
 *
 * Protocol Upgrade: code is deployed by people, not by the agent, so such a
 * proposal records the community's decision and changes nothing by itself.
 * It carries `{ "action": "updateConfig", "patch": {} }` (the default when
 * --change is omitted); any other change is refused.
 */
import { ConfigError, mergeConfig, type Config, type ProposalKind } from '../config-schema.ts';
import { ACTIONS_BY_KIND as DOMAIN_ACTIONS_BY_KIND } from '../domain/operators.ts';
import type { ProposalChange } from '../workflows/contract.ts';
import { CliError } from './errors.ts';

export const PROPOSAL_TYPES: Readonly<Record<string, ProposalKind>> = {
  'parameter-adjustment': 'parameterAdjustment',
  'treasury-strategy': 'treasuryStrategy',
  'protocol-upgrade': 'protocolUpgrade',
  'emergency-action': 'emergencyAction',
};

/** The same table the monitor checks a passed proposal's change against. */
const ACTIONS_BY_KIND: Readonly<Record<ProposalKind, readonly ProposalChange['action'][]>> = DOMAIN_ACTIONS_BY_KIND;

const KEYS_BY_ACTION: Readonly<Record<ProposalChange['action'], readonly string[]>> = {
  updateConfig: ['action', 'patch'],
  pause: ['action'],
  resume: ['action'],
  cancelIntervention: ['action', 'interventionId'],
};

export function proposalKind(type: string): ProposalKind {
  const kind = PROPOSAL_TYPES[type];
  if (!kind) throw new CliError(`proposal type "${type}" is not one of ${Object.keys(PROPOSAL_TYPES).join(', ')}`);
  return kind;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and checks `--change` for a proposal of `kind` against the running `config`. */
export function parseChange(kind: ProposalKind, json: string | undefined, config: Config): ProposalChange {
  if (json === undefined) {
    if (kind === 'protocolUpgrade') return { action: 'updateConfig', patch: {} };
    throw new CliError(`--change is required for a ${kind} proposal, e.g. ${example(kind)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new CliError(`--change is not valid JSON (${(err as Error).message}): ${json}`);
  }
  if (!isObject(value) || typeof value.action !== 'string') {
    throw new CliError(`--change must be a JSON object with an "action", e.g. ${example(kind)}; got ${json}`);
  }
  const action = value.action as ProposalChange['action'];
  const allowed = ACTIONS_BY_KIND[kind];
  if (!allowed.includes(action)) {
    throw new CliError(`--change action "${value.action}" is not allowed for ${kind} proposals (allowed: ${allowed.join(', ')})`);
  }
  const extra = Object.keys(value).filter((k) => !KEYS_BY_ACTION[action].includes(k));
  if (extra.length) throw new CliError(`--change has unknown key(s) ${extra.map((k) => `"${k}"`).join(', ')} for action ${action}`);
  switch (action) {
    case 'updateConfig':
      return { action, patch: checkPatch(kind, value.patch, config) };
    case 'cancelIntervention':
      if (typeof value.interventionId !== 'string' || value.interventionId === '') {
        throw new CliError(`--change interventionId must be a workflow id such as "intervention/${config.treasuryId}/1", got ${JSON.stringify(value.interventionId)}`);
      }
      return { action, interventionId: value.interventionId };
    default:
      return { action };
  }
}

function checkPatch(kind: ProposalKind, patch: unknown, config: Config): Record<string, unknown> {
  if (!isObject(patch)) throw new CliError(`--change patch must be a JSON object (a partial configuration), got ${JSON.stringify(patch)}`);
  if (kind === 'protocolUpgrade') {
    if (Object.keys(patch).length) throw new CliError('--change for a protocolUpgrade proposal must be {"action":"updateConfig","patch":{}}: upgrades are deployed by people, the vote only records the decision');
    return patch;
  }
  if (Object.keys(patch).length === 0) throw new CliError('--change patch is empty: name the configuration keys this proposal changes');
  try {
    const next = mergeConfig(config, patch, '--change patch');
    if (next.treasuryId !== config.treasuryId) throw new CliError(`--change patch may not change treasuryId (${config.treasuryId} → ${next.treasuryId})`);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  return patch;
}

function example(kind: ProposalKind): string {
  return kind === 'emergencyAction' ? `'{"action":"pause"}'` : `'{"action":"updateConfig","patch":{"strategy":{"cooldownHours":72}}}'`;
}

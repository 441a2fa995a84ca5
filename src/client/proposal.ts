/**
 * `client.ts propose`: the proposal type as the operator types it, and the
 * change it carries, checked before anything starts (SPEC §9). A config patch
 * is validated against the running configuration here, so a proposal that
 * could never apply is refused now rather than after a 72-hour vote.
 *
 * Which kind may carry which change and key is the domain's rule
 * (src/domain/config-policy.ts), the one the proposal workflow and the monitor
 * enforce; the client only asks it early. Protocol Upgrade carries the changes of
 * control (operators, the timelock, governance); with no --change it carries an
 * empty patch, recording a decision about code that people deploy.
 */
import type { Config, ProposalKind } from '../config-schema.ts';
import { decideConfigPatch, proposalChangeVerdict } from '../domain/config-policy.ts';
import { ACTIONS_BY_KIND as DOMAIN_ACTIONS_BY_KIND } from '../domain/operators.ts';
import type { ProposalChange } from '../workflows/contract.ts';
import { CliError } from './errors.ts';

import { PROPOSAL_TYPES } from './proposal-types.ts';

export { PROPOSAL_TYPES };

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
  if (Object.keys(patch).length === 0) {
    if (kind === 'protocolUpgrade') return patch;
    throw new CliError('--change patch is empty: name the configuration keys this proposal changes');
  }
  // Judged against the running config as the monitor will judge it (it may change meanwhile: the monitor decides).
  const d = decideConfigPatch(config, patch, { kind: 'governance', proposalKind: kind });
  // No key judged: the schema refused the merged config (an unknown key, a value past a ceiling).
  if (!d.ok && d.refused.length === 0) throw new CliError(d.why);
  const rules = proposalChangeVerdict(kind, { action: 'updateConfig', patch }, config.treasuryId);
  if (!rules.ok) throw new CliError(`--change ${rules.field}: ${rules.why}`);
  if (!d.ok) throw new CliError(`--change patch refused: ${d.why}`);
  return patch;
}

function example(kind: ProposalKind): string {
  return kind === 'emergencyAction' ? `'{"action":"pause"}'` : `'{"action":"updateConfig","patch":{"strategy":{"cooldownHours":72}}}'`;
}

/** The proposal types as the CLI spells them (a module of its own: `--help` lists them without loading the client). */
import type { ProposalKind } from '../config-schema.ts';

export const PROPOSAL_TYPES: Readonly<Record<string, ProposalKind>> = {
  'parameter-adjustment': 'parameterAdjustment',
  'treasury-strategy': 'treasuryStrategy',
  'protocol-upgrade': 'protocolUpgrade',
  'emergency-action': 'emergencyAction',
};

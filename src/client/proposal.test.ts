import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config-schema.ts';
import { CliError } from './errors.ts';
import { parseChange, proposalKind } from './proposal.ts';

const config = defaultConfig();

describe('proposal types', () => {
  it('maps each type the operator types to its governance kind', () => {
    expect(['parameter-adjustment', 'treasury-strategy', 'protocol-upgrade', 'emergency-action'].map(proposalKind)).toEqual([
      'parameterAdjustment', 'treasuryStrategy', 'protocolUpgrade', 'emergencyAction',
    ]);
  });

  it('refuses an unknown type, listing the valid ones', () => {
    expect(() => proposalKind('coup')).toThrow('proposal type "coup" is not one of parameter-adjustment, treasury-strategy, protocol-upgrade, emergency-action');
  });
});

describe('the change a proposal carries', () => {
  it('accepts a valid configuration patch for parameter and strategy proposals', () => {
    const json = '{"action":"updateConfig","patch":{"strategy":{"cooldownHours":72}}}';
    expect(parseChange('parameterAdjustment', json, config)).toEqual({ action: 'updateConfig', patch: { strategy: { cooldownHours: 72 } } });
    expect(parseChange('treasuryStrategy', json, config).action).toBe('updateConfig');
  });

  it('refuses a patch the configuration schema refuses, naming the field and value', () => {
    expect(() => parseChange('parameterAdjustment', '{"action":"updateConfig","patch":{"risk":{"maxSlippage":3}}}', config)).toThrow(/risk\.maxSlippage = 3/);
    expect(() => parseChange('parameterAdjustment', '{"action":"updateConfig","patch":{"strategy":{"cooldwnHours":72}}}', config)).toThrow(/unknown key\(s\) "cooldwnHours"/);
  });

  it('refuses a patch that would change the treasury id, or changes nothing', () => {
    expect(() => parseChange('treasuryStrategy', '{"action":"updateConfig","patch":{"treasuryId":"other"}}', config)).toThrow('--change change.patch.treasuryId: treasuryId never changes (pstr-main → "other")');
    expect(() => parseChange('treasuryStrategy', '{"action":"updateConfig","patch":{}}', config)).toThrow('patch is empty');
  });

  it('lets an emergency action pause, resume or cancel an intervention, and nothing else', () => {
    expect(parseChange('emergencyAction', '{"action":"pause"}', config)).toEqual({ action: 'pause' });
    expect(parseChange('emergencyAction', '{"action":"resume"}', config)).toEqual({ action: 'resume' });
    expect(parseChange('emergencyAction', '{"action":"cancelIntervention","interventionId":"intervention/pstr-main/2"}', config)).toEqual({
      action: 'cancelIntervention', interventionId: 'intervention/pstr-main/2',
    });
    expect(() => parseChange('emergencyAction', '{"action":"updateConfig","patch":{"monitor":{"cycleIntervalSeconds":60}}}', config)).toThrow(
      '--change action "updateConfig" is not allowed for emergencyAction proposals (allowed: pause, resume, cancelIntervention)',
    );
    expect(() => parseChange('parameterAdjustment', '{"action":"pause"}', config)).toThrow('allowed: updateConfig');
  });

  it('refuses a cancellation without an intervention id, and keys an action does not take', () => {
    expect(() => parseChange('emergencyAction', '{"action":"cancelIntervention"}', config)).toThrow('interventionId must be a workflow id');
    expect(() => parseChange('emergencyAction', '{"action":"pause","now":true}', config)).toThrow('unknown key(s) "now" for action pause');
  });

  it('lets a protocol upgrade carry an empty patch (its default), the operators and the timelock; not a looser risk limit', () => {
    expect(parseChange('protocolUpgrade', undefined, config)).toEqual({ action: 'updateConfig', patch: {} });
    expect(parseChange('protocolUpgrade', '{"action":"updateConfig","patch":{"intervention":{"operators":["alice","bob"],"timelockMinutes":30}}}', config).action).toBe('updateConfig');
    expect(() => parseChange('protocolUpgrade', '{"action":"updateConfig","patch":{"risk":{"maxSlippage":0.03}}}', config)).toThrow(/risk\.maxSlippage \(tightening\) 0\.02 → 0\.03: looser; a Protocol Upgrade proposal may only make it stricter/);
  });

  it('asks the domain which kind may carry a key: operators only by a protocol upgrade, tiers only by a treasury strategy', () => {
    expect(() => parseChange('parameterAdjustment', '{"action":"updateConfig","patch":{"intervention":{"operators":["mallory"]}}}', config)).toThrow(
      '--change change.patch.intervention.operators: intervention.operators is governed by Protocol Upgrade proposals, not Parameter Adjustment',
    );
    expect(() => parseChange('parameterAdjustment', '{"action":"updateConfig","patch":{"strategy":{"tiers":[{"drawdown":0.2,"fraction":0.3}]}}}', config)).toThrow(/governed by Treasury Strategy/);
    expect(parseChange('treasuryStrategy', '{"action":"updateConfig","patch":{"strategy":{"tiers":[{"drawdown":0.2,"fraction":0.3}]}}}', config).action).toBe('updateConfig');
  });

  it('says what is wrong with text that is not a change at all', () => {
    expect(() => parseChange('parameterAdjustment', undefined, config)).toThrow('--change is required for a parameterAdjustment proposal');
    expect(() => parseChange('parameterAdjustment', '{action: pause}', config)).toThrow(/--change is not valid JSON/);
    expect(() => parseChange('parameterAdjustment', '[1]', config)).toThrow('--change must be a JSON object with an "action"');
    expect(() => parseChange('parameterAdjustment', '{"action":"updateConfig","patch":[1]}', config)).toThrow('--change patch must be a JSON object');
    expect(() => parseChange('parameterAdjustment', '1', config)).toThrow(CliError);
  });
});

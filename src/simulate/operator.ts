/**
 * The simulation's scripted operators: as many as `intervention.approvalsRequired`,
 * each with a fixed test key configured in `intervention.operatorKeys`, so the
 * intervention verifies their approvals exactly as it verifies a person's
 * (signed plan, this revision, unexpired, not replayed).
 *
 * When they act: the moment an intervention that needs the timelock has
 * published its plan. The simulator calls `onStepRecorded` from inside the
 * intervention's own recordInterventionStep activity (after the real one has
 * written the step), and awaits the approvals there: while an activity runs,
 * the time-skipping server does not skip time, so the approvals land at the
 * plan's virtual moment, not at whatever timer the server would jump to
 * next. The intervention then counts them once the timelock allows, as the
 * backtest's scripted operator does. A re-sized plan (revision 2 after a
 * smaller balance) is signed again the same way.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../config.ts';
import { needsTimelock, timelockParams } from '../domain/approval.ts';
import { scriptedOperators as scriptedOperatorsFor } from '../backtest/intervention-run.ts';
import { planMessage, signMessage } from '../domain/operator-message.ts';
import { approveUpdate, interventionStateQuery, type OperatorDecision } from '../workflows/contract.ts';

export const SIMULATION_OPERATOR_REASON = 'simulate: approved when the timelock allows';

/** The operators' names and test seeds, and the config that lists them (their public keys) as the only operators. */
export function scriptedOperators(config: Config): { config: Config; seeds: Map<string, Uint8Array> } {
  return scriptedOperatorsFor(config, { name: 'simulate-operator', seedBase: 0x40 });
}

export class ScriptedOperator {
  /** Plan revisions already signed, per intervention. */
  private readonly signed = new Map<string, number>();
  /** Refused approvals (none expected): said on stderr by the simulator, and counted. */
  readonly refusals: string[] = [];

  constructor(
    private readonly client: Client,
    private readonly config: Config,
    private readonly seeds: ReadonlyMap<string, Uint8Array>,
  ) {}

  /**
   * After an intervention recorded a step: at its size step (or a re-size), approve the plan when the intervention
   * waits for operators. Other steps are not looked at: a query only where an operator would act.
   */
  async onStepRecorded(interventionId: string, step: string): Promise<void> {
    if (step !== 'size' && step !== 'resize') return;
    const handle = this.client.workflow.getHandle(interventionId);
    const st = await handle.query(interventionStateQuery);
    const plan = st.plan;
    if (!plan || plan.revision === this.signed.get(interventionId) || !needsTimelock(st.usdSize ?? 0, timelockParams(this.config))) return;
    this.signed.set(interventionId, plan.revision);
    for (const [operator, seed] of this.seeds) {
      const signed = signMessage(planMessage(plan, 'approve', operator, SIMULATION_OPERATOR_REASON), seed);
      const decision: OperatorDecision = { operator, message: signed.message, signature: signed.signature };
      try {
        const r = await handle.executeUpdate(approveUpdate, { args: [decision] });
        if (!r.accepted) this.refusals.push(`${interventionId} plan ${plan.revision}: ${operator} refused: ${r.why}`);
      } catch (err) {
        // The validator refused it (the update failed with its reason): a bug of the simulation, reported, not fatal.
        this.refusals.push(`${interventionId} plan ${plan.revision}: ${operator} refused: ${err instanceof Error ? (err.cause as Error | undefined)?.message ?? err.message : String(err)}`);
      }
    }
  }
}

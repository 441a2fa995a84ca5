/** `propose`, `vote` and `proposals`: governance proposals (SPEC §9) as workflows `proposal/<n>`. */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import { votingPeriodHours } from '../domain/governance.ts';
import { HOUR_MS } from '../domain/intervention.ts';
import { TASK_QUEUE, proposalWorkflowId, tallyQuery, voteSignal, type ProposalInput, type ProposalTally } from '../workflows/contract.ts';
import { call } from './connect.ts';
import { describeOpen, listWorkflows, monitorConfig, query, stateOf, waitFor, type Ctx } from './context.ts';
import { CliError } from './errors.ts';
import { proposalLines, utc } from './format.ts';
import { parseChange, proposalKind } from './proposal.ts';

const PROPOSAL_TYPE = 'governanceProposal';
const VISIBILITY_QUERY = `WorkflowType = '${PROPOSAL_TYPE}'`;
/** Visibility lags a second behind starts; on a clash the next number is tried, this many times at most. */
const MAX_ID_TRIES = 20;

export function proposalId(id: string): string {
  return /^\d+$/.test(id) ? proposalWorkflowId(Number(id)) : id;
}

export async function propose(ctx: Ctx, type: string, opts: { change?: string; description: string; proposer: string }): Promise<void> {
  const kind = proposalKind(type);
  const config = await monitorConfig(ctx);
  const change = parseChange(kind, opts.change, config);
  const { count } = await call(ctx, 'count proposals', () => ctx.client.workflow.count(VISIBILITY_QUERY));
  const createdAt = ctx.now();
  for (let seq = count + 1, tries = 0; tries < MAX_ID_TRIES; seq++, tries++) {
    const input: ProposalInput = { seq, treasuryId: ctx.treasuryId, kind, description: opts.description, change, proposer: opts.proposer, config: config.governance, createdAt };
    const workflowId = proposalWorkflowId(seq);
    try {
      await call(ctx, `start ${workflowId}`, () =>
        ctx.client.workflow.start(PROPOSAL_TYPE, { taskQueue: TASK_QUEUE, workflowId, args: [input], workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE }),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) continue;
      throw err;
    }
    const deadline = createdAt + votingPeriodHours(kind, config.governance) * HOUR_MS;
    ctx.out(`${workflowId} started: ${kind} by ${opts.proposer} — ${opts.description}`);
    ctx.out(`  change: ${JSON.stringify(change)}`);
    ctx.out(`  voting until ${utc(deadline)}; vote with: npx tsx client.ts vote ${workflowId} --voter NAME --choice yes|no|abstain`);
    return;
  }
  throw new CliError(`could not find a free proposal id after ${MAX_ID_TRIES} tries from proposal/${count + 1}`);
}

export async function vote(ctx: Ctx, rawId: string, opts: { voter: string; choice: string }): Promise<void> {
  const id = proposalId(rawId);
  await describeOpen(ctx, id, PROPOSAL_TYPE, 'proposal');
  const read = () => query(ctx, id, tallyQuery, `no proposal ${id}`);
  const before = await read();
  await call(ctx, `signal vote to ${id}`, () => ctx.client.workflow.getHandle(id).signal(voteSignal, { voter: opts.voter, choice: opts.choice }));
  const counted = (t: ProposalTally) => t.votes[opts.voter] === opts.choice && before.votes[opts.voter] !== opts.choice;
  const refusedNow = (t: ProposalTally) => t.refused.slice(before.refused.length).find((r) => r.voter === opts.voter);
  // A repeated identical vote changes nothing visible: then a short wait is all there is to do.
  const same = before.votes[opts.voter] === opts.choice;
  const { value: after, done } = await waitFor(read, (t) => counted(t) || refusedNow(t) !== undefined, same ? 1_000 : 10_000);
  const refused = refusedNow(after);
  if (refused) throw new CliError(`vote by ${opts.voter} refused by ${id}: ${refused.why}`);
  if (!done && !same) throw new CliError(`the vote was sent to ${id} but it has not taken it yet: is a worker running (\`npm start\`)?`);
  ctx.out(`${id}: ${opts.voter} votes ${opts.choice}${same ? ' (unchanged)' : ''}`);
  proposalLines(after).slice(3).forEach((l) => ctx.out(l));
}

export async function proposals(ctx: Ctx): Promise<void> {
  const rows = await listWorkflows(ctx, PROPOSAL_TYPE, 'proposal/');
  if (!rows.length) {
    ctx.out('no proposals yet');
    return;
  }
  const docs: unknown[] = [];
  ctx.emit?.({ proposals: docs });
  for (const wf of rows) {
    const t = await stateOf(ctx, wf, tallyQuery);
    docs.push({ id: wf.workflowId, execution: wf.status.name, tally: t });
    if (t) proposalLines(t).forEach((l) => ctx.out(l));
    else ctx.out(`${wf.workflowId}  ${wf.status.name.toLowerCase()} (no tally: the workflow did not complete normally)`);
  }
}

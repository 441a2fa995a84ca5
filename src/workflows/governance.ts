/**
 * GovernanceProposal (id `proposal/<n>`): a voter snapshot at creation, one
 * vote per holder (a later one replaces the earlier), the voting period and
 * the execution delay as durable timers, and on a pass the change applied to
 * the monitor. Query `tally` at any time.
 *
 * Which kind may carry which change, and that the treasury id never changes, are checked here at the start (the
 * Temporal CLI starts proposals without client.ts) and again by the monitor when it applies the change. The change is
 * sent as an Update from an activity: the proposal is `executed` only when the monitor accepted it, `failed` with the
 * monitor's reason otherwise.
 */
import { ApplicationFailure, condition, getExternalWorkflowHandle, log, patched, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { raiseAlerts } from './alerts.ts';
import { governanceAlerts } from '../domain/alerts.ts';
import { proposalChangeVerdict } from '../domain/config-policy.ts';
import { castVote, executionDelayHours, tally, takeSnapshot, votingPeriodHours, type Votes } from '../domain/governance.ts';
import { HOUR_MS } from '../domain/intervention.ts';
import { proposalMayDo } from '../domain/operators.ts';
import { checkInput } from './inputs.ts';
import { REASON_MAX, claimedName, parseMessage, proposalInputSchema, summarize, voteMessage } from './messages.ts';
import {
  cancelInterventionSignal, monitorWorkflowId, pauseSignal, proposalWorkflowId, resumeSignal, tallyQuery, updateConfigSignal, voteSignal,
  type ApplyProposalResult, type ProposalInput, type ProposalTally,
} from './contract.ts';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** The monitor checks the proposal against the store (up to 5 minutes) before it answers; a monitor not reachable is retried. */
const applying = proxyActivities<Activities>({
  startToCloseTimeout: '6 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** Histories recorded before: they signalled the monitor and recorded `executed` without its answer. */
const APPLY_BY_UPDATE_PATCH = 'governance-apply-by-update';
/** Histories recorded before: only the action was checked at the start, not the patch's keys. */
const CHANGE_RULES_PATCH = 'governance-change-rules';

export async function governanceProposal(raw: ProposalInput): Promise<ProposalTally> {
  // A malformed input fails the proposal at once, naming the field (never a wedged first task).
  const parsed = checkInput(proposalInputSchema, raw, 'governanceProposal');
  if (!proposalMayDo(parsed.kind, parsed.change.action)) {
    throw ApplicationFailure.nonRetryable(`governanceProposal input refused: change.action: a ${parsed.kind} proposal may not ${parsed.change.action}`, 'InvalidWorkflowInput');
  }
  const rules = proposalChangeVerdict(parsed.kind, parsed.change, parsed.treasuryId);
  if (!rules.ok && patched(CHANGE_RULES_PATCH)) {
    throw ApplicationFailure.nonRetryable(`governanceProposal input refused: ${rules.field}: ${rules.why}`, 'InvalidWorkflowInput');
  }
  // A short hand-written input (README) leaves out the governance config: the worker's own applies.
  let governance = parsed.config;
  if (governance === undefined) {
    patched('governance-config-from-worker');
    governance = await acts.governanceConfig();
  }
  const input = { ...parsed, config: governance, createdAt: parsed.createdAt ?? workflowInfo().startTime.getTime() };
  const id = proposalWorkflowId(input.seq);
  const holders = await acts.voterHolders();
  const snapshot = takeSnapshot(holders, input.config.stakedMultiplier);
  const deadline = input.createdAt + votingPeriodHours(input.kind, input.config) * HOUR_MS;
  let votes: Votes = {};
  const pendingVotes: { voter: string; choice: 'yes' | 'no' | 'abstain'; power: number; at: number }[] = [];
  const t: ProposalTally = {
    id, kind: input.kind, description: input.description, change: input.change, status: 'voting', deadline, executeAt: null,
    tally: tally(snapshot, votes, input.kind, input.config), votes: {}, refused: [], outcome: null,
  };

  setHandler(voteSignal, (rawVote: unknown) => {
    // A handler that throws would fail the proposal's workflow task: whatever happens, the vote is counted or refused.
    try {
      onVote(rawVote);
    } catch (err) {
      t.refused.push({ voter: claimedName(rawVote, 'voter') ?? '(none)', choice: '(unknown)', why: `not counted: ${String(err).slice(0, REASON_MAX)}`, at: Date.now() });
    }
  });
  function onVote(rawVote: unknown): void {
    const at = Date.now();
    const m = parseMessage(voteMessage, rawVote);
    if (!m.ok) {
      const sent = typeof rawVote === 'object' && rawVote !== null ? (rawVote as { choice?: unknown }).choice : rawVote;
      t.refused.push({ voter: claimedName(rawVote, 'voter') ?? '(none)', choice: summarize(sent), why: `malformed vote: ${m.why}`, at });
      return;
    }
    const { voter, choice } = m.value;
    if (at >= deadline || t.status !== 'voting') {
      t.refused.push({ voter, choice, why: 'the voting period has ended', at });
      return;
    }
    const r = castVote(snapshot, votes, voter, choice);
    if (!r.ok) {
      t.refused.push({ voter, choice, why: r.reason, at });
      return;
    }
    votes = r.votes;
    t.votes = { ...votes };
    t.tally = tally(snapshot, votes, input.kind, input.config);
    pendingVotes.push({ voter, choice: choice as 'yes' | 'no' | 'abstain', power: snapshot.powers[voter] ?? 0, at });
  }
  setHandler(tallyQuery, () => t);

  const save = () =>
    acts.upsertProposal({ id, treasuryId: input.treasuryId, kind: input.kind, description: input.description, change: input.change, createdAt: input.createdAt, deadline, status: t.status, snapshot, outcome: t.outcome === null ? null : { tally: t.tally, outcome: t.outcome } });
  const flushVotes = async () => {
    while (pendingVotes.length) {
      const v = pendingVotes.shift();
      if (v) await acts.recordVote({ proposalId: id, treasuryId: input.treasuryId, ...v });
    }
  };

  let warned = false;
  const raise = async (now = Date.now()) => {
    const g = governanceAlerts({ id, kind: input.kind, createdAt: input.createdAt, deadline, deadlineWarned: warned }, now, input.config.deadlineWarningHours);
    warned = g.deadlineWarned;
    if (g.alerts.length) await raiseAlerts(input.treasuryId, `${id}/${Date.now()}`, Date.now(), g.alerts);
  };
  await save();
  // Raised as of the proposal's creation: it needs votes (and, for a short vote, its deadline is already near).
  await raise(input.createdAt);

  // The voting period: wake for votes (to store them) and once at the deadline-warning mark.
  const warnAt = deadline - input.config.deadlineWarningHours * HOUR_MS;
  while (Date.now() < deadline) {
    const next = !warned && warnAt > Date.now() ? warnAt : deadline;
    await condition(() => pendingVotes.length > 0, Math.max(1, next - Date.now()));
    await flushVotes();
    if (!warned && Date.now() >= warnAt) await raise();
  }
  await flushVotes();
  t.tally = tally(snapshot, votes, input.kind, input.config);
  if (!t.tally.passed) {
    t.status = 'rejected';
    t.outcome = `did not pass: quorum ${(t.tally.quorum * 100).toFixed(2)} % (needs ${(t.tally.quorumRequired * 100).toFixed(0)} %), approval ${(t.tally.approval * 100).toFixed(2)} % (needs ${(t.tally.approvalRequired * 100).toFixed(0)} %)`;
    await save();
    return t;
  }
  t.status = 'passed-waiting';
  t.executeAt = deadline + executionDelayHours(input.kind, input.config) * HOUR_MS;
  await save();
  await sleep(Math.max(1, t.executeAt - Date.now()));
  if (patched(APPLY_BY_UPDATE_PATCH)) {
    await applyByUpdate(id, input, t);
    await save();
    return t;
  }
  const monitor = getExternalWorkflowHandle(monitorWorkflowId(input.treasuryId));
  const by = `governance ${id}`;
  // The monitor applies it only after finding this passed proposal, with this change, in the store.
  const proposalId = id;
  try {
    const c = input.change;
    const reason = input.description.slice(0, REASON_MAX);
    if (c.action === 'updateConfig') await monitor.signal(updateConfigSignal, { patch: c.patch, by, reason, proposalId });
    else if (c.action === 'pause') await monitor.signal(pauseSignal, { by, reason, proposalId });
    else if (c.action === 'resume') await monitor.signal(resumeSignal, { by, reason, proposalId });
    else await monitor.signal(cancelInterventionSignal, { interventionId: c.interventionId, by, reason, proposalId });
    t.status = 'executed';
    t.outcome = `passed and applied: ${c.action}`;
  } catch (err) {
    t.status = 'failed';
    t.outcome = `passed but could not be applied: ${String(err)}`;
    log.error('proposal could not be applied', { id, error: String(err) });
  }
  await save();
  return t;
}

/** Sends the change to the monitor through an activity's Update and records its answer: executed only when accepted. */
async function applyByUpdate(id: string, input: ProposalInput & { description: string }, t: ProposalTally): Promise<void> {
  const request = { proposalId: id, change: input.change, by: `governance ${id}`, reason: input.description.slice(0, REASON_MAX) };
  let answer: ApplyProposalResult;
  try {
    answer = await applying.applyProposalToMonitor({ treasuryId: input.treasuryId, request });
  } catch (err) {
    // Workflows never fail from an activity's failure: the proposal ends failed, saying why.
    answer = { accepted: false, detail: `the monitor could not be reached: ${String(err).slice(0, REASON_MAX)}` };
  }
  t.applied = answer;
  if (answer.accepted) {
    t.status = 'executed';
    t.outcome = `passed and applied: ${input.change.action}: ${answer.detail}`.slice(0, 2 * REASON_MAX);
  } else {
    t.status = 'failed';
    t.outcome = `passed but refused by the monitor: ${answer.detail}`.slice(0, 2 * REASON_MAX);
    log.warn('proposal refused by the monitor', { id, detail: answer.detail });
  }
}

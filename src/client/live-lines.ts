/**
 * What `npm start`'s terminal prints about an intervention as it happens
 * (issue #11: "the console never prints that a swap happened"): each new step
 * (validate, size with its plan, the timelock's verdict, every swap slice),
 * each approval or refusal, and the end with its status. Pure: the caller
 * polls the intervention's state and keeps what was seen.
 */
import type { InterventionState } from '../workflows/contract.ts';

export interface Seen {
  readonly steps: number;
  readonly approvals: number;
  readonly refused: number;
  readonly ended: boolean;
}

export const NOTHING_SEEN: Seen = { steps: 0, approvals: 0, refused: 0, ended: false };

const hhmmss = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** The lines for what changed in `s` since `seen`, and what has been seen now. */
export function liveLines(id: string, seen: Seen, s: InterventionState, now: number): { lines: string[]; seen: Seen } {
  const lines: string[] = [];
  for (const step of s.steps.slice(seen.steps)) {
    const what = step.step.startsWith('swap:') ? `SWAP slice ${step.step.slice(5)}` : `step ${step.step}`;
    lines.push(`[${hhmmss(step.at)}] ${id} ${what}: ${step.verdict}`);
  }
  const plan = s.plan;
  if (plan && s.stage === 'timelock' && seen.steps <= s.steps.findIndex((x) => x.step === 'size')) {
    lines.push(`[${hhmmss(now)}] ${id} waits for approval of plan ${plan.revision}: approve with \`npx pstr approve ${id} --operator <name>\``);
  }
  for (const a of s.approvals.approvals.slice(seen.approvals)) lines.push(`[${hhmmss(a.at)}] ${id} approved by ${a.operator}${a.signature ? ' (signed)' : ''}${a.reason ? `: ${a.reason}` : ''}`);
  for (const r of s.approvals.refused.slice(seen.refused)) lines.push(`[${hhmmss(r.signal.at)}] ${id} ${r.signal.kind} by ${r.signal.operator} REFUSED: ${r.why}`);
  const ended = s.status !== 'running';
  if (ended && !seen.ended) {
    const moved = s.result ? ` · spent ${s.result.pumpSpent} PUMP base units for ${s.result.pstrBought} PSTR base units` : '';
    lines.push(`[${hhmmss(now)}] ${id} ENDED ${s.status.toUpperCase()}: ${s.reason ?? ''}${moved}`);
  }
  return { lines, seen: { steps: s.steps.length, approvals: s.approvals.approvals.length, refused: s.approvals.refused.length, ended } };
}

/**
 * How the operator's tool writes numbers, times and the monitor's status:
 * pure functions from the contract's records to lines of text. Times are UTC
 * (ISO 8601 with a Z) so two operators in two time zones read the same line.
 */
import { formatAmount } from '../domain/amount.ts';
import type { InterventionState, MonitorHealth, MonitorStatus, OperatorEvent, ProposalTally } from '../workflows/contract.ts';

export const DASH = '—';

/** Epoch ms as UTC, e.g. "2025-03-01T10:15:00.250Z". */
export function utc(ms: number | null | undefined): string {
  return ms === null || ms === undefined || !Number.isFinite(ms) ? DASH : new Date(ms).toISOString();
}

export function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return DASH;
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  return x.toFixed(digits);
}

/** Prices of a 0.0002 USD token need significant digits, not decimals. */
export function price(x: number | null | undefined): string {
  if (x === null || x === undefined) return DASH;
  return Number.isFinite(x) ? x.toPrecision(6) : String(x);
}

export function pct(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : `${(x * 100).toFixed(digits)} %`;
}

export function usd(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return DASH;
  return `${x.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 })} USD`;
}

/** Base units (a decimal string, as amounts cross Temporal) in whole tokens; the raw text when it is not an integer. */
export function tokens(raw: string | null | undefined, decimals: number, symbol: string): string {
  if (raw === null || raw === undefined) return DASH;
  if (!/^-?\d+$/.test(raw)) return `${raw} (base units) ${symbol}`;
  return `${formatAmount({ raw: BigInt(raw), decimals })} ${symbol}`;
}

export function seconds(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(2)} h`;
}

/** JSON on one line, cut to `max` characters. */
export function brief(value: unknown, max = 160): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The monitor writes "no valid price: " before a reason that already begins with it: say it once. */
export function decisionText(decision: string): string {
  return decision.replace(/^(no valid price: )+/, 'no valid price: ');
}

export function operatorEvent(e: OperatorEvent): string {
  const who = e.by ? ` by ${e.by}` : '';
  const why = e.reason ? ` ("${e.reason}")` : '';
  return `${utc(e.at)}  ${e.action}${who}${why}: ${e.accepted ? 'accepted' : 'REFUSED'} — ${e.detail}`;
}

export function flags(s: Pick<MonitorStatus, 'paused' | 'emergencyStop'>): string {
  const on = [s.emergencyStop ? 'EMERGENCY STOP' : null, s.paused ? 'PAUSED' : null].filter(Boolean);
  return on.length ? on.join(' + ') : 'running';
}

/** One line, as `npm start` prints each cycle. */
export function statusLine(s: MonitorStatus): string {
  const c = s.lastCycle;
  const parts = [
    `${s.treasuryId}: ${flags(s)}`,
    `cycle ${s.cycles}`,
    `price ${price(c?.consensusPrice)}`,
    `VWAP ${price(c?.vwap30)}`,
    `drawdown ${pct(c?.drawdown)}`,
    `RR ${num(c?.reserveRatio, 3)}`,
    `health ${num(c?.health, 3)}${c?.healthLevel ? ` ${c.healthLevel}` : ''}`,
  ];
  if (s.pendingInterventions.length) parts.push(`pending ${s.pendingInterventions.join(', ')}`);
  return parts.join(' · ');
}

/** The `status` command's human layout. */
export function statusReport(s: MonitorStatus, h: MonitorHealth, now: number): string[] {
  const c = s.lastCycle;
  const lines = [
    `Treasury ${s.treasuryId} · ${s.mode} mode · a cycle every ${s.cycleIntervalSeconds} s`,
    `State: ${flags(s)}`,
    `Cycles run: ${s.cycles} · interventions started: ${s.interventionCount} · last executed swap: ${s.lastExecutedSwapAt === null ? 'never' : utc(s.lastExecutedSwapAt)}`,
  ];
  // Absent from monitors that predate operator authorization.
  if (s.operators !== undefined) lines.push(`Operators: ${s.operators}`);
  if (s.noValidPriceStreak > 0) lines.push(`No valid price for the last ${s.noValidPriceStreak} cycle(s)`);
  const u = s.undeliveredCritical;
  if (u && u.count > 0) {
    const o = u.oldest;
    lines.push(`ALERT DELIVERY: ${u.count} critical alert(s) not delivered to any sink${o ? ` (oldest: ${o.kind} at ${utc(o.at)}${o.failures.length ? `; ${o.failures.join('; ')}` : ''})` : ''}: check the alert sinks`);
  }
  if (c) {
    lines.push(
      `Last cycle ${c.cycleId} at ${utc(c.at)} (${seconds(Math.max(0, now - c.at))} ago)`,
      c.validPrice
        ? `  price ${price(c.consensusPrice)} · VWAP ${price(c.vwap30)}${c.volumeless ? ' (volumeless)' : ''}${c.warmingUp ? ' (warming up)' : ''} · drawdown ${pct(c.drawdown)}`
        : `  no valid price: ${c.consensusReason ?? 'unknown'}`,
      `  RR ${c.reserveRatioUnbounded ? 'unbounded (no PSTR float)' : num(c.reserveRatio, 3)} · PUMP concentration ${pct(c.pumpConcentration)} · treasury ${usd(c.treasuryValueUsd)} · PSTR market cap ${usd(c.marketCapUsd)}`,
      `  health ${num(c.health, 3)} ${c.healthLevel ?? ''}`.trimEnd(),
      `  decision: ${decisionText(c.decision)}`,
    );
    if (c.startedIntervention) lines.push(`  started ${c.startedIntervention}`);
  } else {
    lines.push('No cycle has run yet');
  }
  lines.push(`Health: ${h.level ?? DASH} (score ${num(h.score, 3)}) · RR ${num(h.reserveRatio, 3)} · intervention capacity ${num(h.interventionCapacity, 3)} · as of ${utc(h.at)}`);
  lines.push(`Pending interventions: ${s.pendingInterventions.length ? s.pendingInterventions.join(', ') : 'none'}`);
  if (s.recentOperatorEvents.length) {
    lines.push('Recent operator events:');
    for (const e of s.recentOperatorEvents.slice(-10)) lines.push(`  ${operatorEvent(e)}`);
  }
  return lines;
}

export interface InterventionRow {
  id: string;
  /** Temporal's execution status (RUNNING, COMPLETED, TERMINATED…). */
  execution: string;
  startTime: number;
  state: InterventionState | null;
}

/** One intervention per line (and its reason below when it has ended). */
export function interventionLines(r: InterventionRow, pumpDecimals: number): string[] {
  const s = r.state;
  if (!s) return [`${r.id}  ${r.execution.toLowerCase()}  started ${utc(r.startTime)}  (no state: the workflow did not complete normally)`];
  const head = [
    r.id, s.status, `stage ${s.stage}`, `tier ${s.tier ?? DASH}`, `size ${tokens(s.pumpAmount, pumpDecimals, 'PUMP')} ≈ ${usd(s.usdSize)}`, `started ${utc(s.startedAt)}`,
  ].join('  ');
  const lines = [head];
  if (s.stage === 'timelock' && s.timelock.required) {
    const approvals = s.approvals.approvals.map((a) => a.operator).join(', ') || 'none yet';
    lines.push(`    waiting: unlocks ${utc(s.timelock.unlockAt)}, expires ${utc(s.timelock.expiresAt)}; approvals: ${approvals}`);
  }
  if (s.reason) lines.push(`    ${s.reason}`);
  return lines;
}

export function proposalLines(t: ProposalTally): string[] {
  const v = t.tally;
  const votes = Object.entries(t.votes).map(([voter, choice]) => `${voter}=${choice}`).join(', ') || 'none';
  const lines = [
    `${t.id}  ${t.kind}  ${t.status}  deadline ${utc(t.deadline)}${t.executeAt ? `  executes ${utc(t.executeAt)}` : ''}`,
    `    ${t.description}`,
    `    change: ${brief(t.change)}`,
    `    yes ${num(v.yes, 2)} · no ${num(v.no, 2)} · abstain ${num(v.abstain, 2)} of ${num(v.total, 2)} voting power`,
    `    quorum ${pct(v.quorum)} (needs ${pct(v.quorumRequired, 0)}) · approval ${pct(v.approval)} (needs ${pct(v.approvalRequired, 0)}) · ${v.passed ? 'passing' : 'not passing'}`,
    `    votes: ${votes}`,
  ];
  for (const r of t.refused) lines.push(`    refused vote ${r.voter}=${r.choice} at ${utc(r.at)}: ${r.why}`);
  if (t.outcome) lines.push(`    outcome: ${t.outcome}`);
  return lines;
}

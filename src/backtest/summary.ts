/** The backtest's human summary: a few aligned tables an operator reads at a glance. */
import type { BacktestResult } from './types.ts';

const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(2)} %`);
const num = (x: number | null, digits = 2) => (x === null ? 'n/a' : Number.isFinite(x) ? x.toFixed(digits) : '∞');
const usd = (x: number) => `$${x.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 })}`;

function table(title: string, rows: [string, string][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return [`${title}`, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join('\n');
}

export function formatSummary(r: BacktestResult): string {
  const s = r.summary;
  const byStatus = new Map<string, number>();
  for (const i of s.interventions) byStatus.set(i.status, (byStatus.get(i.status) ?? 0) + 1);
  const statusText = [...byStatus].map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
  const skipped = Object.entries(s.accumulation.skipped).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
  const parts = [
    table('Backtest', [
      ['period', `${r.details.from} → ${r.details.to}`],
      ['samples', s.samples.toLocaleString('en-US')],
    ]),
    table('Interventions', [
      ['count', `${s.metrics.interventionCount} (${statusText})`],
      ['success rate', pct(s.metrics.successRate)],
    ]),
    table('Accumulation', [
      ['hourly buys', s.accumulation.buys.toLocaleString('en-US')],
      ['USD spent', usd(s.accumulation.usdSpent)],
      ['skipped', skipped],
    ]),
    table('Treasury at the end', [
      ['value', usd(r.details.finalTreasuryValue)],
      ['reserve ratio', num(s.metrics.finalReserveRatio, 3)],
      ['health', `${num(s.metrics.finalHealth, 3)} (${r.details.finalHealthLevel})`],
      ['PUMP', r.details.finalBalances.pump],
      ['USDC', r.details.finalBalances.usdc],
      ['PSTR retired', r.details.finalBalances.pstrRetired],
      ['emergency stops', s.emergencyStops.length ? s.emergencyStops.map((e) => `${e.at} (RR ${num(e.reserveRatio, 3)})`).join(', ') : 'none'],
    ]),
    table('Metrics', [
      ['Sharpe (daily, annualized)', num(s.metrics.sharpe, 3)],
      ['max drawdown', pct(s.metrics.maxDrawdown)],
    ]),
  ];
  if (s.interventions.length) {
    const head = ['decided', 'status', 'tier', 'fraction', 'price', 'drawdown', 'PUMP spent', 'USD'];
    const rows = s.interventions.map((i) => [
      i.decidedAt.slice(0, 16).replace('T', ' '), i.status, String(i.tier), pct(i.fraction), i.price.toPrecision(5), pct(i.drawdown), i.pumpSpent, usd(i.usdValue),
    ]);
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => (row[c] ?? '').length)));
    const line = (cells: string[]) => '  ' + cells.map((x, c) => x.padEnd(widths[c] ?? 0)).join('  ');
    parts.push(['Intervention log', line(head), ...rows.map(line)].join('\n'));
  }
  if (r.details.liquidity.length) {
    parts.push(table('Liquidity', r.details.liquidity.map((l) => [l.pool, `in range ${pct(l.inRangeShare)}, IL ${pct(l.impermanentLoss)}, fees ${usd(l.feesUsd)}, ${l.rebalances} rebalances`])));
  }
  return parts.join('\n\n');
}

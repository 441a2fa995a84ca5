/**
 * The backtest's HTML report: one self-contained page (uPlot's JS and CSS
 * inlined, no network) with a summary, three charts and the tables.
 *
 * Safety: every string from the result or the config is HTML-escaped where
 * it lands in markup; the chart data travels as JSON inside a
 * `<script type="application/json">` block with every "<" escaped, so no
 * value can close the block; the page script writes strings with
 * textContent only.
 */
import type { Config } from '../config.ts';
import type { HealthLevel } from '../domain/health.ts';
import {
  BASE_STYLE, CHART_KIT_JS, HEALTH_BANDS, LEVEL_COLORS, card, escapeHtml, fmtNum, fmtPct, fmtPrice, fmtTime, fmtUsd, jsonForScript, uplotAssets,
} from '../report/html-kit.ts';
import type { BacktestResult, InterventionRecord, InterventionStatus } from './types.ts';

export { HEALTH_BANDS, escapeHtml, jsonForScript } from '../report/html-kit.ts';

export interface ReportOptions {
  title: string;
  config: Config;
  /** ISO 8601 time the report was made (passed in so the page is reproducible). */
  generatedAt: string;
}

const STATUS_ORDER: readonly InterventionStatus[] = ['executed', 'invalidated', 'expired', 'rejected', 'aborted'];
const STATUS_COLORS: Record<InterventionStatus, string> = {
  executed: '#16a34a',
  invalidated: '#64748b',
  expired: '#d97706',
  rejected: '#dc2626',
  aborted: '#7c3aed',
};

// -------------------------------------------------------------- formatting

/** A decimal token string, grouped, cut (not rounded) to two decimals; the exact value goes in the title. */
function fmtTokens(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return escapeHtml(text);
  const [, sign = '', whole = '0', frac = ''] = m;
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cut = frac.slice(0, 2).replace(/0+$/, '');
  return `<span title="${escapeHtml(text)}">${sign}${grouped}${cut ? `.${cut}` : ''}</span>`;
}


function daysBetween(from: string, to: string): number | null {
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? ms / 86_400_000 : null;
}

function rrClass(rr: number, config: Config): string {
  if (rr < config.risk.minRrThreshold) return 'bad';
  if (rr < config.risk.reductionBelowRr) return 'warn';
  return 'good';
}

// ---------------------------------------------------------------- sections

/** A status may be one the engine added after this page was written: it still gets a (neutral) pill. */
function statusPill(status: string, text: string = status): string {
  const color = (STATUS_COLORS as Record<string, string | undefined>)[status] ?? '#334155';
  return `<span class="pill" style="--c:${color}">${escapeHtml(text)}</span>`;
}

function summarySection(result: BacktestResult, config: Config): string {
  const { summary, details } = result;
  const m = summary.metrics;
  const days = daysBetween(details.from, details.to);
  const counts = new Map<string, number>();
  for (const i of summary.interventions) counts.set(i.status, (counts.get(i.status) ?? 0) + 1);
  const statusChips = [...STATUS_ORDER.filter((s) => counts.has(s)), ...[...counts.keys()].filter((s) => !STATUS_ORDER.includes(s as InterventionStatus))]
    .map((s) => statusPill(s, `${counts.get(s) ?? 0} ${s}`)).join(' ');
  const skipped = Object.entries(summary.accumulation.skipped)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([why, n]) => `${n ?? 0} ${escapeHtml(why)}`);
  const level = details.finalHealthLevel;
  const levelColor = LEVEL_COLORS[level as HealthLevel] ?? '#334155';
  const stops = summary.emergencyStops.length;
  const b = details.finalBalances;

  const date = (iso: string) => escapeHtml(/^\d{4}-\d{2}-\d{2}/.exec(iso)?.[0] ?? iso);

  return `<section class="stats">
${card('Period', `${date(details.from)} → ${date(details.to)}`,
    `${fmtTime(details.from)} to ${fmtTime(details.to)}${days === null ? '' : ` · ${fmtNum(days, 1)} days`} · ${summary.samples.toLocaleString('en-US')} samples`, 'wide')}
${card('Interventions', String(m.interventionCount), statusChips || 'none triggered')}
${card('Success rate', fmtPct(m.successRate, 0), 'executed with 7-day ROI ≥ 0')}
${card('Final reserve ratio', `<span class="${rrClass(m.finalReserveRatio, config)}">${fmtNum(m.finalReserveRatio)}</span>`,
    `${stops === 0 ? 'no emergency stop' : `${stops} emergency stop${stops === 1 ? '' : 's'}`} · floor ${fmtNum(config.risk.minRrThreshold, 1)}`)}
${card('Final health', `${fmtNum(m.finalHealth)} <span class="pill" style="--c:${levelColor}">${escapeHtml(level)}</span>`)}
${card('Sharpe ratio', fmtNum(m.sharpe), 'daily treasury returns, annualized')}
${card('Max drawdown', fmtPct(-Math.abs(m.maxDrawdown)), 'treasury value, peak to trough')}
${card('Accumulation', `${summary.accumulation.buys.toLocaleString('en-US')} buys · ${fmtUsd(summary.accumulation.usdSpent)}`,
    `hourly PUMP buys from USDC${skipped.length ? ` · skipped: ${skipped.join(', ')}` : ' · none skipped'}`, 'wide')}
${card('Final treasury value', fmtUsd(details.finalTreasuryValue),
    `PUMP ${fmtTokens(b.pump)} · USDC ${fmtTokens(b.usdc)} · SOL ${fmtTokens(b.sol)} · PSTR retired ${fmtTokens(b.pstrRetired)}`, 'wide')}
</section>`;
}

/** ROI per tracking horizon; keys are hours ("168" or "168h"), shown as "7d" when a whole number of days. */
function roiCell(roi: Record<string, number | null>): string {
  const parts = Object.entries(roi).map(([key, v]) => {
    const m = /^(\d+(?:\.\d+)?)\s*h?$/.exec(key);
    const hours = m ? Number(m[1]) : NaN;
    const horizon = Number.isNaN(hours) ? key : hours >= 24 && hours % 24 === 0 ? `${hours / 24}d` : `${hours}h`;
    const cls = v === null ? 'sub' : v >= 0 ? 'good' : 'bad';
    const value = v === null || !Number.isFinite(v) ? '—' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
    return `<span class="${cls}">${escapeHtml(horizon)} ${value}</span>`;
  });
  return parts.length ? parts.join('<br>') : '—';
}

/** "executed 14:05" on the day it was decided, the full time otherwise. */
function executedNote(decidedAt: string, executedAt: string | null): string {
  if (executedAt === null) return 'not executed';
  const sameDay = decidedAt.slice(0, 10) === executedAt.slice(0, 10);
  const full = fmtTime(executedAt, '');
  return `executed ${sameDay && full.length === 16 ? full.slice(11) : full}`;
}

/** Tier numbers count from 1 = the smallest drawdown threshold (src/domain/intervention.ts); 0 = no tier. */
function tierSpec(tier: number, config: Config): { drawdown: number; fraction: number } | null {
  const ascending = [...config.strategy.tiers].sort((a, b) => a.drawdown - b.drawdown);
  return Number.isInteger(tier) && tier >= 1 ? ascending[tier - 1] ?? null : null;
}

function tierCell(tier: number, config: Config): string {
  const spec = tierSpec(tier, config);
  return spec === null
    ? escapeHtml(String(tier))
    : `${tier}<br><span class="sub">≥ ${fmtPct(spec.drawdown, 0)} → ${fmtPct(spec.fraction, 0)}</span>`;
}

function interventionsTable(list: readonly InterventionRecord[], config: Config): string {
  if (list.length === 0) {
    return '<p class="empty">No intervention was triggered: PSTR never fell to the trigger line while the gates allowed it.</p>';
  }
  const head = ['Decided / executed', 'Status', 'Reason', 'Tier', 'Fraction', 'Price / VWAP 30d', 'Drawdown',
    'PUMP spent / PSTR bought', 'USD / slippage', 'ROI'];
  const numeric = new Set(head.slice(3));
  const rows = list.map((i) => `<tr>
<td class="nowrap">${fmtTime(i.decidedAt, '')}<br><span class="sub">${executedNote(i.decidedAt, i.executedAt)}</span></td>
<td>${statusPill(i.status)}</td>
<td class="reason">${escapeHtml(i.reason)}</td>
<td class="num">${tierCell(i.tier, config)}</td>
<td class="num">${fmtPct(i.fraction, 1)}</td>
<td class="num">${fmtPrice(i.price)}<br><span class="sub">${fmtPrice(i.vwap30)}</span></td>
<td class="num">${fmtPct(i.drawdown)}</td>
<td class="num">${fmtTokens(i.pumpSpent)} PUMP<br><span class="sub">${fmtTokens(i.pstrBought)} PSTR</span></td>
<td class="num">${fmtUsd(i.usdValue)}<br><span class="sub">${i.slippage === null ? '—' : `slippage ${fmtPct(i.slippage, 2)}`}</span></td>
<td class="num nowrap">${roiCell(i.roi)}</td>
</tr>`).join('\n');
  return `<div class="scroll"><table><thead><tr>${head.map((h) => `<th${numeric.has(h) ? ' class="num"' : ''}>${h}</th>`).join('')}</tr></thead><tbody>
${rows}
</tbody></table></div>`;
}

function liquidityTable(pools: BacktestResult['details']['liquidity']): string {
  if (pools.length === 0) return '<p class="empty">No liquidity positions were modelled.</p>';
  const rows = pools.map((p) => `<tr><td>${escapeHtml(p.pool)}</td><td class="num">${fmtPct(p.inRangeShare)}</td>
<td class="num ${p.impermanentLoss < 0 ? 'bad' : ''}">${fmtPct(p.impermanentLoss, 2)}</td><td class="num">${fmtUsd(p.feesUsd)}</td>
<td class="num">${p.rebalances}</td></tr>`).join('\n');
  return `<div class="scroll"><table><thead><tr><th>Pool</th><th class="num">In range</th><th class="num">Impermanent loss</th><th class="num">Fees earned</th><th class="num">Rebalances</th></tr></thead><tbody>
${rows}
</tbody></table></div>`;
}

function settingsList(config: Config): string {
  const s = config.strategy;
  const items: [string, string][] = [
    ['Trigger', `price ≤ ${s.triggerThreshold} × ${s.vwapWindowDays}-day VWAP`],
    ['Tiers', s.tiers.map((t) => `≥ ${fmtPct(t.drawdown, 0)} → ${fmtPct(t.fraction, 0)}`).join(', ')],
    ['Halving below RR', String(config.risk.reductionBelowRr)],
    ['Cooldown', `${s.cooldownHours} h`],
    ['Emergency RR', String(config.risk.minRrThreshold)],
    ['Timelock above', fmtUsd(config.intervention.timelockThresholdUsd)],
  ];
  return `<dl class="settings">${items.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>`;
}

// ------------------------------------------------------------------- page

/**
 * Runs in the browser. Reads the JSON block, draws three uPlot charts with a
 * shared, synchronized time axis (UTC), and keeps them as wide as their card.
 */
const CLIENT_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var c = data.charts;
  var charts = [];
  var k = window.reportKit;
  var sigFmt = k.sigFmt, utc = k.utc, widthOf = k.widthOf, axisSize = k.axisSize, timeValue = k.timeValue;
  function usdFmt(v) { return k.usdFmt(v, false); }
  function nearestIndex(ts) { return k.nearestIndex(c.t, ts); }

  function pct(v) { return (v * 100).toFixed(1) + ' %'; }

  var syncing = false;
  function syncX(u, key) {
    if (key !== 'x' || syncing) return;
    syncing = true;
    for (var i = 0; i < charts.length; i++) {
      if (charts[i] !== u) charts[i].setScale('x', { min: u.scales.x.min, max: u.scales.x.max });
    }
    syncing = false;
  }

  function make(id, height, opts, series) {
    var el = document.getElementById(id);
    if (c.t.length === 0) { el.textContent = 'No samples to chart.'; return null; }
    opts.width = widthOf(el);
    opts.height = height;
    opts.tzDate = utc;
    opts.cursor = { sync: { key: 'backtest' } };
    opts.hooks = opts.hooks || {};
    opts.hooks.setScale = [syncX];
    var u = new uPlot(opts, series, el);
    u.__el = el;
    charts.push(u);
    return u;
  }

  // (a) Price, VWAP, trigger and the interventions.
  var statuses = ['executed', 'invalidated', 'expired', 'rejected', 'aborted'];
  var markers = data.interventions.map(function (iv) {
    var ts = Date.parse(iv.decidedAt) / 1000;
    return { iv: iv, ts: ts, idx: nearestIndex(ts) };
  });
  var priceSeries = [{ value: timeValue },
    { label: 'PSTR price', stroke: '#2563eb', width: 1.5, value: function (u, v) { return sigFmt(v, 4); } },
    { label: '30-day VWAP', stroke: '#0f172a', width: 1.5, spanGaps: true, value: function (u, v) { return sigFmt(v, 4); } },
    { label: 'Trigger (VWAP × ' + data.triggerThreshold + ')', stroke: '#dc2626', width: 1.25, dash: [6, 4], spanGaps: true,
      value: function (u, v) { return sigFmt(v, 4); } }];
  var priceData = [c.t, c.pstrPrice, c.vwap30, c.trigger];
  statuses.forEach(function (status) {
    var mine = markers.filter(function (m) { return m.iv.status === status; });
    if (mine.length === 0) return;
    var ys = new Array(c.t.length).fill(null);
    mine.forEach(function (m) { ys[m.idx] = m.iv.price; });
    priceSeries.push({
      label: status + ' (' + mine.length + ')', stroke: data.statusColors[status], fill: data.statusColors[status],
      paths: function () { return null; },
      points: { show: true, size: 13, width: 2, stroke: '#fff', fill: data.statusColors[status] },
      value: function (u, v) { return v == null ? '' : 'at ' + sigFmt(v, 4); },
    });
    priceData.push(ys);
  });
  var tip = document.createElement('div');
  tip.className = 'tooltip';
  function showTip(u) {
    var left = u.cursor.left;
    if (left == null || left < 0) { tip.style.display = 'none'; return; }
    var best = null, bestDist = 10;
    markers.forEach(function (m) {
      var d = Math.abs(u.valToPos(m.ts, 'x') - left);
      if (d <= bestDist) { best = m; bestDist = d; }
    });
    if (!best) { tip.style.display = 'none'; return; }
    var iv = best.iv;
    var lines = [
      iv.status.toUpperCase() + ' · tier ' + iv.tier + (iv.tierFraction == null ? '' : ' (' + pct(iv.tierFraction) + ' of PUMP)') + ' · ' + usdFmt(iv.usdValue),
      'decided ' + iv.decidedAt.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC'),
      'price ' + sigFmt(iv.price, 4) + ' · VWAP ' + sigFmt(iv.vwap30, 4) + ' · drawdown ' + pct(iv.drawdown),
      iv.reason,
    ];
    tip.textContent = '';
    lines.forEach(function (line, i) {
      var div = document.createElement('div');
      if (i === 0) div.style.fontWeight = '600';
      div.textContent = line;
      tip.appendChild(div);
    });
    tip.style.display = 'block';
    var x = u.valToPos(best.ts, 'x') + u.over.offsetLeft;
    var y = u.valToPos(iv.price, 'y') + u.over.offsetTop;
    var maxLeft = u.root.clientWidth - tip.offsetWidth - 4;
    tip.style.left = Math.max(0, Math.min(maxLeft, x + 12)) + 'px';
    tip.style.top = Math.max(0, y - tip.offsetHeight - 10) + 'px';
  }
  var priceChart = make('chart-price', 320, {
    series: priceSeries,
    axes: [{}, { size: axisSize, values: function (u, vals) { return vals.map(function (v) { return sigFmt(v, 3); }); } }],
    hooks: { setCursor: [showTip] },
  }, priceData);
  if (priceChart) { priceChart.root.style.position = 'relative'; priceChart.root.appendChild(tip); }

  // (b) Treasury value and reserve ratio, with the emergency floor and the stops.
  var floor = new Array(c.t.length).fill(data.emergencyRr);
  var stops = data.emergencyStops.map(function (s) { return Date.parse(s.at) / 1000; });
  make('chart-treasury', 280, {
    series: [{ value: timeValue },
      { label: 'Treasury value', stroke: '#0d9488', width: 1.5, fill: 'rgba(13,148,136,0.08)', scale: 'usd', value: function (u, v) { return usdFmt(v); } },
      { label: 'Reserve ratio', stroke: '#7c3aed', width: 1.5, scale: 'rr', value: function (u, v) { return v == null ? '—' : v.toFixed(2); } },
      { label: 'Emergency RR ' + data.emergencyRr, stroke: '#dc2626', width: 1.25, dash: [6, 4], scale: 'rr',
        value: function () { return String(data.emergencyRr); } }],
    scales: { rr: { range: function (u, min, max) { return [0, Math.max(max * 1.1, data.emergencyRr * 1.5)]; } } },
    axes: [{}, { scale: 'usd', size: axisSize, values: function (u, vals) { return vals.map(usdFmt); } },
      { scale: 'rr', side: 1, size: axisSize, grid: { show: false }, stroke: '#7c3aed' }],
    hooks: { draw: [function (u) {
      if (stops.length === 0) return;
      var ctx = u.ctx;
      ctx.save();
      ctx.strokeStyle = 'rgba(220,38,38,0.7)';
      ctx.lineWidth = 2 * devicePixelRatio;
      stops.forEach(function (ts) {
        var x = u.valToPos(ts, 'x', true);
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
        ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
      });
      ctx.restore();
    }] },
  }, [c.t, c.treasuryValue, c.reserveRatio, floor]);

  // (c) Health score over its shaded level bands: fills under everything, labels on top.
  function drawBands(u, labels) { k.drawHealthBands(u, labels, data.healthBands, data.levelColors); }
  make('chart-health', 260, {
    series: [{ value: timeValue },
      { label: 'Health score', stroke: '#0f172a', width: 1.75, value: function (u, v) { return v == null ? '—' : v.toFixed(3); } }],
    scales: { y: { range: function (u, min, max) { return [0, Math.max(2, max * 1.08)]; } } },
    axes: [{}, { size: axisSize }],
    hooks: { drawClear: [function (u) { drawBands(u, false); }], draw: [function (u) { drawBands(u, true); }] },
  }, [c.t, c.health]);

  k.resizeWithWindow(charts);
})();`;

/** The report as one self-contained HTML page. */
export function renderReport(result: BacktestResult, opts: ReportOptions): string {
  const { summary, details, charts } = result;
  const { config } = opts;
  const { js, css } = uplotAssets();
  const bands = HEALTH_BANDS.map((b, i) => ({ level: b.level, min: b.min, max: i === 0 ? Number.MAX_VALUE : (HEALTH_BANDS[i - 1]?.min ?? b.min) }));
  const pageData = {
    charts,
    interventions: summary.interventions.map((i) => ({
      decidedAt: i.decidedAt, status: i.status, price: i.price, vwap30: i.vwap30, drawdown: i.drawdown,
      tier: i.tier, tierFraction: tierSpec(i.tier, config)?.fraction ?? null, usdValue: i.usdValue, reason: i.reason,
    })),
    emergencyStops: summary.emergencyStops,
    triggerThreshold: config.strategy.triggerThreshold,
    emergencyRr: config.risk.minRrThreshold,
    healthBands: bands,
    statusColors: STATUS_COLORS,
    levelColors: LEVEL_COLORS,
  };
  const title = escapeHtml(opts.title);
  const trigger = config.strategy.triggerThreshold;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="pstr-treasury-agent backtest">
<title>${title}</title>
<style>${css}</style>
<style>${BASE_STYLE}</style>
</head>
<body>
<main>
<header>
<h1>${title}</h1>
<p>${fmtTime(details.from)} → ${fmtTime(details.to)} · ${summary.samples.toLocaleString('en-US')} samples · generated ${fmtTime(opts.generatedAt)}</p>
</header>
${summarySection(result, config)}
<section class="card chart">
<h2>PSTR price, 30-day VWAP and the trigger</h2>
<p class="hint">An intervention can start when the price touches the dashed trigger line (VWAP × ${escapeHtml(String(trigger))}).
Dots mark each intervention, coloured by outcome; hover one for its tier and size. Drag to zoom, double-click to reset; the charts move together.</p>
<div id="chart-price" class="plot-wrap"></div>
</section>
<section class="card chart">
<h2>Treasury value and reserve ratio</h2>
<p class="hint">Treasury value in USD (left axis) and reserve ratio (right axis). Below the dashed line at RR ${escapeHtml(String(config.risk.minRrThreshold))} the treasury latches into emergency stop${
    summary.emergencyStops.length ? '; red verticals mark each stop' : ''}.</p>
<div id="chart-treasury" class="plot-wrap"></div>
</section>
<section class="card chart">
<h2>Health score</h2>
<p class="hint">Bands: excellent ≥ 1.5, good ≥ 1.0, moderate ≥ 0.8, poor ≥ 0.6, critical below. Final: ${fmtNum(summary.metrics.finalHealth, 3)} (${escapeHtml(details.finalHealthLevel)}).</p>
<div id="chart-health" class="plot-wrap"></div>
</section>
<section class="card">
<h2>Interventions</h2>
<p class="hint">Times in UTC. Tier 1 is the smallest drawdown threshold; under it, the drawdown it needs and the share of PUMP it calls for. Fraction is the share actually deployed after the halving rule.</p>
${interventionsTable(summary.interventions, config)}
</section>
<section class="card">
<h2>Liquidity pools</h2>
${liquidityTable(details.liquidity)}
</section>
<section class="card">
<h2>Settings</h2>
${settingsList(config)}
<details><summary>Full configuration</summary><pre>${escapeHtml(JSON.stringify(config, null, 2))}</pre></details>
</section>
<footer>Charts drawn with uPlot (MIT), inlined; this page loads nothing from the network.</footer>
</main>
<script type="application/json" id="report-data">${jsonForScript(pageData)}</script>
<script>${js}</script>
<script>${CHART_KIT_JS}
${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

/**
 * The operator report as one self-contained HTML page, in the backtest
 * report's look (src/report/html-kit.ts): cards with every figure, five
 * uPlot charts (inlined, no network) and the tables behind them.
 *
 * Safety as in the backtest report: strings are HTML-escaped where they land
 * in markup, the chart data travels as JSON with every "<" escaped, and the
 * page script writes text with textContent only.
 */
import type { OperatorReport } from '../workflows/report.ts';
import type { InterventionPoint } from './figures.ts';
import {
  BASE_STYLE, CHART_KIT_JS, HEALTH_BANDS, LEVEL_COLORS, card, escapeHtml, fmtNum, fmtPct, fmtPrice, fmtUsd, jsonForScript, uplotAssets,
} from './html-kit.ts';

export interface OperatorReportOptions {
  title: string;
  /** ISO 8601 time the page was made (passed in so the page is reproducible). */
  generatedAt: string;
}

const STATUS_COLORS: Record<string, string> = {
  executed: '#16a34a', invalidated: '#64748b', expired: '#d97706', rejected: '#dc2626', aborted: '#7c3aed', running: '#2563eb',
};
/** One colour per oracle source, by its position in the (sorted) list. */
const SOURCE_COLORS = ['#2563eb', '#d97706', '#0d9488', '#7c3aed', '#db2777', '#65a30d'];

const utcText = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');

function pill(text: string, color: string): string {
  return `<span class="pill" style="--c:${color}">${escapeHtml(text)}</span>`;
}

function rrClass(rr: number, s: OperatorReport['settings']): string {
  if (rr < s.minRrThreshold) return 'bad';
  if (rr < s.reductionBelowRr) return 'warn';
  return 'good';
}

function signedPct(v: number | null, digits = 1): string {
  if (v === null || !Number.isFinite(v)) return '—';
  return `${v > 0 ? '+' : ''}${fmtPct(v, digits)}`;
}

function progress(share: number): string {
  const width = Math.max(0, Math.min(1, share)) * 100;
  return `<div class="bar"><span style="width:${width.toFixed(1)}%"></span></div>`;
}

function cards(r: OperatorReport): string {
  const f = r.figures;
  const s = r.settings;
  const iv = f.interventions;
  const statusChips = Object.entries(iv.byStatus).map(([st, n]) => pill(`${n} ${st}`, STATUS_COLORS[st] ?? '#334155')).join(' ');
  const v = f.risk.var;
  const rr = f.treasury.reserveRatio;
  const h = f.treasury.health;
  const level = f.treasury.healthLevel;
  const a = f.accumulation;
  const worst = [...f.oracle].sort((x, y) => y.max - x.max)[0];
  const pools = f.liquidity.map((p) => `${escapeHtml(p.pool)} <span class="sub">${fmtPct(p.inRangeShare, 0)}</span>`).join(' &nbsp; ');
  const skipped = Object.entries(a.period.skipped).map(([why, n]) => `${n} ${escapeHtml(why)}`).join(', ');
  const riskColor = { low: '#16a34a', medium: '#ca8a04', high: '#ea580c', extreme: '#dc2626' }[f.risk.marketRisk as string] ?? '#64748b';
  const growth = f.performance.growth30d;
  const firstValue = r.series.valueUsd.find((x): x is number => x !== null);
  return `<section class="stats ops">
${card('Treasury value', f.treasury.valueUsd === null ? '—' : fmtUsd(f.treasury.valueUsd), firstValue === undefined ? 'no snapshot in the period' : `from ${fmtUsd(firstValue)} at the start of the period`)}
${card('Reserve ratio', rr ? `<span class="${rrClass(rr.end, s)}">${fmtNum(rr.end)}</span>` : '—',
    rr ? `from ${fmtNum(rr.start)} · min ${fmtNum(rr.min)} · mean ${fmtNum(rr.mean)} · floor ${fmtNum(s.minRrThreshold, 1)}` : 'no snapshot')}
${card('Health', h ? `${fmtNum(h.end)} ${level ? pill(level, LEVEL_COLORS[level]) : ''}` : '—',
    h ? `from ${fmtNum(h.start)} · min ${fmtNum(h.min)} · mean ${fmtNum(h.mean)}` : 'no snapshot')}
${card('Interventions', String(iv.count), statusChips || 'none in the period')}
${card('Success rate', fmtPct(iv.successRate, 0), `executed with 7-day ROI ≥ 0${iv.awaitingRoi ? ` · ${iv.awaitingRoi} awaiting ROI` : ''}`)}
${card('Sharpe ratio', fmtNum(f.performance.sharpe), 'daily treasury returns, annualized')}
${card('Max drawdown', f.performance.valueDays < 2 ? '—' : fmtPct(-Math.abs(f.performance.maxDrawdown)), 'treasury value, peak to trough')}
${card('VaR95, one day', v.kind === 'ok' ? fmtUsd(v.var95) : '<span class="sub">insufficient history</span>',
    v.kind === 'ok' ? `ES95 ${fmtUsd(v.es95)} · over ${v.returns} daily returns` : `${v.returns} of ${v.needed} daily returns needed`)}
${card('PSTR volatility', fmtNum(f.risk.volatility), `30-day, annualized · ${pill(`${f.risk.marketRisk} risk`, riskColor)}`)}
${card('Oracle deviation', worst ? fmtPct(worst.max, 2) : '—', worst ? `largest, ${escapeHtml(worst.source)} · outlier above ${fmtPct(s.maxPriceDeviation, 0)}` : 'no readings')}
${card('30-day growth', `<span class="${growth === null ? '' : growth < 0 ? 'bad' : 'good'}">${signedPct(growth)}</span>`, 'treasury value, compounded to 30 days')}
${card('Accumulation today', `${fmtUsd(a.today.usd)} <span class="sub">of ${fmtUsd(a.dailyBudgetUsd)}</span>`,
    `${progress(a.today.shareOfBudget)}${a.today.buys} of ${a.today.runs} hourly runs bought`)}
${card('Accumulation, period', `${fmtUsd(a.period.usd)} <span class="sub">of ${fmtUsd(a.period.budgetUsd)}</span>`,
    `${progress(a.period.shareOfBudget ?? 0)}${a.period.buys} buys over ${a.period.days} day(s)${skipped ? ` · skipped ${skipped}` : ''}`)}
${card('Liquidity in range', pools || '—', f.liquidity.length ? 'share of sampled pool prices inside the range · IL in the table below' : 'no positions', 'wide')}
</section>`;
}

function table(head: string[], numeric: number, rows: string[][]): string {
  const th = head.map((x, i) => `<th${i >= numeric ? ' class="num"' : ''}>${escapeHtml(x)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${i >= numeric ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function oracleTable(r: OperatorReport): string {
  if (r.figures.oracle.length === 0) return '<p class="empty">No readings in a cycle with a valid consensus.</p>';
  const limit = r.settings.maxPriceDeviation;
  return table(['Source', 'Readings', 'Mean deviation', 'Max deviation'], 1, r.figures.oracle.map((o) => [
    escapeHtml(o.source), o.readings.toLocaleString('en-US'), fmtPct(o.mean, 3), `<span class="${o.max > limit ? 'bad' : ''}">${fmtPct(o.max, 3)}</span>`,
  ]));
}

function liquidityTable(r: OperatorReport): string {
  if (r.figures.liquidity.length === 0) return '<p class="empty">No liquidity positions.</p>';
  return table(['Pool', 'In range', 'Samples', 'Impermanent loss', 'Pool price', 'Rebalances'], 1, r.figures.liquidity.map((p) => [
    escapeHtml(p.pool), fmtPct(p.inRangeShare), p.samples.toLocaleString('en-US'),
    `<span class="${(p.impermanentLoss ?? 0) < 0 ? 'bad' : ''}">${fmtPct(p.impermanentLoss, 2)}</span>`,
    p.price === null ? '—' : `${fmtPrice(p.price)} ${escapeHtml(p.quote)}`, String(p.rebalances),
  ]));
}

function interventionsTable(list: readonly InterventionPoint[]): string {
  if (list.length === 0) return '<p class="empty">No intervention started in this period.</p>';
  return table(['Started', 'Status', 'Price / VWAP 30d', 'Drawdown', 'USD', '7-day ROI'], 2, list.map((i) => [
    `<span class="nowrap">${escapeHtml(utcText(i.startedAt))}</span><br><span class="sub">${escapeHtml(i.id)}</span>`,
    pill(i.status, STATUS_COLORS[i.status] ?? '#334155'),
    `${fmtPrice(i.price)}<br><span class="sub">${fmtPrice(i.vwap30)}</span>`, fmtPct(i.drawdown),
    i.usdValue === null ? '—' : fmtUsd(i.usdValue),
    i.roi7d === null ? '<span class="sub">—</span>' : `<span class="${i.roi7d >= 0 ? 'good' : 'bad'}">${signedPct(i.roi7d)}</span>`,
  ]));
}

const EXTRA_STYLE = `
.stats.ops { grid-template-columns:repeat(5,minmax(0,1fr)); }
.grid2, .grid3 { display:grid; grid-template-columns:repeat(2,minmax(0,1fr)); gap:16px; margin-bottom:16px; }
.grid3 { grid-template-columns:repeat(3,minmax(0,1fr)); }
.grid2 > .card, .grid3 > .card { margin-bottom:0; }
.grid3 .hint { min-height:2.9em; }
.bar { height:6px; border-radius:3px; background:var(--line); overflow:hidden; margin:4px 0 6px; }
.bar span { display:block; height:100%; background:var(--good); }
.stat .sub, td .sub { color:var(--muted); font-size:12.5px; font-weight:500; }
td.num .sub { font-size:11.5px; }
.nowrap { white-space:nowrap; }
@media (max-width:960px) { .grid2, .grid3 { grid-template-columns:1fr; } .stats.ops { grid-template-columns:repeat(2,minmax(0,1fr)); } }
`;

/**
 * Runs in the browser: four time charts sharing a synchronized UTC axis
 * (price, treasury, health, oracle deviation) and the daily accumulation bars.
 * Each drawn chart records its canvas box in `data-box` (page pixels), which
 * the screenshot test reads to know where to look.
 */
const CLIENT_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var c = data.series;
  var charts = [];
  var k = window.reportKit;
  var sigFmt = k.sigFmt, utc = k.utc, widthOf = k.widthOf, axisSize = k.axisSize, timeValue = k.timeValue;
  function usdFmt(v) { return k.usdFmt(v, true); }
  function nearestIndex(ts) { return k.nearestIndex(c.t, ts); }
  function pct(v, d) { return v == null ? '—' : (v * 100).toFixed(d == null ? 1 : d) + ' %'; }
  function markBox(u) {
    var r = u.over.getBoundingClientRect();
    u.root.parentNode.setAttribute('data-box', [Math.round(r.left + scrollX), Math.round(r.top + scrollY), Math.round(r.width), Math.round(r.height)].join(','));
  }
  var syncing = false;
  function syncX(u, key) {
    if (key !== 'x' || syncing) return;
    syncing = true;
    charts.forEach(function (o) { if (o !== u && o.__timed) o.setScale('x', { min: u.scales.x.min, max: u.scales.x.max }); });
    syncing = false;
  }
  function some(ys) { return ys.some(function (v) { return v != null; }); }
  function make(id, height, opts, series, xs, timed, hasData) {
    var el = document.getElementById(id);
    if (xs.length === 0 || !hasData) { el.textContent = timed ? 'No cycles recorded in this period.' : 'No accumulation run recorded in this period.'; el.className += ' empty'; return null; }
    opts.width = widthOf(el);
    opts.height = height;
    opts.tzDate = utc;
    opts.hooks = opts.hooks || {};
    if (timed) { opts.cursor = { sync: { key: 'operator' } }; opts.hooks.setScale = [syncX]; }
    // Measured after each draw: uPlot lays the plot out after construction.
    opts.hooks.draw = (opts.hooks.draw || []).concat([markBox]);
    var u = new uPlot(opts, series, el);
    u.__el = el;
    u.__timed = timed;
    charts.push(u);
    return u;
  }

  // (a) PSTR price, its 30-day VWAP and the trigger line, with the interventions.
  var trigger = c.vwap30.map(function (v) { return v == null ? null : v * data.settings.triggerThreshold; });
  var priceSeries = [{ value: timeValue },
    { label: 'PSTR price', stroke: '#2563eb', width: 1.5, spanGaps: true, value: function (u, v) { return sigFmt(v, 4); } },
    { label: data.settings.vwapWindowDays + '-day VWAP', stroke: '#0f172a', width: 1.5, spanGaps: true, value: function (u, v) { return sigFmt(v, 4); } },
    { label: 'Trigger (VWAP × ' + data.settings.triggerThreshold + ')', stroke: '#dc2626', width: 1.25, dash: [6, 4], spanGaps: true, value: function (u, v) { return sigFmt(v, 4); } }];
  var priceData = [c.t, c.pstrUsd, c.vwap30, trigger];
  var statuses = Object.keys(data.statusColors);
  statuses.forEach(function (status) {
    var mine = data.interventions.filter(function (iv) { return iv.status === status; });
    if (mine.length === 0 || c.t.length === 0) return;
    var ys = new Array(c.t.length).fill(null);
    mine.forEach(function (iv) { ys[nearestIndex(iv.startedAt / 1000)] = iv.price; });
    priceSeries.push({
      label: status + ' (' + mine.length + ')', stroke: data.statusColors[status], fill: data.statusColors[status],
      paths: function () { return null; }, points: { show: true, size: 12, width: 2, stroke: '#fff', fill: data.statusColors[status] },
      value: function (u, v) { return v == null ? '' : 'at ' + sigFmt(v, 4); },
    });
    priceData.push(ys);
  });
  make('chart-price', 280, {
    series: priceSeries,
    axes: [{}, { size: axisSize, values: function (u, vals) { return vals.map(function (v) { return sigFmt(v, 3); }); } }],
  }, priceData, c.t, true, some(c.pstrUsd));

  // (b) Treasury value and reserve ratio, with the emergency floor.
  var floor = c.t.map(function () { return data.settings.minRrThreshold; });
  make('chart-treasury', 240, {
    series: [{ value: timeValue },
      { label: 'Treasury value', stroke: '#0d9488', width: 1.5, fill: 'rgba(13,148,136,0.08)', spanGaps: true, scale: 'usd', value: function (u, v) { return usdFmt(v); } },
      { label: 'Reserve ratio', stroke: '#7c3aed', width: 1.5, spanGaps: true, scale: 'rr', value: function (u, v) { return v == null ? '—' : v.toFixed(2); } },
      { label: 'Emergency RR ' + data.settings.minRrThreshold, stroke: '#dc2626', width: 1.25, dash: [6, 4], scale: 'rr', value: function () { return String(data.settings.minRrThreshold); } }],
    scales: { rr: { range: function (u, min, max) { return [0, Math.max((max || 0) * 1.1, data.settings.minRrThreshold * 1.5)]; } } },
    axes: [{}, { scale: 'usd', size: axisSize, values: function (u, vals) { return vals.map(usdFmt); } },
      { scale: 'rr', side: 1, size: axisSize, grid: { show: false }, stroke: '#7c3aed' }],
  }, [c.t, c.valueUsd, c.reserveRatio, floor], c.t, true, some(c.valueUsd));

  // (c) Health over its shaded level bands: fills under the line, labels on top.
  function drawBands(u, labels) { k.drawHealthBands(u, labels, data.healthBands, data.levelColors); }
  make('chart-health', 220, {
    series: [{ value: timeValue },
      { label: 'Health score', stroke: '#0f172a', width: 1.75, spanGaps: true, value: function (u, v) { return v == null ? '—' : v.toFixed(3); } }],
    scales: { y: { range: function (u, min, max) { return [0, Math.max(2, (max || 0) * 1.08)]; } } },
    axes: [{}, { size: axisSize }],
    hooks: { drawClear: [function (u) { drawBands(u, false); }], draw: [function (u) { drawBands(u, true); }] },
  }, [c.t, c.health], c.t, true, some(c.health));

  // (d) Each oracle source's mean deviation from the consensus, with the outlier limit.
  var sources = Object.keys(c.deviation).sort();
  var devSeries = [{ value: timeValue }];
  var devData = [c.t];
  sources.forEach(function (s, i) {
    devSeries.push({ label: s, stroke: data.sourceColors[i % data.sourceColors.length], width: 1.5, spanGaps: true, value: function (u, v) { return pct(v, 3); } });
    devData.push(c.deviation[s]);
  });
  devSeries.push({ label: 'Outlier limit ' + pct(data.settings.maxPriceDeviation, 0), stroke: '#dc2626', width: 1.25, dash: [6, 4], value: function () { return pct(data.settings.maxPriceDeviation, 0); } });
  devData.push(c.t.map(function () { return data.settings.maxPriceDeviation; }));
  make('chart-oracle', 220, {
    series: devSeries,
    scales: { y: { range: function (u, min, max) { return [0, Math.max((max || 0) * 1.1, 0.001)]; } } },
    axes: [{}, { size: axisSize, values: function (u, vals) { return vals.map(function (v) { return pct(v, 1); }); } }],
  }, devData, c.t, true, sources.length > 0);

  // (e) USD bought each UTC day against the daily budget.
  var days = data.accumulation.map(function (d) { return Date.parse(d.day + 'T00:00:00Z') / 1000; });
  var budget = days.map(function () { return data.settings.dailyBudgetUsd; });
  make('chart-accumulation', 220, {
    series: [{ value: '{YYYY}-{MM}-{DD}' },
      { label: 'USD bought', stroke: '#0d9488', fill: 'rgba(13,148,136,0.55)', width: 1, paths: uPlot.paths.bars({ size: [0.7, 48] }), points: { show: false }, value: function (u, v) { return usdFmt(v); } },
      { label: 'Daily budget', stroke: '#dc2626', width: 1.25, dash: [6, 4], value: function (u, v) { return usdFmt(v); } }],
    scales: { x: { range: function (u, min, max) { return [min - 43200, max + 43200]; } }, y: { range: function (u, min, max) { return [0, Math.max(max, data.settings.dailyBudgetUsd) * 1.12]; } } },
    axes: [{ space: 60 }, { size: axisSize, values: function (u, vals) { return vals.map(usdFmt); } }],
  }, [days, data.accumulation.map(function (d) { return d.usd; }), budget], days, false, true);

  k.resizeWithWindow(charts);
})();`;

export function renderOperatorReport(report: OperatorReport, opts: OperatorReportOptions): string {
  const { js, css } = uplotAssets();
  const s = report.settings;
  const bands = HEALTH_BANDS.map((b, i) => ({ level: b.level, min: b.min, max: i === 0 ? Number.MAX_VALUE : (HEALTH_BANDS[i - 1]?.min ?? b.min) }));
  const pageData = {
    series: report.series,
    interventions: report.interventions.map((i) => ({ startedAt: i.startedAt, status: i.status, price: i.price })),
    accumulation: report.figures.accumulation.byDay,
    settings: s,
    healthBands: bands,
    statusColors: STATUS_COLORS,
    levelColors: LEVEL_COLORS,
    sourceColors: SOURCE_COLORS,
  };
  const title = escapeHtml(opts.title);
  const bucket = report.bucketMs >= 3_600_000 ? `${report.bucketMs / 3_600_000} h` : `${report.bucketMs / 60_000} min`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="pstr-treasury-agent operator report">
<title>${title}</title>
<style>${css}</style>
<style>${BASE_STYLE}${EXTRA_STYLE}</style>
</head>
<body>
<main>
<header>
<h1>${title}</h1>
<p>Treasury ${escapeHtml(report.treasuryId)} · ${escapeHtml(utcText(report.from))} → ${escapeHtml(utcText(report.to))} · ${report.figures.period.validCycles.toLocaleString('en-US')} of ${report.figures.period.cycles.toLocaleString('en-US')} cycles with a valid price · one chart point per ${escapeHtml(bucket)} · generated ${escapeHtml(opts.generatedAt.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC'))}</p>
</header>
${cards(report)}
<section class="card chart">
<h2>PSTR price, ${escapeHtml(String(s.vwapWindowDays))}-day VWAP and the trigger</h2>
<p class="hint">An intervention can start when the price touches the dashed trigger line (VWAP × ${escapeHtml(String(s.triggerThreshold))}); dots mark the interventions, coloured by outcome. Drag to zoom, double-click to reset; the time charts move together.</p>
<div id="chart-price" class="plot-wrap"></div>
</section>
<section class="card chart">
<h2>Treasury value and reserve ratio</h2>
<p class="hint">Treasury value in USD (left axis) and reserve ratio (right axis); below the dashed line at RR ${escapeHtml(String(s.minRrThreshold))} the treasury latches into emergency stop.</p>
<div id="chart-treasury" class="plot-wrap"></div>
</section>
<div class="grid3">
<section class="card chart">
<h2>Health score</h2>
<p class="hint">Bands: excellent ≥ 1.5, good ≥ 1.0, moderate ≥ 0.8, poor ≥ 0.6, critical below.</p>
<div id="chart-health" class="plot-wrap"></div>
</section>
<section class="card chart">
<h2>Oracle deviation</h2>
<p class="hint">|price − consensus| / consensus per source (mean per point); above the dashed limit a reading is an outlier.</p>
<div id="chart-oracle" class="plot-wrap"></div>
</section>
<section class="card chart">
<h2>Accumulation against the budget</h2>
<p class="hint">USD of PUMP bought each UTC day by the hourly job; dashed: the daily budget, ${escapeHtml(fmtUsd(s.dailyBudgetUsd))}.</p>
<div id="chart-accumulation" class="plot-wrap"></div>
</section>
</div>
<div class="grid2">
<section class="card">
<h2>Oracle sources</h2>
<p class="hint">Every reading of a cycle with a valid consensus, excluded ones included.</p>
${oracleTable(report)}
</section>
<section class="card">
<h2>Liquidity pools</h2>
<p class="hint">In range: share of sampled pool prices inside the position's range. Impermanent loss: versus holding the entry amounts, at the last price.</p>
${liquidityTable(report)}
</section>
</div>
<section class="card">
<h2>Interventions</h2>
<p class="hint">Started in the period, times in UTC. Success: executed with a 7-day ROI ≥ 0.</p>
${interventionsTable(report.interventions)}
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

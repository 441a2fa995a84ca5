/**
 * The look shared by the project's HTML reports (the backtest's and the
 * operator's): the stylesheet, uPlot's inlined assets, escaping, number
 * formatting and the summary cards. Every page that uses it is one
 * self-contained file that loads nothing from the network.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { HealthLevel } from '../domain/health.ts';

/** SPEC §6 level floors, best first; the health chart shades these bands. */
export const HEALTH_BANDS: readonly { level: HealthLevel; min: number }[] = [
  { level: 'excellent', min: 1.5 },
  { level: 'good', min: 1.0 },
  { level: 'moderate', min: 0.8 },
  { level: 'poor', min: 0.6 },
  { level: 'critical', min: 0 },
];

export const LEVEL_COLORS: Record<HealthLevel, string> = {
  excellent: '#16a34a',
  good: '#65a30d',
  moderate: '#ca8a04',
  poor: '#ea580c',
  critical: '#dc2626',
};

// ---------------------------------------------------------------- escaping

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** JSON that is safe inside a <script> block: no "<" survives, so "</script>" and "<!--" cannot appear. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

// -------------------------------------------------------------- formatting

const usd0 = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
const usd2 = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function fmtUsd(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1000 ? usd0.format(v) : usd2.format(v);
}

export function fmtPct(v: number | null, digits = 1): string {
  if (v === null || !Number.isFinite(v)) return '—';
  return `${(v * 100).toFixed(digits)} %`;
}

export function fmtNum(v: number | null, digits = 2): string {
  if (v === null) return '—';
  if (!Number.isFinite(v)) return String(v);
  return v.toFixed(digits);
}

/** Prices of a few ten-thousandths of a dollar: significant digits, not decimals. */
export function fmtPrice(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return v >= 1 ? v.toFixed(4) : Number(v.toPrecision(4)).toString();
}

/** "2025-02-10T14:05:00.000Z" → "2025-02-10 14:05 UTC"; anything else shown as given. */
export function fmtTime(iso: string | null, zone = ' UTC'): string {
  if (iso === null) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?Z$/.exec(iso);
  return escapeHtml(m ? `${m[1]} ${m[2]}${zone}` : iso);
}

// ------------------------------------------------------------------ assets

let assets: { js: string; css: string } | undefined;

/** uPlot's browser build, read once; a stray "</script" or "</style" would end our block early, so it is defused. */
export function uplotAssets(): { js: string; css: string } {
  if (!assets) {
    const require = createRequire(import.meta.url);
    const read = (name: string) => readFileSync(require.resolve(`uplot/dist/${name}`), 'utf8');
    assets = {
      js: read('uPlot.iife.min.js').replace(/<\/script/gi, '<\\/script'),
      css: read('uPlot.min.css').replace(/<\/style/gi, '<\\/style'),
    };
  }
  return assets;
}

// ----------------------------------------------------------------- pieces

/** A summary card: label, value (HTML) and an optional note (HTML). */
export function card(label: string, valueHtml: string, noteHtml = '', cls = ''): string {
  return `<div class="stat ${cls}"><div class="label">${escapeHtml(label)}</div><div class="value">${valueHtml}</div>${
    noteHtml ? `<div class="note">${noteHtml}</div>` : ''}</div>`;
}

/** The stylesheet of both reports. */
export const BASE_STYLE = `
:root { --bg:#f4f6fa; --card:#fff; --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --good:#16a34a; --warn:#d97706; --bad:#dc2626; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
main { max-width:1280px; margin:0 auto; padding:24px 20px 48px; }
header h1 { font-size:24px; margin:0 0 4px; letter-spacing:-0.01em; }
header p { margin:0 0 20px; color:var(--muted); }
h2 { font-size:16px; margin:0 0 2px; }
.hint { color:var(--muted); margin:0 0 12px; font-size:13px; }
.stats { display:grid; grid-template-columns:repeat(4,minmax(0,1fr)); gap:12px; margin-bottom:16px; }
.stat, .card { background:var(--card); border:1px solid var(--line); border-radius:10px; box-shadow:0 1px 2px rgba(15,23,42,.04); }
.stat { padding:12px 14px; }
.stat.wide { grid-column:span 2; }
.stat .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.stat .value { font-size:22px; font-weight:650; margin:2px 0; font-variant-numeric:tabular-nums; }
.stat .note { color:var(--muted); font-size:12.5px; }
.card { padding:16px 18px; margin-bottom:16px; }
.chart { min-height:200px; }
.pill { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px; font-weight:600; color:var(--c);
  background:color-mix(in srgb, var(--c) 12%, white); border:1px solid color-mix(in srgb, var(--c) 35%, white); white-space:nowrap; vertical-align:middle; }
.good { color:var(--good); } .warn { color:var(--warn); } .bad { color:var(--bad); }
.scroll { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:12px; }
th, td { text-align:left; padding:6px 7px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:600; font-size:12px; background:#f8fafc; position:sticky; top:0; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.num { white-space:nowrap; }
td.nowrap { white-space:nowrap; }
td.reason { min-width:160px; max-width:240px; }
td .sub { color:var(--muted); font-size:11.5px; }
tbody tr:hover { background:#f8fafc; }
.empty { color:var(--muted); margin:4px 0; }
.settings { display:grid; grid-template-columns:repeat(auto-fill,minmax(300px,1fr)); gap:4px 16px; margin:8px 0 12px; }
.settings div { display:flex; gap:8px; } .settings dt { color:var(--muted); min-width:110px; } .settings dd { margin:0; }
details summary { cursor:pointer; color:var(--muted); }
pre { background:#f8fafc; border:1px solid var(--line); border-radius:8px; padding:12px; overflow:auto; font-size:12px; max-height:420px; }
.tooltip { position:absolute; pointer-events:none; z-index:10; background:rgba(15,23,42,.92); color:#fff; padding:6px 9px; border-radius:6px;
  font-size:12px; line-height:1.4; white-space:nowrap; display:none; box-shadow:0 4px 12px rgba(0,0,0,.2); }
.plot-wrap { position:relative; }
.u-legend { font-size:12.5px; text-align:left; margin-top:4px; }
.u-legend .u-marker { border-radius:2px; }
footer { color:var(--muted); font-size:12px; text-align:center; margin-top:24px; }
@media (max-width:960px) { .stats { grid-template-columns:repeat(2,minmax(0,1fr)); } }
@media (max-width:560px) { .stats { grid-template-columns:1fr; } .stat.wide { grid-column:span 1; } main { padding:16px 10px; } }
`;

/**
 * The in-page chart helpers both report pages use (number formats, UTC axes,
 * axis widths, the nearest sample, health level bands, resizing), defined
 * once as `window.reportKit` before each page's own script.
 */
export const CHART_KIT_JS = String.raw`window.reportKit = (function () {
  'use strict';
  function sigFmt(v, d) { return v == null ? '—' : Number(v.toPrecision(d)).toString(); }
  // Compact USD; with cents, amounts under $100 keep two decimals.
  function usdFmt(v, cents) {
    if (v == null) return '—';
    var a = Math.abs(v);
    if (a >= 1e6) return '$' + (v / 1e6).toFixed(a >= 1e7 ? 1 : 2) + 'M';
    if (a >= 1e3) return '$' + (v / 1e3).toFixed(a >= 1e4 ? 0 : 1) + 'k';
    return '$' + v.toFixed(cents && a < 100 ? 2 : 0);
  }
  function utc(ts) { return uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'); }
  function widthOf(el) { return Math.max(300, el.clientWidth); }
  // Axis width from its longest tick label, so small prices like 0.000275 are never clipped.
  function axisSize(u, values) {
    var longest = 0;
    (values || []).forEach(function (v) { longest = Math.max(longest, String(v).length); });
    return Math.max(40, Math.ceil(longest * 7.2) + 22);
  }
  function nearestIndex(t, ts) {
    var lo = 0, hi = t.length - 1;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (t[mid] < ts) lo = mid + 1; else hi = mid; }
    if (lo > 0 && Math.abs(t[lo - 1] - ts) <= Math.abs(t[lo] - ts)) lo--;
    return lo;
  }
  // Health level bands: fills under everything (labels false), names on top (labels true).
  function drawHealthBands(u, labels, bands, colors) {
    var ctx = u.ctx, b = u.bbox, top = u.scales.y.max;
    ctx.save();
    ctx.font = Math.round(11 * devicePixelRatio) + 'px system-ui, sans-serif';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.lineWidth = 3 * devicePixelRatio;
    ctx.strokeStyle = 'rgba(255,255,255,0.9)';
    bands.forEach(function (band) {
      var y0 = u.valToPos(Math.min(band.max, top), 'y', true);
      var y1 = u.valToPos(band.min, 'y', true);
      if (y1 <= y0) return;
      if (!labels) {
        ctx.fillStyle = colors[band.level] + '1f';
        ctx.fillRect(b.left, y0, b.width, y1 - y0);
      } else if (y1 - y0 >= 11 * devicePixelRatio) {
        var lx = b.left + b.width - 6 * devicePixelRatio, ly = (y0 + y1) / 2;
        ctx.fillStyle = colors[band.level];
        ctx.strokeText(band.level, lx, ly); // white halo: readable where the line crosses
        ctx.fillText(band.level, lx, ly);
      }
    });
    ctx.restore();
  }
  function resizeWithWindow(charts) {
    var timer = null;
    window.addEventListener('resize', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        charts.forEach(function (u) { u.setSize({ width: widthOf(u.__el), height: u.height }); });
      }, 100);
    });
  }
  return {
    sigFmt: sigFmt, usdFmt: usdFmt, utc: utc, widthOf: widthOf, axisSize: axisSize, nearestIndex: nearestIndex,
    drawHealthBands: drawHealthBands, resizeWithWindow: resizeWithWindow, timeValue: '{YYYY}-{MM}-{DD} {HH}:{mm} UTC',
  };
})();`;

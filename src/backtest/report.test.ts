import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { defaultConfig } from '../config.ts';
import { healthLevel } from '../domain/health.ts';
import { HEALTH_BANDS, escapeHtml, jsonForScript, renderReport } from './report.ts';
import type { BacktestResult, InterventionRecord } from './types.ts';

const HOSTILE = '</script><script>alert("x")</script><img src=x onerror=alert(1)>';

function intervention(over: Partial<InterventionRecord> = {}): InterventionRecord {
  return {
    decidedAt: '2025-02-10T20:00:00.000Z',
    executedAt: '2025-02-10T21:00:00.000Z',
    status: 'executed',
    price: 0.00014,
    vwap30: 0.0002,
    drawdown: 0.3,
    tier: 3,
    fraction: 0.4,
    pumpSpent: '12500000.123456',
    pstrBought: '310000000.5',
    usdValue: 62_500,
    reason: 'swap filled',
    slippage: 0.006,
    unfilledPump: '0',
    roi: { '1h': 0.01, '24h': -0.02, '168h': null },
    ...over,
  };
}

function sample(over: { reason?: string; pool?: string; level?: string } = {}): BacktestResult {
  const t = [1_735_689_600, 1_735_693_200, 1_735_696_800];
  return {
    summary: {
      samples: 3,
      interventions: [intervention({ reason: over.reason ?? 'swap filled' }), intervention({ status: 'invalidated', executedAt: null, reason: 'price recovered' })],
      emergencyStops: [{ at: '2025-01-01T01:00:00.000Z', reserveRatio: 1.4 }],
      accumulation: { buys: 3, usdSpent: 308.2, skipped: { concentration: 1 } },
      metrics: { interventionCount: 2, successRate: 1, sharpe: 1.2, maxDrawdown: 0.1, finalReserveRatio: 3.2, finalHealth: 1.7 },
    },
    charts: {
      t,
      pstrPrice: [0.0002, 0.00019, 0.00021],
      vwap30: [null, 0.000195, 0.0002],
      trigger: [null, 0.00016575, 0.00017],
      treasuryValue: [900_000, 899_000, 901_000],
      reserveRatio: [4.5, 4.7, 4.3],
      health: [1.9, 1.95, 1.7],
    },
    details: {
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-01-01T02:00:00.000Z',
      finalHealthLevel: over.level ?? 'excellent',
      finalTreasuryValue: 901_000,
      finalBalances: { pump: '1000', usdc: '899000', sol: '0', pstrRetired: '0' },
      liquidity: [{ pool: over.pool ?? 'SOL/PSTR', inRangeShare: 0.8, impermanentLoss: -0.01, feesUsd: 12.5, rebalances: 2 }],
    },
  };
}

function render(result = sample(), title = 'Backtest'): string {
  return renderReport(result, { title, config: defaultConfig(), generatedAt: '2025-05-01T12:00:00.000Z' });
}

/** The JSON the page's script reads. */
function embeddedData(html: string): Record<string, unknown> {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m?.[1]) throw new Error('no data block in the page');
  return JSON.parse(m[1]) as Record<string, unknown>;
}

describe('renderReport', () => {
  it('is one self-contained page: no src or href pointing anywhere, no CSS url(), uPlot inlined', () => {
    const html = render();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?[^"'\s>]*http/i);
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link[^>]*stylesheet/i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import/i);
    expect(html).toContain('uPlot');
    expect(html).toContain('.u-legend'); // uPlot's CSS
  });

  it('embeds the chart series and the interventions as JSON the page can read back', () => {
    const result = sample();
    const data = embeddedData(render(result));
    expect(data.charts).toEqual(result.charts);
    expect(data.interventions).toEqual(result.summary.interventions.map((i) => ({
      decidedAt: i.decidedAt, status: i.status, price: i.price, vwap30: i.vwap30, drawdown: i.drawdown, tier: i.tier, tierFraction: 0.4, usdValue: i.usdValue, reason: i.reason,
    })));
    expect(data.emergencyRr).toBe(1.5);
    expect(data.triggerThreshold).toBe(0.85);
  });

  it('escapes a hostile reason, pool name, level and title everywhere they appear', () => {
    const html = render(sample({ reason: HOSTILE, pool: HOSTILE, level: HOSTILE }), HOSTILE);
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    // Only our own three script blocks close.
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    // The hostile reason still reaches the page data intact for the tooltip.
    const data = embeddedData(html) as { interventions: { reason: string }[] };
    expect(data.interventions[0]?.reason).toBe(HOSTILE);
  });

  it('lists every intervention with its status, reason and amounts, and each pool', () => {
    const html = render();
    expect(html).toContain('price recovered');
    expect(html).toContain('2025-02-10 20:00');
    expect(html).toContain('12,500,000.12');
    expect(html).toContain('title="12500000.123456"');
    expect(html).toContain('$62,500');
    expect(html).toContain('3<br><span class="sub">≥ 30 % → 40 %</span>'); // tier 3 = the largest default tier
    expect(html).toContain('<span class="good">1h +1.0%</span><br><span class="bad">1d -2.0%</span><br><span class="sub">7d —</span>');
    expect(html).toMatch(/<td>SOL\/PSTR<\/td>/);
    expect(html).toContain('1 executed');
    expect(html).toContain('1 invalidated');
  });

  it('says so when there was no intervention', () => {
    const result = sample();
    result.summary.interventions = [];
    expect(render(result)).toContain('No intervention was triggered');
  });
});

describe('escapeHtml', () => {
  it('leaves no markup-significant character unescaped', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(escapeHtml(s)).not.toMatch(/[<>"']/);
        expect(escapeHtml(s).replace(/&(amp|lt|gt|quot|#39);/g, '')).not.toContain('&');
      }),
    );
  });
});

describe('jsonForScript', () => {
  it('never lets a "<" through and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = jsonForScript(value);
        expect(text).not.toContain('<');
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});

describe('HEALTH_BANDS', () => {
  it('shades the same levels the domain assigns at each band floor and just below it', () => {
    for (const band of HEALTH_BANDS) {
      expect(healthLevel(band.min)).toBe(band.level);
    }
    for (const [i, band] of HEALTH_BANDS.entries()) {
      const below = HEALTH_BANDS[i + 1];
      if (below && band.min > 0) expect(healthLevel(band.min - 1e-9)).toBe(below.level);
    }
  });
});

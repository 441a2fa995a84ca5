/**
 * The operator report (`client.ts report [--html FILE]`): one activity reads
 * the period from the store, the figures come from src/report/figures.ts
 * (domain calls only), and the result carries the chart series too, so the
 * client renders the HTML page without touching the store.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { ReportInputs } from '../activities/report.ts';
import type { Config } from '../config-schema.ts';
import { toTokens } from '../domain/amount.ts';
import { dailyBudgetUsd, hourlyBudgetUsd } from '../domain/treasury.ts';
import { checkInput } from './inputs.ts';
import { reportInputSchema } from './messages.ts';
import { chartSeries, operatorFigures, type ChartSeries, type InterventionPoint, type OperatorFigures } from '../report/figures.ts';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 3 },
});

export interface OperatorReportInput {
  config: Config;
  /** The period, in days up to now; default 30 (the 30-day growth's own window). */
  days?: number;
  /** Most chart points; default 400. */
  maxPoints?: number;
}

export interface OperatorReport {
  treasuryId: string;
  from: number;
  to: number;
  bucketMs: number;
  figures: OperatorFigures;
  series: ChartSeries;
  interventions: InterventionPoint[];
  settings: { minRrThreshold: number; reductionBelowRr: number; triggerThreshold: number; vwapWindowDays: number; dailyBudgetUsd: number; maxPriceDeviation: number };
}

export const DEFAULT_REPORT_DAYS = 30;

export async function operatorReport(input: OperatorReportInput): Promise<OperatorReport> {
  const { config, days = DEFAULT_REPORT_DAYS, maxPoints } = checkInput(reportInputSchema, input, 'operatorReport');
  const closeDays = Math.max(config.risk.varLookbackDays, config.risk.volatilityWindowDays + 1);
  const inputs = await acts.reportInputs({ treasuryId: config.treasuryId, days, closeDays, ...(maxPoints === undefined ? {} : { maxPoints }) });
  return operatorReportOf(inputs, config);
}

/** The report from the activity's inputs: amounts to whole tokens, the budgets from the domain, then the figures. */
export function operatorReportOf(inputs: ReportInputs, config: Config): OperatorReport {
  const t = config.tokens;
  const tokens = (raw: string, decimals: number) => toTokens({ raw: BigInt(raw), decimals });
  const h = inputs.holdings;
  const figures = operatorFigures(
    {
      ...inputs,
      holdings: h ? { pump: tokens(h.pump, t.pump.decimals), usdc: tokens(h.usdc, t.usdc.decimals), sol: tokens(h.sol, t.sol.decimals) } : null,
      accumulation: inputs.accumulation.map((r) => ({ at: r.at, bought: r.bought, skip: r.skip, usdSpent: r.usdcSpent === null ? null : tokens(r.usdcSpent, t.usdc.decimals) })),
    },
    {
      dailyBudgetUsd: dailyBudgetUsd(config.strategy),
      hourlyBudgetUsd: hourlyBudgetUsd(config.strategy),
      minReturnsForVar: config.risk.minReturnsForVar,
      volatilityWindowDays: config.risk.volatilityWindowDays,
    },
  );
  return {
    treasuryId: inputs.treasuryId, from: inputs.from, to: inputs.to, bucketMs: inputs.bucketMs, figures, series: chartSeries(inputs.buckets),
    interventions: inputs.interventions,
    settings: {
      minRrThreshold: config.risk.minRrThreshold, reductionBelowRr: config.risk.reductionBelowRr, triggerThreshold: config.strategy.triggerThreshold,
      vwapWindowDays: config.strategy.vwapWindowDays, dailyBudgetUsd: figures.accumulation.dailyBudgetUsd,
      maxPriceDeviation: config.oracle.maxPriceDeviation,
    },
  };
}

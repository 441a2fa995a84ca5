/**
 * npm run bench (issue #12): `simulate` over two days of 5-minute rows (576
 * cycles) on a fresh time-skipping server, beside the backtest over the same
 * rows measured in the same run, as a ratio; and the figure the issue's
 * target is set on (30 days of 5-minute rows in at most 60 s), projected from
 * this run's per-cycle time. The projection is a lower bound: the test server
 * slows as a run grows (a 30-day run measured 895 s here).
 */
import { runBacktest } from '../src/backtest/engine.ts';
import { generatePriceRows } from '../src/backtest/generate.ts';
import type { PriceRow } from '../src/backtest/types.ts';
import { parseConfig } from '../src/config.ts';
import { simulate } from '../src/simulate/run.ts';

const rows: PriceRow[] = [];
generatePriceRows({ days: 2, intervalMs: 300_000, seed: 42, crashes: [{ day: 1.2, depth: 0.4, recoveryDays: 0.5 }] }, (r) => rows.push(r));
const config = parseConfig({ liquidity: { enabled: false }, strategy: { vwapWindowDays: 1, minVwapHistoryDays: 0.5 } });

const b0 = performance.now();
const backtest = runBacktest(rows, config).summary;
const backtestMs = performance.now() - b0;
const s0 = performance.now();
const sim = await simulate({ rows, file: 'bench-2d-5m.csv', config });
const simMs = performance.now() - s0;
const perCycle = sim.stats.runMs / sim.stats.cycles;
console.log(`simulate (2 days of 5-minute rows, ${sim.stats.cycles} cycles, Node ${process.version}):`);
console.log(`  simulate ${(simMs / 1000).toFixed(1)} s (set-up ${(sim.stats.setupMs / 1000).toFixed(1)} s, ${perCycle.toFixed(1)} ms a cycle) · backtest of the same rows ${backtestMs.toFixed(0)} ms · ratio ${(simMs / backtestMs).toFixed(0)}×`);
console.log(`  30 days of 5-minute rows projected at this run's pace: ≥ ${((sim.stats.setupMs + perCycle * 8640) / 1000).toFixed(0)} s (target ≤ 60 s: ${sim.stats.setupMs + perCycle * 8640 <= 60_000 ? 'met' : 'NOT met'})`);
console.log(`  interventions: simulate ${sim.result.summary.interventions.length}, backtest ${backtest.interventions.length}`);

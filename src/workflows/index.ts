/** Every workflow the worker runs. */
export { strategyMonitor } from './monitor.ts';
export { intervention } from './intervention.ts';
export { governanceProposal } from './governance.ts';
export { accumulationJob, liquidityRebalanceJob, performanceReportJob, riskAssessmentJob } from './scheduled.ts';
export { alertDelivery, alertOutbox } from './alerts.ts';
export { operatorReport } from './report.ts';
export { monitorWatchdog } from './watchdog.ts';
export { reconciler } from './reconciler.ts';

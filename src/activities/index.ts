/**
 * Every activity, built from injected dependencies (the samples'
 * activities-dependency-injection idiom). Workflows import only the type.
 */
import { alertActivities } from '../alerts/activity.ts';
import { configActivities } from './config.ts';
import { controlActivities } from './control.ts';
import type { ActivityDeps } from './deps.ts';
import { governanceActivities } from './governance.ts';
import { interventionActivities } from './intervention.ts';
import { backlogActivities, monitorActivities } from './monitor.ts';
import { operatorActivities } from './operators.ts';
import { watchdogActivities } from './watchdog.ts';
import { reconcileActivities } from './reconcile.ts';
import { reportActivities } from './report.ts';
import { scheduledActivities } from './scheduled.ts';

export function createActivities(deps: ActivityDeps) {
  return {
    ...monitorActivities(deps),
    ...backlogActivities(deps),
    ...watchdogActivities(deps),
    ...interventionActivities(deps),
    ...scheduledActivities(deps),
    ...governanceActivities(deps),
    ...operatorActivities(deps),
    ...reportActivities(deps),
    ...controlActivities(deps),
    ...reconcileActivities(deps),
    ...configActivities(deps),
    ...alertActivities({ store: deps.store, logger: deps.logger, alerts: deps.config.alerts }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps.ts';

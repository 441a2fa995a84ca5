/**
 * Every activity, built from injected dependencies (the samples'
 * activities-dependency-injection idiom). Workflows import only the type.
 */
import { alertActivities } from '../alerts/activity.ts';
import type { ActivityDeps } from './deps.ts';
import { governanceActivities } from './governance.ts';
import { interventionActivities } from './intervention.ts';
import { monitorActivities } from './monitor.ts';
import { reconcileActivities } from './reconcile.ts';
import { reportActivities } from './report.ts';
import { scheduledActivities } from './scheduled.ts';

export function createActivities(deps: ActivityDeps) {
  return {
    ...monitorActivities(deps),
    ...interventionActivities(deps),
    ...scheduledActivities(deps),
    ...governanceActivities(deps),
    ...reportActivities(deps),
    ...reconcileActivities(deps),
    ...alertActivities({ store: deps.store, logger: deps.logger, alerts: deps.config.alerts }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps.ts';

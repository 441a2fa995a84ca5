/**
 * Every activity, built from injected dependencies (the samples'
 * activities-dependency-injection idiom). Workflows import only the type.
 */
import type { ActivityDeps } from './deps.ts';
import { governanceActivities } from './governance.ts';
import { interventionActivities } from './intervention.ts';
import { monitorActivities } from './monitor.ts';
import { scheduledActivities } from './scheduled.ts';

export function createActivities(deps: ActivityDeps) {
  return {
    ...monitorActivities(deps),
    ...interventionActivities(deps),
    ...scheduledActivities(deps),
    ...governanceActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps.ts';

/**
 * Local activities whose failures look like an activity task's. An activity
 * task that fails after its retries reaches the workflow as an ActivityFailure
 * wrapping the activity's error; a local activity's own error arrives bare (an
 * ApplicationFailure; only its timeouts and cancellations are wrapped). The
 * monitor's degraded-cycle rules tell a failed step from a bug by that
 * wrapper, so the cycle's local activities put it back.
 */
import { RetryState } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, proxyLocalActivities, type LocalActivityOptions } from '@temporalio/workflow';

type AsyncFunctions<A> = { [K in keyof A]: A[K] extends (...args: infer P) => Promise<infer R> ? (...args: P) => Promise<R> : never };

export function proxyLocalActivitiesAsTasks<A extends object>(options: LocalActivityOptions): AsyncFunctions<A> {
  const acts = proxyLocalActivities<A>(options) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  return new Proxy({}, {
    get(_target, name) {
      if (typeof name !== 'string') return undefined;
      const run = acts[name];
      if (!run) return undefined;
      return (...args: unknown[]) => run(...args).catch((err: unknown) => {
        if (!(err instanceof ApplicationFailure)) throw err;
        const state = err.nonRetryable ? RetryState.NON_RETRYABLE_FAILURE : RetryState.MAXIMUM_ATTEMPTS_REACHED;
        throw new ActivityFailure(err.message, name, undefined, state, undefined, err);
      });
    },
  }) as AsyncFunctions<A>;
}

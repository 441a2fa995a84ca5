/**
 * A Temporal activity interceptor: times every activity attempt, counts the
 * ones that throw, and runs the activity inside a log context, so every pino
 * line it writes names the workflow, the activity and the cycle or step.
 * Register with `Worker.create({ interceptors: { activity: [activityInterceptors(metrics)] } })`.
 */
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInterceptors, ActivityInterceptorsFactory, Next, ActivityInboundCallsInterceptor } from '@temporalio/worker';
import { withLogContext, type LogContext } from './logger.ts';
import type { Metrics } from './metrics.ts';

/** What an activity's first argument says about where it runs: the treasury, and the cycle or step. */
export function contextFromInput(arg: unknown): Pick<LogContext, 'treasuryId' | 'cycleId' | 'step'> {
  if (arg === null || typeof arg !== 'object') return {};
  const a = arg as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const cycle = a.cycle as { summary?: { cycleId?: unknown } } | undefined;
  const step = a.step as { step?: unknown } | string | undefined;
  return {
    treasuryId: str(a.treasuryId),
    // recordSample has cycleId; recordCycle carries it in cycle.summary; a scheduled job's runKey plays the same part.
    cycleId: str(a.cycleId) ?? str(cycle?.summary?.cycleId) ?? str(a.runKey) ?? str(a.key),
    step: typeof step === 'string' ? step : str(step?.step),
  };
}

export interface ActivityInterceptorOptions {
  /** Wall-clock source in ms, for tests. Default performance.now. */
  clock?: () => number;
}

/** The factory for `interceptors.activity`. */
export function activityInterceptors(metrics: Metrics, opts: ActivityInterceptorOptions = {}): ActivityInterceptorsFactory {
  const clock = opts.clock ?? (() => performance.now());
  return (ctx: Context): ActivityInterceptors => {
    const info = ctx.info;
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
        const fromInput = contextFromInput(input.args[0]);
        const logContext: LogContext = {
          workflowId: info.workflowExecution?.workflowId,
          workflowType: info.workflowType,
          activity: info.activityType,
          attempt: info.attempt,
          ...fromInput,
        };
        const started = clock();
        try {
          const result = await withLogContext(logContext, () => next(input));
          metrics.activityFinished(info.activityType, (clock() - started) / 1000, true, fromInput.treasuryId);
          return result;
        } catch (err) {
          metrics.activityFinished(info.activityType, (clock() - started) / 1000, false, fromInput.treasuryId);
          metrics.activityFailed(info.activityType, fromInput.treasuryId);
          throw err;
        }
      },
    };
    return {
      inbound,
      // The SDK's own activity logger (Context.log) gets the same names.
      outbound: {
        getLogAttributes: (attrs, next) => next({ ...attrs, workflowId: info.workflowExecution?.workflowId, activity: info.activityType }),
      },
    };
  };
}

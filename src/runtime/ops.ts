/** The operational shell of a worker process: structured logs, Prometheus metrics, and the activity interceptor that feeds them. */
import type { WorkerInterceptors } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { activityInterceptors } from '../ops/activity-interceptor.ts';
import { opsWithEnv } from '../ops/config.ts';
import { createLogger } from '../ops/logger.ts';
import { Metrics, serveMetrics } from '../ops/metrics.ts';

export interface OpsShell {
  logger: Logger;
  metrics: Metrics;
  interceptors: WorkerInterceptors;
  metricsUrl: string | null;
  close(): Promise<void>;
}

/** `destination` is 'stdout' or a log file path; METRICS_PORT / METRICS_HOST / LOG_LEVEL override the config. */
export async function startOps(config: Config, opts: { destination: string; identity?: string }): Promise<OpsShell> {
  const ops = opsWithEnv(config.ops, process.env);
  const logger = createLogger({ level: ops.logLevel, treasuryId: config.treasuryId, destination: opts.destination, ...(opts.identity ? { base: { worker: opts.identity } } : {}) });
  const metrics = new Metrics({ defaultTreasury: config.treasuryId });
  const server = ops.metricsPort === null ? null : await serveMetrics(metrics, ops.metricsPort, ops.metricsHost);
  return {
    logger, metrics, interceptors: { activity: [activityInterceptors(metrics)] }, metricsUrl: server?.url ?? null,
    async close() {
      await server?.close();
      logger.flush();
    },
  };
}

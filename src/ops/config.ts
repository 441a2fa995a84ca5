/**
 * The `ops` section of the configuration: where metrics are served and how
 * much is logged. Pure (zod only, no Node built-ins), so config-schema.ts can
 * mount it and the workflow bundle can still import that schema.
 * Environment variables override the file: METRICS_PORT, METRICS_HOST, LOG_LEVEL.
 */
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** 9464: the port OpenTelemetry's Prometheus exporter uses; free next to Temporal's 7233/8233. */
export const DEFAULT_METRICS_PORT = 9464;

export const opsSchema = z
  .strictObject({
    /** HTTP port of `/metrics`; null turns the endpoint off; 0 picks any free port. */
    metricsPort: z.number().int().min(0).max(65_535).nullable().default(DEFAULT_METRICS_PORT),
    /** Interface to listen on: 0.0.0.0 in a container, 127.0.0.1 to keep it local. */
    metricsHost: z.string().min(1).default('0.0.0.0'),
    logLevel: z.enum(LOG_LEVELS).default('info'),
  })
  .prefault({});

export type OpsConfig = z.infer<typeof opsSchema>;

/** The defaults, for code that has no config file. */
export function defaultOps(): OpsConfig {
  return opsSchema.parse(undefined);
}

/**
 * `ops` with the environment's overrides applied: METRICS_PORT (a port, or
 * "off"), METRICS_HOST, LOG_LEVEL. An unusable value is an error naming the
 * variable and the value, never a silent default.
 */
export function opsWithEnv(ops: OpsConfig, env: Record<string, string | undefined>): OpsConfig {
  const out: OpsConfig = { ...ops };
  const port = env.METRICS_PORT?.trim();
  if (port !== undefined && port !== '') {
    if (/^(off|none|disabled)$/i.test(port)) out.metricsPort = null;
    else {
      const n = Number(port);
      if (!/^\d+$/.test(port) || n > 65_535) throw new RangeError(`METRICS_PORT = "${port}" must be a port between 0 and 65535, or "off"`);
      out.metricsPort = n;
    }
  }
  const host = env.METRICS_HOST?.trim();
  if (host) out.metricsHost = host;
  const level = env.LOG_LEVEL?.trim();
  if (level) {
    if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new RangeError(`LOG_LEVEL = "${level}" is not a log level; use one of ${LOG_LEVELS.join(', ')}`);
    out.logLevel = level as OpsConfig['logLevel'];
  }
  return out;
}

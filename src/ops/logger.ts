/**
 * Structured logs (pino): one JSON object per line, with the treasury id on
 * every line and, inside an activity, the workflow id, the activity and the
 * cycle or intervention step (from the async context the activity
 * interceptor sets). Secrets never reach the output: named secret keys are
 * cut by pino's `redact`, and any `…Url` value has its credentials masked.
 * A terminal gets pino-pretty instead of JSON.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { hostname } from 'node:os';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { LOG_LEVELS } from './config.ts';

export { LOG_LEVELS };
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Default 'info'. */
  level?: string;
  treasuryId: string;
  /** 'stdout' (default) or a file path (created with its folder; written asynchronously: call `logger.flush()` before exit). */
  destination?: string;
  /** Human-readable output; only ever on stdout. Default: stdout is a TTY. */
  pretty?: boolean;
  /** More fields on every line (e.g. the worker identity). */
  base?: Record<string, unknown>;
}

/** What the activity interceptor knows about the running activity; merged into every line logged inside it. */
export interface LogContext {
  workflowId?: string;
  workflowType?: string;
  activity?: string;
  attempt?: number;
  cycleId?: string;
  step?: string;
  treasuryId?: string;
}

const logContext = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `ctx` merged into every line any logger from createLogger writes meanwhile (across awaits). */
export function withLogContext<T>(ctx: LogContext, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...definedOnly(ctx) }, fn);
}

export function currentLogContext(): LogContext | undefined {
  return logContext.getStore();
}

const CENSOR = '[redacted]';

/** Keys whose value is a secret whatever it looks like. */
export const SECRET_KEYS = [
  'apiKey', 'api_key', 'apikey', 'token', 'accessToken', 'refreshToken', 'authToken', 'secret', 'secretKey', 'clientSecret',
  'privateKey', 'keypair', 'password', 'passphrase', 'mnemonic', 'authorization', 'Authorization', 'cookie',
  'webhook', 'webhookUrl', 'slackWebhookUrl', 'discordWebhookUrl',
] as const;

/** Secret keys at the top level and up to four objects deep (fast-redact has no "any depth" wildcard). */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`, `*.*.*.*.${key}`]),
  'headers["x-api-key"]', '*.headers["x-api-key"]',
];

/** Query parameters that carry credentials (Helius `api-key`, `token`, signed-URL `sig`, …). */
const SECRET_PARAM = /^(api[-_]?key|apikey|key|token|access[-_]?token|auth|secret|sig|signature|password|pass)$/i;
/** A path segment that looks like a credential: long, only token characters, letters and digits mixed (QuickNode, Triton, Telegram bot tokens). */
const TOKEN_SEGMENT = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-:.~]{16,}$/;

/**
 * Masks the credentials in a URL: user info, secret-looking query values,
 * token-like path segments. Keeps scheme, host and the rest, so the line
 * still says which endpoint it was. Not a URL: returned as is.
 */
export function maskUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  let masked = false;
  if (url.username || url.password) {
    url.username = CENSOR;
    url.password = '';
    masked = true;
  }
  const segments = url.pathname.split('/');
  const path = segments.map((seg) => (TOKEN_SEGMENT.test(safeDecode(seg)) ? CENSOR : seg));
  if (path.some((seg, i) => seg !== segments[i])) {
    url.pathname = path.join('/');
    masked = true;
  }
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) {
      url.searchParams.set(name, CENSOR);
      masked = true;
    }
  }
  // Unchanged URLs are returned as written (no normalisation); URL percent-encodes the brackets of the censor: undo that.
  return masked ? url.toString().replaceAll(encodeURIComponent(CENSOR), CENSOR) : value;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const URL_KEY = /(url|uri|endpoint)$/i;

/** Every string under a key ending in Url/Uri/Endpoint, at any depth, with its credentials masked (copies; never mutates). */
export function maskUrls<T>(value: T, depth = 0, seen: WeakSet<object> = new WeakSet()): T {
  if (value === null || typeof value !== 'object' || depth > 8 || seen.has(value)) return value;
  if (value instanceof Error || value instanceof Date) return value;
  seen.add(value);
  if (Array.isArray(value)) return value.map((v: unknown) => maskUrls(v, depth + 1, seen)) as T;
  let copy: Record<string, unknown> | null = null;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const masked = typeof v === 'string' && URL_KEY.test(key) ? maskUrl(v) : maskUrls(v, depth + 1, seen);
    if (masked !== v) {
      copy ??= { ...(value as Record<string, unknown>) };
      copy[key] = masked;
    }
  }
  return (copy ?? value) as T;
}

export function checkLogLevel(level: string, field = 'level'): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new RangeError(`${field} = "${level}" is not a log level; use one of ${LOG_LEVELS.join(', ')}`);
  }
  return level as LogLevel;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function destinationOf(opts: LoggerOptions): { stream: DestinationStream; pretty: boolean } {
  const dest = opts.destination ?? 'stdout';
  if (dest === '') throw new RangeError('destination = "": use "stdout" or a file path');
  if (dest !== 'stdout') return { stream: pino.destination({ dest, sync: false, mkdir: true }), pretty: false };
  const wantPretty = opts.pretty ?? process.stdout.isTTY === true;
  // In-process pino-pretty (not a worker-thread transport): lines are written before process.exit, in order.
  if (wantPretty) return { stream: pretty({ destination: 1, sync: true, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }), pretty: true };
  // Synchronous stdout: a container's last lines survive process.exit.
  return { stream: pino.destination({ dest: 1, sync: true }), pretty: false };
}

/**
 * The process's logger. Every line carries `treasuryId`, `service`, `pid`,
 * `hostname` and `time` (ISO), plus the activity context when inside one;
 * fields of the log call win over the context (never a duplicate key).
 */
export function createLogger(opts: LoggerOptions): Logger {
  if (typeof opts.treasuryId !== 'string' || opts.treasuryId === '') {
    throw new RangeError(`treasuryId = ${JSON.stringify(opts.treasuryId)}: every log line names its treasury, so it must be a non-empty string`);
  }
  const level = checkLogLevel(opts.level ?? 'info');
  const { stream } = destinationOf(opts);
  const treasuryId = opts.treasuryId;
  const logger = pino(
    {
      level,
      base: { service: 'pstr-treasury-agent', pid: process.pid, hostname: hostname(), ...opts.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: CENSOR },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => maskUrls(obj),
        bindings: (bindings) => maskUrls(bindings),
      },
      mixin(_obj, _level, logger) {
        const ctx: Record<string, unknown> = { treasuryId, ...logContext.getStore() };
        // A child's own bindings already say it: repeating them would write the key twice.
        for (const key of Object.keys(logger.bindings())) delete ctx[key];
        return ctx;
      },
    },
    stream,
  );
  return maskingChildBindings(logger);
}

/** pino applies `formatters.bindings` to the base only: children (and theirs) get their `…Url` bindings masked here. */
function maskingChildBindings(logger: Logger): Logger {
  const child = logger.child.bind(logger) as unknown as (bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => Logger;
  const masked = (bindings: pino.Bindings, options?: pino.ChildLoggerOptions): Logger => maskingChildBindings(child(maskUrls(bindings), options));
  logger.child = masked as unknown as Logger['child'];
  return logger;
}

export interface ChildContext {
  workflowId: string;
  cycleId?: string;
  step?: string;
}

/** A logger for one workflow's cycle or step, outside an activity (where the interceptor already adds them). */
export function childFor(logger: Logger, ctx: ChildContext): Logger {
  if (typeof ctx.workflowId !== 'string' || ctx.workflowId === '') {
    throw new RangeError(`workflowId = ${JSON.stringify(ctx.workflowId)}: a child logger names its workflow`);
  }
  return logger.child(definedOnly(ctx));
}

/**
 * The operator tool's connection to Temporal: TEMPORAL_ADDRESS (default
 * 127.0.0.1:7233), TEMPORAL_NAMESPACE (default `default`), TEMPORAL_API_KEY
 * (TLS with that key, as in src/temporal/server.ts). Every call has a
 * deadline, so an unreachable server or an absent worker is a clear message
 * within seconds, never a hang.
 */
import { hostname } from 'node:os';
import { Client, Connection, ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { CliError } from './errors.ts';

export const DEFAULT_ADDRESS = '127.0.0.1:7233';
export const CONNECT_TIMEOUT_MS = 5_000;
/** A query or describe answers in milliseconds when a worker is polling; far longer means nobody is. */
export const CALL_TIMEOUT_MS = 10_000;

export interface Target {
  address: string;
  namespace: string;
  apiKey: string | null;
}

export function targetFromEnv(env: NodeJS.ProcessEnv): Target {
  return {
    address: env.TEMPORAL_ADDRESS || DEFAULT_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    apiKey: env.TEMPORAL_API_KEY || null,
  };
}

export interface Session {
  client: Client;
  connection: Connection;
  target: Target;
  close(): Promise<void>;
}

export function unreachable(address: string): CliError {
  return new CliError(`cannot reach Temporal at ${address}: is \`npm start\` running, or is TEMPORAL_ADDRESS right?`);
}

export async function connect(target: Target, connectTimeoutMs = CONNECT_TIMEOUT_MS): Promise<Session> {
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: target.address,
      connectTimeout: connectTimeoutMs,
      ...(target.apiKey ? { apiKey: target.apiKey, tls: true } : {}),
    });
  } catch {
    throw unreachable(target.address);
  }
  // The identity lands in history with every signal, so the audit shows where an action came from.
  const client = new Client({ connection, namespace: target.namespace, identity: `client.ts ${process.pid}@${hostname()}` });
  return { client, connection, target, close: () => connection.close() };
}

/** gRPC status codes of the errors the tool explains. */
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const NOT_FOUND_NAMESPACE = /namespace.*not found/i;

function grpcCode(err: unknown): number | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** Runs one server call (or a few) under a deadline, turning transport failures into operator-readable errors. */
export async function call<T>(s: Session, what: string, fn: () => Promise<T>, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
  try {
    return await s.connection.withDeadline(Date.now() + timeoutMs, fn);
  } catch (err) {
    throw explain(err, s.target, what, timeoutMs);
  }
}

export function explain(err: unknown, target: Target, what: string, timeoutMs = CALL_TIMEOUT_MS): unknown {
  if (err instanceof CliError || err instanceof WorkflowNotFoundError) return err;
  const code = grpcCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === UNAVAILABLE) return unreachable(target.address);
  if (code === DEADLINE_EXCEEDED || /deadline exceeded/i.test(message)) {
    return new CliError(`${what}: no answer within ${timeoutMs / 1000} s; is a worker running (\`npm start\`)?`);
  }
  if (NOT_FOUND_NAMESPACE.test(message)) return new CliError(`namespace "${target.namespace}" does not exist at ${target.address}: check TEMPORAL_NAMESPACE`);
  // The server refused the call (a malformed run id, say): its own words are the useful part.
  if (err instanceof ServiceError) {
    const cause = err.cause as { details?: unknown; message?: string } | undefined;
    return new CliError(`${what}: ${typeof cause?.details === 'string' && cause.details ? cause.details : (cause?.message ?? message)}`);
  }
  return err;
}

// Starts or connects to Temporal. Local runs get the real dev server (the
// `temporal` CLI) persisting to SQLite under the data directory, so workflows
// survive a restart of `npm start`; TEMPORAL_ADDRESS points at a real cluster
// instead. Tests get the same dev server, or the time-skipping test server.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { EphemeralServerExecutable } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { resolveTemporalCli, resolveTestServer } from './binaries.ts';

const LOOPBACK = '127.0.0.1';

export interface DevServerOptions {
  /** Directory for temporal.sqlite; created when missing; unused when ephemeral. */
  readonly dataDir: string;
  /** gRPC frontend port; default 7233. */
  readonly port?: number;
  /** Web UI port; default port + 1000 (8233). */
  readonly uiPort?: number;
  /** Namespace created at launch; default 'default'. */
  readonly namespace?: string;
  /** Keep everything in memory (no SQLite file). */
  readonly ephemeral?: boolean;
  /** Serve the web UI; default true. */
  readonly ui?: boolean;
}

export interface DevServer {
  readonly env: TestWorkflowEnvironment;
  /** host:port of the gRPC frontend. */
  readonly address: string;
  readonly uiUrl: string | null;
  /** Stops the server process (SIGKILL; SQLite commits are already durable). Safe to call twice. */
  readonly shutdown: () => Promise<void>;
}

export interface TemporalHandle {
  readonly address: string;
  readonly namespace: string;
  /** For starting, signalling and querying workflows. */
  readonly client: Client;
  /** For `Worker.create({ connection })`. */
  readonly nativeConnection: NativeConnection;
  readonly uiUrl: string | null;
  /** Closes connections and stops an embedded server. Safe to call twice. */
  readonly shutdown: () => Promise<void>;
}

function once(action: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= action());
}

function checkPort(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new Error(`${name} must be an integer port between 1 and 65535, got ${value}`);
  }
}

// The SDK's readiness probe only checks that *a* Temporal server answers on
// the port: with another dev server already there it would report success
// while ours died. So refuse a busy port up front.
async function assertPortFree(name: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      const hint =
        error.code === 'EADDRINUSE'
          ? ': is another Temporal server running? Stop it, choose another port, or set TEMPORAL_ADDRESS to use it'
          : '';
      reject(new Error(`${name} ${port} on ${LOOPBACK} is not available (${error.code ?? error.message})${hint}`));
    });
    probe.listen(port, LOOPBACK, () => probe.close(() => resolve()));
  });
}

function executable(path: string | null): EphemeralServerExecutable {
  // No local binary: the SDK downloads one (needs the internet; the user's last resort).
  return path === null ? { type: 'cached-download' } : { type: 'existing-path', path };
}

/** Runs a server start; when it had to rely on the SDK download and failed, says how to get a local binary. */
async function withSetupHint<T>(path: string | null, what: string, variable: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (path !== null) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `no local ${what} (checked ${variable}, PATH and .tools/temporal-venv) and the SDK download failed: ` +
        `run \`node scripts/setup-temporal.mjs\` or set ${variable}. Cause: ${reason}`,
      { cause: error },
    );
  }
}

/** Starts the `temporal server start-dev` process, persisting to `<dataDir>/temporal.sqlite` unless ephemeral. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const port = opts.port ?? 7233;
  const ui = opts.ui ?? true;
  const uiPort = opts.uiPort ?? port + 1000;
  const namespace = opts.namespace ?? 'default';
  checkPort('port', port);
  if (ui) checkPort('uiPort', uiPort);
  if (namespace.trim() === '') throw new Error(`namespace must not be empty, got '${namespace}'`);
  await assertPortFree('port', port);
  if (ui) await assertPortFree('uiPort', uiPort);

  let dbFilename: string | undefined;
  if (opts.ephemeral !== true) {
    mkdirSync(opts.dataDir, { recursive: true });
    dbFilename = join(opts.dataDir, 'temporal.sqlite');
  }
  const cliPath = resolveTemporalCli();
  const env = await withSetupHint(cliPath, 'temporal CLI', 'TEMPORAL_CLI_PATH', () =>
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: executable(cliPath),
        ...(dbFilename === undefined ? {} : { dbFilename }),
        ip: LOOPBACK,
        port,
        ui,
        ...(ui ? { uiPort } : {}),
        namespace,
        // The UI otherwise fetches a news feed from the internet.
        extraArgs: ui ? ['--ui-disable-news-fetch'] : [],
      },
    }),
  );
  return {
    env,
    address: env.address,
    uiUrl: ui ? `http://${LOOPBACK}:${uiPort}` : null,
    shutdown: once(() => env.teardown()),
  };
}

/**
 * Connects to TEMPORAL_ADDRESS when set (namespace from opts or TEMPORAL_NAMESPACE;
 * TEMPORAL_API_KEY turns on TLS with that key), else starts the embedded dev server.
 */
export async function connectOrStart(opts: DevServerOptions): Promise<TemporalHandle> {
  const address = process.env.TEMPORAL_ADDRESS;
  if (address === undefined || address === '') {
    const server = await startDevServer(opts);
    return {
      address: server.address,
      namespace: opts.namespace ?? 'default',
      client: server.env.client,
      nativeConnection: server.env.nativeConnection,
      uiUrl: server.uiUrl,
      shutdown: server.shutdown,
    };
  }
  const namespace = opts.namespace ?? (process.env.TEMPORAL_NAMESPACE || 'default');
  const apiKey = process.env.TEMPORAL_API_KEY || undefined;
  const security = apiKey === undefined ? {} : { apiKey, tls: true };
  const connection = await Connection.connect({ address, ...security });
  let nativeConnection: NativeConnection;
  try {
    nativeConnection = await NativeConnection.connect({ address, ...security });
  } catch (error) {
    await connection.close();
    throw error;
  }
  return {
    address,
    namespace,
    client: new Client({ connection, namespace }),
    nativeConnection,
    uiUrl: process.env.TEMPORAL_UI_URL || null,
    shutdown: once(async () => {
      await nativeConnection.close();
      await connection.close();
    }),
  };
}

/** Starts the Java time-skipping test server (each call its own process; time skipped is global to it). */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const testServerPath = resolveTestServer();
  return withSetupHint(testServerPath, 'temporal-test-server', 'TEMPORAL_TEST_SERVER_PATH', () =>
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: executable(testServerPath) } }),
  );
}

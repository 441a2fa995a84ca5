/**
 * npm run worker [-- --config FILE] [--data-dir DIR] [--deployment NAME --build-id ID [--promote]]
 *
 * A standalone worker: polls the treasury task queue of the Temporal frontend
 * at TEMPORAL_ADDRESS and runs our workflows and activities over the paper
 * world in the data directory. Start as many as you like (several machines
 * against one cluster); workflows move to a surviving worker when one dies.
 * SIGINT/SIGTERM drain it (in-flight tasks finish) and then it exits.
 *
 * With --deployment and --build-id it is a versioned worker (Worker
 * Versioning): each workflow stays on the version that started it, and the
 * monitor moves to a new current version when it continues as new. --promote
 * makes this version current once it polls (after `npm run replay-check`
 * passed against it); otherwise `temporal worker deployment set-current-version`.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ConfigError, loadConfigFile, type Config } from './src/config.ts';
import { demoConfig } from './src/runtime/demo.ts';
import { demoOperatorKeys } from './src/runtime/demo-keys.ts';
import { startOps } from './src/runtime/ops.ts';
import { createWorker, promoteDeploymentVersion } from './src/runtime/worker.ts';
import { LiveModeError } from './src/runtime/live-world.ts';
import { openWorld } from './src/runtime/world.ts';
import { connectOrStart } from './src/temporal/server.ts';
import { TASK_QUEUE } from './src/workflows/contract.ts';

/** Printed once the worker polls; tests and supervisors wait for it. */
const POLLING_LINE = `worker polling task queue ${TASK_QUEUE}`;

interface Options {
  config?: string;
  dataDir: string;
  logFile?: string;
  deployment?: string;
  buildId?: string;
  promote?: boolean;
}

const program = new Command()
  .name('worker')
  .description('Run one worker of the treasury agent against the Temporal frontend at TEMPORAL_ADDRESS.')
  .option('--config <file>', 'JSON config merged over the defaults (default: the demo profile)')
  .option('--data-dir <dir>', 'where the store and the paper ledger keep their files', 'data')
  .option('--log-file <file>', 'structured log file, or - for stdout (default: <data-dir>/agent.log)')
  .option('--deployment <name>', 'Worker Deployment name (Worker Versioning; with --build-id)')
  .option('--build-id <id>', 'this build\'s version in the deployment (with --deployment)')
  .option('--promote', 'make this version the deployment\'s current one once it polls');

/** A user mistake: a clear message and exit code 2, no stack trace. */
class UsageError extends Error {}
/** The frontend did not answer: a clear message and exit code 1, no stack trace. */
class Unreachable extends Error {}

async function main(): Promise<void> {
  const opts = program.parse().opts<Options>();
  // Never start an embedded server here: a worker with its own server would run workflows nobody else sees.
  if (!process.env.TEMPORAL_ADDRESS) {
    throw new UsageError('set TEMPORAL_ADDRESS to the Temporal frontend, or use npm start for the embedded server');
  }
  if ((opts.deployment === undefined) !== (opts.buildId === undefined)) throw new UsageError('--deployment and --build-id go together: name the deployment and this build\'s id');
  if (opts.promote && !opts.deployment) throw new UsageError('--promote needs --deployment and --build-id');
  const deployment = opts.deployment && opts.buildId ? { name: opts.deployment, buildId: opts.buildId } : undefined;
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  // The demo's operators sign with keys kept in the data directory (written on the first start).
  const config: Config = opts.config ? loadConfigFile(opts.config) : demoConfig(demoOperatorKeys(dataDir));
  const identity = `worker@${hostname()}/${process.pid}`;
  const ops = await startOps(config, { destination: opts.logFile === '-' ? 'stdout' : resolve(opts.logFile ?? resolve(dataDir, 'agent.log')), identity });
  const { logger } = ops;
  Runtime.install({ logger: new DefaultLogger('WARN') });

  const temporal = await connectOrStart({ dataDir }).catch((err: unknown) => {
    throw new Unreachable(`cannot reach the Temporal frontend at ${process.env.TEMPORAL_ADDRESS}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
  const world = await openWorld(config, { dataDir, client: temporal.client, logger, databaseUrl: process.env.DATABASE_URL });
  const worker = await createWorker({
    connection: temporal.nativeConnection, namespace: temporal.namespace, identity,
    deps: { ...world.deps, metrics: ops.metrics },
    interceptors: ops.interceptors,
    ...(deployment ? { deployment } : {}),
  });
  const running = worker.run();
  if (deployment && opts.promote) {
    await promoteDeploymentVersion(temporal.client, temporal.namespace, deployment, identity);
    console.log(`${deployment.name}.${deployment.buildId} is the current version: new workflows start on it, running ones stay on theirs`);
  }
  console.log(`${POLLING_LINE} at ${temporal.address} (namespace ${temporal.namespace}, ${identity}, treasury "${config.treasuryId}", store ${world.storeLabel}, metrics ${ops.metricsUrl ?? 'off'})`);

  // The SDK's runtime already drains every worker on these signals; this only says so.
  const stopping = () => console.log('Stopping: finishing the tasks in flight (workflows stay durable)...');
  process.once('SIGINT', stopping);
  process.once('SIGTERM', stopping);
  try {
    await running;
  } finally {
    await world.close();
    await ops.close();
    await temporal.shutdown();
  }
  // The runtime caught the signal, so nothing else ends the process.
  process.exit(0);
}

main().catch((err: unknown) => {
  const usage = err instanceof ConfigError || err instanceof UsageError || err instanceof LiveModeError;
  if (usage || err instanceof Unreachable) console.error(err.message);
  else console.error(`The worker stopped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(usage ? 2 : 1);
});

/**
 * npm start [-- --config FILE] [--data-dir DIR]
 *
 * The main job: Temporal (TEMPORAL_ADDRESS, or the embedded dev server
 * persisted under the data directory), a worker, and the configured
 * treasury's monitor and schedules. With no --config it runs the demo profile.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ConfigError, loadConfigFile, type Config } from './config.ts';
import { demoConfig } from './runtime/demo.ts';
import { demoOperatorKeys } from './runtime/demo-keys.ts';
import { signingRequired } from './domain/operator-message.ts';
import { ensureMonitorDetailed, ensureSchedules } from './runtime/ensure.ts';
import { startOps } from './runtime/ops.ts';
import { createWorker } from './runtime/worker.ts';
import { LiveModeError } from './runtime/live-world.ts';
import { openWorld } from './runtime/world.ts';
import { connectOrStart } from './temporal/server.ts';
import { monitorWorkflowId, type MonitorStatus } from './workflows/contract.ts';
import { operateLines, watchLive } from './runtime/live-console.ts';
import { startConsole, watchdogReader } from './console/server.ts';

interface Options {
  config?: string;
  dataDir: string;
  port: string;
  uiPort: string;
}

const program = new Command()
  .name('start')
  .description('Run the treasury agent: Temporal, a worker, the monitor and its schedules.')
  .option('--config <file>', 'JSON config merged over the defaults (default: the demo profile)')
  .option('--data-dir <dir>', 'where the store and the embedded Temporal server keep their files', 'data')
  .option('--port <n>', 'embedded Temporal server gRPC port', '7233')
  .option('--ui-port <n>', 'embedded Temporal Web UI port', '8233');

function statusLine(s: MonitorStatus): string {
  const c = s.lastCycle;
  const f = (x: number | null | undefined, d = 4) => (x === null || x === undefined ? '—' : Number.isFinite(x) ? x.toFixed(d) : '∞');
  const flags = [s.paused ? 'PAUSED' : null, s.emergencyStop ? 'EMERGENCY STOP' : null].filter(Boolean).join(' ');
  return `[${new Date(c?.at ?? Date.now()).toISOString().slice(11, 19)}] cycle ${s.cycles} ${flags} price ${c?.consensusPrice?.toPrecision(5) ?? '—'} vwap ${c?.vwap30?.toPrecision(5) ?? '—'} drawdown ${c?.drawdown === null || c?.drawdown === undefined ? '—' : `${(c.drawdown * 100).toFixed(2)} %`} RR ${f(c?.reserveRatio, 3)} health ${f(c?.health, 3)} ${c?.healthLevel ?? ''} · ${c?.decision ?? ''}${s.pendingInterventions.length ? ` · pending: ${s.pendingInterventions.join(', ')}` : ''}`;
}

async function main(): Promise<void> {
  const opts = program.parse().opts<Options>();
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  // The demo's operators sign with keys kept in the data directory (written on the first start).
  const config: Config = opts.config ? loadConfigFile(opts.config) : demoConfig(demoOperatorKeys(dataDir));
  const ops = await startOps(config, { destination: resolve(dataDir, 'agent.log') });
  Runtime.install({ logger: new DefaultLogger('WARN') });

  console.log(`Starting the PSTR treasury agent (${opts.config ? `config ${opts.config}` : 'demo profile'}, ${config.mode} mode, treasury "${config.treasuryId}")`);
  if (!signingRequired(config.intervention.operatorKeys)) {
    console.log('WARNING: operators act by bare name (paper mode, no intervention.operatorKeys): anyone who can reach the Temporal namespace can approve, pause or resume as any operator. Configure operator keys before trusting it with anything.');
  } else {
    console.log(`Operators sign their decisions: ${Object.keys(config.intervention.operatorKeys).join(', ')}${opts.config ? '' : ` (demo keys in ${resolve(dataDir, 'operator-keys')})`}`);
  }
  const temporal = await connectOrStart({ dataDir, port: Number(opts.port), uiPort: Number(opts.uiPort) });
  console.log(`Temporal at ${temporal.address}${temporal.uiUrl ? ` · Web UI ${temporal.uiUrl}` : ''}`);
  const world = await openWorld(config, { dataDir, client: temporal.client, logger: ops.logger, databaseUrl: process.env.DATABASE_URL });
  const worker = await createWorker({
    connection: temporal.nativeConnection, namespace: temporal.namespace,
    deps: { ...world.deps, metrics: ops.metrics }, interceptors: ops.interceptors,
  });
  const running = worker.run();
  const monitor = await ensureMonitorDetailed(temporal.client, config);
  console.log(`Monitor ${monitorWorkflowId(config.treasuryId)}: ${monitor.outcome}${monitor.note ? ` (${monitor.note})` : ''}`);
  const schedules = await ensureSchedules(temporal.client, config);
  console.log(`Schedules: ${[...schedules.created.map((s) => `${s} (created)`), ...schedules.existing].join(', ')}`);
  console.log(`Metrics: ${ops.metricsUrl ?? 'off'} · logs in ${resolve(dataDir, 'agent.log')}`);
  const web = config.console.enabled
    ? await startConsole({
      client: temporal.client, treasuries: [config.treasuryId], store: world.store, host: config.console.host, port: config.console.port,
      watchdog: watchdogReader(temporal.client, { address: temporal.address, namespace: temporal.namespace, apiKey: null }),
    })
    : null;
  console.log(`Console: ${web ? `${web.url} (status, charts, interventions to approve with a signature, audit, alerts; API at ${web.url}openapi.json)` : 'off (console.enabled is false)'}`);
  for (const line of operateLines(temporal.address, dataDir)) console.log(line);

  const stopWatching = watchLive(temporal.client, config.treasuryId, statusLine);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.log('Stopping (workflows stay durable; start again to resume)...');
    stopWatching();
    void web?.close();
    worker.shutdown();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await running;
  await world.close();
  await ops.close();
  // The SDK's runtime catches SIGINT/SIGTERM to drain the worker; the process must still exit and stop the server.
  await temporal.shutdown();
  process.exit(0);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof LiveModeError) console.error(err.message);
  else console.error(`The agent stopped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(err instanceof ConfigError || err instanceof LiveModeError ? 2 : 1);
});
